package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// parseLog reads what git log writes, merges diffed against each parent
// or by combined diffs, the same through a reader whose buffer is shorter than a field (its
// fields are read in place) as through a large one, and as a plain split
// of the output reads it; a truncated output or a raw line it does not
// know is an error.
func TestParseLogReadsGitLog(t *testing.T) {
	repo := newRepo(t)
	repo.Commit("Dev", map[string]string{"a.txt": "one\n", "dir/b.yml": "k: v\n"})
	repo.Checkout("side", true)
	repo.Commit("Side Author With A Long Name", map[string]string{"side/" + strings.Repeat("long-name-", 8) + ".txt": "x\n"})
	repo.Checkout("master", false)
	repo.Commit("Dev", map[string]string{"a.txt": "two\n"})
	repo.Merge("Dev", "side", map[string]string{"dir/b.yml": "k: merged\n"})
	repo.Commit("Dev", map[string]string{"a.txt": "three\n"})
	for _, merges := range []string{"separate", "combined"} {
		big := parseGitLog(t, repo.Dir, merges)
		if !strings.Contains(big, "Side Author With A Long Name") || strings.Count(big, "commit ") != 5 {
			t.Fatalf("%s: not every commit read:\n%s", merges, big)
		}
		// the merge's own version of dir/b.yml, which neither parent
		// holds, is listed once by its combined diff and against each
		// parent by its separate ones (the first commit lists it too)
		if n := strings.Count(big, " dir/b.yml\n"); n != map[string]int{"separate": 3, "combined": 2}[merges] {
			t.Errorf("%s: dir/b.yml listed %d times:\n%s", merges, n, big)
		}
	}
}

// parseGitLog runs git log with merges diffed as merges says, checks that
// parseLog reads it as a plain split of the output does (through a
// reader whose buffer is shorter than a field too), and returns what it
// read.
func parseGitLog(t *testing.T, dir, merges string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "log", "--all", "--raw", "--diff-merges="+merges, "--root",
		"--no-renames", "--no-abbrev", "--no-color", "-z", logFormat).Output()
	if err != nil {
		t.Fatal(err)
	}
	parse := func(data []byte, size int) (string, error) {
		var b strings.Builder
		err := parseLog(bufio.NewReaderSize(bytes.NewReader(data), size), func(c *commitInfo) {
			b.WriteString("commit " + c.hash + " " + c.author + "\n")
		}, func(c *commitInfo, e rawEntry) {
			b.WriteString(c.hash + " " + e.hash.String() + " " + e.path + "\n")
		})
		return b.String(), err
	}
	big, err := parse(out, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	small, err := parse(out, 16)
	if err != nil {
		t.Fatal(err)
	}
	if small != big {
		t.Fatalf("%s: a 16-byte buffer reads\n%s\na large one\n%s", merges, small, big)
	}
	// the reference: the output split at its NULs
	var want strings.Builder
	fields := strings.Split(string(out), "\x00")
	var cur string
	for i := 0; i < len(fields); i++ {
		f := strings.TrimLeft(fields[i], "\n")
		switch {
		case f == "":
		case strings.HasPrefix(f, "::"):
			// a combined diff: the merge's mode and ID come last of each
			n := len(f) - len(strings.TrimLeft(f, ":"))
			m := strings.Fields(f[n:])
			i++
			if m[n] != "000000" {
				want.WriteString(cur + " " + m[2*n+1] + " " + fields[i] + "\n")
			}
		case f[0] == ':':
			m := strings.Fields(f[1:])
			i++
			if m[4] != "D" {
				want.WriteString(cur + " " + m[3] + " " + fields[i] + "\n")
			}
		default:
			h := strings.Fields(f)[0]
			i++
			if h != cur {
				cur = h
				want.WriteString("commit " + h + " " + fields[i] + "\n")
			}
		}
	}
	if big != want.String() {
		t.Fatalf("%s: parseLog reads\n%s\nthe output holds\n%s", merges, big, want.String())
	}
	if merges == "combined" && !strings.Contains(string(out), "::") {
		t.Fatalf("combined: no combined diff line in\n%q", out)
	}
	for _, bad := range [][]byte{out[:len(out)-20], bytes.Replace(out, []byte(" M\x00"), []byte(" M X\x00"), 1),
		bytes.Replace(out, []byte(" MM\x00"), []byte(" MM X\x00"), 1), bytes.Replace(out, []byte("::"), []byte(":::"), 1)} {
		if bytes.Equal(bad, out) {
			continue
		}
		if _, err := parse(bad, 16); err == nil {
			t.Errorf("%s: no error for a damaged output", merges)
		}
	}
	return big
}

// addOcc keeps what earliestPerPath keeps of every occurrence: commits
// listed in random order with committer times that tie, merges and
// commits dated before others listed after them, blobs at one path or
// many (past maxOccScan), each occurrence listed once or again.
func TestAddOccKeepsTheEarliest(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 23))
	for trial := 0; trial < 2000; trial++ {
		commits := make([]*commitInfo, 1+r.IntN(30))
		list := make([]listedCommit, len(commits))
		for i := range commits {
			commits[i] = &commitInfo{hash: fmt.Sprint(i), committed: int64(r.IntN(5)), parents: 1 + r.IntN(2), listed: i}
			list[i] = listedCommit{committed: commits[i].committed, parents: commits[i].parents}
		}
		for i, rank := range ranks(list) {
			commits[i].order = rank
		}
		paths := 1 + r.IntN(3)
		if r.IntN(4) == 0 {
			paths = maxOccScan + 1 + r.IntN(8)
		}
		var all, kept []occurrence
		for _, c := range commits { // (in listing order, as git log gives them)
			for k := r.IntN(4); k > 0; k-- {
				oc := occurrence{path: fmt.Sprint("p", r.IntN(paths)), commit: c}
				all = append(all, oc)
				kept = addOcc(kept, oc)
			}
		}
		show := func(os []occurrence) string {
			var b strings.Builder
			for _, oc := range earliestPerPath(os) {
				fmt.Fprintf(&b, "%s@%s ", oc.path, oc.commit.hash)
			}
			return b.String()
		}
		if got, want := show(kept), show(all); got != want {
			t.Fatalf("trial %d: addOcc keeps %s, every occurrence gives %s", trial, got, want)
		}
	}
}

// A merge dated before the branch commit that brought a file in keeps
// the occurrence its own diffs give the file: its combined diff does not
// list the file (a parent holds it), so the merge is listed against each
// parent as well, and the file's earliest occurrence is the merge's, as
// when every merge was.
func TestSkewedMergeKeepsItsOccurrences(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil || exec.Command(git, "--version").Run() != nil {
		t.Skip("no working git")
	}
	dir := t.TempDir()
	run := func(when int, args ...string) string {
		t.Helper()
		return runGit(t, git, dir, when, args...)
	}
	write := func(p, c string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(0, "init", "-q", "-b", "main")
	write("a.txt", "one\n")
	run(0, "add", ".")
	run(100, "commit", "-qm", "1")
	run(0, "checkout", "-qb", "side")
	write("side.txt", "brought in on the branch\n")
	run(0, "add", ".")
	run(5000, "commit", "-qm", "dated after the merge") // a clock ahead
	branch := run(0, "rev-parse", "HEAD")
	run(0, "checkout", "-q", "main")
	write("b.txt", "two\n")
	run(0, "add", ".")
	run(200, "commit", "-qm", "2")
	run(300, "merge", "-q", "--no-ff", "-m", "merge", "side")
	merge := run(0, "rev-parse", "HEAD")
	blob := plumbing.NewHash(run(0, "rev-parse", "HEAD:side.txt"))

	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.plan(context.Background(), git, func(err error) { t.Error(err) }, func(blobJob) {}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, oc := range s.occ[blob] {
		got = append(got, oc.path+"@"+oc.commit.hash[:7])
	}
	if want := []string{"side.txt@" + merge[:7]}; !slices.Equal(got, want) {
		t.Fatalf("side.txt's earliest occurrence %v, want %v (the merge, dated before the branch commit %s)", got, want, branch[:7])
	}
}

// skewedMerges finds the merges with an ancestor dated at their second
// or after, through any number of commits, and, in a partial listing, a
// merge with a parent outside it.
func TestSkewedMerges(t *testing.T) {
	h := func(i int) plumbing.Hash { return plumbing.NewHash(fmt.Sprintf("%040x", i+1)) }
	// 0 ← 1 ← 2, 0 ← 3; 4 merges 2 and 3; 5 merges 4 and 9 (not listed)
	mk := func(dates ...int64) []listedCommit {
		parents := [][]int{{}, {0}, {1}, {0}, {2, 3}, {4, 99}}
		var list []listedCommit
		for i, ps := range parents {
			c := listedCommit{hash: h(i), committed: dates[i], parents: len(ps)}
			for _, p := range ps {
				c.parentIDs = append(c.parentIDs, h(p))
			}
			list = append(list, c)
		}
		// (listed newest first, as git lists them)
		slices.Reverse(list)
		return list
	}
	place := func(list []listedCommit, ks []int) []int {
		var out []int
		for _, k := range ks {
			for i, c := range list {
				if c.hash == h(k) {
					out = append(out, i)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		dates   []int64
		partial bool
		want    []int
	}{
		{[]int64{1, 2, 3, 4, 5, 6}, false, nil},
		{[]int64{1, 2, 3, 4, 5, 6}, true, []int{5}},
		{[]int64{1, 9, 3, 4, 5, 6}, false, []int{4, 5}}, // 1, two commits up
		{[]int64{1, 2, 3, 5, 5, 6}, false, []int{4}},    // 3, at the same second
		{[]int64{1, 2, 3, 4, 5, 5}, false, []int{5}},
	} {
		list := mk(tc.dates...)
		if got, want := skewedMerges(list, tc.partial), place(list, tc.want); !slices.Equal(got, want) {
			t.Errorf("dates %v partial %v: merges at %v, want %v", tc.dates, tc.partial, got, want)
		}
	}
}

// The listing (merges by their combined diffs, the merges dated no later
// than an ancestor against each parent as well) gives every blob the
// same earliest occurrence at each of its paths, and lists the same
// blobs, as listing every merge against each parent does: random
// histories of branches merged back and forth, files copied between
// paths and put back to old versions, clocks that jump back and ahead.
func TestCombinedListingIsTheSeparateOne(t *testing.T) {
	git := workingGit()
	if git == "" {
		t.Skip("no git")
	}
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 31))
		r := newRepo(t)
		versions := []string{"a\n", "b\n", "c\n", "d\n"}
		paths := []string{"x.txt", "dir/y.txt", "dir/z.env", "w.go"}
		edit := func() map[string]string {
			files := map[string]string{}
			for k := 1 + rng.IntN(2); k > 0; k-- {
				files[paths[rng.IntN(len(paths))]] = versions[rng.IntN(len(versions))] + fmt.Sprint(rng.IntN(3))
			}
			return files
		}
		branches := []string{"master"}
		r.Commit("a", edit())
		skewed := 0
		for step := 0; step < 40; step++ {
			if rng.IntN(5) == 0 { // a clock ahead or behind
				r.When = r.When.Add(time.Duration(rng.IntN(20)-10) * time.Hour)
				skewed++
			}
			switch k := rng.IntN(6); {
			case k == 0 && len(branches) < 4:
				b := fmt.Sprint("b", step)
				r.Checkout(b, true)
				branches = append(branches, b)
			case k == 1 && len(branches) > 1:
				cur, err := r.Repo.Head()
				if err != nil {
					t.Fatal(err)
				}
				other := branches[rng.IntN(len(branches))]
				if other != cur.Name().Short() {
					var own map[string]string
					if rng.IntN(3) == 0 {
						own = edit() // a merge with files of its own
					}
					r.Merge("m", other, own)
				}
			case k == 2:
				r.Checkout(branches[rng.IntN(len(branches))], false)
			default:
				r.Commit("a", edit())
			}
		}
		s, err := Open(context.Background(), r.Dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		handed := map[string]bool{}
		if err := s.plan(context.Background(), git, func(err error) { t.Error(err) }, func(j blobJob) { handed[j.hash.String()] = true }); err != nil {
			t.Fatal(err)
		}
		got := occString(s.occ)
		from, stop, err := s.starts()
		if err != nil {
			t.Fatal(err)
		}
		// the reference: every merge against each parent
		var commits []*commitInfo
		occ := map[plumbing.Hash][]occurrence{}
		listed := map[string]bool{}
		err = s.runLog(context.Background(), git, []string{"--diff-merges=separate"}, from, stop, func(c *commitInfo) {
			c.listed = len(commits)
			commits = append(commits, c)
		}, func(c *commitInfo, e rawEntry) {
			occ[e.hash] = append(occ[e.hash], occurrence{path: e.path, commit: c})
			listed[e.hash.String()] = true
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		list := make([]listedCommit, len(commits))
		for i, c := range commits {
			list[i] = listedCommit{committed: c.committed, parents: c.parents}
		}
		for i, rank := range ranks(list) {
			commits[i].order = rank
		}
		for h, os := range occ {
			occ[h] = earliestPerPath(os)
		}
		if want := occString(occ); got != want {
			t.Fatalf("seed %d (%d clock jumps): the listing gives\n%s\nevery merge against each parent gives\n%s", seed, skewed, got, want)
		}
		if len(handed) != len(listed) {
			t.Fatalf("seed %d: %d blobs handed, %d listed", seed, len(handed), len(listed))
		}
	}
}

func occString(occ map[plumbing.Hash][]occurrence) string {
	var out []string
	for h, os := range occ {
		for _, oc := range os {
			out = append(out, h.String()[:7]+" "+oc.path+" "+oc.commit.hash[:7])
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
