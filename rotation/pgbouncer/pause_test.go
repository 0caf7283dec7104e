package pgbouncer_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/rotation/pgbouncer"
)

// slowProxy forwards connections to host:port, each after delay: a server
// login through it stays in flight for that long.
func slowProxy(t *testing.T, host string, port int, delay time.Duration) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				time.Sleep(delay)
				s, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, c); s.Close() }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// PauseSeen sees the server login PAUSE closes; the pool then refuses a
// client that finds no server (PgBouncer marks its logins as failing: the
// reason a cutover holds the pause, see rotation's loginHold); RELOAD and
// RESUME in one write leave the database resumed on the new entry.
func TestPauseSeenLoginInFlight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	serverPW, clientPW := "Srv-"+strconv.FormatInt(time.Now().UnixNano(), 36), "Cli-"+strconv.FormatInt(time.Now().UnixNano(), 36)
	pg.Exec("postgres", "CREATE ROLE app LOGIN PASSWORD '"+serverPW+"'")
	proxy := slowProxy(t, pg.Host, pg.Port, 400*time.Millisecond)
	entry := func(port int) string {
		return fmt.Sprintf("arp = host=127.0.0.1 port=%d dbname=postgres user=app password='%s'\n", port, serverPW)
	}
	b := testenv.StartPgBouncer(t, testenv.PgBouncerOptions{Databases: entry(proxy), Users: map[string]string{"app": clientPW}, LoginRetry: 5})
	adm, err := pgbouncer.Dial(ctx, credscan.NewSecret(b.AdminDSN()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if retry, err := adm.LoginRetry(ctx); err != nil || retry != 5*time.Second {
		t.Fatalf("LoginRetry: %v %v", retry, err)
	}
	client := func() *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, b.DSN("app", clientPW, "arp"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	// a first server logs in (the pool's welcome is known), then runs c1's
	// transaction while c2's query makes PgBouncer log in a second one
	c1 := client()
	if _, err := c1.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	tx, err := c1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	c2 := client()
	c2done := make(chan error, 1)
	go func() { _, err := c2.Exec(ctx, "SELECT 1"); c2done <- err }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pools, err := adm.Pools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pgbouncer.Logins(pools, "arp") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server login in flight: %+v", pools)
		}
	}
	// PAUSE waits for c1's transaction; the login is still in flight when
	// it arrives
	go func() { time.Sleep(100 * time.Millisecond); _ = tx.Commit(ctx) }()
	pools, err := adm.PauseSeen(ctx, "arp")
	if err != nil {
		t.Fatal(err)
	}
	if n := pgbouncer.Logins(pools, "arp"); n != 1 {
		t.Fatalf("the pools at the pause: %d logins, want 1: %+v", n, pools)
	}
	if pgbouncer.Quiet(pools, "arp") {
		t.Errorf("a pool with a server logging in is quiet: %+v", pools)
	}
	// PgBouncer's answer to the closed login: a client that finds no
	// server is refused until a login succeeds
	if err := adm.Resume(ctx, "arp"); err != nil {
		t.Fatal(err)
	}
	c3 := client()
	_, err = c3.Exec(ctx, "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "server_login_retry") {
		t.Errorf("a query after the closed login: %v, want PgBouncer's server_login_retry refusal", err)
	}
	// c2 waited and goes on once server_login_retry has passed
	if err := <-c2done; err != nil {
		t.Errorf("the waiting client: %v", err)
	}

	// RELOAD and RESUME in one write: resumed, on the new entry
	if _, err := adm.PauseSeen(ctx, "arp"); err != nil {
		t.Fatal(err)
	}
	if err := writeDatabases(b, entry(pg.Port)); err != nil {
		t.Fatal(err)
	}
	if err := adm.ReloadResume(ctx, "arp"); err != nil {
		t.Fatal(err)
	}
	dbs, err := adm.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := pgbouncer.Points(dbs, "arp"); !ok || d.Paused || d.Port != pg.Port {
		t.Fatalf("after ReloadResume: %+v", d)
	}
	if _, err := client().Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("a query after ReloadResume: %v", err)
	}
	// a RESUME of a database that is not paused is an error, and the
	// connection stays usable after it
	if err := adm.ReloadResume(ctx, "arp"); err == nil || !strings.Contains(err.Error(), "not paused") {
		t.Errorf("ReloadResume of a database not paused: %v", err)
	}
	if _, err := adm.Pools(ctx); err != nil {
		t.Errorf("the console after an error in a batch: %v", err)
	}
}

func writeDatabases(b *testenv.PgBouncer, body string) error {
	return pgbouncer.WriteFile(b.DatabasesFile, credscan.NewSecret("[databases]\n"+body))
}
