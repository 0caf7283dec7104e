package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The servers the rotation tests use start, authenticate for real, and
// the broker switches its backend with PAUSE, a new databases file,
// RELOAD and RESUME.
func TestPostgresAndPgBouncer(t *testing.T) {
	blue, green := StartPostgres(t, PostgresOptions{}), StartPostgres(t, PostgresOptions{})
	for _, p := range []*Postgres{blue, green} {
		p.Exec("postgres", "CREATE ROLE arp_app LOGIN PASSWORD 'pw-"+fmt.Sprint(p.Port)+"'", "CREATE DATABASE arp OWNER arp_app")
	}
	ctx := context.Background()
	if _, err := pgx.Connect(ctx, blue.DSN("arp_app", "wrong", "arp")); err == nil {
		t.Fatal("a wrong password logged in")
	}
	entry := func(p *Postgres) string {
		return fmt.Sprintf("arp = host=127.0.0.1 port=%d dbname=arp user=arp_app password=pw-%d", p.Port, p.Port)
	}
	b := StartPgBouncer(t, PgBouncerOptions{Databases: entry(blue), Users: map[string]string{"app": "client-pw"}})
	port := func() int {
		c, err := pgx.Connect(ctx, b.DSN("app", "client-pw", "arp"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var p int
		if err := c.QueryRow(ctx, "SELECT current_setting('port')::int").Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got := port(); got != blue.Port {
		t.Fatalf("through the broker: port %d, want blue %d", got, blue.Port)
	}
	cfg, err := pgx.ParseConfig(b.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	adm, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close(ctx)
	start := time.Now()
	for _, q := range []string{"PAUSE arp"} {
		if _, err := adm.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	b.write("databases.ini", "[databases]\n"+entry(green)+"\n")
	for _, q := range []string{"RELOAD", "RESUME arp"} {
		if _, err := adm.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	t.Logf("switched in %v", time.Since(start))
	if got := port(); got != green.Port {
		t.Fatalf("after the switch: port %d, want green %d", got, green.Port)
	}
	if !strings.Contains(b.Log(), "login attempt") || !strings.Contains(blue.Log(), "connection authorized: user=arp_app") {
		t.Errorf("connection logs:\n%s\n%s", tail(b.Log(), 500), tail(blue.Log(), 500))
	}
}
