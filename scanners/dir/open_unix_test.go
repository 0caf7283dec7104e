//go:build unix

package dir

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A file reads at any offset (an archive is opened in place): whole
// reads, reads at the end, and io.EOF past it, as io.ReaderAt says.
func TestRawFileReadAt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.zip")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := openFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	ra, ok := fh.(io.ReaderAt)
	if !ok {
		t.Fatal("a file cannot be read at an offset")
	}
	buf := make([]byte, 4)
	if n, err := ra.ReadAt(buf, 3); n != 4 || err != nil || string(buf) != "3456" {
		t.Errorf("ReadAt 3: %d %v %q", n, err, buf)
	}
	if n, err := ra.ReadAt(buf, 8); n != 2 || !errors.Is(err, io.EOF) || string(buf[:n]) != "89" {
		t.Errorf("ReadAt 8: %d %v %q", n, err, buf[:n])
	}
	if n, err := ra.ReadAt(buf, 20); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt past the end: %d %v", n, err)
	}
}
