package git

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// git answers through a pipe grown to pipeSize, where the system allows
// a pipe that large.
func TestCatFilePipeGrown(t *testing.T) {
	g := workingGit()
	if g == "" {
		t.Skip("no working git")
	}
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err != nil {
		t.Skip(err)
	} else if max, _ := strconv.Atoi(strings.TrimSpace(string(b))); max < pipeSize {
		t.Skipf("pipes here grow to %d bytes at most", max)
	}
	b := newRepo(t)
	b.Commit("Alice", map[string]string{"a.txt": "a\n"})
	cf, err := newCatFile(g, filepath.Join(b.Dir, ".git"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.close()
	size, err := unix.FcntlInt(cf.answer.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if size < pipeSize {
		t.Errorf("git answers through a pipe of %d bytes, want %d", size, pipeSize)
	}
}
