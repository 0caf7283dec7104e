package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
)

// runBinary runs the built command with args and returns its exit code,
// stdout and stderr.
func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(credscanBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee := (*exec.ExitError)(nil); err != nil && !errors.As(err, &ee) {
		t.Fatalf("%v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// Every exit code of the table through the real binary (130 is
// TestSIGINTStopsTheScan's; 4 needs Vault: TestExitCodeVaultLeftEntries).
func TestExitCodesThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	t.Setenv("CREDSCAN_AUDIT_LOG", filepath.Join(t.TempDir(), "audit.jsonl"))
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	writeFile(t, filepath.Join(clean, "README.md"), "nothing here\n")
	dirty := filepath.Join(dir, "dirty")
	pw := leakcheck.Secret(t)
	writeFile(t, filepath.Join(dirty, ".env"), "PGHOST=arp-db.prod.internal\nPGPASSWORD='"+pw+"'\n")
	approvals := filepath.Join(dir, "credscan.yaml")
	writeFile(t, approvals, "version: 1\napprovals:\n  required: [dir]\napps:\n  - name: a\n    sources:\n      - dir: clean\n")
	tampered := filepath.Join(dir, "tampered.jsonl")
	if _, _, code := run(t, "scan", "dir", clean, "--audit-log", tampered); code != exitOK {
		t.Fatalf("writing an audit log: exit %d", code)
	}
	b, _ := os.ReadFile(tampered)
	if err := os.WriteFile(tampered, bytes.Replace(b, []byte(`"result":"ok"`), []byte(`"result":"blocked"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	for _, c := range []struct {
		name string
		args []string
		env  []string
		code int
		says string
	}{
		{"nothing blocking", []string{"scan", "dir", clean}, nil, exitOK, "No credentials found"},
		{"blocking findings", []string{"scan", "dir", dirty}, nil, exitBlocking, "[blocking]"},
		{"usage", []string{"scan", "dir", clean, "--format", "xml"}, nil, exitUsage, "--format"},
		{"an item unreadable", []string{"scan", "dir", clean, "/proc/self/mem"}, nil, exitPartial, "input/output error"},
		{"Vault unreachable", []string{"vault", "audit", "check"}, []string{"VAULT_ADDR=" + dead, "VAULT_TOKEN=hvs.x"}, exitUnavailable, "cannot reach Vault"},
		{"refused by a gate", []string{"scan", "estate", "-m", approvals}, nil, exitRefused, "need an approval"},
		{"integrity", []string{"audit", "verify", tampered}, nil, exitIntegrity, "TAMPERED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, e := range c.env {
				k, v, _ := strings.Cut(e, "=")
				t.Setenv(k, v)
			}
			code, stdout, stderr := runBinary(t, c.args...)
			if code != c.code || !strings.Contains(stdout+stderr, c.says) {
				t.Errorf("exit %d, want %d (%q)\nstdout: %s\nstderr: %s", code, c.code, c.says, stdout, stderr)
			}
			leakcheck.AssertNone(t, "output", []byte(stdout+stderr), pw)
		})
	}
}
