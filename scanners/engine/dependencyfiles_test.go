package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

// lockDoc is a lock file that (absurdly) holds a database URI and an API
// token: what the rules would report were they to read it.
func lockDoc(pw string) []byte {
	return []byte("{\n  \"name\": \"app\",\n  \"resolved\": \"postgres://arp_app:" + pw + "@arp-db.prod.internal:5432/arp\",\n" +
		"  \"token\": \"ghp_8WKQQ6IRh7LRgeZvO9MqMI5pgV8gs193xQab\"\n}\n")
}

// An item at a package manager's lock file's path is counted as skipped
// and not scanned when every rule that runs passes over the path (the DB
// pack always; gitleaks' defaults through their allowlist), and scanned
// when one does not (a gitleaks configuration without that allowlist, a
// lock file gitleaks' defaults do not list). The known-secret sweep still
// reads it.
func TestDependencyFilesSkipped(t *testing.T) {
	pw := leakcheck.Secret(t)
	ownConfig := filepath.Join(t.TempDir(), "gitleaks.toml")
	if err := os.WriteFile(ownConfig, []byte("[[rules]]\nid = \"github-pat\"\nregex = '''ghp_[0-9a-zA-Z]{36}'''\nkeywords = [\"ghp_\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fp, err := credscan.NewFingerprinter([]byte("test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	withConfig := func(rs engine.RuleSet, cfg string) *engine.Engine {
		e, err := engine.New(engine.Options{Rules: rs, GitleaksConfig: cfg, Fingerprinter: fp, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		name   string
		e      *engine.Engine
		path   string
		skip   string // "": scanned
		findBy string // a rule that then finds something
	}{
		{"all rules, npm", scantest.Engine(t, ""), "web/ui/package-lock.json", engine.SkipDependencyFile, ""},
		{"all rules, Go", scantest.Engine(t, ""), "go.sum", engine.SkipDependencyFile, ""},
		{"all rules, a Go module", scantest.Engine(t, ""), "server/go.mod", engine.SkipDependencyFile, ""},
		{"DB pack, npm", scantest.Engine(t, engine.RulesDB), "package-lock.json", engine.SkipDependencyFile, ""},
		{"DB pack, Cargo", scantest.Engine(t, engine.RulesDB), "Cargo.lock", engine.SkipDependencyFile, ""},
		{"gitleaks, npm", scantest.Engine(t, engine.RulesGitleaks), "package-lock.json", engine.SkipAllowlisted, ""},
		{"gitleaks, an image", scantest.Engine(t, engine.RulesGitleaks), "img/logo.png", engine.SkipAllowlisted, ""},
		// gitleaks' defaults read Cargo.lock: so does the DB pack beside them
		{"all rules, Cargo", scantest.Engine(t, ""), "Cargo.lock", "", "postgres-uri"},
		{"all rules, gitleaks' own configuration", withConfig(engine.RulesAll, ownConfig), "package-lock.json", "", "github-pat"},
		{"not a lock file", scantest.Engine(t, ""), "package.json", "", "postgres-uri"},
		{"a lock file's name in a directory's", scantest.Engine(t, ""), "yarn.lock/config.json", "", "postgres-uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := lockDoc(pw)
			res := engine.NewResults()
			ch := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: tc.path}, Data: data, StartLine: 1, Whole: true}
			if err := tc.e.Scan(context.Background(), scantest.Source{ch}, res); err != nil {
				t.Fatal(err)
			}
			res.Finish()
			if got := tc.e.SkipPath(tc.path); got != tc.skip {
				t.Errorf("SkipPath(%q) = %q, want %q", tc.path, got, tc.skip)
			}
			if res.Stats.Items != 1 {
				t.Errorf("%d items counted, want 1", res.Stats.Items)
			}
			if tc.skip != "" {
				if len(res.Findings) != 0 || res.Stats.Skipped[tc.skip] != 1 || res.Stats.Bytes != 0 {
					t.Errorf("want the item skipped as %q: %d findings, stats %+v", tc.skip, len(res.Findings), res.Stats)
				}
				return
			}
			found := false
			for _, f := range res.Findings {
				found = found || f.RuleID == tc.findBy
			}
			if !found || len(res.Stats.Skipped) != 0 || res.Stats.Bytes != int64(len(data)) {
				t.Errorf("want the item scanned and %s's finding: %d findings, stats %+v", tc.findBy, len(res.Findings), res.Stats)
			}
		})
	}

	t.Run("the sweep reads lock files", func(t *testing.T) {
		e := scantest.Engine(t, "")
		set, skipped := e.Compile([]engine.Known{{Secret: pw}})
		if len(skipped) != 0 {
			t.Fatalf("the known secret was not compiled: %v", skipped)
		}
		e.SetKnown(set)
		res := engine.NewResults()
		ch := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: "package-lock.json"}, Data: lockDoc(pw), StartLine: 1, Whole: true}
		if err := e.Scan(context.Background(), scantest.Source{ch}, res); err != nil {
			t.Fatal(err)
		}
		res.Finish()
		if len(res.Findings) != 1 || res.Findings[0].RuleID != rules.KnownSecret || res.Stats.Skipped[engine.SkipDependencyFile] != 1 {
			t.Errorf("want the known secret's copy and the item skipped by the rules: %d findings, stats %+v", len(res.Findings), res.Stats)
		}
		for _, f := range res.Findings {
			leakcheck.AssertNone(t, "the finding", []byte(f.Redacted+f.Origin.String()), pw)
		}
	})

	t.Run("an item skipped in parts is one", func(t *testing.T) {
		e := scantest.Engine(t, "")
		data := lockDoc(pw)
		half := len(data) / 2
		o := credscan.Origin{Kind: credscan.KindDir, Path: "yarn.lock"}
		res := engine.NewResults()
		if err := e.Scan(context.Background(), scantest.Source{
			{Origin: o, Data: data[:half], StartLine: 1},
			{Origin: o, Data: data[half:], StartLine: 3, Offset: int64(half)},
		}, res); err != nil {
			t.Fatal(err)
		}
		res.Finish()
		if res.Stats.Items != 1 || res.Stats.Skipped[engine.SkipDependencyFile] != 1 || len(res.Findings) != 0 {
			t.Errorf("want one item skipped: %d findings, stats %+v", len(res.Findings), res.Stats)
		}
	})
}
