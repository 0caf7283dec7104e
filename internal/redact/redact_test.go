package redact

import (
	"fmt"
	"strings"
	"testing"
)

// A line of megabytes with a thousand secrets is cut to the part shown
// before it is searched, and no piece of a secret that the cut edges run
// through is left readable.
func TestLongLineCutBeforeSearch(t *testing.T) {
	var secrets []string
	var b strings.Builder
	for i := range 1000 {
		s := fmt.Sprintf("Sx%04dQw7zLp9", i)
		secrets = append(secrets, s)
		fmt.Fprintf(&b, `"k%d":"%s",`, i, s)
		b.WriteString(strings.Repeat("0123456789", 100))
	}
	line := b.String()
	at := strings.Index(line, secrets[500])
	got := Line(line, []Span{{From: at, To: at + len(secrets[500])}}, secrets)
	if !strings.Contains(got, Mask) || len(got) > MaxLen+8 || !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
		t.Fatalf("%d bytes: %q", len(got), got)
	}
	// a secret the window's edge cuts through: none of it readable
	for shift := -20; shift <= 20; shift++ {
		s := secrets[7]
		pad := strings.Repeat("x", 5000)
		edge := len(pad) + MaxLen + shift // where the part shown ends
		l := pad + "PW=" + secrets[8] + strings.Repeat("y", edge-len(pad)-3-len(secrets[8])-4) + s + strings.Repeat("z", 5000)
		center := len(pad) + 3
		out := Line(l, []Span{{From: center, To: center + len(secrets[8])}}, []string{s, secrets[8]})
		for i := 0; i+4 <= len(s); i++ {
			if strings.Contains(out, s[i:i+4]) {
				t.Fatalf("shift %d: %q shows %q of a secret", shift, out, s[i:i+4])
			}
		}
	}
}
