package git

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// benchRepo commits files of Go's net/http package, each in three
// successive versions (a third, two thirds, all of it), one commit each, so
// the history has real content, many commits and growing files.
func benchRepo(b *testing.B) (dir string, bytes int64) {
	b.Helper()
	src := scantest.GoSrc(b, "net", "http")
	var files []string
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			files = append(files, p)
		}
		return nil
	})
	repo := newRepo(b)
	for i, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(src, p)
		// three versions of each file: a third, two thirds, all of it
		for v := 1; v <= 3; v++ {
			part := data[:len(data)*v/3]
			repo.Commit("Dev", map[string]string{rel: string(part)})
			bytes += int64(len(part))
		}
		if i > 120 {
			break
		}
	}
	return repo.Dir, bytes
}

func BenchmarkGitHistory(b *testing.B) {
	dir, n := benchRepo(b)
	fp, _ := credscan.NewFingerprinter([]byte("bench-key-0123456789"))
	for _, c := range []struct {
		name  string
		rules engine.RuleSet
		whole bool // every version scanned whole, not only where it changed
	}{{"db", engine.RulesDB, false}, {"all", engine.RulesAll, false}, {"all-whole-versions", engine.RulesAll, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(n)
			for b.Loop() {
				// a new engine each time: one remembers the windows it
				// found nothing in
				b.StopTimer()
				e, err := engine.New(engine.Options{Rules: c.rules, Fingerprinter: fp})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				s, err := Open(context.Background(), dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				s.noDelta = c.whole
				res := engine.NewResults()
				if err := e.Scan(context.Background(), s, res); err != nil {
					b.Fatal(err)
				}
				res.Findings = s.Attribute(res.Findings)
				res.Finish()
				b.ReportMetric(float64(s.Commits), "commits/op")
			}
		})
	}
}
