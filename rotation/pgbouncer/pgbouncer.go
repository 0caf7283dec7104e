// Package pgbouncer is the rotation's PgBouncer adapter: the admin
// console (PAUSE, RESUME, RELOAD, RECONNECT, KILL, SHOW SERVERS, SHOW
// DATABASES, through pgx's simple protocol, as the console requires) and
// the %included databases file a cutover replaces.
//
// The databases file carries the forced user and password of the side it
// points at (SCRAM pass-through cannot log in to a server whose password
// differs): it is written mode 0600, owned like the file it replaces, by
// an atomic rename, and its content is never printed.
package pgbouncer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/rotation/postgres"
)

// Admin is a connection to the admin console. One goroutine at a time.
type Admin struct {
	conn *pgx.Conn
}

// Dial connects to the admin console whose URL dsn gives (read from
// Vault; never printed, and a parse error does not echo it).
func Dial(ctx context.Context, dsn credscan.Secret) (*Admin, error) {
	cfg, err := pgx.ParseConfig(dsn.Reveal())
	if err != nil {
		return nil, credscan.UsageError("the PgBouncer admin DSN does not parse as a PostgreSQL URL or conninfo")
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.ConnectTimeout = postgres.LoginTimeout
	delete(cfg.RuntimeParams, "application_name")
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		code := credscan.CodeUnavailable
		if postgres.Describe(err) != "connection refused" && strings.Contains(postgres.Describe(err), "SQLSTATE 28") {
			code = credscan.CodeUnauthorized
		}
		return nil, credscan.Errorf(code, "connecting to the PgBouncer admin console (%s:%d): %s", cfg.Host, cfg.Port, postgres.Describe(err))
	}
	return &Admin{conn: c}, nil
}

// Close ends the connection.
func (a *Admin) Close() { _ = a.conn.Close(context.Background()) }

// User is the console's administrator.
func (a *Admin) User() string { return a.conn.Config().User }

// Local is this connection's local address (host:port), as PgBouncer logs
// its client.
func (a *Admin) Local() string {
	if nc := a.conn.PgConn().Conn(); nc != nil {
		return nc.LocalAddr().String()
	}
	return ""
}

func (a *Admin) exec(ctx context.Context, cmd string) error {
	if _, err := a.conn.Exec(ctx, cmd); err != nil {
		code := credscan.CodeUnavailable
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return credscan.Errorf(code, "PgBouncer %s: timed out", cmd)
		}
		return credscan.Errorf(code, "PgBouncer %s: %s", cmd, postgres.Describe(err))
	}
	return nil
}

// Pause waits until every server connection of db is released (PAUSE:
// clients wait, nothing fails). WAIT_CLOSE is never used: after it, a
// later PAUSE can return while a transaction still runs.
func (a *Admin) Pause(ctx context.Context, db string) error { return a.exec(ctx, "PAUSE "+ident(db)) }

// Resume lets db's clients through again.
func (a *Admin) Resume(ctx context.Context, db string) error { return a.exec(ctx, "RESUME "+ident(db)) }

// Reload rereads the configuration (and the included databases file):
// a database whose host, port or user changed gets new server
// connections as the old ones are released.
func (a *Admin) Reload(ctx context.Context) error { return a.exec(ctx, "RELOAD") }

// Reconnect closes db's server connections as they are released.
func (a *Admin) Reconnect(ctx context.Context, db string) error {
	return a.exec(ctx, "RECONNECT "+ident(db))
}

// Kill drops db's client and server connections at once.
func (a *Admin) Kill(ctx context.Context, db string) error { return a.exec(ctx, "KILL "+ident(db)) }

func ident(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Server is a server connection (SHOW SERVERS).
type Server struct {
	User, Database, State, Addr string
	Port                        int
}

// Database is a database entry (SHOW DATABASES).
type Database struct {
	Name, Host, DB, ForceUser string
	Port                      int
	Paused                    bool
	// MinPoolSize is the min_pool_size in effect (the entry's, else
	// PgBouncer's default).
	MinPoolSize int
}

// show runs SHOW what and returns its rows as column → text.
func (a *Admin) show(ctx context.Context, what string) ([]map[string]string, error) {
	rows, err := a.conn.Query(ctx, "SHOW "+what)
	if err != nil {
		return nil, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer SHOW %s: %s", what, postgres.Describe(err))
	}
	defer rows.Close()
	var out []map[string]string
	fields := rows.FieldDescriptions()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer SHOW %s: %s", what, postgres.Describe(err))
		}
		m := make(map[string]string, len(vals))
		for i, v := range vals {
			if v != nil {
				m[fields[i].Name] = fmt.Sprint(v)
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer SHOW %s: %s", what, postgres.Describe(err))
	}
	return out, nil
}

// Servers lists the server connections.
func (a *Admin) Servers(ctx context.Context) ([]Server, error) {
	rows, err := a.show(ctx, "SERVERS")
	if err != nil {
		return nil, err
	}
	out := make([]Server, 0, len(rows))
	for _, r := range rows {
		port, _ := strconv.Atoi(r["port"])
		out = append(out, Server{User: r["user"], Database: r["database"], State: r["state"], Addr: r["addr"], Port: port})
	}
	return out, nil
}

// Pool is one pool's counts (SHOW POOLS): clients connected (cl_active:
// in transaction mode, linked to a server or not) and waiting for a
// server, servers idle and logging in.
type Pool struct {
	Database, User                       string
	ClActive, ClWaiting, SvIdle, SvLogin int
}

// Pools lists the pools.
func (a *Admin) Pools(ctx context.Context) ([]Pool, error) {
	rows, err := a.show(ctx, "POOLS")
	if err != nil {
		return nil, err
	}
	return poolsOf(rows), nil
}

func poolsOf(rows []map[string]string) []Pool {
	out := make([]Pool, 0, len(rows))
	for _, r := range rows {
		n := func(k string) int { v, _ := strconv.Atoi(r[k]); return v }
		out = append(out, Pool{Database: r["database"], User: r["user"], ClActive: n("cl_active"), ClWaiting: n("cl_waiting"), SvIdle: n("sv_idle"), SvLogin: n("sv_login")})
	}
	return out
}

// Logins is how many servers of db's pools are logging in.
func Logins(pools []Pool, db string) int {
	n := 0
	for _, p := range pools {
		if p.Database == db {
			n += p.SvLogin
		}
	}
	return n
}

// PauseSeen PAUSEs db (as Pause) and returns db's pools as they were at
// the instant it paused: SHOW POOLS goes in the same write, and PgBouncer
// answers commands that arrive together in one turn of its event loop,
// where no server login starts or ends. A server logging in then is one
// the pause closes (PgBouncer's per_loop_pause), and PgBouncer, 1.18 to
// this day, then marks the pool's logins as failing: until a login
// succeeds, a client that finds no server is refused ("server login has
// been failing", server_login_retry), and no login starts for
// server_login_retry. Logins(pools, db) > 0 says so.
func (a *Admin) PauseSeen(ctx context.Context, db string) ([]Pool, error) {
	res, err := a.batch(ctx, "SHOW POOLS", "PAUSE "+ident(db))
	if err != nil {
		return nil, err
	}
	return poolsOf(res[0]), nil
}

// ReloadResume RELOADs and RESUMEs db in one write, so that no turn of
// PgBouncer's loop runs with db paused and its entry changed: in one, a
// client logging in (the entry's first server not yet logged in) starts a
// server login, which the pause closes at once, marking the pool's logins
// as failing (see PauseSeen). Either error is returned; a RESUME of a
// database that is not paused is one.
func (a *Admin) ReloadResume(ctx context.Context, db string) error {
	_, err := a.batch(ctx, "RELOAD", "RESUME "+ident(db))
	return err
}

// ReloadSeen RELOADs and returns the pools as they were at that instant
// (SHOW POOLS in the same write, as PauseSeen). A RELOAD that changes an
// entry's host, port, database or user closes the servers of its pools
// that are logging in, with PauseSeen's consequence.
func (a *Admin) ReloadSeen(ctx context.Context) ([]Pool, error) {
	res, err := a.batch(ctx, "SHOW POOLS", "RELOAD")
	if err != nil {
		return nil, err
	}
	return poolsOf(res[0]), nil
}

// LoginRetry is PgBouncer's server_login_retry (SHOW CONFIG): how long
// after a failed server login it starts none.
func (a *Admin) LoginRetry(ctx context.Context) (time.Duration, error) {
	rows, err := a.show(ctx, "CONFIG")
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if r["key"] == "server_login_retry" {
			secs, err := strconv.ParseFloat(strings.TrimSuffix(r["value"], "s"), 64)
			if err != nil || secs < 0 {
				return 0, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer SHOW CONFIG: server_login_retry is %q", r["value"])
			}
			return time.Duration(secs * float64(time.Second)), nil
		}
	}
	return 0, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer SHOW CONFIG has no server_login_retry")
}

// batch sends cmds in one write and reads each one's answer (rows as
// column → text, as show). The first error is returned, naming its
// command; the answers of all are read, so the connection stays usable.
func (a *Admin) batch(ctx context.Context, cmds ...string) ([][]map[string]string, error) {
	pc := a.conn.PgConn()
	fe := pc.Frontend()
	for _, c := range cmds {
		fe.Send(&pgproto3.Query{String: c})
	}
	if nc := pc.Conn(); nc != nil {
		if dl, ok := ctx.Deadline(); ok {
			_ = nc.SetWriteDeadline(dl)
			defer func() { _ = nc.SetWriteDeadline(time.Time{}) }()
		}
	}
	what := strings.Join(cmds, " and ")
	if err := fe.Flush(); err != nil {
		_ = a.conn.Close(context.Background()) // a partial write leaves the protocol out of step
		return nil, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer %s: %s", what, postgres.Describe(err))
	}
	out := make([][]map[string]string, len(cmds))
	var fields []string
	var first error
	for i := 0; i < len(cmds); {
		msg, err := pc.ReceiveMessage(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer %s: timed out", cmds[i])
			}
			return nil, credscan.Errorf(credscan.CodeUnavailable, "PgBouncer %s: %s", cmds[i], postgres.Describe(err))
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			fields = fields[:0]
			for _, f := range m.Fields {
				fields = append(fields, string(f.Name))
			}
		case *pgproto3.DataRow:
			row := make(map[string]string, len(m.Values))
			for j, v := range m.Values {
				if v != nil && j < len(fields) {
					row[fields[j]] = string(v)
				}
			}
			out[i] = append(out[i], row)
		case *pgproto3.ErrorResponse:
			if first == nil {
				first = credscan.Errorf(credscan.CodeUnavailable, "PgBouncer %s: %s", cmds[i], postgres.Describe(pgconn.ErrorResponseToPgError(m)))
			}
		case *pgproto3.ReadyForQuery:
			i++
		}
	}
	return out, first
}

// Quiet says whether no pool of db is logging a server in, has a client
// waiting for one, or has connected clients and no idle server: each of
// these makes PgBouncer log a server in now or at the next transaction
// (a pool with an idle server serves the next one with it).
func Quiet(pools []Pool, db string) bool {
	for _, p := range pools {
		if p.Database == db && (p.SvLogin > 0 || p.ClWaiting > 0 || p.ClActive > 0 && p.SvIdle == 0) {
			return false
		}
	}
	return true
}

// Databases lists the database entries.
func (a *Admin) Databases(ctx context.Context) ([]Database, error) {
	rows, err := a.show(ctx, "DATABASES")
	if err != nil {
		return nil, err
	}
	out := make([]Database, 0, len(rows))
	for _, r := range rows {
		port, _ := strconv.Atoi(r["port"])
		minPool, _ := strconv.Atoi(r["min_pool_size"])
		out = append(out, Database{Name: r["name"], Host: r["host"], DB: r["database"], ForceUser: r["force_user"], Port: port, Paused: r["paused"] == "1", MinPoolSize: minPool})
	}
	return out, nil
}

// Entry is one line of the databases file: clients of Name reach DB at
// Host:Port as User with Password.
type Entry struct {
	Name, Host, DB, User string
	Port                 int
	Password             credscan.Secret
	// MinPoolSize, when set, is the entry's min_pool_size (otherwise
	// PgBouncer's default applies).
	MinPoolSize *int
}

// Render is the databases file for entries (it holds passwords: write it
// with WriteFile, never print it).
func Render(entries []Entry) (credscan.Secret, error) {
	var b strings.Builder
	b.WriteString("; written by credscan rotate: the live side of each database. Do not edit by hand.\n[databases]\n")
	for _, e := range entries {
		for _, v := range []string{e.Name, e.Host, e.DB, e.User, e.Password.Reveal()} {
			if strings.ContainsAny(v, "\n\r\x00") {
				return credscan.Secret{}, credscan.UsageError("a value of the databases entry %s has a line break", e.Name)
			}
		}
		fmt.Fprintf(&b, "%s = host=%s port=%d dbname=%s user=%s password=%s", ident(e.Name), quote(e.Host), e.Port, quote(e.DB), quote(e.User), quote(e.Password.Reveal()))
		if e.MinPoolSize != nil {
			fmt.Fprintf(&b, " min_pool_size=%d", *e.MinPoolSize)
		}
		b.WriteByte('\n')
	}
	return credscan.NewSecret(b.String()), nil
}

// quote quotes a connect-string value for PgBouncer: single quotes, a
// quote doubled.
func quote(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// ReadFile returns the databases file's content (it holds passwords).
func ReadFile(path string) (credscan.Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return credscan.Secret{}, credscan.Errorf(credscan.CodeUnavailable, "reading the PgBouncer databases file %s: %v", path, errors.Unwrap(err))
	}
	return credscan.NewSecret(string(b)), nil
}

// WriteFile replaces the databases file at path with content, atomically:
// a temporary file beside it, mode 0600, owned like the file it replaces
// (PgBouncer's account must read it), synced, then renamed over it.
func WriteFile(path string, content credscan.Secret) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return credscan.Errorf(credscan.CodeUnavailable, "writing the PgBouncer databases file in %s: %v", dir, errors.Unwrap(err))
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return credscan.Errorf(credscan.CodeUnavailable, "writing %s: %v", path, err)
	}
	if err := ownLike(f, path); err != nil {
		f.Close()
		return credscan.Errorf(credscan.CodeUnauthorized, "writing %s: giving it to the owner of the file it replaces: %v", path, err)
	}
	if _, err := f.WriteString(content.Reveal()); err != nil {
		f.Close()
		return credscan.Errorf(credscan.CodeUnavailable, "writing %s: %v", path, errors.Unwrap(err))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return credscan.Errorf(credscan.CodeUnavailable, "writing %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return credscan.Errorf(credscan.CodeUnavailable, "writing %s: %v", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return credscan.Errorf(credscan.CodeUnavailable, "replacing %s: %v", path, errors.Unwrap(err))
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Busy are db's server connections that are running a transaction or
// still logging in (any state but idle, used and tested). After PAUSE
// none should be running; one still logging in when the file is swapped
// would answer the server with the other side's password, and a failed
// server login makes PgBouncer refuse clients for server_login_retry.
func Busy(servers []Server, db string) []Server {
	var out []Server
	for _, s := range servers {
		if s.Database == db && s.State != "idle" && s.State != "used" && s.State != "tested" {
			out = append(out, s)
		}
	}
	return out
}

// Points says where the entry name of dbs points (host, port), ok false
// when there is no such entry.
func Points(dbs []Database, name string) (Database, bool) {
	i := slices.IndexFunc(dbs, func(d Database) bool { return d.Name == name })
	if i < 0 {
		return Database{}, false
	}
	return dbs[i], true
}
