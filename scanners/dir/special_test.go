//go:build unix

package dir_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

// A named pipe given as a root or met in the walk, a socket and a link
// are never opened for reading: each is counted as skipped by kind, and
// the rest is scanned. (Opening a pipe with no writer blocked for ever.)
func TestSpecialFilesAreSkipped(t *testing.T) {
	top := t.TempDir()
	fifo := filepath.Join(top, "p")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(top, "d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(d, "inner.pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	// a socket path must be short
	sockDir, err := os.MkdirTemp("", "cs")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	l, err := net.Listen("unix", filepath.Join(sockDir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.WriteFile(filepath.Join(d, ".env"), []byte("DATABASE_URL=postgres://arp_app:Qw7pipeK9x2@arp-db.prod.internal/arp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(".env", filepath.Join(d, "link.env")); err != nil {
		t.Fatal(err)
	}
	src, err := dir.New([]string{fifo, d, sockDir, filepath.Join(sockDir, "s")})
	if err != nil {
		t.Fatal(err)
	}
	res := engine.NewResults()
	done := make(chan error, 1)
	go func() { done <- scantest.Engine(t, engine.RulesDB).Scan(context.Background(), src, res) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the scan blocked on a special file")
	}
	res.Finish()
	if len(res.Findings) != 1 {
		t.Errorf("%d findings, want the .env's", len(res.Findings))
	}
	want := map[string]int{"named pipe": 2, "socket": 2, "symlink (not followed)": 1}
	for k, n := range want {
		if res.Stats.Skipped[k] != n {
			t.Errorf("skipped %q: %d, want %d (all: %v)", k, res.Stats.Skipped[k], n, res.Stats.Skipped)
		}
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
}
