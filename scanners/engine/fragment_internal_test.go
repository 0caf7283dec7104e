package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
)

// fragmentWindows finds on a line of several fragments what gitleaks
// finds on the whole line: each secret once, at its column on the line,
// wherever the windows' edges and overlaps fall.
func TestFragmentWindowsAgreeWithTheWholeLine(t *testing.T) {
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	step := maxFragment - fragOverlap
	rng := rand.New(rand.NewPCG(2, 2))
	const a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for _, pos := range []int{100, step - 10, step + fragOverlap/2 - 20, step + fragOverlap/2 + 5, maxFragment - 20, maxFragment + 300, 2*step + fragOverlap/2 - 1, 3*step + 7, 600_000} {
		for b.Len() < pos {
			b.WriteString(`{"v":"0a1b2c3d"},`)
		}
		tok := make([]byte, 32)
		for i := range tok {
			tok[i] = a[rng.IntN(len(a))]
		}
		fmt.Fprintf(&b, `"client_secret":"%s",`, tok)
	}
	b.WriteString(strings.Repeat(`{"v":"0a1b2c3d"},`, 1000))
	line := b.String()
	key := func(col int, secret string) string { return fmt.Sprintf("%d %s", col, secret) }
	want := map[string]bool{}
	for _, f := range glDetect(context.Background(), d, "v.json", line, 1) {
		want[key(f.StartColumn, f.Secret)] = true
	}
	got := map[string]int{}
	for _, f := range fragmentWindows(context.Background(), d, "v.json", []byte(line), 1) {
		got[key(f.StartColumn, f.Secret)]++
	}
	if len(want) < 9 {
		t.Fatalf("gitleaks finds %d secrets on the whole line, want 9", len(want))
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("%s: found %d times in windows", k, got[k])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d found in windows, %d on the whole line", len(got), len(want))
	}
}
