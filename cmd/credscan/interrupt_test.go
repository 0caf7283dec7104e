package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// An interrupted scan says so everywhere: exit 130, a report marked
// incomplete (never "No credentials found."), no CSV at all, and
// "interrupted" in the audit log. (It exited 2 with a clean-looking report
// and "ok" in the audit log.)
func TestInterruptedScanSaysSo(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "hello\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, format := range []string{"table", "json", "sarif", "markdown", "csv"} {
		out := filepath.Join(t.TempDir(), "report")
		cmd := newRootCmd()
		var stdout, stderr bytes.Buffer
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		cmd.SetArgs([]string{"scan", "dir", dir, "--format", format, "-o", out})
		code := exitCode(cmd.ExecuteContext(ctx))
		if code != exitInterrupted {
			t.Errorf("%s: exit %d, want %d", format, code, exitInterrupted)
		}
		b, err := os.ReadFile(out)
		switch format {
		case "csv":
			if err == nil {
				t.Errorf("csv: a report was written for an interrupted scan")
			}
			if !strings.Contains(stderr.String(), "no CSV report written") {
				t.Errorf("csv: stderr does not say why there is no report: %q", stderr.String())
			}
			continue
		case "json":
			var rep struct{ Incomplete string }
			if json.Unmarshal(b, &rep) != nil || rep.Incomplete != "interrupted" {
				t.Errorf("json: not marked incomplete: %s", b)
			}
		case "sarif":
			if !bytes.Contains(b, []byte(`"executionSuccessful": false`)) {
				t.Errorf("sarif: not marked unsuccessful")
			}
		default:
			if !bytes.Contains(b, []byte("INCOMPLETE")) || bytes.Contains(b, []byte("No credentials found")) {
				t.Errorf("%s: not marked incomplete:\n%s", format, b)
			}
		}
	}
	auditLog, _ := os.ReadFile(os.Getenv("CREDSCAN_AUDIT_LOG"))
	if !strings.Contains(string(auditLog), `"result":"interrupted"`) {
		t.Errorf("the audit log does not record the interruption")
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// credscanBinary builds the command once for the tests that run it as a
// process (signals, exit codes).
func credscanBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "credscan-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "credscan")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("building credscan: %v", binErr)
	}
	return binPath
}

// SIGINT during a scan that waits on the network (a registry that never
// answers) stops it: exit 130, the JSON report marked incomplete, the
// audit log says interrupted.
func TestSIGINTStopsTheScan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := credscanBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	auditLog := filepath.Join(dir, "audit.jsonl")
	cmd := exec.Command(bin, "scan", "image", l.Addr().String()+"/app:1", "--format", "json", "-o", out)
	cmd.Env = append(os.Environ(), "CREDSCAN_FINGERPRINT_KEY=test-key-0123456789abcdef", "CREDSCAN_AUDIT_LOG="+auditLog)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// wait until it is waiting on the registry
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("SIGINT did not stop the scan")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want %d; stderr: %s", code, exitInterrupted, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(b, []byte(`"incomplete": "interrupted"`)) {
		t.Errorf("the report is not marked incomplete (%v): %s", err, b)
	}
	a, _ := os.ReadFile(auditLog)
	if !bytes.Contains(a, []byte(`"result":"interrupted"`)) {
		t.Errorf("the audit log does not record the interruption: %s", a)
	}
}

// A plain go build stamps the version from the build info: the module
// version (a pseudo-version from the VCS), the revision and its time.
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	bin := filepath.Join(t.TempDir(), "credscan")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "commit none") || strings.Contains(s, "built unknown") || !strings.Contains(s, strings.TrimSpace(string(rev))) || strings.Contains(s, "credscan dev ") {
		t.Errorf("version: %q (HEAD %s)", s, rev)
	}
}
