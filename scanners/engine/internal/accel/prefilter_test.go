package accel

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// scanReference is what Matcher.Scan stands for: each line's groups are
// those of the keywords it holds, case folded.
func scanReference(kws map[string]uint8, data []byte) []uint8 {
	var out []uint8
	if len(data) == 0 {
		return out
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		low := asciiLower(string(l))
		g := uint8(0)
		for kw, kg := range kws {
			if len(kw) >= 2 && strings.Contains(low, asciiLower(kw)) {
				g |= kg
			}
		}
		out = append(out, g)
	}
	return out
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = Fold[c]
	}
	return string(b)
}

func TestMatcherScanIsTheReference(t *testing.T) {
	kws := map[string]uint8{"password": GroupDB, "PASSWD": GroupDB | GroupGitleaks, "pa": GroupGitleaks,
		"token": GroupGitleaks, "ab": GroupDB, "x": GroupDB, "db_": GroupDB, "é": GroupGitleaks}
	m := NewMatcher(kws)
	alphabet := []string{"pa", "PA", "ss", "word", "Password", "passwd", "tok", "en", "TOKEN", "a", "b", "AB", "x",
		"\n", "\n", " ", "=", "\x80", "\xff", "db", "_", "DB_", "\r\n", "é"}
	r := rand.New(rand.NewPCG(18, 3))
	var buf []uint8
	for trial := range 5000 {
		var b strings.Builder
		for range r.IntN(40) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		data := []byte(b.String())
		want := scanReference(kws, data)
		buf = m.Scan(data, buf)
		if !slices.Equal(buf, want) {
			t.Fatalf("trial %d: %q: got %v, want %v", trial, data, buf, want)
		}
	}
}

// KwIndex.Each meets every keyword a line holds and Positions gives
// every offset where one starts, as a plain search does.
func TestKwIndexIsTheReference(t *testing.T) {
	kws := map[string][]int{"password": {0}, "passwd": {1, 2}, "pa": {3}, "token": {4}, "ab": {5}, "x": {6},
		"db_": {7}, "é": {8}, "-----begin": {9}}
	k := NewKWIndex(kws)
	alphabet := []string{"pa", "PA", "ss", "word", "Password", "passwd", "tok", "en", "TOKEN", "a", "b", "AB", "x",
		" ", "=", "\x80", "\xff", "db", "_", "DB_", "é", "-----", "BEGIN", "-"}
	r := rand.New(rand.NewPCG(18, 4))
	for trial := range 5000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		line := []byte(b.String())
		low := asciiLower(string(line))
		var wantUnits []int
		var wantPos []int
		for i := range low {
			at := false
			for kw, us := range kws {
				if len(kw) >= 2 && strings.HasPrefix(low[i:], kw) {
					wantUnits = append(wantUnits, us...)
					at = true
				}
			}
			if at {
				wantPos = append(wantPos, i)
			}
		}
		var gotUnits []int
		k.Each(line, func(us []int) bool { gotUnits = append(gotUnits, us...); return false })
		slices.Sort(gotUnits)
		slices.Sort(wantUnits)
		if !slices.Equal(gotUnits, wantUnits) {
			t.Fatalf("trial %d: %q: units %v, want %v", trial, line, gotUnits, wantUnits)
		}
		if got := k.Positions(line, nil); !slices.Equal(got, wantPos) {
			t.Fatalf("trial %d: %q: positions %v, want %v", trial, line, got, wantPos)
		}
	}
}
