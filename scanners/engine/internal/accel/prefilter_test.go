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
	for trial := range 20000 {
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
