package dir_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

// readNoting notes the paths whose content its source yielded; strip
// reads the source without the scan's path filter.
type readNoting struct {
	src   scanners.Source
	strip bool
	mu    sync.Mutex
	read  map[string]bool
}

func (r *readNoting) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	if r.strip {
		ctx = credscan.WithPathFilter(ctx, nil)
	}
	return r.src.Chunks(ctx, func(ch credscan.Chunk, err error) error {
		if err == nil && ch.Skip == "" && ch.Cached == nil {
			r.mu.Lock()
			r.read[ch.Origin.Path] = true
			r.mu.Unlock()
		}
		return yield(ch, err)
	})
}

// A directory's lock files are not opened when no rule reads them, and the
// report is the one the engine gives when the walk reads them; the
// known-secret sweep reads them, in its first pass and its replay.
func TestDependencyFilesNotOpened(t *testing.T) {
	pw := leakcheck.Secret(t)
	d := t.TempDir()
	dsn := "postgres://arp_app:" + pw + "@arp-db.prod.internal:5432/arp"
	for p, body := range map[string]string{
		"app/.env":                 "DATABASE_URL=" + dsn + "\n",
		"app/package-lock.json":    "{\"resolved\": \"" + dsn + "\"}\n",
		"app/web/yarn.lock":        "resolved \"" + dsn + "\"\n",
		"app/go.sum":               "example.com/m v1.0.0 h1:abc=\n",
		"app/package.json/app.env": "DATABASE_URL=" + dsn + "\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(d, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, p), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(t, "")
	var keys []string
	for _, strip := range []bool{true, false} {
		src, err := dir.New([]string{d})
		if err != nil {
			t.Fatal(err)
		}
		r := &readNoting{src: src, strip: strip, read: map[string]bool{}}
		res := scantest.Scan(t, e, r)
		key := fmt.Sprintf("%d findings, stats %+v", len(res.Findings), res.Stats)
		for _, f := range res.Findings {
			key += "\n" + f.RuleID + " " + f.Origin.String()
		}
		leakcheck.AssertNone(t, "the report", []byte(key), pw)
		keys = append(keys, key)
		lockRead := r.read["app/package-lock.json"] || r.read["app/web/yarn.lock"] || r.read["app/go.sum"]
		if lockRead != strip {
			t.Errorf("filter stripped %v: lock files read %v (%v)", strip, lockRead, r.read)
		}
		if res.Stats.Skipped[engine.SkipDependencyFile] != 3 || len(res.Findings) != 2 || res.Stats.Items != 5 {
			t.Errorf("want 5 items, the 3 lock files skipped and 2 findings:\n%s", key)
		}
	}
	if keys[0] != keys[1] {
		t.Errorf("the report with the filter is not the one without:\n%s\n---\n%s", keys[1], keys[0])
	}

	// the sweep reads every file, in its first pass and its replay
	e = newEngine(t, "")
	set, _ := e.Compile([]engine.Known{{Secret: pw}})
	e.SetKnown(set)
	src, err := dir.New([]string{d}, dir.WithSecondPass())
	if err != nil {
		t.Fatal(err)
	}
	for pass, run := range []func(res *engine.Results) error{
		func(res *engine.Results) error { return e.Scan(context.Background(), src, res) },
		func(res *engine.Results) error { return e.Sweep(context.Background(), src, res, set) },
	} {
		res := engine.NewResults()
		if err := run(res); err != nil {
			t.Fatal(err)
		}
		res.Finish()
		got := map[string]bool{}
		for _, f := range res.Findings {
			if f.RuleID == rules.KnownSecret {
				got[f.Origin.Path] = true
			}
		}
		if !got["app/package-lock.json"] || !got["app/web/yarn.lock"] {
			t.Errorf("pass %d: the known secret's copies in lock files were not found: %v", pass+1, got)
		}
	}
}
