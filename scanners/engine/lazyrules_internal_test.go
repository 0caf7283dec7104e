package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
)

// dumpRule writes what a translated rule holds, compiled expressions by
// their text and sets (stop words, commits) sorted.
func dumpRule(b *strings.Builder, r config.Rule) {
	re := func(x interface{ String() string }) string {
		if x == nil {
			return "<nil>"
		}
		return x.String()
	}
	path := "<nil>"
	if r.Path != nil {
		path = r.Path.String()
	}
	regex := "<nil>"
	if r.Regex != nil {
		regex = re(r.Regex)
	}
	fmt.Fprintf(b, "%s %q regex=%s path=%s group=%d entropy=%v keywords=%v tags=%v skip=%v\n",
		r.RuleID, r.Description, regex, path, r.SecretGroup, r.Entropy, r.Keywords, r.Tags, r.SkipReport)
	for _, req := range r.RequiredRules {
		fmt.Fprintf(b, "  requires %s %v %v\n", req.RuleID, req.WithinLines, req.WithinColumns)
	}
	for _, a := range r.Allowlists {
		dumpAllowlist(b, a)
	}
}

func dumpAllowlist(b *strings.Builder, a *config.Allowlist) {
	var paths, regexes []string
	for _, p := range a.Paths {
		paths = append(paths, p.String())
	}
	for _, p := range a.Regexes {
		regexes = append(regexes, p.String())
	}
	fmt.Fprintf(b, "  allow %q cond=%v target=%q commits=%v paths=%q regexes=%q stopwords=%q\n", a.Description, a.MatchCondition,
		a.RegexTarget, slices.Sorted(slices.Values(a.Commits)), paths, regexes, slices.Sorted(slices.Values(a.StopWords)))
}

// gitleaks' default configuration, translated unit by unit as the units
// are first used, is the configuration translated whole: every rule,
// its allowlists and the global ones. (A unit's own checks are made
// from these rules; the rest of the tests run the engine over them.)
func TestLazyRulesAreTheTranslatedRules(t *testing.T) {
	full, err := loadGitleaksConfig("")
	if err != nil {
		t.Fatal(err)
	}
	glMu.Lock()
	src, err := newGitleaksSource("") // not the process's, which other tests use
	glMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGLDetectorOf(src, 3)
	if err != nil {
		t.Fatal(err)
	}
	if g.src.full != nil {
		t.Fatal("the default configuration was translated whole")
	}
	if n := len(g.src.rules); n != 0 {
		t.Fatalf("%d rules translated before any unit was used", n)
	}
	var want, got strings.Builder
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range full.Rules {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		dumpRule(&want, full.Rules[id])
	}
	seen := map[string]bool{}
	for u := range g.units {
		for _, r := range g.unit(u).members {
			seen[r.RuleID] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("rule %s is in no unit", id)
		}
		dumpRule(&got, g.src.rules[id])
	}
	if want.String() != got.String() {
		w, gl := strings.Split(want.String(), "\n"), strings.Split(got.String(), "\n")
		for i := range min(len(w), len(gl)) {
			if w[i] != gl[i] {
				t.Fatalf("rules differ at line %d:\nwhole: %s\nunits: %s", i, w[i], gl[i])
			}
		}
		t.Fatalf("rules differ: %d lines whole, %d by units", len(w), len(gl))
	}
	want.Reset()
	got.Reset()
	for _, a := range full.Allowlists {
		dumpAllowlist(&want, a)
	}
	for _, a := range g.src.base.Allowlists {
		dumpAllowlist(&got, a)
	}
	if want.String() != got.String() || len(full.Allowlists) == 0 {
		t.Fatalf("global allowlists differ:\nwhole:\n%s\nlazy:\n%s", want.String(), got.String())
	}
	if len(g.src.infos) != len(full.Rules) || len(g.rules) != len(full.Rules) {
		t.Fatalf("%d rules listed, %d translated whole", len(g.src.infos), len(full.Rules))
	}
	// a user's configuration is translated whole as it loads (its errors
	// are reported then)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.toml"), filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(good, []byte("[[rules]]\nid = \"x\"\nregex = '''x-[a-z]{8}'''\nkeywords = [\"x-\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	user, err := loadGitleaksSource(good)
	if err != nil {
		t.Fatal(err)
	}
	if user.full == nil || user.rules["x"].Regex == nil {
		t.Fatal("a user's configuration was not translated as it loaded")
	}
	if err := os.WriteFile(bad, []byte("[[rules]]\nid = \"y\"\nregex = '''x-[a-z'''\nkeywords = [\"x-\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newGLDetector(bad, 0); err == nil {
		t.Fatal("a configuration with a broken expression loaded")
	}
}
