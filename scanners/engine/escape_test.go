package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

// A secret written with escapes (JSON \", YAML continuations, XML
// entities, shell quoting …) is masked where it is written: no piece of it
// shows in any finding's redacted line, and every such file is found.
func TestEscapedSecretsAreMasked(t *testing.T) {
	files := leakcheck.EscapeCorpus(t)
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.Content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, rs := range []engine.RuleSet{engine.RulesAll, engine.RulesDB} {
		e := scantest.Engine(t, rs)
		src, err := dir.New([]string{root})
		if err != nil {
			t.Fatal(err)
		}
		res := scantest.Scan(t, e, src)
		found := map[string]int{}
		for _, f := range res.Findings {
			found[f.Origin.Path]++
			for _, ef := range files {
				if ef.Path == f.Origin.Path {
					leakcheck.AssertNoMarker(t, string(rs)+" "+f.Origin.String()+" "+f.RuleID+" redacted", []byte(f.Redacted), ef.Markers)
				}
			}
		}
		for _, ef := range files {
			if found[ef.Path] == 0 {
				t.Errorf("%s: %s: no finding", rs, ef.Path)
			}
		}
	}
}
