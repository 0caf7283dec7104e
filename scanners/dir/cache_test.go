package dir

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
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

// A second pass over the same Scanner (the sweep's) replays the first
// walk: the same files, read again as they are now, and a file the
// cache knows clean at the version the first pass saw is not even opened
// (here: removed after the first pass, and still counted, not an error).
func TestSecondPassReplaysTheWalk(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("versions by status on Linux only")
	}
	root := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/known.yaml", "name: a\n")
	write("b/changing.txt", "one\n")
	time.Sleep(2100 * time.Millisecond) // old enough to have a version
	st, err := cache.Open(t.TempDir(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New([]string{root}, WithWorkers(2), WithSecondPass())
	if err != nil {
		t.Fatal(err)
	}
	pass := func(cfg string) (map[string]credscan.Chunk, []error, *cache.Pass) {
		t.Helper()
		p := cache.NewPass(st, cache.NewConfig(cfg))
		out := map[string]credscan.Chunk{}
		var errs []error
		var mu sync.Mutex
		if err := s.Chunks(cache.WithPass(context.Background(), p), func(ch credscan.Chunk, err error) error {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			out[ch.Origin.Path] = ch
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out, errs, p
	}
	first, errs, _ := pass("rules")
	if len(first) != 2 || len(errs) != 0 || first["a/known.yaml"].Version == "" {
		t.Fatalf("first pass: %v %v", first, errs)
	}
	// the sweep's configuration knows a/known.yaml clean at that version
	ch := first["a/known.yaml"]
	sweep := cache.NewPass(st, cache.NewConfig("sweep"))
	sweep.Clean(sweep.Config().Version(string(ch.Origin.Kind), ch.Origin.Path, ch.Version), cache.Entry{Bytes: 8})
	if err := os.Remove(filepath.Join(root, "a", "known.yaml")); err != nil {
		t.Fatal(err)
	}
	write("b/changing.txt", "two\n")
	write("c/new.txt", "new\n") // not in the walk replayed
	second, errs, _ := pass("sweep")
	if len(errs) != 0 || len(second) != 2 {
		t.Fatalf("second pass: %v %v", second, errs)
	}
	if c := second["a/known.yaml"]; c.Cached == nil || c.Cached.Bytes != 8 {
		t.Fatalf("a file known clean at the first pass's version was opened: %+v", c)
	}
	if c := second["b/changing.txt"]; string(c.Data) != "two\n" {
		t.Fatalf("a file was not read again as it is now: %q", c.Data)
	}
}
