package rules

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// CodeBlocks marks the lines fencedLines marks: the git source compares a
// document's versions with it, the DB pack reads each with fencedLines.
func TestCodeBlocksIsFencedLines(t *testing.T) {
	pieces := []string{"```", "```yaml", "~~~", "````", "~~~~ sh", "  ```", "> ```", "\t~~~", "``", "text",
		"DB_PASSWORD=x", "", "```  ", "```\r", "~~~\r", "`` `"}
	r := rand.New(rand.NewPCG(18, 5))
	for trial := range 3000 {
		var ls []string
		for range r.IntN(30) {
			ls = append(ls, pieces[r.IntN(len(pieces))])
		}
		data := strings.Join(ls, "\n")
		if r.IntN(2) == 0 {
			data += "\n"
		}
		var lines Lines
		lines.Reset([]byte(data))
		want := fencedLines(&lines)
		got := make([]bool, len(want))
		for _, b := range CodeBlocks([]byte(data)) {
			if b[0] >= b[1] || int(b[1]) > len(got) {
				t.Fatalf("trial %d: %q: block %v of %d lines", trial, data, b, len(got))
			}
			for i := b[0]; i < b[1]; i++ {
				got[i] = true
			}
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d: %q: line %d in a block: CodeBlocks %v, fencedLines %v", trial, data, i, got[i], want[i])
			}
		}
	}
}

// fenceInByTrim is fenceState.in as it was, cutting the line's blanks
// and quote marks with bytes.TrimLeft before anything else.
func (s *fenceState) fenceInByTrim(line []byte) bool {
	t := bytes.TrimLeft(line, " \t>")
	run := fenceRun(t)
	switch {
	case s.fence == "" && run != "":
		s.fence = run
	case s.fence != "" && run != "" && run[0] == s.fence[0] && len(run) >= len(s.fence) && len(bytes.TrimSpace(t[len(run):])) == 0:
		s.fence = ""
	default:
		return s.fence != ""
	}
	return false
}

// fenceState.in's shortcuts (a line that starts no fence of the open
// block's character leaves the state as it is) agree with trimming every
// line and reading its run, on random documents of fences and near misses.
func TestFenceShortcuts(t *testing.T) {
	pieces := []string{"```", "```yaml", "~~~", "````", "~~~~ sh", "  ```", "> ```", "\t~~~", "``", "text", "> > ~~~",
		"", " ", ">", "```  ", "```\r", "~~~\r", "`` `", "~`~", "  ~~~~~~", "x```"}
	r := rand.New(rand.NewPCG(23, 7))
	inside := 0
	for trial := range 5000 {
		var fast, ref fenceState
		for k := range r.IntN(40) {
			line := []byte(pieces[r.IntN(len(pieces))] + pieces[r.IntN(len(pieces))])
			got, want := fast.in(line), ref.fenceInByTrim(line)
			if got != want || fast.fence != ref.fence {
				t.Fatalf("trial %d, line %d %q: in %v (fence %q), by trimming %v (fence %q)", trial, k, line, got, fast.fence, want, ref.fence)
			}
			if got {
				inside++
			}
		}
	}
	if inside < 10000 {
		t.Fatalf("only %d lines inside blocks: the documents do not test the shortcuts", inside)
	}
}
