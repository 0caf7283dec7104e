package engine_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// A single line longer than one gitleaks fragment (a one-line JSON of
// test vectors) is read in overlapping windows: every secret on it is
// found once, at its own column, whether it sits inside a window, in an
// overlap, or across a window's edge.
func TestSecretsOnOneHugeLine(t *testing.T) {
	const window, overlap = 128 << 10, 4 << 10 // maxFragment, fragOverlap
	step := window - overlap
	rng := rand.New(rand.NewPCG(1, 1))
	token := func() string {
		const a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		b := make([]byte, 32)
		for i := range b {
			b[i] = a[rng.IntN(len(a))]
		}
		return string(b)
	}
	at := []int{100, step - 10, step + overlap/2 - 20, step + overlap/2 + 5, window - 20, window + 300, 2*step + overlap/2 - 1, 3*step + 7, 600_000}
	var b strings.Builder
	want := map[int]string{} // column → token
	for _, pos := range at {
		for b.Len() < pos {
			b.WriteString(`{"v":"0a1b2c3d"},`)
		}
		tok := token()
		fmt.Fprintf(&b, `"client_secret":"`)
		want[b.Len()+1] = tok
		fmt.Fprintf(&b, `%s",`, tok)
	}
	b.WriteString(strings.Repeat(`{"v":"0a1b2c3d"},`, 1000))
	res := scanOne(t, "vectors.json", b.String())
	found := map[string]int{} // token → its column
	for _, f := range res.Findings {
		if f.RuleID != "generic-api-key" {
			continue
		}
		if _, dup := found[f.Secret.Reveal()]; dup {
			t.Errorf("%s is reported twice", f.Secret.Reveal())
		}
		found[f.Secret.Reveal()] = f.Column
	}
	for col, tok := range want {
		// the secret's own column, as on a short line (the match starts
		// at the key; a window's end column once kept it there)
		if got, ok := found[tok]; !ok || got != col {
			t.Errorf("the token at column %d: found at %d (%v)", col, got, ok)
		}
	}
	if len(found) != len(want) {
		t.Errorf("%d tokens found, want %d", len(found), len(want))
	}
}
