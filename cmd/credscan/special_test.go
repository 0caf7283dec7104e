//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A named pipe given where a file is read whole (the manifest, a
// baseline, an image archive, a gitleaks config) is refused at once,
// naming what it is: reading it blocked for ever.
func TestNamedPipesAreRefused(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "p")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "app", "a.txt"), "x\n")
	for _, args := range [][]string{
		{"scan", "estate", "-m", fifo},
		{"scan", "dir", filepath.Join(dir, "app"), "--baseline", fifo},
		{"scan", "dir", filepath.Join(dir, "app"), "--gitleaks-config", fifo},
		{"scan", "image", "docker-archive:" + fifo},
		{"scan", "image", "oci-archive:" + fifo},
		{"audit", "verify", fifo},
	} {
		done := make(chan struct{})
		var stdout, stderr string
		var code int
		go func() {
			stdout, stderr, code = run(t, args...)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%v: blocked on a named pipe", args)
		}
		if code == exitOK || !strings.Contains(stdout+stderr, "named pipe") {
			t.Errorf("%v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
}
