package engine

import (
	"regexp"
	"strings"
	"testing"

	"github.com/credscan/credscan/scanners/engine/internal/accel"
)

// TestLitMatcherAgrees checks that the literal guard never hides a match
// of gitleaks' own path expressions.
func TestLitMatcherAgrees(t *testing.T) {
	cfg, err := loadGitleaksConfig("")
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, a := range cfg.Allowlists {
		for _, p := range a.Paths {
			exprs = append(exprs, p.String())
		}
	}
	for _, r := range cfg.Rules {
		if r.Path != nil {
			exprs = append(exprs, r.Path.String())
		}
		for _, a := range r.Allowlists {
			for _, p := range a.Paths {
				exprs = append(exprs, p.String())
			}
		}
	}
	paths := []string{
		"gitleaks.toml", "img/Logo.PNG", "a/b/go.sum", "vendor/modules.txt", "web/node_modules/x/y.js",
		"lib/jquery-3.1.min.js", "venv/lib/python3.11/site.py", "Foo-1.2.dist-info/METADATA", "x.gem",
		"src/main.go", "deploy/.npmrc", "README.md", "@octokit/auth-token/README.md", "a.bbappend",
		"Pipfile.lock", "lib64/python3.8/x", "VENV/LIB/x", "fonts/a.WOFF2", ".mvn/wrapper/MavenWrapperDownloader.java",
	}
	guarded := 0
	for _, e := range exprs {
		re := regexp.MustCompile(e)
		m := accel.NewLitMatcher(re)
		if m.Guarded() {
			guarded++
		}
		for _, p := range paths {
			if re.MatchString(p) != m.Match(p, strings.ToLower(p)) {
				t.Errorf("%q on %q: guard disagrees with the expression", e, p)
			}
		}
	}
	if guarded < len(exprs)/2 {
		t.Errorf("only %d of %d path expressions got a literal guard", guarded, len(exprs))
	}
}
