package git

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/gittest"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

func newRepo(t testing.TB) *gittest.Repo { return gittest.New(t) }

func scan(t *testing.T, dir string, o Options) (*engine.Results, *Scanner) {
	t.Helper()
	res, s, _ := scanWith(t, scantest.Engine(t, ""), dir, o, nil)
	return res, s
}

// scanWith scans dir's history with e, after set (when not nil) adjusts
// the scanner; carried is how many findings Attribute carried over to
// other versions of a file.
func scanWith(t *testing.T, e *engine.Engine, dir string, o Options, set func(*Scanner)) (res *engine.Results, s *Scanner, carried int) {
	t.Helper()
	// every way of reading the objects gives the same results: git (its
	// log and cat-file), go-git, and a git that refuses to run (go-git
	// takes over)
	var first string
	for i, mode := range gitModes(t) {
		oo := o
		oo.Git = mode.git
		r, sc, c := scanOnce(t, e, dir, oo, set)
		if got := resultKey(r); i == 0 {
			res, s, carried, first = r, sc, c, got
		} else if got != first {
			t.Errorf("reading objects with %s gives other results than with %s:\n%s\n---\n%s", mode.name, gitModes(t)[0].name, got, first)
		}
	}
	return res, s, carried
}

type gitMode struct{ name, git string }

// gitModes are the ways a history is read: git when it is installed,
// go-git, and a git that refuses to run.
func gitModes(t *testing.T) []gitMode {
	modes := []gitMode{{"go-git", GoGit}}
	if workingGit() != "" {
		modes = append([]gitMode{{"git", ""}}, modes...)
	}
	return append(modes, gitMode{"a git that refuses to run", refusingGit(t)})
}

// refusingGit is a git that fails at once (made once per test).
func refusingGit(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "git")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho 'fatal: refusing' >&2\nexit 128\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// resultKey renders what a scan found, for comparisons.
func resultKey(res *engine.Results) string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, fmt.Sprintf("%s %s:%d:%d %s %s %v", f.RuleID, f.Origin.Path, f.Origin.Line, f.Column, f.Origin.Commit, f.Fingerprint, f.Tags))
	}
	sort.Strings(out)
	return fmt.Sprintf("%d items, %d errors\n%s", res.Stats.Items, res.Stats.Errors, strings.Join(out, "\n"))
}

func scanOnce(t *testing.T, e *engine.Engine, dir string, o Options, set func(*Scanner)) (res *engine.Results, s *Scanner, carried int) {
	t.Helper()
	s, err := Open(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if set != nil {
		set(s)
	}
	res = engine.NewResults()
	if err := e.Scan(context.Background(), s, res); err != nil {
		t.Fatal(err)
	}
	carried = len(s.carried(slices.Clip(res.Findings))) - len(res.Findings)
	res.Findings = s.Attribute(res.Findings)
	res.Finish()
	return res, s, carried
}

func uri(pw string) string {
	return "DATABASE_URL=postgres://arp_app:" + url.QueryEscape(pw) + "@arp-db.prod.internal:5432/arp\n"
}

func find(res *engine.Results, path, rule string) []*credscan.Finding {
	var out []*credscan.Finding
	for _, f := range res.Findings {
		if f.Origin.Path == path && (rule == "" || f.RuleID == rule) {
			out = append(out, f)
		}
	}
	return out
}

func TestHistoryAttribution(t *testing.T) {
	b := newRepo(t)
	gone, kept, side := leakcheck.Secret(t), leakcheck.Secret(t), leakcheck.Secret(t)
	c1 := b.Commit("Alice", map[string]string{".env": uri(gone), "README.md": "hello\n"})
	c2 := b.Commit("Bob", map[string]string{"config/app.env": uri(kept), "README.md": "hello again\n"})
	b.Commit("Carol", map[string]string{".env": ""})                               // the first secret is deleted
	b.Commit("Dave", map[string]string{"config/app.env": uri(kept) + "DEBUG=1\n"}) // edited, secret unchanged
	b.Commit("Erin", map[string]string{"copy.env": uri(kept)})                     // same blob, another path
	b.Checkout("feature", true)
	c6 := b.Commit("Frank", map[string]string{"feature.env": uri(side)})
	b.Checkout("master", false)

	res, s := scan(t, b.Dir, Options{})
	if s.Commits != 6 {
		t.Errorf("walked %d commits, want 6", s.Commits)
	}
	check := func(path, commit, author, tag string) {
		t.Helper()
		fs := find(res, path, "postgres-uri")
		if len(fs) != 1 {
			t.Fatalf("%s: %d postgres-uri findings, want 1 (all: %v)", path, len(fs), res.Findings)
		}
		f := fs[0]
		if commit != "" && f.Origin.Commit != commit {
			t.Errorf("%s: commit %s, want %s", path, f.Origin.Commit, commit)
		}
		if f.Origin.Author != author || f.Origin.Line != 1 || f.Origin.Date == "" || f.Origin.Blob == "" {
			t.Errorf("%s: provenance %+v, want author %s at line 1 with date and blob", path, f.Origin, author)
		}
		if !slices.Contains(f.Tags, tag) {
			t.Errorf("%s: tags %v, want %s", path, f.Tags, tag)
		}
		if f.DB == nil || f.DB.User != "arp_app" || f.DB.Host != "arp-db.prod.internal" {
			t.Errorf("%s: identity %+v", path, f.DB)
		}
	}
	check(".env", c1, "Alice", TagHistoryOnly)
	check("config/app.env", c2, "Bob", TagAtTip) // the edit by Dave did not re-introduce it
	check("copy.env", "", "Erin", TagAtTip)
	check("feature.env", c6, "Frank", TagHistoryOnly) // only on a branch: not at the default tip

	// --branch master leaves the feature branch out
	res, _ = scan(t, b.Dir, Options{Branch: "master"})
	if len(find(res, "feature.env", "")) != 0 {
		t.Error("--branch master reported the feature branch's secret")
	}
	// --since c2 leaves out what c2 reaches; Dave's later edit of
	// config/app.env is new content that still holds the secret
	res, _ = scan(t, b.Dir, Options{Since: c2})
	if len(find(res, ".env", "")) != 0 {
		t.Error("--since reported commits the revision reaches")
	}
	if fs := find(res, "config/app.env", "postgres-uri"); len(fs) != 1 || fs[0].Origin.Author != "Dave" {
		t.Errorf("--since: config/app.env findings %v, want one by Dave", fs)
	}
	if len(find(res, "copy.env", "")) != 1 {
		t.Error("--since lost a later commit")
	}
	// a range
	res, _ = scan(t, b.Dir, Options{Range: c1 + ".." + c2})
	if len(find(res, "config/app.env", "")) != 1 || len(find(res, ".env", "")) != 0 {
		t.Errorf("range %s..%s: %v", c1[:7], c2[:7], res.Findings)
	}
}

func TestUniqueBlobsScannedOnce(t *testing.T) {
	b := newRepo(t)
	pw := leakcheck.Secret(t)
	for i := range 5 {
		b.Commit("Alice", map[string]string{"a.env": uri(pw), "n.txt": strings.Repeat("x", i+1)})
	}
	res, _ := scan(t, b.Dir, Options{})
	// a.env is one blob; n.txt has five versions
	if res.Stats.Items != 6 {
		t.Errorf("scanned %d items, want 6 unique blobs", res.Stats.Items)
	}
	if n := len(find(res, "a.env", "postgres-uri")); n != 1 {
		t.Errorf("%d findings for a.env, want 1", n)
	}
}

func TestBadObjectsAndPointers(t *testing.T) {
	b := newRepo(t)
	pw, pw2 := leakcheck.Secret(t), leakcheck.Secret(t)
	b.Commit("Alice", map[string]string{
		"broken.env": uri(pw),
		"big.bin":    "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
	})
	b.Commit("Bob", map[string]string{"good.env": uri(pw2)})
	// corrupt the loose object of broken.env's blob
	h := plumbing.ComputeHash(plumbing.BlobObject, []byte(uri(pw))).String()
	obj := filepath.Join(b.Dir, ".git", "objects", h[:2], h[2:])
	if err := os.Chmod(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(obj, []byte("not zlib at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, _ := scan(t, b.Dir, Options{})
	if len(find(res, "good.env", "postgres-uri")) != 1 {
		t.Errorf("the rest of the history was not scanned: %v", res.Findings)
	}
	if res.Stats.Errors != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), h) {
		t.Fatalf("want one error naming blob %s, got %v", h, res.Errors)
	}
	leakcheck.AssertNone(t, "the error", []byte(res.Errors[0].Error()), pw, pw2)
	if res.Stats.Skipped["git LFS pointer"] != 1 {
		t.Errorf("LFS pointer not reported: %+v", res.Stats)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok3n@github.com/o/r.git": "https://github.com/o/r.git",
		"https://github.com/o/r.git":            "https://github.com/o/r.git",
		"ssh://git@host/o/r.git":                "ssh://host/o/r.git",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// Blobs are read by git cat-file when git is installed, else by go-git:
// the whole suite runs both ways, and with a git that refuses to run
// (cat-file dies at once: go-git reads every blob instead).

// A scan stopped by its consumer (an interruption, a failing report)
// returns at once: nothing waits on git.
func TestInterruptedScanReturns(t *testing.T) {
	b := newRepo(t)
	for c := 0; c < 5; c++ {
		files := map[string]string{}
		for i := 0; i < 60; i++ {
			files[fmt.Sprintf("dir%d/file%d.env", i%5, i)] = fmt.Sprintf("N=%d-%d\n%s", c, i, strings.Repeat("filler line\n", 2000))
		}
		b.Commit("Alice", files)
	}
	s, err := Open(context.Background(), b.Dir, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := errors.New("stop")
	done := make(chan error, 1)
	go func() {
		var n atomic.Int32 // yield is called from several workers
		done <- s.Chunks(context.Background(), func(credscan.Chunk, error) error {
			if n.Add(1) >= 3 {
				return stop
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Errorf("Chunks returned %v, want the consumer's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an interrupted scan did not return")
	}
}

// runGit runs git in dir with no user or system configuration, as author
// and committer A dated when seconds past 1700000000, and returns its
// output, trimmed.
func runGit(t *testing.T, git, dir string, when int, args ...string) string {
	t.Helper()
	cmd := exec.Command(git, args...)
	cmd.Dir = dir
	date := fmt.Sprintf("%d +0000", 1700000000+when)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@x",
		"GIT_COMMITTER_NAME=A", "GIT_COMMITTER_EMAIL=a@x", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// git log --raw and go-git's tree walk plan the same blobs, at the same
// paths and commits: on merges (one that adds a file of its own), files
// deleted and added again, renames, modes, symlinks and a submodule, and
// with --since and a range.
func TestPlanModesAgree(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil || exec.Command(git, "--version").Run() != nil {
		t.Skip("no working git")
	}
	dir := t.TempDir()
	n := 0
	run := func(args ...string) string {
		t.Helper()
		n++
		return runGit(t, git, dir, n*60, args...)
	}
	write := func(p, c string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q", "-b", "main")
	write("a.txt", "one\n")
	write("d/b.txt", "two\n")
	run("add", ".")
	run("commit", "-qm", "1")
	base := run("rev-parse", "HEAD")
	run("checkout", "-qb", "side")
	write("d/b.txt", "two on side\n")
	write("side.txt", "side\n")
	run("add", ".")
	run("commit", "-qm", "2")
	run("checkout", "-q", "main")
	write("a.txt", "one changed\n")
	run("mv", "d/b.txt", "d/moved.txt")
	run("add", ".")
	run("commit", "-qm", "3")
	run("merge", "-q", "--no-commit", "side")
	write("merge-only.txt", "added by the merge\n")
	run("add", ".")
	run("commit", "-qm", "merge")
	mid := run("rev-parse", "HEAD")
	run("rm", "-q", "a.txt")
	run("commit", "-qm", "4")
	write("a.txt", "one\n") // the first version again
	write("x.sh", "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(dir, "x.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	run("add", ".")
	run("update-index", "--add", "--cacheinfo", "160000,"+base+",vendor/sub")
	run("commit", "-qm", "5")
	write("x.sh", "#!/bin/sh\necho\n")
	run("commit", "-qam", "6")

	for _, o := range []Options{{}, {Since: mid}, {Range: base + ".." + mid}, {Branch: "side"}} {
		plans := map[string]string{}
		for _, mode := range []string{git, ""} {
			s, err := Open(context.Background(), dir, o)
			if err != nil {
				t.Fatal(err)
			}
			var jobs []blobJob
			if err := s.plan(context.Background(), mode, func(err error) { t.Error(err) }, func(j blobJob) { jobs = append(jobs, j) }); err != nil {
				t.Fatal(err)
			}
			// the same blobs at the same paths (the order, newest first,
			// may differ on merges: git lists a merge's files against
			// each parent)
			var scans []string
			for _, j := range jobs {
				scans = append(scans, fmt.Sprintf("scan %s at %s\n", j.hash.String()[:7], j.path))
			}
			sort.Strings(scans)
			var b strings.Builder
			b.WriteString(strings.Join(scans, ""))
			var occ []string
			for h, os := range s.occ {
				for _, oc := range os {
					occ = append(occ, fmt.Sprintf("%s at %s in %s", h.String()[:7], oc.path, oc.commit.hash[:7]))
				}
			}
			sort.Strings(occ)
			fmt.Fprintf(&b, "%s\nsubmodules %v\n", strings.Join(occ, "\n"), s.Submodules)
			plans[mode] = b.String()
			s.Close()
		}
		if plans[git] != plans[""] {
			t.Errorf("options %+v: git log plans\n%s\ngo-git plans\n%s", o, plans[git], plans[""])
		}
		if o.Since == "" && o.Range == "" && o.Branch == "" && (!strings.Contains(plans[git], "merge-only") || !strings.Contains(plans[git], "submodules [vendor/sub]")) {
			t.Errorf("the plan misses the merge's own file or the submodule:\n%s", plans[git])
		}
	}
}

// When git log stops partway (an old tree is corrupt), the blobs it listed
// are scanned already; go-git reads the history again, reports the commit
// it cannot read, and the rest is scanned, each blob once.
func TestLogStopsPartway(t *testing.T) {
	b := newRepo(t)
	pws := []string{leakcheck.Secret(t), leakcheck.Secret(t), leakcheck.Secret(t), leakcheck.Secret(t)}
	var first string
	for i, pw := range pws {
		h := b.Commit("Alice", map[string]string{fmt.Sprintf("f%d.env", i): uri(pw), "n.txt": strings.Repeat("x", i+1)})
		if i == 0 {
			first = h
		}
	}
	c, err := b.Repo.CommitObject(plumbing.NewHash(first))
	if err != nil {
		t.Fatal(err)
	}
	tree := c.TreeHash.String()
	obj := filepath.Join(b.Dir, ".git", "objects", tree[:2], tree[2:])
	if err := os.Chmod(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(obj, []byte("not zlib at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, s := scan(t, b.Dir, Options{})
	for i := range pws {
		if n := len(find(res, fmt.Sprintf("f%d.env", i), "postgres-uri")); n != 1 {
			t.Errorf("f%d.env: %d findings, want 1", i, n)
		}
	}
	// f0.env (still in the second commit), f1 to f3, and the three
	// versions of n.txt after the first (only the unreadable tree holds
	// that one), each once
	if res.Stats.Items != 7 {
		t.Errorf("scanned %d items, want 7 unique blobs", res.Stats.Items)
	}
	if g := workingGit(); g != "" {
		// git log listed the newer commits before it stopped
		var jobs []blobJob
		s2, err := Open(context.Background(), b.Dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		err = s2.streamLog(context.Background(), gitBinary(""), []plumbing.Hash{plumbing.NewHash(head(t, b))}, nil,
			func(*commitInfo) {}, func(_ *commitInfo, e rawEntry) { jobs = append(jobs, blobJob{hash: e.hash}) })
		if err == nil || len(jobs) == 0 {
			t.Errorf("git log: %v after %d files; want it to list some, then fail", err, len(jobs))
		}
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), first) {
		t.Errorf("want one error naming commit %s, got %v", first, res.Errors)
	}
	if s.Commits != 4 {
		t.Errorf("%d commits walked, want 4", s.Commits)
	}
	for _, e := range res.Errors {
		leakcheck.AssertNone(t, "the error", []byte(e.Error()), pws...)
	}
}

func head(t *testing.T, b *gittest.Repo) string {
	t.Helper()
	h, err := b.Repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h.Hash().String()
}

// With the workers reading little ahead of git, what is found is what
// reading far ahead finds.
func TestSmallReadAhead(t *testing.T) {
	if workingGit() == "" {
		t.Skip("no working git")
	}
	b := newRepo(t)
	pws := []string{leakcheck.Secret(t), leakcheck.Secret(t)}
	for c := 0; c < 6; c++ {
		files := map[string]string{}
		for i := 0; i < 20; i++ {
			files[fmt.Sprintf("d%d/f%d.txt", i%3, i)] = fmt.Sprintf("v%d-%d\n%s", c, i, strings.Repeat("filler line of text\n", 3000))
		}
		files[fmt.Sprintf("app%d.env", c)] = uri(pws[c%2])
		b.Commit("Alice", files)
	}
	report := func(res *engine.Results) string {
		var out []string
		for _, f := range res.Findings {
			out = append(out, fmt.Sprintf("%s %s:%d %s %v", f.RuleID, f.Origin.Path, f.Origin.Line, f.Origin.Commit[:7], f.Tags))
		}
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	small, _, _ := scanOnce(t, scantest.Engine(t, ""), b.Dir, Options{Limits: Limits{ReadAhead: 128 << 10}}, nil)
	large, _, _ := scanOnce(t, scantest.Engine(t, ""), b.Dir, Options{}, nil)
	if a, p := report(small), report(large); a != p || len(small.Findings) != 6 {
		t.Errorf("reading 128 KiB ahead:\n%s\nreading 8 MiB ahead:\n%s", a, p)
	}
	if small.Stats.Items != large.Stats.Items || small.Stats.Errors+large.Stats.Errors != 0 {
		t.Errorf("items %d and %d, errors %d and %d", small.Stats.Items, large.Stats.Items, small.Stats.Errors, large.Stats.Errors)
	}
}

// workingGit is the git on the PATH, when it runs ("" otherwise).
func workingGit() string {
	if g := gitBinary(""); g != "" && exec.Command(g, "--version").Run() == nil {
		return g
	}
	return ""
}
