package cache

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func key(cfg Config, i int) Key { return cfg.Content("dir", fmt.Sprintf("f%d", i), []byte("x")) }

func TestRoundTripAndConfig(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewConfig("v1", "all"), NewConfig("v1", "db")
	if a == b || a.Blob("h", "p") == b.Blob("h", "p") || a.Blob("h", "p") == a.Blob("h", "q") || a.With("known", "x") == a {
		t.Fatal("keys do not depend on the configuration, the path or the known set")
	}
	if NewConfig("ab", "c") == NewConfig("a", "bc") {
		t.Fatal("parts run together")
	}
	st.Put(a.Blob("h", "p"), Entry{Bytes: 42})
	st.Put(key(a, 1), Entry{Binary: true})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ = Open(dir, 0, nil)
	if e, ok := st.Get(a.Blob("h", "p")); !ok || e.Bytes != 42 {
		t.Fatalf("entry lost: %v %v", e, ok)
	}
	if e, ok := st.Get(key(a, 1)); !ok || !e.Binary {
		t.Fatalf("binary entry lost: %v %v", e, ok)
	}
	if _, ok := st.Get(b.Blob("h", "p")); ok {
		t.Fatal("another configuration's entry was found")
	}
	// the file holds no path, no content: only keys and counts
	data, _ := os.ReadFile(filepath.Join(dir, fileName))
	if bytes.Contains(data, []byte("f1")) || bytes.Contains(data, []byte("h")) && bytes.Contains(data, []byte("\x00p\x00")) {
		t.Fatal("the cache file holds a path")
	}
}

// A damaged file is discarded with a warning, never trusted.
func TestDamagedFileIsDiscarded(t *testing.T) {
	dir := t.TempDir()
	st, _ := Open(dir, 0, nil)
	cfg := NewConfig("v1")
	for i := range 100 {
		st.Put(key(cfg, i), Entry{Bytes: int64(i)})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fileName)
	data, _ := os.ReadFile(path)
	for _, damage := range []func([]byte) []byte{
		func(d []byte) []byte { d[len(d)/2] ^= 1; return d },          // a flipped bit
		func(d []byte) []byte { return d[:len(d)-7] },                 // truncated
		func(d []byte) []byte { return []byte("not a cache at all") }, // foreign
		func(d []byte) []byte { copy(d, "CSCACHE9"); return d },       // another version
	} {
		if err := os.WriteFile(path, damage(bytes.Clone(data)), 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		st, err := Open(dir, 0, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if st.Len() != 0 || !bytes.Contains(logs.Bytes(), []byte("damaged")) {
			t.Fatalf("a damaged cache was used (%d entries) or not said: %s", st.Len(), logs.String())
		}
		st.Put(key(cfg, 1), Entry{})
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if st, _ := Open(dir, 0, nil); st.Len() != 1 {
			t.Fatalf("the rewritten cache has %d entries", st.Len())
		}
	}
}

// The file stays under its bound: the least recently used go first.
func TestLeastRecentlyUsedEviction(t *testing.T) {
	dir := t.TempDir()
	cfg := NewConfig("v1")
	const limit = 100
	maxBytes := int64(len(magic) + 8 + 32 + limit*recordSize)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, _ := Open(dir, maxBytes, nil)
	st.now = func() time.Time { return now }
	for i := range limit {
		st.Put(key(cfg, i), Entry{})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// an hour later: the first ten are used again, fifty new ones come
	st, _ = Open(dir, maxBytes, nil)
	st.now = func() time.Time { return now.Add(time.Hour) }
	for i := range 10 {
		if _, ok := st.Get(key(cfg, i)); !ok {
			t.Fatalf("entry %d lost", i)
		}
	}
	for i := limit; i < limit+50; i++ {
		st.Put(key(cfg, i), Entry{})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, fileName)); fi.Size() > maxBytes {
		t.Fatalf("the file is %d bytes, over its bound %d", fi.Size(), maxBytes)
	}
	st, _ = Open(dir, maxBytes, nil)
	if st.Len() != limit {
		t.Fatalf("%d entries, want %d", st.Len(), limit)
	}
	old := 0
	for i := range limit + 50 {
		_, ok := st.Get(key(cfg, i))
		if (i < 10 || i >= limit) && !ok { // the used and the new stay
			t.Fatalf("entry %d was evicted", i)
		}
		if i >= 10 && i < limit && ok {
			old++
		}
	}
	if old != limit-60 {
		t.Fatalf("%d of the entries not used again stayed, want %d", old, limit-60)
	}
}

// Processes that close at once lose nothing of each other's.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	cfg := NewConfig("v1")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(dir, 0, nil)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 200 {
				st.Put(key(cfg, w*1000+i), Entry{})
			}
			if err := st.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, _ := Open(dir, 0, nil)
	if st.Len() != 8*200 {
		t.Fatalf("%d entries, want %d", st.Len(), 8*200)
	}
}

// A blob scanned against another version is entered only when that
// version is clean (entered before, met clean, or skipped as clean).
func TestPassDeltaChains(t *testing.T) {
	st, _ := Open(t.TempDir(), 0, nil)
	p := NewPass(st, NewConfig("v1"))
	k := func(b string) Key { return p.Config().Blob(b, "f") }
	p.BlobClean("a", k("a"), Entry{}, "")   // whole, clean
	p.BlobClean("b", k("b"), Entry{}, "a")  // against a: clean
	p.BlobClean("c", k("c"), Entry{}, "b")  // against b: clean
	p.BlobDirty("d")                        // produced something
	p.BlobClean("e", k("e"), Entry{}, "d")  // against a dirty one
	p.BlobClean("f", k("f"), Entry{}, "zz") // against one not met
	p.End()
	for b, want := range map[string]bool{"a": true, "b": true, "c": true, "e": false, "f": false} {
		if _, ok := st.Get(k(b)); ok != want {
			t.Errorf("blob %s entered %v, want %v", b, ok, want)
		}
	}
}

// A run that only uses entries within the hour they were last used
// writes nothing back (the file stays as it is); a run that enters one,
// or uses one in a later hour, writes.
func TestCloseWritesOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	open := func() *Store {
		t.Helper()
		st, err := Open(dir, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		st.now = func() time.Time { return now }
		return st
	}
	cfg := NewConfig("v1")
	st := open()
	st.Put(key(cfg, 1), Entry{Bytes: 1})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fileName)
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	before := stat()
	time.Sleep(20 * time.Millisecond)
	st = open()
	if _, ok := st.Get(key(cfg, 1)); !ok {
		t.Fatal("entry lost")
	}
	st.Put(key(cfg, 1), Entry{Bytes: 1}) // the same again
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if after := stat(); !after.ModTime().Equal(before.ModTime()) || !os.SameFile(before, after) {
		t.Fatal("a run that changed nothing rewrote the cache")
	}
	now = now.Add(2 * time.Hour) // used later: its last use moves
	st = open()
	st.Get(key(cfg, 1))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if after := stat(); os.SameFile(before, after) {
		t.Fatal("a later use was not written")
	}
	st = open()
	if r, _, _ := st.lookup(key(cfg, 1)); r.used != uint32(now.Sub(epoch).Hours()) {
		t.Fatalf("last use %d, want the later hour", r.used)
	}
	st.Put(key(cfg, 2), Entry{Bytes: 2})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st = open(); st.Len() != 2 {
		t.Fatalf("%d entries after entering one more, want 2", st.Len())
	}
}

// A use of an entry the file held when this process opened it is
// written back merged with what another process entered meanwhile.
func TestUseMergedWithAnotherWriter(t *testing.T) {
	dir := t.TempDir()
	cfg := NewConfig("v1")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	st, _ := Open(dir, 0, nil)
	st.now = func() time.Time { return now }
	for i := range 50 {
		st.Put(key(cfg, i), Entry{Bytes: int64(i)})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := Open(dir, 0, nil)
	a.now = func() time.Time { return now.Add(3 * time.Hour) }
	b, _ := Open(dir, 0, nil)
	b.now = func() time.Time { return now.Add(time.Hour) }
	b.Put(key(cfg, 100), Entry{Bytes: 100})
	b.Get(key(cfg, 7))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if e, ok := a.Get(key(cfg, 7)); !ok || e.Bytes != 7 {
		t.Fatalf("entry 7: %v %v", e, ok)
	}
	a.Put(key(cfg, 101), Entry{Bytes: 101})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ = Open(dir, 0, nil)
	if st.Len() != 52 {
		t.Fatalf("%d entries, want 52", st.Len())
	}
	if r, _, _ := st.lookup(key(cfg, 7)); r.used != uint32(now.Add(3*time.Hour).Sub(epoch).Hours()) {
		t.Fatalf("entry 7's last use is %d, not the later process's", r.used)
	}
	for _, i := range []int{0, 7, 49, 100, 101} {
		if e, ok := st.Get(key(cfg, i)); !ok || e.Bytes != int64(i) {
			t.Fatalf("entry %d: %v %v", i, e, ok)
		}
	}
}

// A hint is found as a hint only, never as a clean entry, and a clean
// entry never as a hint; both survive the file.
func TestHintsAreNotCleanEntries(t *testing.T) {
	dir := t.TempDir()
	cfg := NewConfig("v1")
	clean, hint := cfg.ContentKeys("dir", "a.env", []byte("PASSWORD=x"))
	if clean == hint || clean != cfg.Content("dir", "a.env", []byte("PASSWORD=x")) {
		t.Fatal("ContentKeys: the hint's key is the clean key, or the clean key is not Content's")
	}
	st, _ := Open(dir, 0, nil)
	st.PutHint(hint, Hint{Units: 1<<3 | 1<<63, Decoded: true})
	st.Put(clean, Entry{Bytes: 9})
	st.PutHint(key(cfg, 5), Hint{})
	for round := range 2 {
		if _, ok := st.Get(hint); ok {
			t.Fatal("a hint was found as a clean entry")
		}
		if _, ok := st.Get(key(cfg, 5)); ok {
			t.Fatal("an empty hint was found as a clean entry")
		}
		if _, ok := st.GetHint(clean); ok {
			t.Fatal("a clean entry was found as a hint")
		}
		if h, ok := st.GetHint(hint); !ok || h != (Hint{Units: 1<<3 | 1<<63, Decoded: true}) {
			t.Fatalf("round %d: hint %+v %v", round, h, ok)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st, _ = Open(dir, 0, nil)
	}
}

// find agrees with a plain search, for keys present and absent, with
// keys whose first bytes are equal, on lists of every small length.
func TestFind(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		keys := make([]Key, 0, n)
		for len(keys) < n {
			var k Key
			for i := range k {
				k[i] = byte(rng.IntN(256))
			}
			if len(keys) > 0 && rng.IntN(4) == 0 { // same first 8 bytes as another
				copy(k[:8], keys[rng.IntN(len(keys))][:8])
			}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b Key) int { return bytes.Compare(a[:], b[:]) })
		recs := make([]byte, n*recordSize)
		for i, k := range keys {
			encode(recs[i*recordSize:], k, record{})
		}
		for i, k := range keys {
			if got := find(recs, k); got != i {
				t.Fatalf("n=%d: key %d found at %d", n, i, got)
			}
			k[15] ^= 1 // most likely absent
			if want := slices.Index(keys, k); find(recs, k) != want {
				t.Fatalf("n=%d: a changed key found at %d, want %d", n, find(recs, k), want)
			}
		}
	}
}

// An item read in parts is entered under its version when every part,
// from its first to its last, produced nothing and no error was said for
// it; not when a part produced, an error was said, its first part was not
// seen, or a part of another version came between.
func TestPartsEnterTheirItem(t *testing.T) {
	type part struct {
		first, last, produced bool
		version               string
	}
	clean := []part{{true, false, false, "v1"}, {false, false, false, "v1"}, {false, true, false, "v1"}}
	for _, c := range []struct {
		name   string
		parts  []part
		failed bool
		want   bool
	}{
		{"clean", clean, false, true},
		{"one part produced", []part{{true, false, false, "v1"}, {false, false, true, "v1"}, {false, true, false, "v1"}}, false, false},
		{"an error said", clean, true, false},
		{"first part not seen", clean[1:], false, false},
		{"not to its last part", clean[:2], false, false},
		{"another version between", []part{{true, false, false, "v1"}, {false, false, false, "v2"}, {false, true, false, "v1"}}, false, false},
		{"a binary item's one chunk", []part{{true, true, false, "v1"}}, false, true},
	} {
		st, err := Open(t.TempDir(), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := NewPass(st, NewConfig("parts"))
		if c.failed {
			p.ItemFailed("dir", "big.log")
		}
		for _, pt := range c.parts {
			p.Part("dir", "big.log", pt.version, pt.first, pt.last, pt.produced, 100, false)
		}
		e, got := st.Get(p.Config().Version("dir", "big.log", "v1"))
		if got != c.want {
			t.Errorf("%s: entered %v, want %v", c.name, got, c.want)
		}
		if got && e.Bytes != int64(100*len(c.parts)) {
			t.Errorf("%s: entered with %d bytes, want %d", c.name, e.Bytes, 100*len(c.parts))
		}
		if _, other := st.Get(p.Config().Version("dir", "big.log", "v2")); other {
			t.Errorf("%s: a part of another version entered it", c.name)
		}
	}
}
