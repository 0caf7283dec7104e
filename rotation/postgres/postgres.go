// Package postgres is the rotation's PostgreSQL adapter (pgx v5): logins
// as an application role, the role's attributes and memberships, creating
// or altering a role with a password (sent as a SCRAM verifier, so the
// plaintext never reaches the server or its logs), LOGIN and NOLOGIN,
// the role's sessions, replication lag and row counts.
//
// Errors never carry a password or a connection string: they name the
// side, the action and the server's SQLSTATE or a network cause.
package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/credscan/credscan"
)

// LoginTimeout bounds one login attempt.
const LoginTimeout = 5 * time.Second

// Endpoint is where a side listens.
type Endpoint struct {
	Host     string
	Port     int
	Database string
}

func (e Endpoint) String() string {
	return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) + "/" + e.Database
}

// LoginResult is what one login attempt says about a password.
type LoginResult string

// Login results.
const (
	Live        LoginResult = "live"        // it logs in
	Dead        LoginResult = "dead"        // the server refused it (wrong password, no login)
	Unreachable LoginResult = "unreachable" // no answer, or not a PostgreSQL server
)

// config is a pgx config for user at e, built field by field so no
// connection string holds the password.
func config(e Endpoint, user string, password credscan.Secret, app string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=prefer connect_timeout=5 application_name=%s",
		quote(e.Host), e.Port, quote(e.Database), quote(user), quote(app)))
	if err != nil {
		return nil, credscan.UsageError("the endpoint %s or user %q does not parse", e, user)
	}
	cfg.Password = password.Reveal()
	cfg.ConnectTimeout = LoginTimeout
	return cfg, nil
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Login tries one login as user with password at e (one attempt, at most
// LoginTimeout), runs SELECT 1 and disconnects. err is set only for a
// cause that is neither a refusal nor the network (a canceled ctx).
func Login(ctx context.Context, e Endpoint, user string, password credscan.Secret) (LoginResult, error) {
	cfg, err := config(e, user, password, "credscan rotate")
	if err != nil {
		return Unreachable, err
	}
	ctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return classify(err), ctxErr(ctx)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
		return classify(err), ctxErr(ctx)
	}
	return Live, nil
}

func ctxErr(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return credscan.Errorf(credscan.CodeCanceled, "canceled")
	}
	return nil
}

// classify tells a refusal (the server answered no) from the network.
func classify(err error) LoginResult {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
		return Dead // wrong password; no LOGIN or no pg_hba entry
	}
	// the network, or an answer that says nothing of the password (too
	// many connections, no such database): inconclusive
	return Unreachable
}

// Describe is a login error without secrets: the SQLSTATE and message the
// server sent, or the kind of network failure.
func Describe(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "cannot connect"
	}
	return "failed"
}

// Admin is an administrator's connection to one side (blue or green).
// Safe for one goroutine at a time.
type Admin struct {
	Side string // "blue", "green": named in errors
	conn *pgx.Conn
	At   Endpoint
}

// Dial connects as the administrator whose URL dsn gives (it holds a
// password: it is read from Vault and never printed; a parse error does
// not echo it).
func Dial(ctx context.Context, side string, dsn credscan.Secret) (*Admin, error) {
	cfg, err := pgx.ParseConfig(dsn.Reveal())
	if err != nil {
		return nil, credscan.UsageError("the %s admin DSN does not parse as a PostgreSQL URL or conninfo", side)
	}
	cfg.ConnectTimeout = LoginTimeout
	// a name of its own: revocation finds this very login in the logs
	tag := make([]byte, 4)
	_, _ = rand.Read(tag)
	cfg.RuntimeParams["application_name"] = fmt.Sprintf("credscan-rotate-%x", tag)
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		code := credscan.CodeUnavailable
		if classify(err) == Dead {
			code = credscan.CodeUnauthorized
		}
		return nil, credscan.Errorf(code, "connecting to %s as its administrator (%s:%d): %s", side, cfg.Host, cfg.Port, Describe(err))
	}
	return &Admin{Side: side, conn: c, At: Endpoint{Host: cfg.Host, Port: int(cfg.Port), Database: cfg.Database}}, nil
}

// Close ends the connection.
func (a *Admin) Close() { _ = a.conn.Close(context.Background()) }

// User is the administrator's role.
func (a *Admin) User() string { return a.conn.Config().User }

// Application is this connection's application_name (unique to it).
func (a *Admin) Application() string { return a.conn.Config().RuntimeParams["application_name"] }

func (a *Admin) fail(what string, err error) error {
	code := credscan.CodeUnavailable
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		code = credscan.CodeRefused
		if pe.Code == "42501" {
			code = credscan.CodeUnauthorized
		}
	}
	return credscan.Errorf(code, "%s on %s: %s", what, a.Side, Describe(err))
}

// Role is a role's attributes and the roles it is a member of.
type Role struct {
	Name                                                     string
	Exists                                                   bool
	Super, Inherit, CreateRole, CreateDB, Login, Replication bool
	BypassRLS                                                bool
	ConnLimit                                                int
	MemberOf                                                 []string
}

// Role reads name's attributes and memberships from the catalog.
func (a *Admin) Role(ctx context.Context, name string) (Role, error) {
	r := Role{Name: name}
	err := a.conn.QueryRow(ctx, `SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit
		FROM pg_roles WHERE rolname = $1`, name).Scan(&r.Super, &r.Inherit, &r.CreateRole, &r.CreateDB, &r.Login, &r.Replication, &r.BypassRLS, &r.ConnLimit)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, a.fail("reading role "+name, err)
	}
	r.Exists = true
	rows, err := a.conn.Query(ctx, `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
		JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 ORDER BY 1`, name)
	if err != nil {
		return r, a.fail("reading the memberships of "+name, err)
	}
	r.MemberOf, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return r, a.fail("reading the memberships of "+name, err)
	}
	return r, nil
}

func (r Role) options() string {
	flag := func(on bool, yes, no string) string {
		if on {
			return yes
		}
		return no
	}
	return strings.Join([]string{flag(r.Super, "SUPERUSER", "NOSUPERUSER"), flag(r.Inherit, "INHERIT", "NOINHERIT"),
		flag(r.CreateRole, "CREATEROLE", "NOCREATEROLE"), flag(r.CreateDB, "CREATEDB", "NOCREATEDB"), flag(r.Login, "LOGIN", "NOLOGIN"),
		flag(r.Replication, "REPLICATION", "NOREPLICATION"), flag(r.BypassRLS, "BYPASSRLS", "NOBYPASSRLS"),
		"CONNECTION LIMIT " + strconv.Itoa(r.ConnLimit)}, " ")
}

// Ensure creates the role like r (or alters it to match) with password,
// and grants it r's memberships (those roles must exist). The password
// goes as a SCRAM-SHA-256 verifier.
func (a *Admin) Ensure(ctx context.Context, r Role, password credscan.Secret) (created bool, err error) {
	cur, err := a.Role(ctx, r.Name)
	if err != nil {
		return false, err
	}
	verifier, err := SCRAMVerifier(password)
	if err != nil {
		return false, err
	}
	verb := "ALTER"
	if !cur.Exists {
		verb = "CREATE"
	}
	stmt := fmt.Sprintf("%s ROLE %s WITH %s PASSWORD %s", verb, pgx.Identifier{r.Name}.Sanitize(), r.options(), literal(verifier))
	if _, err := a.conn.Exec(ctx, stmt); err != nil {
		return false, a.fail(strings.ToLower(verb)+" role "+r.Name, err)
	}
	for _, g := range r.MemberOf {
		if _, err := a.conn.Exec(ctx, fmt.Sprintf("GRANT %s TO %s", pgx.Identifier{g}.Sanitize(), pgx.Identifier{r.Name}.Sanitize())); err != nil {
			return !cur.Exists, a.fail(fmt.Sprintf("granting %s to %s", g, r.Name), err)
		}
	}
	return !cur.Exists, nil
}

// SetPassword sets name's password (as a verifier).
func (a *Admin) SetPassword(ctx context.Context, name string, password credscan.Secret) error {
	verifier, err := SCRAMVerifier(password)
	if err != nil {
		return err
	}
	if _, err := a.conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD %s", pgx.Identifier{name}.Sanitize(), literal(verifier))); err != nil {
		return a.fail("setting the password of "+name, err)
	}
	return nil
}

// Grant makes member a member of role (idempotent).
func (a *Admin) Grant(ctx context.Context, role, member string) error {
	if _, err := a.conn.Exec(ctx, fmt.Sprintf("GRANT %s TO %s", pgx.Identifier{role}.Sanitize(), pgx.Identifier{member}.Sanitize())); err != nil {
		return a.fail(fmt.Sprintf("granting %s to %s", role, member), err)
	}
	return nil
}

// SetLogin turns name's LOGIN on or off. Sessions already open stay.
func (a *Admin) SetLogin(ctx context.Context, name string, login bool) error {
	attr := "NOLOGIN"
	if login {
		attr = "LOGIN"
	}
	if _, err := a.conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s %s", pgx.Identifier{name}.Sanitize(), attr)); err != nil {
		return a.fail("ALTER ROLE "+name+" "+attr, err)
	}
	return nil
}

// CanLogin says whether name may log in.
func (a *Admin) CanLogin(ctx context.Context, name string) (bool, error) {
	r, err := a.Role(ctx, name)
	return r.Exists && r.Login, err
}

// Session is a backend of a role.
type Session struct {
	PID         int
	Client      string // address, "" for a Unix socket
	Application string
	Database    string
	Started     time.Time
	State       string
}

// Sessions lists name's backends (not this connection's).
func (a *Admin) Sessions(ctx context.Context, name string) ([]Session, error) {
	rows, err := a.conn.Query(ctx, `SELECT pid, coalesce(host(client_addr), ''), coalesce(application_name, ''), coalesce(datname, ''),
		coalesce(backend_start, now()), coalesce(state, '') FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid() ORDER BY backend_start`, name)
	if err != nil {
		return nil, a.fail("reading pg_stat_activity", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var s Session
		err := r.Scan(&s.PID, &s.Client, &s.Application, &s.Database, &s.Started, &s.State)
		return s, err
	})
	if err != nil {
		return nil, a.fail("reading pg_stat_activity", err)
	}
	return out, nil
}

// Terminate ends name's backends and says how many.
func (a *Admin) Terminate(ctx context.Context, name string) (int, error) {
	var n int
	err := a.conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`, name).Scan(&n)
	if err != nil {
		return 0, a.fail("terminating the sessions of "+name, err)
	}
	return n, nil
}

// WALPosition is the server's current WAL position (blue's side of the
// replication lag).
func (a *Admin) WALPosition(ctx context.Context) (string, error) {
	var lsn string
	if err := a.conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return "", a.fail("reading the WAL position", err)
	}
	return lsn, nil
}

// SubscriptionLag is how far (bytes) green's subscriptions are behind
// lsn, the publisher's position: the worst of them. ok is false when
// green has no subscription.
func (a *Admin) SubscriptionLag(ctx context.Context, lsn string) (lag int64, ok bool, err error) {
	var n int
	var worst *int64
	err = a.conn.QueryRow(ctx, `SELECT count(*), max(pg_wal_lsn_diff($1::pg_lsn, coalesce(latest_end_lsn, '0/0'::pg_lsn)))::bigint
		FROM pg_stat_subscription WHERE relid IS NULL`, lsn).Scan(&n, &worst)
	if err != nil {
		return 0, false, a.fail("reading pg_stat_subscription", err)
	}
	if n == 0 || worst == nil {
		return 0, false, nil
	}
	return max(0, *worst), true, nil
}

// RowCount counts a table's rows exactly (table as schema.name).
func (a *Admin) RowCount(ctx context.Context, db, table string) (int64, error) {
	var ident pgx.Identifier
	for _, part := range strings.Split(table, ".") {
		ident = append(ident, part)
	}
	var n int64
	if err := a.conn.QueryRow(ctx, "SELECT count(*) FROM "+ident.Sanitize()).Scan(&n); err != nil {
		return 0, a.fail("counting "+table, err)
	}
	return n, nil
}

// Database switches the connection to db (same server and user).
func (a *Admin) Database(ctx context.Context, db string) (*Admin, error) {
	cfg := a.conn.Config().Copy()
	cfg.Database = db
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, credscan.Errorf(credscan.CodeUnavailable, "connecting to database %s on %s: %s", db, a.Side, Describe(err))
	}
	return &Admin{Side: a.Side, conn: c, At: Endpoint{Host: cfg.Host, Port: int(cfg.Port), Database: db}}, nil
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SCRAMVerifier is the SCRAM-SHA-256 verifier PostgreSQL stores for a
// password (RFC 5802/7677, 4096 iterations, a random 16-byte salt):
// setting it instead of the password keeps the plaintext off the wire
// and out of the server's logs. The password must be ASCII printable
// (what Generate makes): SASLprep leaves those unchanged.
func SCRAMVerifier(password credscan.Secret) (string, error) {
	pw := password.Reveal()
	for i := 0; i < len(pw); i++ {
		if pw[i] < 0x21 || pw[i] > 0x7e {
			return "", credscan.UsageError("the password has a character outside printable ASCII: its verifier would need SASLprep")
		}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	const iter = 4096
	salted, err := pbkdf2.Key(sha256.New, pw, salt, iter, 32)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iter, b64(salt), b64(stored[:]), b64(server)), nil
}

// URL is a libpq URL to e as user with password: what the pointer gives
// applications (it holds the password: Vault only).
func URL(e Endpoint, user string, password credscan.Secret) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password.Reveal()), Host: net.JoinHostPort(e.Host, strconv.Itoa(e.Port)), Path: "/" + e.Database}
	return u.String()
}

// SlotLag is how far (bytes) the publisher's logical replication slots'
// confirmed positions are behind its WAL position: the worst of them; ok
// is false when there is no logical slot.
func (a *Admin) SlotLag(ctx context.Context) (lag int64, ok bool, err error) {
	var n int
	var worst *int64
	err = a.conn.QueryRow(ctx, `SELECT count(*), max(pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, '0/0'::pg_lsn)))::bigint
		FROM pg_replication_slots WHERE slot_type = 'logical'`).Scan(&n, &worst)
	if err != nil {
		return 0, false, a.fail("reading pg_replication_slots", err)
	}
	if n == 0 || worst == nil {
		return 0, false, nil
	}
	return max(0, *worst), true, nil
}
