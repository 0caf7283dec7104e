package engine

import (
	"fmt"
	"testing"

	"github.com/credscan/credscan"
)

// pathMode answers from memory what it found for the path, whatever was
// asked between and after it forgot everything: each of gitleaks'
// allowlisted paths, a path a rule looks at and others, asked in turn.
func TestPathModeRemembers(t *testing.T) {
	fp, err := credscan.NewFingerprinter([]byte("test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Fingerprinter: fp})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.wait(); err != nil {
		t.Fatal(err)
	}
	g := e.gl
	paths := []string{"go.sum", "web/ui/package-lock.json", "vendor/github.com/x/y.go", "node_modules/a/b.js",
		"main.go", "config/prod.yml", "docs/logo.png", "src/.env", "id_rsa", "Pipfile.lock"}
	modes := map[pathMode]int{}
	for _, p := range paths {
		modes[g.findPathMode(p)]++
	}
	if modes[pathAllowed] == 0 || modes[pathIrrelevant] == 0 {
		t.Fatalf("the paths do not reach both kinds of answer: %v", modes)
	}
	for round := 0; round < 3; round++ {
		for _, p := range paths {
			if got, want := g.pathMode(p), g.findPathMode(p); got != want {
				t.Fatalf("round %d: %s: %v remembered, %v found", round, p, got, want)
			}
		}
		if round == 1 {
			for i := 0; i < maxPathModes; i++ {
				g.pathMode(fmt.Sprintf("filler/%d.txt", i)) // (fills the memory: it forgets)
			}
		}
	}
}
