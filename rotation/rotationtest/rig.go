// Package rotationtest builds the real parts a rotation runs against, for
// tests and benchmarks: Vault (with an audit device), PostgreSQL 15 blue
// and green, PgBouncer in front of blue, an estate whose apps hardcode the
// legacy password (one behind the broker, one reading the pointer), its
// scan pushed to Vault, the administrators' DSNs in Vault, and approvals.
package rotationtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/loadgen"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy/approval"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/rotation/pgbouncer"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Role is the rotated role.
const Role = "arp_app"

// Rig is the parts of a rotation.
type Rig struct {
	Vault         *testenv.Vault
	Blue, Green   *testenv.Postgres
	Broker        *testenv.PgBouncer
	Dir           string // the estate
	ManifestPath  string
	Manifest      *manifest.Manifest
	Legacy, Stale string // the live legacy password; an old copy that no longer logs in
	ClientPW      string // the apps' password at the broker
	AuditPath     string
	Approval      string // an approval of kinds verify and rotate for Role
	Requester     string
	t             testing.TB
}

// New starts the parts and pushes the estate's scan to Vault. window is
// the manifest's revoke_window.
func New(t testing.TB, window time.Duration) *Rig {
	t.Helper()
	return NewWith(t, Config{Window: window})
}

// Config varies a rig.
type Config struct {
	Window time.Duration // the manifest's revoke_window
	// Replicate: blue publishes orders and green subscribes (logical
	// replication), and the manifest checks the lag at the cutover.
	Replicate bool
	// MinPoolSize is the broker entry's min_pool_size (0: not set).
	MinPoolSize int
}

// NewWith starts the parts as c says.
func NewWith(t testing.TB, c Config) *Rig {
	t.Helper()
	window := c.Window
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	r := &Rig{t: t, Legacy: "Lg" + leakcheck.Marker(t) + "-x_9", Stale: "St" + leakcheck.Marker(t), ClientPW: "Cl" + leakcheck.Marker(t)}
	r.Vault = testenv.StartVault(t)
	r.Vault.EnableFileAudit("file")
	r.Blue = testenv.StartPostgres(t, testenv.PostgresOptions{Logical: c.Replicate})
	r.Green = testenv.StartPostgres(t, testenv.PostgresOptions{})
	// blue: the legacy role with a membership, the database, a table
	r.Blue.Exec("postgres", "CREATE ROLE app_readers NOLOGIN", "CREATE ROLE "+Role+" LOGIN PASSWORD '"+r.Legacy+"' IN ROLE app_readers", "CREATE DATABASE arp")
	r.Green.Exec("postgres", "CREATE ROLE app_readers NOLOGIN", "CREATE DATABASE arp")
	for _, p := range []*testenv.Postgres{r.Blue, r.Green} {
		p.Exec("arp", "CREATE TABLE orders (id int PRIMARY KEY, total numeric)", "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g",
			"GRANT SELECT ON orders TO app_readers")
	}
	readiness := "  readiness:\n    tables: [public.orders]\n"
	if c.Replicate {
		r.Blue.Exec("arp", "CREATE PUBLICATION arp_pub FOR TABLE orders")
		r.Green.Exec("arp", fmt.Sprintf("CREATE SUBSCRIPTION arp_sub CONNECTION 'host=127.0.0.1 port=%d dbname=arp user=%s password=%s' PUBLICATION arp_pub WITH (copy_data = false)",
			r.Blue.Port, r.Blue.SuperUser, r.Blue.SuperPassword))
		readiness = "  readiness:\n    max_lag_bytes: 1048576\n    tables: [public.orders]\n"
	}
	entry := fmt.Sprintf("arp = host=127.0.0.1 port=%d dbname=arp user=%s password='%s'", r.Blue.Port, Role, r.Legacy)
	if c.MinPoolSize > 0 {
		entry += fmt.Sprintf(" min_pool_size=%d", c.MinPoolSize)
	}
	r.Broker = testenv.StartPgBouncer(t, testenv.PgBouncerOptions{
		Databases: entry,
		Users:     map[string]string{Role: r.ClientPW},
	})
	r.Dir = t.TempDir()
	r.AuditPath = filepath.Join(r.Dir, "audit.jsonl")
	r.write("billing-api/.env", fmt.Sprintf("DATABASE_URL=postgres://%s:%s@127.0.0.1:%d/arp\n", Role, url.QueryEscape(r.Legacy), r.Blue.Port))
	r.write("ledger-worker/settings.env", fmt.Sprintf("PGHOST=127.0.0.1\nPGPORT=%d\nPGUSER=%s\nPGPASSWORD=%s\n", r.Blue.Port, Role, r.Legacy))
	r.write("ledger-worker/old.env", fmt.Sprintf("DATABASE_URL=postgres://%s:%s@127.0.0.1:%d/arp\n", Role, r.Stale, r.Blue.Port))
	r.write("credscan.yaml", fmt.Sprintf(`version: 1
targets:
  - name: ARP
    hosts: ["127.0.0.1"]
    databases: [arp]
apps:
  - name: billing-api
    owner: team-billing
    wave: 1
    connects: broker
    sources: [{dir: billing-api}]
  - name: ledger-worker
    owner: team-ledger
    wave: 1
    connects: pointer
    sources: [{dir: ledger-worker}]
audit:
  file: audit.jsonl
tracker:
  vault: {}
rotation:
  database: arp
  blue:
    host: 127.0.0.1
    port: %d
    admin: credscan/admin/blue
    logs: [%s]
  green:
    host: 127.0.0.1
    port: %d
    admin: credscan/admin/green
    logs: [%s]
  broker:
    admin: credscan/admin/pgbouncer
    host: 127.0.0.1
    port: %d
    database: arp
    databases_file: %s
    logs: [%s]
    check: credscan/admin/broker-check
  revoke_window: %s
`, r.Blue.Port, r.Blue.LogPath, r.Green.Port, r.Green.LogPath, r.Broker.Port, r.Broker.DatabasesFile, r.Broker.LogPath, window)+readiness)
	r.ManifestPath = filepath.Join(r.Dir, "credscan.yaml")
	m, err := manifest.Load(r.ManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	r.Manifest = m
	ctx := context.Background()
	k := r.KV()
	for path, data := range map[string]map[string]any{
		"credscan/admin/blue":         {"dsn": r.Blue.DSN(r.Blue.SuperUser, r.Blue.SuperPassword, "postgres")},
		"credscan/admin/green":        {"dsn": r.Green.DSN(r.Green.SuperUser, r.Green.SuperPassword, "postgres")},
		"credscan/admin/pgbouncer":    {"dsn": r.Broker.AdminDSN()},
		"credscan/admin/broker-check": {"user": Role, "password": r.ClientPW},
	} {
		if _, err := k.Put(ctx, path, data, kv.Any); err != nil {
			t.Fatal(err)
		}
	}
	// the scan, pushed: the legacy entries and their apps
	store := vaultsync.NewStore(k, vaultsync.Layout{}, nil)
	res, err := estate.Run(ctx, m, estate.Options{Push: &estate.Push{Store: store, AllowNoAudit: true}, Tracker: r.Tracker()})
	if err != nil && !errors.Is(err, estate.ErrBlocking) {
		t.Fatal(err)
	}
	if res.Pushed == nil {
		t.Fatal("the estate's scan pushed nothing")
	}
	// an approval of the rotation, by someone else
	r.Requester = "token:rotator"
	now := time.Now()
	a := &approval.Approval{ID: approval.NewApprovalID(), Apps: []string{Role}, Kinds: []string{"verify", "rotate"}, Ticket: "CHG-42",
		Reason: "ARP blue-green", ApprovedBy: "token:approver", Approver: "approver", Created: now, Expires: now.Add(24 * time.Hour)}
	if err := store.WriteApproval(ctx, a); err != nil {
		t.Fatal(err)
	}
	r.Approval = a.ID
	return r
}

func (r *Rig) write(rel, content string) {
	r.t.Helper()
	p := filepath.Join(r.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Client is a Vault client with the root token.
func (r *Rig) Client() *vault.Client { return r.Vault.Client(r.Vault.RootToken) }

// KV is Vault's secret/ mount.
func (r *Rig) KV() *kv.Vault { return kv.NewVault(r.Client(), "secret") }

// Tracker is the manifest's tracker (in Vault).
func (r *Rig) Tracker() *tracker.Tracker {
	return tracker.New(tracker.NewKVStore(r.KV(), ""), r.Recorder())
}

// Recorder records in the rig's audit log as the rotator.
func (r *Rig) Recorder() *audit.Recorder {
	return audit.NewRecorder(audit.Open(r.AuditPath), audit.Actor{Vault: "token-rotator", Entity: "ent-rotator"})
}

// Options are a rotator's options on the rig.
func (r *Rig) Options() rotation.Options {
	return rotation.Options{KV: r.KV(), Recorder: r.Recorder(), Tracker: r.Tracker(), Approval: r.Approval, Requester: r.Requester,
		Scan: func(ctx context.Context) ([]*credscan.Finding, error) {
			res, err := estate.Run(ctx, r.Manifest, estate.Options{})
			if err != nil && !errors.Is(err, estate.ErrBlocking) {
				return nil, err
			}
			return res.Findings, nil
		}}
}

// Rotator is a rotator of Role with o.
func (r *Rig) Rotator(o rotation.Options) *rotation.Rotator {
	r.t.Helper()
	rot, err := rotation.New(r.Manifest, Role, o)
	if err != nil {
		r.t.Fatal(err)
	}
	return rot
}

// MigrateApps rewrites the apps' sources to read the credential at run
// time (what their dev leads ship), so a fresh scan finds nothing at the
// tip, and ticks them through reads-from-vault.
func (r *Rig) MigrateApps() {
	r.t.Helper()
	r.write("billing-api/.env", "DATABASE_URL=${ARP_DATABASE_URL}\n")
	r.write("ledger-worker/settings.env", "PGPASSWORD=${ARP_PASSWORD}\n")
	if err := os.Remove(filepath.Join(r.Dir, "ledger-worker/old.env")); err != nil {
		r.t.Fatal(err)
	}
}

// TickReadsFromVault ticks the pointer app through reads-from-vault.
func (r *Rig) TickReadsFromVault() {
	r.t.Helper()
	tr := tracker.New(tracker.NewKVStore(r.KV(), ""), audit.NewRecorder(audit.Open(r.AuditPath), audit.Actor{Vault: "token-lead"}))
	if _, err := tr.Tick(context.Background(), "ledger-worker", tracker.ReadsFromVault, "reads arp/current/arp_app on each connect", ""); err != nil {
		r.t.Fatal(err)
	}
}

// BrokerClient connects through PgBouncer as the apps do.
func (r *Rig) BrokerClient(app string) loadgen.Connect {
	return func(ctx context.Context) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d dbname=arp user=%s sslmode=disable application_name=%s", r.Broker.Port, Role, app))
		if err != nil {
			return nil, err
		}
		cfg.Password = r.ClientPW
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		return pgx.ConnectConfig(ctx, cfg)
	}
}

// PointerClient reads arp/current/arp_app from Vault on each connect and
// connects where it says, as it says.
func (r *Rig) PointerClient(app string) loadgen.Connect {
	k := r.KV()
	return func(ctx context.Context) (*pgx.Conn, error) {
		sec, err := k.Get(ctx, "arp/current/"+Role)
		if err != nil {
			return nil, fmt.Errorf("reading the pointer: %w", err)
		}
		str := func(k string) string { s, _ := sec.Data[k].(string); return s }
		cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s dbname=%s user=%s sslmode=disable application_name=%s", str("host"), str("port"), str("database"), str("user"), app))
		if err != nil {
			return nil, err
		}
		cfg.Password = str("password")
		return pgx.ConnectConfig(ctx, cfg)
	}
}

// Straggler connects straight to blue with the legacy password, as a
// forgotten batch job would.
func (r *Rig) Straggler(app string) loadgen.Connect {
	return func(ctx context.Context) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d dbname=arp user=%s sslmode=disable application_name=%s", r.Blue.Port, Role, app))
		if err != nil {
			return nil, err
		}
		cfg.Password = r.Legacy
		return pgx.ConnectConfig(ctx, cfg)
	}
}

// Secrets are every password of the rig, green's included (read from
// Vault): none may appear in any output but Vault and the broker's file.
func (r *Rig) Secrets() []string {
	out := []string{r.Legacy, r.Stale, r.ClientPW, r.Blue.SuperPassword, r.Green.SuperPassword, r.Broker.AdminPassword}
	for _, p := range []string{"arp/green/" + Role, "arp/green/" + rotation.AltUser(Role)} {
		if sec, err := r.KV().Get(context.Background(), p); err == nil {
			if s, _ := sec.Data["password"].(string); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// GreenPassword is the green password in Vault ("" before provisioning).
func (r *Rig) GreenPassword(user string) string {
	sec, err := r.KV().Get(context.Background(), "arp/green/"+user)
	if err != nil {
		return ""
	}
	s, _ := sec.Data["password"].(string)
	return s
}

// BrokerEntry is the broker's arp entry, as SHOW DATABASES gives it.
func (r *Rig) BrokerEntry() pgbouncer.Database {
	r.t.Helper()
	ctx := context.Background()
	adm, err := pgbouncer.Dial(ctx, credscan.NewSecret(r.Broker.AdminDSN()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer adm.Close()
	dbs, err := adm.Databases(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	d, ok := pgbouncer.Points(dbs, "arp")
	if !ok {
		r.t.Fatal("no arp entry at the broker")
	}
	return d
}
