package git

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/credscan/credscan"
	scancache "github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// readRecorder is a Scanner read with a path filter of its own choosing
// (strip: none; late: the scan's, after it answered "" late times), that
// notes the paths of the blobs it read.
type readRecorder struct {
	s     *Scanner
	strip bool
	late  int32
	mu    sync.Mutex
	read  map[string]int
}

func (r *readRecorder) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	switch f := credscan.PathFilterFrom(ctx); {
	case r.strip:
		ctx = credscan.WithPathFilter(ctx, nil)
	case r.late > 0 && f != nil:
		lf := &lateFilter{f: f, left: r.late}
		defer lf.loaded.Store(true) // (by the time the pass ends, as the engine's rules are)
		ctx = credscan.WithPathFilter(ctx, lf)
	}
	return r.s.Chunks(ctx, func(ch credscan.Chunk, err error) error {
		if err == nil && ch.Skip == "" && ch.Cached == nil {
			r.mu.Lock()
			r.read[ch.Origin.Path]++
			r.mu.Unlock()
		}
		return yield(ch, err)
	})
}

// lateFilter answers "" for the first left paths f skips while the
// source is read, as a filter whose rules still load does.
type lateFilter struct {
	f      credscan.PathFilter
	left   int32
	n      atomic.Int32
	loaded atomic.Bool
}

func (l *lateFilter) SkipPath(p string) string {
	why := l.f.SkipPath(p)
	if why != "" && !l.loaded.Load() && l.n.Add(1) <= l.left {
		return ""
	}
	return why
}

// A history's lock files are counted as skipped and not read when the
// scan's rules read nothing in them, and the report is the same whether
// the source asks (the engine skips them anyway): findings, items, bytes
// and the reasons counted. Older versions of a lock file handed after one
// was read (the filter could not tell yet) are skipped as well.
func TestDependencyFilesNotRead(t *testing.T) {
	b := newRepo(t)
	pw, pw2 := leakcheck.Secret(t), leakcheck.Secret(t)
	lock := func(i int) string {
		return fmt.Sprintf("{\n  \"name\": \"app\",\n  \"version\": \"1.%d.0\",\n  \"resolved\": \"postgres://arp_app:%s@arp-db.prod.internal:5432/arp\"\n}\n", i, pw2)
	}
	b.Commit("Alice", map[string]string{"a.env": uri(pw), "package-lock.json": lock(1), "web/yarn.lock": "# yarn\n" + uri(pw2)})
	b.Commit("Bob", map[string]string{"package-lock.json": lock(2), "go.sum": "example.com/m v1.0.0 h1:abc=\n", "go.mod": "module example.com/app\n"})
	b.Commit("Carol", map[string]string{"package-lock.json": lock(3), "a.env": "# moved to Vault\n", "web/yarn.lock": "# yarn 2\n" + uri(pw2)})
	const locks = 7 // three package-lock.json, two yarn.lock, go.sum, go.mod

	e := scantest.Engine(t, "")
	e.RuleDescriptions() // (waits for the rules: a filter answers "" while they load)
	for _, mode := range gitModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			var keys []string
			for _, r := range []*readRecorder{{strip: true}, {}, {late: 1}, {late: 2}} {
				s, err := Open(context.Background(), b.Dir, Options{Git: mode.git})
				if err != nil {
					t.Fatal(err)
				}
				r.s, r.read = s, map[string]int{}
				res := engine.NewResults()
				if err := e.Scan(context.Background(), r, res); err != nil {
					t.Fatal(err)
				}
				res.Findings = s.Attribute(res.Findings)
				res.Finish()
				if s.kept != nil && s.kept.n.Load() != 0 {
					t.Errorf("%d bytes of line hashes still held after the scan", s.kept.n.Load())
				}
				s.Close()
				key := fmt.Sprintf("%s\nbytes %d, skipped %v", resultKey(res), res.Stats.Bytes, res.Stats.Skipped)
				leakcheck.AssertNone(t, "the report", []byte(key), pw, pw2)
				keys = append(keys, key)
				if res.Stats.Skipped[engine.SkipDependencyFile] != locks {
					t.Errorf("%d lock files counted as skipped, want %d: %+v", res.Stats.Skipped[engine.SkipDependencyFile], locks, res.Stats)
				}
				if len(res.Findings) != 1 || res.Findings[0].Origin.Path != "a.env" {
					t.Errorf("want a.env's finding alone:\n%s", key)
				}
				lockReads := 0
				for p, n := range r.read {
					if strings.HasSuffix(p, ".lock") || strings.HasSuffix(p, "-lock.json") || strings.HasPrefix(p, "go.") {
						lockReads += n
					}
				}
				switch {
				case r.strip && lockReads != locks:
					t.Errorf("without the filter %d lock files read, want %d: %v", lockReads, locks, r.read)
				case !r.strip && lockReads != int(r.late):
					t.Errorf("with the filter (answering late after %d) %d lock files read, want %d: %v", r.late, lockReads, r.late, r.read)
				}
			}
			for i, k := range keys[1:] {
				if k != keys[0] {
					t.Errorf("the report with filter %d is not the one without:\n%s\n---\n%s", i+1, k, keys[0])
				}
			}
		})
	}
}

// Dependency files handed while the rules loaded (read, then skipped by
// the engine) are recorded as skipped all the same: the next scan counts
// them without listing their commits again.
func TestDependencyFilesRecordedWhenLate(t *testing.T) {
	if workingGit() == "" {
		t.Skip("no git")
	}
	b := newRepo(t)
	pw := leakcheck.Secret(t)
	b.Commit("Alice", map[string]string{"a.env": uri(pw)})
	var depOnly []string
	for i := range 4 {
		depOnly = append(depOnly, b.Commit("Bob", map[string]string{"go.sum": fmt.Sprintf("example.com/m v1.%d.0 h1:abc=\n", i)}))
	}
	b.Commit("Carol", map[string]string{"a.env": "# moved to Vault\n"})
	st, err := scancache.Open(t.TempDir(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := scantest.Engine(t, "")
	e.SetCache(st, scancache.NewConfig("test"))
	e.RuleDescriptions()
	var keys []string
	for i, late := range []int32{100, 0} { // the first scan's filter tells nothing
		s, err := Open(context.Background(), b.Dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := &readRecorder{s: s, late: late, read: map[string]int{}}
		res := engine.NewResults()
		if err := e.Scan(context.Background(), r, res); err != nil {
			t.Fatal(err)
		}
		res.Findings = s.Attribute(res.Findings)
		res.Finish()
		s.Close()
		keys = append(keys, fmt.Sprintf("%s\nbytes %d, skipped %v", resultKey(res), res.Stats.Bytes, res.Stats.Skipped))
		if i == 0 && r.read["go.sum"] != len(depOnly) {
			t.Fatalf("the first scan read go.sum %d times, want %d (its filter answering late)", r.read["go.sum"], len(depOnly))
		}
		if i == 1 {
			if !s.Incremental {
				t.Fatal("the second scan did not list incrementally")
			}
			for _, h := range s.listedAgain {
				if slices.Contains(depOnly, h.String()) {
					t.Errorf("commit %s, which changes only go.sum, was listed again", h)
				}
			}
		}
	}
	if keys[0] != keys[1] {
		t.Errorf("the cached scan differs:\n%s\n---\n%s", keys[1], keys[0])
	}
}
