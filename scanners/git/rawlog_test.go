package git

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// parseLog reads what git log writes, merges diffed against each parent,
// the same through a reader whose buffer is shorter than a field (its
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
	out, err := exec.Command("git", "-C", repo.Dir, "log", "--all", "--raw", "--diff-merges=separate", "--root",
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
		t.Fatalf("a 16-byte buffer reads\n%s\na large one\n%s", small, big)
	}
	// the reference: the output split at its NULs
	var want strings.Builder
	fields := strings.Split(string(out), "\x00")
	var cur string
	for i := 0; i < len(fields); i++ {
		f := strings.TrimLeft(fields[i], "\n")
		switch {
		case f == "":
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
		t.Fatalf("parseLog reads\n%s\nthe output holds\n%s", big, want.String())
	}
	if !strings.Contains(big, "Side Author With A Long Name") || strings.Count(big, "commit ") != 5 {
		t.Fatalf("not every commit read:\n%s", big)
	}
	for _, bad := range [][]byte{out[:len(out)-20], bytes.Replace(out, []byte(" M\x00"), []byte(" M X\x00"), 1)} {
		if _, err := parse(bad, 16); err == nil {
			t.Errorf("no error for a damaged output")
		}
	}
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
