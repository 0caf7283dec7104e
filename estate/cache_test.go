package estate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/scanners/engine"
)

// reportWithoutCache is a run's JSON report with stats.cached cleared:
// the one figure a cached run may differ in.
func reportWithoutCache(t *testing.T, res *estate.Results) string {
	t.Helper()
	rep := res.Report("credscan", "test")
	rep.Suppressed = res.SuppressedFindings
	rep.Stats.Cached = 0
	return string(jsonOf(t, rep))
}

// A cached scan reports what an uncached one does: on a second run of an
// unchanged estate (directories, git histories, images, CI files, the
// sweep's second pass), after one app changed, and after a change of
// rules (which finds nothing in the cache).
func TestCachedScanIsTheScan(t *testing.T) {
	m := generatedEstate(t, 60)
	// a file older than the scan by more than 2 s is known by its status
	// (device, inode, size, times) without being read, as most of a real
	// estate's files are: wait for that, so that this way of knowing is
	// tested too (it once let a damaged archive, said and then read as a
	// file, be entered clean and not said again)
	time.Sleep(2100 * time.Millisecond)
	ctx := context.Background()
	dir := t.TempDir()
	run := func(cacheDir string, rules string) *estate.Results {
		t.Helper()
		res, err := estate.Run(ctx, m, estate.Options{Workers: 2, Version: "test", Sweep: true, CacheDir: cacheDir, Rules: engine.RuleSet(rules)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := reportWithoutCache(t, run("", ""))
	first := run(dir, "")
	if got := reportWithoutCache(t, first); got != want {
		t.Fatal("the run that fills the cache differs from an uncached one")
	}
	second := run(dir, "")
	if got := reportWithoutCache(t, second); got != want {
		diffJSON(t, "second run", []byte(got), []byte(want))
	}
	// every item that yielded nothing (most of this estate's items hold a
	// password, by design) is known clean
	if second.Stats.Cached == 0 || third(t, m, dir).Stats.Cached != second.Stats.Cached {
		t.Fatalf("%d of %d items came from the cache on an unchanged estate, then not as many", second.Stats.Cached, second.Stats.Items)
	}
	t.Logf("unchanged estate: %d of %d items known clean", second.Stats.Cached, second.Stats.Items)

	// one app changes: a password appears in a file that was clean
	f := filepath.Join(filepath.Dir(m.Resolve("app-001/src")), "src", "config", "settings.yaml")
	if err := os.WriteFile(f, []byte("database:\n  host: otc-db.prod.internal\n  user: svc\n  password: Ch4nged-pw-77\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want = reportWithoutCache(t, run("", ""))
	third := run(dir, "")
	if got := reportWithoutCache(t, third); got != want {
		diffJSON(t, "after a change", []byte(got), []byte(want))
	}
	if !strings.Contains(want, "settings.yaml") {
		t.Fatal("the changed file's password was not found")
	}
	// other rules: other keys
	// (items of the same path and content met twice in one run are known
	// clean the second time, in a cold cache too)
	if db, cold := run(dir, "db"), run(t.TempDir(), "db"); db.Stats.Cached != cold.Stats.Cached {
		t.Fatalf("a run with other rules used %d entries of the cache (a cold run: %d)", db.Stats.Cached, cold.Stats.Cached)
	}
	// the cache holds no secret, no path
	data, err := os.ReadFile(filepath.Join(dir, "credscan-scan-cache.v1"))
	if err != nil {
		t.Fatal(err)
	}
	leakcheck.AssertNone(t, "cache file", data, "Sh4red-ARP-pw-91x", "Ch4nged-pw-77", "Pw-001-q8Zr!t")
	for _, p := range []string{"settings.yaml", "app-001", ".env"} {
		if strings.Contains(string(data), p) {
			t.Fatalf("the cache file names %q", p)
		}
	}
}

func third(t *testing.T, m *manifest.Manifest, dir string) *estate.Results {
	t.Helper()
	res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Version: "test", Sweep: true, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A history scanned again after 20 new commits reads only the new blobs,
// and reports what an uncached scan of the new history does.
func TestCachedHistoryAfterNewCommits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	git := func(args ...string) { t.Helper(); gitIn(t, repo, args...) }
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	commit := func(i int) {
		t.Helper()
		files := map[string]string{
			"config/app.yaml":                 fmt.Sprintf("name: app\nversion: %d\nreplicas: %d\n", i, i%5+1),
			fmt.Sprintf("src/mod%d.go", i%13): fmt.Sprintf("package mod\n\nconst Version = %d\n", i),
			"README.md":                       strings.Repeat(fmt.Sprintf("line %d of the readme\n", i), i%7+1),
		}
		if i%9 == 4 {
			files["deploy/.env"] = fmt.Sprintf("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=Hist-pw-%03d-xQ\n", i)
		}
		for p, c := range files {
			writeFile(t, filepath.Join(repo, p), []byte(c))
		}
		git("add", ".")
		git("commit", "-q", "-m", fmt.Sprintf("commit %d", i))
	}
	for i := range 60 {
		commit(i)
	}
	if err := os.WriteFile(filepath.Join(root, "credscan.yaml"), []byte("version: 1\ntargets:\n  - name: ARP\n    hosts: [\"arp-db.prod.internal\"]\napps:\n  - name: api\n    sources: [{git: repo}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(root, "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(cacheDir string) *estate.Results {
		t.Helper()
		res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Version: "test", Sweep: true, CacheDir: cacheDir})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run(dir)
	for i := 60; i < 80; i++ {
		commit(i)
	}
	want := reportWithoutCache(t, run(""))
	res := run(dir)
	if got := reportWithoutCache(t, res); got != want {
		diffJSON(t, "after 20 commits", []byte(got), []byte(want))
	}
	// read again: the blobs the 20 commits added (at most 3 each) and the
	// ones holding a password (9 versions of deploy/.env)
	if res.Stats.Cached == 0 || res.Stats.Items-res.Stats.Cached > 3*20+9 {
		t.Fatalf("%d of %d blobs read again after 20 commits (%d from the cache)", res.Stats.Items-res.Stats.Cached, res.Stats.Items, res.Stats.Cached)
	}
	t.Logf("after 20 commits: %d of %d blobs read, %d known clean", res.Stats.Items-res.Stats.Cached, res.Stats.Items, res.Stats.Cached)
	if !strings.Contains(want, "Hist") && res.Stats.Findings == 0 {
		t.Fatal("the history's passwords were not found")
	}
}

// A file whose status (device, inode, size, times) is the one the cache
// entered is not read at all; an edit that keeps its size and puts its
// modification time back still changes its change time, and is read.
func TestCachedFilesByStatus(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	app := filepath.Join(root, "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := os.WriteFile(filepath.Join(app, fmt.Sprintf("f%02d.yaml", i)), []byte(fmt.Sprintf("name: svc-%d\nreplicas: 2\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "credscan.yaml"), []byte("version: 1\ntargets:\n  - name: ARP\n    hosts: [\"arp-db.prod.internal\"]\napps:\n  - name: api\n    sources: [{dir: app}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(root, "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // files changed within 2 s of a scan have no version
	dir := t.TempDir()
	run := func() *estate.Results {
		t.Helper()
		res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Version: "test", CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run()
	if res := run(); res.Stats.Cached != 50 {
		t.Fatalf("%d of 50 clean files known clean", res.Stats.Cached)
	}
	// the same size, the modification time put back: a password
	f := filepath.Join(app, "f07.yaml")
	fi, _ := os.Stat(f)
	edited := []byte("password: Xq7!mZ2pWw9")
	edited = append(edited, bytes.Repeat([]byte(" "), int(fi.Size())-len(edited)-1)...)
	edited = append(edited, '\n')
	if err := os.WriteFile(f, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	res := run()
	if res.Stats.Cached != 49 || len(res.Findings) != 1 || res.Findings[0].Origin.Path != "f07.yaml" {
		t.Fatalf("the edited file was not read: %d cached, %d findings", res.Stats.Cached, len(res.Findings))
	}
}
