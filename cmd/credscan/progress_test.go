package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan/estate"
)

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		p    estate.Progress
		want string
	}{
		{estate.Progress{Source: "dir billing-api", Items: 10, RunBytes: 2e6}, "dir billing-api: 10 items, 2.0 MB, 1.0 MB/s"},
		{estate.Progress{Source: "git repo", Items: 50, TotalItems: 200, RunBytes: 4e6}, "git repo: 50/200 items, 4.0 MB, 2.0 MB/s"},
		{estate.Progress{Source: "git repo", Items: 50, TotalItems: 200, Final: true, RunBytes: 4e6}, "git repo: 50/200 items, 4.0 MB, 2.0 MB/s, ETA 6s"},
		{estate.Progress{Source: "dir a\x1b]0;x\x07", Items: 1}, `dir a\x1b]0;x\x07: 1 items, 0.0 MB, 0.0 MB/s`},
	} {
		if got := progressLine(c.p, 2*time.Second, 100); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if got := progressLine(estate.Progress{Source: strings.Repeat("x", 300)}, time.Second, 80); len([]rune(got)) != 80 {
		t.Errorf("not cut to the width: %d", len([]rune(got)))
	}
}

// No progress line where nobody watches: a pipe, a file, --quiet, CI.
func TestProgressOnlyOnATerminal(t *testing.T) {
	var b bytes.Buffer
	if progressShown(&b, false) {
		t.Error("shown on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if progressShown(f, false) {
		t.Error("shown on a file")
	}
}

// On a real terminal (tmux), a scan that waits shows one live line; the
// captured screen holds no secret and the line is gone once it ends.
func TestProgressInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("needs tmux and the binary")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CREDSCAN_REQUIRE_E2E") != "" {
			t.Fatalf("tmux is not installed: %v", err)
		}
		t.Skip("tmux is not installed")
	}
	bin := credscanBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // a registry that accepts and never answers
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "app", ".env"), "DATABASE_URL=postgres://arp_app:Qw7progK9x2@arp-db.prod.internal/arp\n")
	session := "credscan-progress-" + filepath.Base(dir)
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		out, _ := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		return string(out)
	}
	script := filepath.Join(dir, "run.sh")
	writeFile(t, script, "#!/bin/sh\ntrap true INT\nexport CREDSCAN_FINGERPRINT_KEY=test-key-0123456789abcdef CREDSCAN_AUDIT_LOG="+filepath.Join(dir, "audit.jsonl")+" CI=\n"+
		bin+" scan image "+l.Addr().String()+"/app:1 -o "+filepath.Join(dir, "report")+"\necho EXIT=$?\nsleep 30\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "20", script)
	defer tmux("kill-server")
	var screen string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		screen = tmux("capture-pane", "-p", "-t", session)
		if strings.Contains(screen, "items") {
			break
		}
	}
	if !strings.Contains(screen, "image: 0 items, 0.0 MB") {
		t.Fatalf("no progress line on the terminal:\n%s", screen)
	}
	tmux("send-keys", "-t", session, "C-c", "")
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		screen = tmux("capture-pane", "-p", "-t", session)
		if strings.Contains(screen, "EXIT=") {
			break
		}
	}
	if !strings.Contains(screen, "EXIT=130") || strings.Contains(screen, "items,") {
		t.Errorf("after the scan the line should be gone:\n%s", screen)
	}
	if strings.Contains(screen, "Qw7progK9x2") {
		t.Error("the screen shows the secret")
	}
}
