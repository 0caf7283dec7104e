package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGBin is where Debian's PostgreSQL 15 binaries are.
const PGBin = "/usr/lib/postgresql/15/bin"

// Postgres is a throwaway PostgreSQL 15 cluster on loopback: scram-sha-256
// authentication (a wrong password really fails), connection logging with
// user, database, application and client in every line, its log in
// LogPath. Started by StartPostgres and stopped when the test ends.
type Postgres struct {
	Host          string
	Port          int
	SuperUser     string
	SuperPassword string
	Dir           string
	LogPath       string

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	opts PostgresOptions
	cred *syscall.Credential
}

// PostgresOptions configure a cluster.
type PostgresOptions struct {
	// Logical sets wal_level=logical (for a publication blue-green).
	Logical bool
}

// LogLinePrefix is the clusters' log_line_prefix: rotation's log reader
// parses it.
const LogLinePrefix = "%m [%p] user=%u db=%d app=%a client=%h "

// serviceUser is the account the servers run as: PostgreSQL and PgBouncer
// refuse to run as root, so as root the tests use the postgres account.
func serviceUser(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root and there is no postgres account to run the servers as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// ServiceDir makes a temporary directory the servers' account owns.
func ServiceDir(t testing.TB, cred *syscall.Credential, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Chown gives path to the servers' account (when running as root).
func Chown(t testing.TB, path string) {
	t.Helper()
	if cred := serviceUser(t); cred != nil {
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
}

// StartPostgres initialises and starts a cluster.
func StartPostgres(t testing.TB, o PostgresOptions) *Postgres {
	t.Helper()
	Short(t, "PostgreSQL 15")
	initdb := filepath.Join(PGBin, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		msg := fmt.Sprintf("PostgreSQL 15 is not installed (%s: apt-get install postgresql-15; .ci/run installs it)", initdb)
		if os.Getenv("CI") != "" || os.Getenv("CREDSCAN_REQUIRE_E2E") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cred := serviceUser(t)
	dir := ServiceDir(t, cred, "credscan-pg-")
	p := &Postgres{Host: "127.0.0.1", SuperUser: "postgres", SuperPassword: "su-" + randHex(10), Dir: dir,
		LogPath: filepath.Join(dir, "postgres.log"), t: t, opts: o, cred: cred}
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(p.SuperPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	Chown(t, pw)
	cmd := exec.Command(initdb, "-D", filepath.Join(dir, "data"), "-U", p.SuperUser, "--auth=scram-sha-256", "--pwfile="+pw, "-E", "UTF8", "--locale=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	os.Remove(pw)
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		p.Port = port
		if lastErr = p.start(); lastErr == nil {
			t.Cleanup(p.Stop)
			return p
		}
	}
	t.Fatalf("postgres did not start: %v", lastErr)
	return nil
}

func (p *Postgres) start() error {
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"-D", filepath.Join(p.Dir, "data"), "-k", p.Dir, "-p", strconv.Itoa(p.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "log_connections=on", "-c", "log_disconnections=on",
		"-c", "log_line_prefix=" + LogLinePrefix, "-c", "log_timezone=UTC", "-c", "max_connections=200",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
	if p.opts.Logical {
		args = append(args, "-c", "wal_level=logical", "-c", "max_replication_slots=10", "-c", "max_wal_senders=10")
	}
	cmd := exec.Command(filepath.Join(PGBin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("postgres exited; its log:\n%s", tail(p.Log(), 2000))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, p.DSN(p.SuperUser, p.SuperPassword, "postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("not ready after 30 s (%v); its log:\n%s", err, tail(p.Log(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DSN is a URL to the cluster as user.
func (p *Postgres) DSN(user, password, db string) string {
	return PGURL(p.Host, p.Port, user, password, db)
}

// Exec runs statements as the superuser in db.
func (p *Postgres) Exec(db string, sql ...string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN(p.SuperUser, p.SuperPassword, db))
	if err != nil {
		p.t.Fatalf("connecting to %s: %v", db, err)
	}
	defer c.Close(ctx)
	for _, s := range sql {
		if _, err := c.Exec(ctx, s); err != nil {
			p.t.Fatalf("%s: %v", firstLine(s), err)
		}
	}
}

// Log is the server's log so far.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Stop shuts the server down (fast) and waits for it.
func (p *Postgres) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

// Restart starts a stopped server again on its port.
func (p *Postgres) Restart() {
	p.t.Helper()
	if err := p.start(); err != nil {
		p.t.Fatal(err)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// PGURL is a libpq URL (no TLS, a 5 s connect timeout).
func PGURL(host string, port int, user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: fmt.Sprintf("%s:%d", host, port), Path: "/" + db,
		RawQuery: "sslmode=disable&connect_timeout=5"}
	return u.String()
}
