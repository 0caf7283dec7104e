//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// -o naming a device or a pipe (CI writes to /dev/null) writes into it and
// never replaces it with a file: a report is only swapped in by a rename
// over a regular file.
func TestOutputToAPipeKeepsThePipe(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	got := make(chan string, 1)
	go func() {
		fh, err := os.Open(fifo)
		if err != nil {
			got <- ""
			return
		}
		defer fh.Close()
		b, _ := io.ReadAll(fh)
		got <- string(b)
	}()
	_, stderr, code := run(t, "scan", "estate", "-m", filepath.Join("..", "..", "examples", "estate", "credscan.yaml"), "-f", "json", "-o", fifo, "-q", "--sweep=false")
	if code != exitBlocking {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if report := <-got; !strings.Contains(report, `"findings"`) {
		t.Fatalf("the pipe's reader got %d bytes", len(report))
	}
	fi, err := os.Lstat(fifo)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the named pipe was replaced: %v %v", fi.Mode(), err)
	}
}
