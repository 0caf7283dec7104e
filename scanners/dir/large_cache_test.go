//go:build linux

package dir_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

// A file too large to read whole (read in overlapping parts) is entered
// in the scan cache under its version once every part of it was clean,
// so the next scan does not open it; one with a finding in any part is
// read again, and so is a clean one that changed. A large binary file
// is entered too. The reports are the uncached scan's.
func TestLargeFilesEnteredByVersion(t *testing.T) {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	text := func(n int) []byte {
		var b bytes.Buffer
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "line %d: the quick brown fox %x jumps over the lazy dog\n", i, rng.Uint64())
		}
		return b.Bytes()
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := text(3 << 20)
	mid := bytes.IndexByte(secret[len(secret)/2:], '\n') + len(secret)/2 + 1
	secret = append(secret[:mid:mid], append([]byte("DATABASE_URL=postgres://arp_app:Qw7largeK9x2@arp-db.prod.internal/arp\n"), secret[mid:]...)...)
	bin := make([]byte, 3<<20)
	for i := range bin {
		bin[i] = byte(rng.Uint32())
	}
	write("big.txt", text(3<<20))
	write("big-secret.txt", secret)
	write("big.bin", bin)
	write("small.txt", text(1000))
	time.Sleep(2100 * time.Millisecond) // older than the scans' start: files have versions

	dirCache := t.TempDir()
	scan := func(cached bool) *engine.Results {
		t.Helper()
		if !cached {
			return scanParts(t, root, "", nil)
		}
		return scanParts(t, root, dirCache, nil)
	}
	want := scan(false)
	if len(want.Findings) != 1 || want.Findings[0].Origin.Path != "big-secret.txt" {
		t.Fatalf("the uncached scan found %d findings", len(want.Findings))
	}
	if first := scan(true); first.Stats.Cached != 0 {
		t.Fatalf("a cold cache knew %d items", first.Stats.Cached)
	} else {
		sameReport(t, "first", first, want)
	}
	second := scan(true)
	sameReport(t, "second", second, want)
	if second.Stats.Cached != 3 { // small.txt, big.txt, big.bin; not big-secret.txt
		t.Fatalf("second scan: %d items known clean, want 3", second.Stats.Cached)
	}
	// a large file that changed is read again (here: a secret added)
	f, err := os.OpenFile(filepath.Join(root, "big.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("PGPASSWORD=Zx8appendedQ4w\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	time.Sleep(2100 * time.Millisecond)
	third := scan(true)
	if third.Stats.Cached != 2 || len(third.Findings) != 2 {
		t.Fatalf("after an edit: %d known clean (want 2), %d findings (want 2)", third.Stats.Cached, len(third.Findings))
	}
	sameReport(t, "third", third, scan(false))
}

// writeArchives writes a.zip and a.tar.gz under root, each with members
// (name → content) in the order given.
func writeArchives(t *testing.T, root string, members [][2]string) {
	t.Helper()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	var tb bytes.Buffer
	gz := gzip.NewWriter(&tb)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		w, err := zw.Create(m[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(m[1])); err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(m[1])); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{zw, tw, gz} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string][]byte{"a.zip": zb.Bytes(), "a.tar.gz": tb.Bytes()} {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// An archive's members are named by the archive file's version and their
// place in it: a member the cache knows clean is counted from its entry
// and not decompressed (nor hashed) on the next scan; one with a finding
// is read again, as are all of them once the archive changes. Members
// too large to read whole are entered too. The reports are the uncached
// scan's.
func TestArchiveMembersKnownByVersion(t *testing.T) {
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 5))
	text := func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "entry %d = %x\n", i, rng.Uint64())
		}
		return b.String()
	}
	members := [][2]string{
		{"conf/app.yaml", "name: app\nport: 8080\n"},
		{"conf/db.properties", "spring.datasource.url=jdbc:postgresql://arp-db.prod.internal/arp\nspring.datasource.username=arp_app\nspring.datasource.password=Qw7zipK9x2mP\n"},
		{"data/big.txt", text(3 << 20)}, // read in parts
		{"README.md", "# nothing here\n"},
	}
	writeArchives(t, root, members)
	time.Sleep(2100 * time.Millisecond)
	dirCache := t.TempDir()
	var skipped atomic.Int64 // members the source counted from the cache, not decompressed (the source's workers yield at once)
	scan := func(cached bool) *engine.Results {
		t.Helper()
		skipped.Store(0)
		see := func(ch credscan.Chunk) {
			if ch.Cached != nil && ch.Data == nil && strings.Contains(ch.Origin.Path, "!") {
				skipped.Add(1)
			}
		}
		if !cached {
			return scanParts(t, root, "", see)
		}
		return scanParts(t, root, dirCache, see)
	}
	check := func(round string, got *engine.Results, cachedItems, notRead int64) {
		t.Helper()
		if n := skipped.Load(); n != notRead {
			t.Fatalf("%s: %d members not decompressed, want %d", round, n, notRead)
		}
		want := scan(false)
		sameReport(t, round, got, want)
		if len(want.Findings) != 2 {
			t.Fatalf("%s: %d findings, want the two archives' passwords", round, len(want.Findings))
		}
		if got.Stats.Cached != cachedItems {
			t.Fatalf("%s: %d items known clean, want %d", round, got.Stats.Cached, cachedItems)
		}
	}
	check("first", scan(true), 0, 0)
	check("second", scan(true), 6, 6) // three clean members of each archive
	// the archives rewritten, members in another order: decompressed
	// again (their content is known clean: not scanned)
	slices.Reverse(members)
	writeArchives(t, root, members)
	time.Sleep(2100 * time.Millisecond)
	check("rewritten", scan(true), 6, 0)
	check("again", scan(true), 6, 6)
}

// scanParts scans root with the DB rules, files read whole up to 1 MB and
// in 256 KB parts past that, through the scan cache in cacheDir when it
// is not "", showing each chunk the source yields to see (when set).
func scanParts(t *testing.T, root, cacheDir string, see func(credscan.Chunk)) *engine.Results {
	t.Helper()
	d, err := dir.New([]string{root}, dir.WithChunking(256<<10, 16<<10, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	var src scanners.Source = d
	if see != nil {
		src = countingSource{d, see}
	}
	e := scantest.Engine(t, engine.RulesDB)
	var st *cache.Store
	if cacheDir != "" {
		if st, err = cache.Open(cacheDir, 0, nil); err != nil {
			t.Fatal(err)
		}
		e.SetCache(st, cache.NewConfig("parts-test"))
	}
	res := scantest.Scan(t, e, src)
	if st != nil {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// sameReport fails unless got reports what want does: the stats (but
// the cache's count) and the findings, by place and fingerprint.
func sameReport(t *testing.T, round string, got, want *engine.Results) {
	t.Helper()
	g, w := got.Stats, want.Stats
	g.Cached, w.Cached = 0, 0
	if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) || len(got.Findings) != len(want.Findings) {
		t.Fatalf("%s: stats %+v, %d findings; uncached: %+v, %d findings", round, g, len(got.Findings), w, len(want.Findings))
	}
	for i := range got.Findings {
		if a, b := got.Findings[i], want.Findings[i]; a.Origin != b.Origin || a.Fingerprint != b.Fingerprint {
			t.Fatalf("%s: finding %d at %v, uncached at %v", round, i, a.Origin, b.Origin)
		}
	}
}

// countingSource passes a source's chunks on, showing each to see.
type countingSource struct {
	src interface {
		Chunks(context.Context, func(credscan.Chunk, error) error) error
	}
	see func(credscan.Chunk)
}

func (c countingSource) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	return c.src.Chunks(ctx, func(ch credscan.Chunk, err error) error {
		if err == nil {
			c.see(ch)
		}
		return yield(ch, err)
	})
}
