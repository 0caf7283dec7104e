package git

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	scancache "github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/gittest"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// A history scanned again from the scan cache's record of its listing
// (only the new commits diffed) reports exactly what a scan that lists it
// whole does, after new commits of every kind: a blob recorded clean put
// back at a path where it is not clean (.pgpass), a blob with a password
// copied to a new path, merges of long-lived branches, a new branch. A
// rewritten history is listed whole, and is right too.
func TestIncrementalListingIsTheListing(t *testing.T) {
	if workingGit() == "" {
		t.Skip("no git")
	}
	const pgpass = "arp-db.prod.internal:5432:arp:arp_app:Pgp4ss-Incr-71q\n"
	rng := rand.New(rand.NewPCG(19, 19))
	r := gittest.New(t)
	n := 0
	edit := func() map[string]string {
		n++
		files := map[string]string{
			fmt.Sprintf("src/mod%d.go", rng.IntN(9)): fmt.Sprintf("package mod\n\nconst V = %d\n", n),
			"config/app.yaml":                        fmt.Sprintf("name: app\nversion: %d\nreplicas: %d\n", n, rng.IntN(5)),
		}
		if rng.IntN(6) == 0 {
			files["deploy/.env"] = fmt.Sprintf("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=Incr-pw-%03d-xQ\n", n)
		}
		return files
	}
	commits := func(author string, n int) {
		for range n {
			r.Commit(author, edit())
		}
	}
	const pgpass2 = "arp-db.prod.internal:5432:arp:arp_ro:Pgp4ss-Late-38z\n"
	// commits that change only dependency files (no rule reads them): an
	// incremental pass does not list them again
	var depOnly []string
	deps := func(author string) {
		depOnly = append(depOnly, r.Commit(author, map[string]string{
			"go.sum":                fmt.Sprintf("example.com/m v1.%d.0 h1:abc=\n", n),
			"web/package-lock.json": fmt.Sprintf("{\"version\": \"1.%d.0\"}\n", n),
		}))
		n++
	}
	deps("alice")
	commits("alice", 3)
	deps("alice")
	r.Commit("alice", map[string]string{"notes/hosts.txt": pgpass}) // clean at this path
	commits("alice", 12)
	// a branch whose commits are older than the first scan's newest, merged
	// after it: git log lists them among the old commits (by date)
	r.Checkout("late", true)
	r.Commit("erin", map[string]string{"late/.pgpass": pgpass2})     // listed after notes/other.txt below
	r.Commit("erin", map[string]string{"late/.pgpass": "# moved\n"}) // so the merge's diff does not list it
	r.Commit("erin", map[string]string{".pgpass": pgpass})           // listed before notes/hosts.txt
	commits("erin", 3)
	lateTip, err := r.Repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	r.Checkout("master", false)
	lateRef := filepath.Join(r.Dir, ".git", "refs", "heads", "late")
	if err := os.Remove(lateRef); err != nil {
		t.Fatal(err)
	}
	commits("alice", 12)
	r.Commit("alice", map[string]string{"notes/other.txt": pgpass2})
	r.Commit("alice", map[string]string{"notes/other.txt": "# gone\n"}) // nor this one
	r.Checkout("feature", true)
	commits("bob", 8)
	r.Checkout("master", false)
	commits("alice", 10)
	r.Merge("alice", "feature", nil)
	r.Checkout("feature", false)
	commits("bob", 4)
	r.Checkout("master", false)

	cacheDir := t.TempDir()
	st, err := scancache.Open(cacheDir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := scancache.NewConfig("test")
	scan := func(cached bool) (*engine.Results, *Scanner) {
		t.Helper()
		e := scantest.Engine(t, "")
		if cached {
			e.SetCache(st, cfg)
		}
		res, s, _ := scanOnce(t, e, r.Dir, Options{}, nil)
		return res, s
	}
	same := func(what string, wantIncremental bool) {
		t.Helper()
		want, _ := scan(false)
		got, s := scan(true)
		if s.Incremental != wantIncremental {
			t.Fatalf("%s: incremental listing %v, want %v", what, s.Incremental, wantIncremental)
		}
		if g, w := resultKey(got)+fmt.Sprint(got.Stats.Bytes, got.Stats.Binary, got.Stats.Skipped), resultKey(want)+fmt.Sprint(want.Stats.Bytes, want.Stats.Binary, want.Stats.Skipped); g != w {
			t.Fatalf("%s: the cached scan differs from a whole one:\n%s\n---\n%s", what, g, w)
		}
		if s.Commits == 0 || len(got.Findings) == 0 || got.Stats.Skipped[engine.SkipDependencyFile] < 2*len(depOnly) {
			t.Fatalf("%s: %d commits, %d findings, %v skipped", what, s.Commits, len(got.Findings), got.Stats.Skipped)
		}
		for _, h := range s.listedAgain {
			if slices.Contains(depOnly, h.String()) {
				t.Fatalf("%s: commit %s, which changes only dependency files, was listed again", what, h)
			}
		}
		t.Logf("%s: %d commits, %d of %d blobs from the cache, %d findings", what, s.Commits, got.Stats.Cached, got.Stats.Items, len(got.Findings))
		if testing.Verbose() {
			t.Log(resultKey(got))
		}
	}
	same("first run", false)
	// the commit-graph kept for rev-list: written, then verified before
	// each use (a damaged one is removed, and the scan is the same)
	graphs, _ := filepath.Glob(filepath.Join(cacheDir, "git-graph", "*", "info", "commit-graph"))
	if len(graphs) != 1 {
		t.Fatalf("commit-graphs in the cache: %v", graphs)
	}
	if n, err := graphCommits(graphs[0]); err != nil || n < 50 {
		t.Fatalf("the commit-graph holds %d commits: %v", n, err)
	}
	data, err := os.ReadFile(graphs[0])
	if err != nil {
		t.Fatal(err)
	}
	leakcheck.AssertNone(t, "commit-graph", data, "Pgp4ss-Incr-71q", "Pgp4ss-Late-38z", "Incr-pw-001-xQ")
	data[len(data)/2] ^= 1
	if err := os.Chmod(graphs[0], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(graphs[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := graphCommits(graphs[0]); err == nil {
		t.Fatal("a damaged commit-graph passes")
	}
	same("unchanged, the commit-graph damaged", true)
	if _, err := graphCommits(graphs[0]); err != nil {
		t.Fatalf("the damaged commit-graph was not written again: %v", err)
	}
	same("unchanged", true)

	// new commits: the late branch merged, and on top
	if err := os.WriteFile(lateRef, []byte(lateTip.Hash().String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Merge("alice", "late", nil)
	deps("carol")
	r.Commit("carol", map[string]string{"config/.pgpass": pgpass}) // the recorded clean blob, where it is not
	r.Commit("carol", map[string]string{"deploy/old.env": "DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=Incr-pw-001-xQ\n"})
	commits("alice", 5)
	r.Merge("alice", "feature", nil)
	r.Checkout("hotfix", true)
	commits("dave", 3)
	r.Checkout("master", false)
	same("after new commits", true)
	same("unchanged again", true)

	// a new merge dated before the branch commit it brings in (a clock
	// ahead): its own diffs are listed too (skewedMerges), which the
	// incremental listing leaves to a whole one
	r.Checkout("ahead", true)
	now := r.When
	r.When = r.When.Add(1000 * time.Hour)
	r.Commit("frank", map[string]string{"ahead/.env": "DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=Incr-pw-001-xQ\n"})
	r.When = now
	r.Checkout("master", false)
	r.Merge("alice", "ahead", nil)
	same("a new merge dated before its branch", false)
	same("after it", true)

	// a branch deleted: the record is not the tail of the listing
	if err := os.Remove(filepath.Join(r.Dir, ".git", "refs", "heads", "hotfix")); err != nil {
		t.Fatal(err)
	}
	same("a branch deleted", false)
	same("after the deletion", true)

	// the record holds digests only
	des, err := os.ReadDir(filepath.Join(cacheDir, "side"))
	if err != nil || len(des) == 0 {
		t.Fatalf("no history record: %v", err)
	}
	for _, de := range des {
		data, err := os.ReadFile(filepath.Join(cacheDir, "side", de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		leakcheck.AssertNone(t, "history record", data, "Pgp4ss-Incr-71q", "Pgp4ss-Late-38z", "Incr-pw-001-xQ")
		for _, p := range []string{".pgpass", "hosts.txt", "deploy", "alice"} {
			if strings.Contains(string(data), p) {
				t.Fatalf("the history record names %q", p)
			}
		}
	}
}

// A damaged record is discarded: the history is listed whole.
func TestIncrementalDamagedRecord(t *testing.T) {
	if workingGit() == "" {
		t.Skip("no git")
	}
	r := gittest.New(t)
	for i := range 5 {
		r.Commit("alice", map[string]string{"deploy/.env": fmt.Sprintf("DB_PASSWORD=Dmg-pw-%03d-xQ\nDB_HOST=arp-db.prod.internal\n", i)})
	}
	cacheDir := t.TempDir()
	st, err := scancache.Open(cacheDir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := scantest.Engine(t, "")
	e.SetCache(st, scancache.NewConfig("test"))
	want, _, _ := scanOnce(t, e, r.Dir, Options{}, nil)
	des, _ := os.ReadDir(filepath.Join(cacheDir, "side"))
	if len(des) != 1 {
		t.Fatalf("%d records", len(des))
	}
	p := filepath.Join(cacheDir, "side", des[0].Name())
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, s, _ := scanOnce(t, e, r.Dir, Options{}, nil)
	if s.Incremental || resultKey(got) != resultKey(want) {
		t.Fatalf("incremental %v with a damaged record:\n%s\n---\n%s", s.Incremental, resultKey(got), resultKey(want))
	}
}

// A record decodes to what was encoded; a cut or altered one is an
// error, never a panic (the store's checksum comes first; this is the
// second line).
func TestHistoryRecordEncoding(t *testing.T) {
	h := &history{ids: []uint64{1, 2, 3}, subs: []uint32{2}}
	h.seq[0] = 7
	h.blobs = []histBlob{
		{hash: [20]byte{1}, hand: 0, clean: true, key: scancache.Key{9}, occ: []uint32{0, 2}},
		{hash: [20]byte{2}, hand: 1, handOcc: 1, occ: []uint32{1}},
		{hash: [20]byte{3}, hand: 2, skip: "dependency file", occ: []uint32{2}},
	}
	data := h.encode()
	got, err := decodeHistory(data)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(h) {
		t.Fatalf("decoded %v, want %v", got, h)
	}
	for i := range data {
		if _, err := decodeHistory(data[:i]); err == nil {
			t.Fatalf("a record cut at %d of %d bytes decodes", i, len(data))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := append([]byte(nil), data...)
		b[rng.IntN(len(b))] = byte(rng.Uint32())
		_, _ = decodeHistory(b) // no panic
	}
}

// A new commit whose tree cannot be read (a broken object) fails the
// incremental listing midway: the plan goes on as a whole listing does
// (git log, then go-git, which says what it could not read), with what
// was handed kept, and the result is the uncached scan's.
func TestIncrementalListingBrokenObject(t *testing.T) {
	if workingGit() == "" {
		t.Skip("no git")
	}
	r := gittest.New(t)
	for i := range 6 {
		r.Commit("alice", map[string]string{"deploy/.env": fmt.Sprintf("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=Brk-pw-%03d-xQ\n", i)})
	}
	cacheDir := t.TempDir()
	st, err := scancache.Open(cacheDir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	scan := func(cached bool) (*engine.Results, *Scanner) {
		t.Helper()
		e := scantest.Engine(t, "")
		if cached {
			e.SetCache(st, scancache.NewConfig("test"))
		}
		res, s, _ := scanOnce(t, e, r.Dir, Options{}, nil)
		return res, s
	}
	scan(true) // the record
	r.Commit("bob", map[string]string{"more/app.env": "DB_PASSWORD=Brk-pw-new-xQ\nDB_HOST=arp-db.prod.internal\n"})
	last := r.Commit("bob", map[string]string{"other/x.txt": "x\n"})
	c, err := r.Repo.CommitObject(plumbing.NewHash(last))
	if err != nil {
		t.Fatal(err)
	}
	tree := c.TreeHash.String()
	if err := os.Remove(filepath.Join(r.Dir, ".git", "objects", tree[:2], tree[2:])); err != nil {
		t.Fatal(err)
	}
	want, _ := scan(false)
	got, _ := scan(true)
	if resultKey(got) != resultKey(want) || len(want.Errors) == 0 {
		t.Fatalf("a broken tree: the cached scan differs from a whole one:\n%s\n%v\n---\n%s\n%v", resultKey(got), got.Errors, resultKey(want), want.Errors)
	}
}

// A scan of a history that did not change leaves its record as it was
// (it is not written again).
func TestIncrementalUnchangedRecordNotRewritten(t *testing.T) {
	if workingGit() == "" {
		t.Skip("no git")
	}
	r := gittest.New(t)
	for i := range 5 {
		r.Commit("alice", map[string]string{"deploy/.env": fmt.Sprintf("DB_PASSWORD=Unch-pw-%03d-xQ\nDB_HOST=arp-db.prod.internal\n", i), fmt.Sprintf("src/f%d.go", i): "package f\n"})
	}
	st, err := scancache.Open(t.TempDir(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := scantest.Engine(t, "")
	e.SetCache(st, scancache.NewConfig("test"))
	scanOnce(t, e, r.Dir, Options{}, nil)
	_, s, _ := scanOnce(t, e, r.Dir, Options{}, nil) // the record's blobs now known clean
	recs, _ := filepath.Glob(filepath.Join(st.Dir(), "side", "*"))
	if len(recs) != 1 || !s.Incremental {
		t.Fatalf("records %v, incremental %v", recs, s.Incremental)
	}
	before, err := os.Stat(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, s, _ := scanOnce(t, e, r.Dir, Options{}, nil); !s.Incremental {
			t.Fatal("not incremental")
		}
	}
	after, err := os.Stat(recs[0])
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("an unchanged history's record was written again (%v)", err)
	}
}
