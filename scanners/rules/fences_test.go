package rules

import (
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
