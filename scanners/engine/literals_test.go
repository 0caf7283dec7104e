package engine

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		re   string
		want []string
	}{
		{`gitleaks\.toml`, []string{"gitleaks.toml"}},
		{`(?i)\.(?:bmp|gif|jpe?g|png)$`, []string{"bmp", "gif", "jp", "png"}},
		{`(?:^|/)node_modules(?:/.*)?$`, []string{"node_modules"}},
		{`(?i)(?:^|/)[a-z0-9_.]+-[0-9.]+\.dist-info(?:/.+)?$`, []string{".dist-info"}},
		{`go\.(?:mod|sum|work(?:\.sum)?)$`, []string{"go."}},
		{`(?i)KEY`, []string{"key"}},
		{`a|.*`, nil},  // the second branch needs nothing
		{`x\d+y`, nil}, // single characters are not worth a check
		{`[`, nil},     // not a regular expression
		{`(ab)+c?`, []string{"ab"}},
	} {
		got := requiredLiterals(tc.re)
		sort.Strings(got)
		sort.Strings(tc.want)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tc.re, got, tc.want)
		}
	}
}

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
		m := newLitMatcher(re)
		if m.lits != nil {
			guarded++
		}
		for _, p := range paths {
			if re.MatchString(p) != m.match(p, strings.ToLower(p)) {
				t.Errorf("%q on %q: guard disagrees with the expression", e, p)
			}
		}
	}
	if guarded < len(exprs)/2 {
		t.Errorf("only %d of %d path expressions got a literal guard", guarded, len(exprs))
	}
}
