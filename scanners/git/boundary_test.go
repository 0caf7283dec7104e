package git

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
)

// A shallow clone is scanned with a warning, and what is first seen at
// its boundary is tagged as introduced there or before (it was blamed on
// the boundary commit as if that had introduced it).
func TestShallowCloneMarksTheBoundary(t *testing.T) {
	old, fresh := leakcheck.Secret(t), leakcheck.Secret(t)
	r := newRepo(t)
	r.Commit("Alice", map[string]string{"old.env": uri(old)})
	boundary := r.Commit("Bob", map[string]string{"README.md": "x\n"})
	r.Commit("Carol", map[string]string{"new.env": uri(fresh)})
	// what git clone --depth 2 leaves: the boundary listed in .git/shallow
	// (git and go-git stop there)
	clone := r.Dir
	if err := os.WriteFile(filepath.Join(clone, ".git", "shallow"), []byte(boundary+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range gitModes(t) {
		goGit := mode.name
		res, s, _ := scanOnce(t, scantest.Engine(t, ""), clone, Options{Git: mode.git}, nil)
		if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "shallow clone") {
			t.Errorf("%s: warnings %q", goGit, s.Warnings)
		}
		for path, boundary := range map[string]bool{"old.env": true, "new.env": false} {
			fs := find(res, path, "")
			if len(fs) == 0 {
				t.Fatalf("%s: %s not found", goGit, path)
			}
			if got := slices.Contains(fs[0].Tags, TagAtOrBefore); got != boundary {
				t.Errorf("%s: %s: tagged at-or-before %v, want %v (tags %v)", goGit, path, got, boundary, fs[0].Tags)
			}
		}
	}
}

// A missing commit object is named, the history behind it is scanned (it
// was not reached), and what its child shows first is tagged as introduced
// there or before (it was blamed on the child).
func TestMissingCommitScansBehindTheGap(t *testing.T) {
	first, second := leakcheck.Secret(t), leakcheck.Secret(t)
	r := newRepo(t)
	c1 := r.Commit("Alice", map[string]string{"a.env": uri(first)})
	c2 := r.Commit("Bob", map[string]string{"b.env": uri(second)})
	c3 := r.Commit("Carol", map[string]string{"c.txt": "x\n"})
	if err := os.Remove(filepath.Join(r.Dir, ".git", "objects", c2[:2], c2[2:])); err != nil {
		t.Fatal(err)
	}
	res, _, _ := scanWith(t, scantest.Engine(t, ""), r.Dir, Options{}, nil)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), c2) {
		t.Errorf("errors %v, want one naming %s", res.Errors, c2)
	}
	a, b := find(res, "a.env", ""), find(res, "b.env", "")
	if len(a) == 0 || a[0].Origin.Commit != c1 || slices.Contains(a[0].Tags, TagAtOrBefore) {
		t.Errorf("a.env: %v, want it at %s", a, c1)
	}
	if len(b) == 0 || b[0].Origin.Commit != c3 || !slices.Contains(b[0].Tags, TagAtOrBefore) {
		t.Errorf("b.env: %v, want it at %s tagged %s", b, c3, TagAtOrBefore)
	}
}
