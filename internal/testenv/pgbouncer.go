package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PgBouncer is a throwaway PgBouncer (Debian's 1.18) on loopback:
// transaction pooling, scram-sha-256 for clients (users in an auth file),
// an admin console user, server_login_retry 1 (LoginRetry), connection logging, and
// the [databases] section in DatabasesFile, %included from the ini, which
// a cutover replaces.
type PgBouncer struct {
	Host          string
	Port          int
	AdminUser     string
	AdminPassword string
	Dir           string
	DatabasesFile string
	LogPath       string

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	cred *syscall.Credential
	ini  string
}

// PgBouncerOptions configure the broker.
type PgBouncerOptions struct {
	// Databases is the initial [databases] section's body ("arp = host=…").
	Databases string
	// Users are the clients' names and passwords (the auth file).
	Users map[string]string
	// PoolSize is default_pool_size (default 20).
	PoolSize int
	// LoginRetry is server_login_retry in seconds (default 1).
	LoginRetry int
}

// StartPgBouncer writes its configuration and starts it.
func StartPgBouncer(t testing.TB, o PgBouncerOptions) *PgBouncer {
	t.Helper()
	bin := Need(t, "pgbouncer", "pgbouncer")
	cred := serviceUser(t)
	dir := ServiceDir(t, cred, "credscan-pgbouncer-")
	b := &PgBouncer{Host: "127.0.0.1", AdminUser: "pgb_admin", AdminPassword: "adm-" + randHex(10), Dir: dir,
		DatabasesFile: filepath.Join(dir, "databases.ini"), LogPath: filepath.Join(dir, "pgbouncer.log"), t: t, cred: cred,
		ini: filepath.Join(dir, "pgbouncer.ini")}
	users := map[string]string{b.AdminUser: b.AdminPassword}
	for u, p := range o.Users {
		users[u] = p
	}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	var auth strings.Builder
	for _, u := range names {
		fmt.Fprintf(&auth, "%q %q\n", u, users[u])
	}
	b.write("userlist.txt", auth.String())
	b.write("databases.ini", "[databases]\n"+o.Databases+"\n")
	if o.PoolSize == 0 {
		o.PoolSize = 20
	}
	if o.LoginRetry == 0 {
		o.LoginRetry = 1
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		b.Port = port
		b.write("pgbouncer.ini", fmt.Sprintf(`[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
auth_type = scram-sha-256
auth_file = %s
admin_users = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 500
server_login_retry = %d
server_connect_timeout = 5
query_wait_timeout = 30
log_connections = 1
log_disconnections = 1
logfile = %s
pidfile = %s
ignore_startup_parameters = extra_float_digits
%%include %s
`, port, dir, filepath.Join(dir, "userlist.txt"), b.AdminUser, o.PoolSize, o.LoginRetry, b.LogPath, filepath.Join(dir, "pgbouncer.pid"), b.DatabasesFile))
		if lastErr = b.start(bin); lastErr == nil {
			t.Cleanup(b.Stop)
			return b
		}
	}
	t.Fatalf("pgbouncer did not start: %v", lastErr)
	return nil
}

// write writes a file of the broker's directory, mode 0600, owned by the
// account it runs as.
func (b *PgBouncer) write(name, content string) {
	b.t.Helper()
	p := filepath.Join(b.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		b.t.Fatal(err)
	}
	Chown(b.t, p)
}

func (b *PgBouncer) start(bin string) error {
	cmd := exec.Command(bin, b.ini)
	out, err := os.OpenFile(filepath.Join(b.Dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: b.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	b.cmd, b.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(b.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-b.done:
			se, _ := os.ReadFile(filepath.Join(b.Dir, "stderr.log"))
			return fmt.Errorf("pgbouncer exited: %s %s", tail(string(se), 1000), tail(b.Log(), 1000))
		default:
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(b.Host, strconv.Itoa(b.Port)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			b.Stop()
			return fmt.Errorf("not listening after 15 s; its log:\n%s", tail(b.Log(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AdminDSN is the admin console's URL.
func (b *PgBouncer) AdminDSN() string {
	return PGURL(b.Host, b.Port, b.AdminUser, b.AdminPassword, "pgbouncer")
}

// DSN is a client's URL to database db.
func (b *PgBouncer) DSN(user, password, db string) string {
	return PGURL(b.Host, b.Port, user, password, db)
}

// Log is the broker's log so far.
func (b *PgBouncer) Log() string {
	out, _ := os.ReadFile(b.LogPath)
	return string(out)
}

// Stop stops the broker (SIGINT: a safe shutdown) and waits.
func (b *PgBouncer) Stop() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
	b.cmd = nil
}

// Restart starts a stopped broker again with the same configuration.
func (b *PgBouncer) Restart() {
	b.t.Helper()
	if err := b.start(mustLook("pgbouncer")); err != nil {
		b.t.Fatal(err)
	}
}

func mustLook(p string) string {
	path, _ := exec.LookPath(p)
	return path
}
