//go:build linux

// Package testenv starts the real parts credscan talks to — the Vault
// server, built from its Go module — on loopback for tests, with readiness
// checks and errors that say what is missing.
package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	tlspkg "crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// VaultVersion is the Vault release the tests run against (see
// internal/testenv/vaultbin and TESTING.md).
const VaultVersion = "1.21.0"

// ToolsDir is where test binaries are cached, outside the repository:
// $CREDSCAN_TOOLS, else ~/.cache/credscan-tools.
func ToolsDir() string {
	if d := os.Getenv("CREDSCAN_TOOLS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "credscan-tools")
	}
	return filepath.Join(home, ".cache", "credscan-tools")
}

var buildMu sync.Mutex

// VaultBinary returns the Vault test server binary: $CREDSCAN_VAULT_BIN,
// else the cached build of VaultVersion, built first when missing (about
// 20 minutes the first time, module downloads included; .ci/run does it
// before the tests). A file lock keeps test packages from building it twice.
func VaultBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CREDSCAN_VAULT_BIN"); p != "" {
		return p
	}
	bin := filepath.Join(ToolsDir(), "vault-"+VaultVersion)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if err := os.MkdirAll(ToolsDir(), 0o755); err != nil {
		t.Fatalf("vault test server: %v", err)
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("vault test server: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("vault test server: locking the build: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(bin); err == nil {
		return bin // another package built it meanwhile
	}
	if err := BuildVault(bin); err != nil {
		t.Fatalf("vault test server: %v", err)
	}
	return bin
}

// BuildVault builds the Vault server of internal/testenv/vaultbin into out.
func BuildVault(out string) error {
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "vaultbin")
	fmt.Fprintf(os.Stderr, "testenv: building the Vault %s test server into %s (the first time takes about 20 minutes, module downloads included)\n", VaultVersion, out)
	tmp := out + ".tmp"
	cmd := exec.Command("go", "build", "-mod=mod", "-ldflags=-s -w", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v\n%s", src, err, tail(string(b), 2000))
	}
	return os.Rename(tmp, out)
}

// Vault is a running Vault dev server.
type Vault struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	UnsealKey string
	Dir       string // the server's temporary directory (logs, audit logs)
	CACert    string // with TLS: the CA certificate that signed the server's
	tls       bool
	// persistent: a real server (file storage, initialised and unsealed
	// by the test), which keeps its data across Kill and Restart
	persistent bool
	port       int
	bin        string
	cmd        *exec.Cmd
	logFile    string
	t          testing.TB
}

// StartVault starts `vault server -dev` on a free loopback port, waits
// until it is ready and stops it when the test ends. KV v2 is mounted at
// secret/.
func StartVault(t testing.TB) *Vault { t.Helper(); return startVault(t, false, false) }

// StartVaultTLS starts the dev server with TLS (-dev-tls): its own CA,
// whose certificate is CACert.
func StartVaultTLS(t testing.TB) *Vault { t.Helper(); return startVault(t, true, false) }

// StartVaultPersistent starts a non-dev server with file storage, then
// initialises it (one unseal key), unseals it and mounts KV v2 at secret/.
// Kill stops it hard; Restart starts it again on the same port and data,
// and unseals it.
func StartVaultPersistent(t testing.TB) *Vault {
	t.Helper()
	v := startVault(t, false, true)
	c := v.Client("")
	init, err := c.Sys().Init(&vault.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("vault init: %v", err)
	}
	v.RootToken, v.UnsealKey = init.RootToken, init.Keys[0]
	v.unseal()
	c = v.Client("")
	if err := c.Sys().Mount("secret", &vault.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mounting KV v2: %v", err)
	}
	v.waitKV()
	return v
}

// Unseal unseals a sealed server (its unseal key is known) and waits for
// KV v2.
func (v *Vault) Unseal() { v.t.Helper(); v.unseal() }

func (v *Vault) unseal() {
	v.t.Helper()
	if _, err := v.Client("").Sys().Unseal(v.UnsealKey); err != nil {
		v.t.Fatalf("vault unseal: %v", err)
	}
	v.waitKV()
}

// waitKV waits until KV v2 at secret/ answers (a new or restarted mount
// takes a moment).
func (v *Vault) waitKV() {
	v.t.Helper()
	c := v.Client("")
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := c.Logical().Read("secret/config"); err == nil {
			return
		} else if time.Now().After(deadline) {
			v.t.Fatalf("KV v2 at secret/ not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL), as a crash or an outage.
func (v *Vault) Kill() {
	if v.cmd == nil || v.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
	for i := 0; i < 100 && syscall.Kill(v.cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	v.cmd = nil
}

// Restart starts a killed persistent server again and unseals it.
func (v *Vault) Restart() {
	v.t.Helper()
	if err := v.start(v.bin, v.port); err != nil {
		v.t.Fatalf("vault restart: %v", err)
	}
	v.unseal()
}

// Short skips t in the fast tier (go test -short), which runs without the
// real servers: Vault, PostgreSQL, PgBouncer, the registry package, tmux.
func Short(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: this test needs %s", what)
	}
}

func startVault(t testing.TB, tls, persistent bool) *Vault {
	Short(t, "the Vault server")
	t.Helper()
	bin := VaultBinary(t)
	dir := t.TempDir()
	root := "root-" + randHex(8)
	v := &Vault{RootToken: root, Dir: dir, logFile: filepath.Join(dir, "server.log"), t: t, tls: tls, persistent: persistent, bin: bin}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("vault: %v", err)
		}
		v.Addr = fmt.Sprintf("http://127.0.0.1:%d", port)
		if tls {
			v.Addr = fmt.Sprintf("https://127.0.0.1:%d", port)
		}
		v.port = port
		if lastErr = v.start(bin, port); lastErr == nil {
			t.Cleanup(v.Stop)
			return v
		}
		v.Stop()
	}
	t.Fatalf("vault test server did not start: %v", lastErr)
	return nil
}

func (v *Vault) start(bin string, port int) error {
	logf, err := os.OpenFile(v.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"server", "-dev", "-dev-root-token-id=" + v.RootToken, fmt.Sprintf("-dev-listen-address=127.0.0.1:%d", port), "-log-level=warn"}
	if v.persistent {
		cfg := filepath.Join(v.Dir, "config.hcl")
		hcl := fmt.Sprintf("storage \"file\" {\n  path = %q\n}\nlistener \"tcp\" {\n  address = \"127.0.0.1:%d\"\n  tls_disable = true\n}\ndisable_mlock = true\napi_addr = \"http://127.0.0.1:%d\"\n",
			filepath.Join(v.Dir, "data"), port, port)
		if err := os.WriteFile(cfg, []byte(hcl), 0o600); err != nil {
			return err
		}
		args = []string{"server", "-config=" + cfg, "-log-level=warn"}
	}
	hc := http.DefaultClient
	if v.tls {
		certs := filepath.Join(v.Dir, "certs")
		if err := os.MkdirAll(certs, 0o700); err != nil {
			return err
		}
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+certs)
		v.CACert = filepath.Join(certs, "vault-ca.pem")
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tlspkg.Config{InsecureSkipVerify: true}}} // readiness only
	}
	cmd := exec.Command(bin, args...)
	// the dev server writes its root token to the token helper (~/.vault-token)
	cmd.Env = append(os.Environ(), "HOME="+v.Dir, "VAULT_ADDR=", "VAULT_TOKEN=", "SKIP_SETCAP=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	// its own process group (Stop, Pause), and killed if the test process dies
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %v", bin, err)
	}
	v.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case err := <-exited:
			v.cmd = nil
			return fmt.Errorf("exited (%v); its log:\n%s", err, v.Log())
		case <-deadline:
			return fmt.Errorf("not ready after 60 s; its log:\n%s", v.Log())
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := hc.Get(v.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if v.persistent {
				go func() { <-exited }()
				return nil // it answers (uninitialised or sealed)
			}
			// ready, and the banner with the unseal key is written
			if resp.StatusCode == http.StatusOK {
				if v.UnsealKey = v.unsealKey(); v.UnsealKey != "" {
					go func() { <-exited }() // reap it when stopped
					return nil
				}
			}
		}
	}
}

var unsealRe = regexp.MustCompile(`Unseal Key: (\S+)`)

func (v *Vault) unsealKey() string {
	f, err := os.Open(v.logFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := unsealRe.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	return ""
}

// Log returns the tail of the server's log.
func (v *Vault) Log() string {
	b, _ := os.ReadFile(v.logFile)
	return tail(string(b), 4000)
}

// Stop stops the server.
func (v *Vault) Stop() {
	if v.cmd == nil || v.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGCONT)
	_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 50; i++ {
			if syscall.Kill(v.cmd.Process.Pid, 0) != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		close(done)
	}()
	<-done
	_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
	v.cmd = nil
}

// Pause stops the server process (SIGSTOP): it holds its data but answers
// nothing, as an unreachable Vault. Resume continues it.
func (v *Vault) Pause() { _ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGSTOP) }

// Resume continues a paused server.
func (v *Vault) Resume() { _ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGCONT) }

// Client returns an API client for token (the root token when "").
func (v *Vault) Client(token string) *vault.Client {
	v.t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = v.Addr
	if v.CACert != "" {
		if err := cfg.ConfigureTLS(&vault.TLSConfig{CACert: v.CACert}); err != nil {
			v.t.Fatalf("vault client TLS: %v", err)
		}
	}
	c, err := vault.NewClient(cfg)
	if err != nil {
		v.t.Fatalf("vault client: %v", err)
	}
	if token == "" {
		token = v.RootToken
	}
	c.SetToken(token)
	return c
}

// EnableFileAudit enables a file audit device at path name/ logging to
// a file in the server's directory, and returns the file.
func (v *Vault) EnableFileAudit(name string) string {
	v.t.Helper()
	file := filepath.Join(v.Dir, name+"-audit.log")
	err := v.Client("").Sys().EnableAuditWithOptionsWithContext(context.Background(), name, &vault.EnableAuditOptions{
		Type: "file", Options: map[string]string{"file_path": file},
	})
	if err != nil {
		v.t.Fatalf("enabling the file audit device: %v", err)
	}
	return file
}

// Token creates a token with the policies, named display (Vault prefixes
// "token-"), and returns it.
func (v *Vault) Token(display string, policies ...string) string {
	v.t.Helper()
	s, err := v.Client("").Auth().Token().Create(&vault.TokenCreateRequest{Policies: policies, DisplayName: display, NoDefaultPolicy: false})
	if err != nil {
		v.t.Fatalf("creating a token: %v", err)
	}
	return s.Auth.ClientToken
}

// Policy writes an ACL policy.
func (v *Vault) Policy(name, hcl string) {
	v.t.Helper()
	if err := v.Client("").Sys().PutPolicy(name, hcl); err != nil {
		v.t.Fatalf("writing policy %s: %v", name, err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
