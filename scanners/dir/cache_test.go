package dir

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
)

// With a cache pass in the context, a file is named by its status (its
// chunk carries the version) and, once that version is entered as clean,
// not read at all.
func TestVersionSkipsReading(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("versions by status on Linux only")
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.yaml"), []byte("name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := cache.Open(t.TempDir(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pass := cache.NewPass(st, cache.NewConfig("test"))
	ctx := cache.WithPass(context.Background(), pass)
	s, err := New([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	collect := func() []credscan.Chunk {
		t.Helper()
		var out []credscan.Chunk
		if err := s.Chunks(ctx, func(ch credscan.Chunk, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ch)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if chs := collect(); len(chs) != 1 || chs[0].Version != "" || chs[0].Cached != nil {
		t.Fatalf("a file changed just now has a version or was skipped: %+v", chs)
	}
	time.Sleep(2100 * time.Millisecond)
	chs := collect()
	if len(chs) != 1 || chs[0].Version == "" || string(chs[0].Data) != "name: a\n" {
		t.Fatalf("the file was not named by its status: %+v", chs)
	}
	pass.Clean(pass.Config().Version(string(chs[0].Origin.Kind), chs[0].Origin.Path, chs[0].Version), cache.Entry{Bytes: 8})
	if chs := collect(); len(chs) != 1 || chs[0].Cached == nil || chs[0].Cached.Bytes != 8 || chs[0].Data != nil {
		t.Fatalf("a file known clean by its status was read: %+v", chs)
	}
}
