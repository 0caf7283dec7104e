package accel

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect/codec"
)

// gitleaksDecodes says whether gitleaks' own decoder finds a segment in s.
func gitleaksDecodes(s string) bool {
	_, segs := codec.NewDecoder().Decode(s, nil)
	return len(segs) > 0
}

func TestMayDecodeCases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"func main() { fmt.Println(x) }", false},
		{`fmt.Sprintf("%02x", b)`, false},
		{"password=p%40ss", true},
		{`"\u0041\u0042"`, true},
		{"U+0041 ", true},
		{"sum := 0123456789abcdef0123456789abcdef", false}, // decodes to unprintable bytes
		{"v := " + hex.EncodeToString([]byte("postgres://app:pw@db/arp")), true},
		{"token: " + base64.StdEncoding.EncodeToString([]byte("postgres://u:pw@h/db")), true},
		{"token: " + base64.RawURLEncoding.EncodeToString([]byte("~~~~secret~~~~")), true},
		{"import github.com/zricethezav/gitleaks/v8/detect", false},
		{"TestSomethingVeryLongIndeed(t)", false},
	} {
		if got := MayDecode(tc.in); got != tc.want {
			t.Errorf("MayDecode(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if gitleaksDecodes(tc.in) && !MayDecode(tc.in) {
			t.Errorf("gitleaks decodes %q but MayDecode says no", tc.in)
		}
	}
}

// TestMayDecodeNeverMisses compares MayDecode with gitleaks' decoder on
// random lines built from the characters its encodings use.
func TestMayDecodeNeverMisses(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"7061", "7373", "0123456789abcdef", "%", "%4", "1", "a", "F", "=", "==", "+", "/", "-", "_", "U+", `\u`, `\\u`, " ", "\n", "x", "Zm9v", "YmFy", "cGFzc3dvcmQ", "%41", "%0a", ".", "\x00", "\xff"}
	yes := 0
	for i := 0; i < 200000; i++ {
		var b strings.Builder
		for n := r.IntN(40); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if r.IntN(4) == 0 {
			b.WriteString(base64.StdEncoding.EncodeToString([]byte(b.String())))
		}
		s := b.String()
		if gitleaksDecodes(s) {
			yes++
			if !MayDecode(s) {
				t.Fatalf("gitleaks decodes %q but MayDecode says no", s)
			}
		}
	}
	if yes == 0 {
		t.Fatal("the generator never produced a decodable line")
	}
}

func FuzzMayDecode(f *testing.F) {
	f.Add("password=p%40ss")
	f.Add("dG9rZW46IHNlY3JldHZhbHVl")
	f.Add(`\u0041 U+0042 `)
	f.Fuzz(func(t *testing.T, s string) {
		if gitleaksDecodes(s) && !MayDecode(s) {
			t.Fatalf("gitleaks decodes %q but MayDecode says no", s)
		}
	})
}

// HasSpecial reports whether any byte of w is '%', '\\' or '+' (the bytes
// that start a percent, \u or U+ escape): the word test of
// probeDecodeByByte, which specialAt replaced.
func HasSpecial(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	return zero(w^('%'*ones))|zero(w^('\\'*ones))|zero(w^('+'*ones)) != 0
}

func TestHasSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 200000; n++ {
		var b [8]byte
		for i := range b {
			b[i] = byte(r.IntN(256))
			if r.IntN(4) == 0 {
				b[i] = "%\\+$,*"[r.IntN(6)]
			}
		}
		w := uint64(0)
		want := false
		for i, c := range b {
			w |= uint64(c) << (8 * i)
			want = want || c == '%' || c == '\\' || c == '+'
		}
		if HasSpecial(w) != want {
			t.Fatalf("HasSpecial(%q) = %v", b, !want)
		}
	}
}

func TestInertUnicode(t *testing.T) {
	for esc, want := range map[string]bool{
		`\u0000`: true, `\u001b`: true, `\u007F`: true, `U+0001`: true,
		`\u0009`: false, `\u000a`: false, `\u000D`: false, `\u0020`: false, `\u0041`: false, `\u00e9`: false, `U+0041`: false,
		`\u00`: false, `\uzzzz`: false,
	} {
		if got := InertUnicode([]byte(esc)); got != want {
			t.Errorf("%s: %v, want %v", esc, got, want)
		}
	}
}

// probeDecodeByByte is ProbeDecode as it was, its escape loop going byte
// by byte from the start of each word that held an escape's first byte:
// the reference the word-skipping loop must match, visit for visit, and
// the benchmark's peer.
func probeDecodeByByte(s []byte, visit func(decoded []byte, from, to int) bool) bool {
	n := len(s)
	found := false
	percent := false
	for i := 0; i < n; i++ {
		// skip eight bytes at a time while none is '%', '\\' or '+'
		for i+8 <= n && !HasSpecial(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i >= n {
			break
		}
		switch c := s[i]; c {
		case '%':
			if i+2 < n && hexClass[s[i+1]] && hexClass[s[i+2]] {
				if Printable(hexVal(s[i+1])<<4 | hexVal(s[i+2])) {
					found = true
					if visit(nil, i, i+3) {
						return true
					}
				}
				percent = true
			}
		case '\\':
			if i+1 < n && (s[i+1]|0x20) == 'u' && Hex4(s[i+2:]) {
				found = true
				if visit(nil, i, i+6) {
					return true
				}
			}
		case '+':
			if i > 0 && s[i-1] == 'U' && Hex4(s[i+1:]) {
				found = true
				if visit(nil, i-1, i+5) {
					return true
				}
			}
		}
	}
	// a run of 16 base64 characters or more, the shortest that may
	// decode, holds one of every 16th byte: only those are looked at, and
	// the runs around them measured (most words are shorter)
	for from, p := 0, 15; p < n; p += 16 {
		if !b64Class[s[p]] {
			continue
		}
		i, j := p, p+1
		for i > from && b64Class[s[i-1]] {
			i--
		}
		for j < n && b64Class[s[j]] {
			j++
		}
		k := j
		for k < n && k < j+2 && s[k] == '=' {
			k++
		}
		from = k
		p = k + 15 - k%16 - 16 // the loop goes on from the first 16th byte at or after k
		if j-i < 16 {
			continue
		}
		f, stop := SegmentsDecode(s, i, j, k, visit)
		found = found || f
		if stop {
			return true
		}
		if percent {
			for q := i + 1; q < j; q++ {
				if q >= 3 && s[q-3] == '%' && hexClass[s[q-2]] && hexClass[s[q-1]] {
					f, stop := SegmentsDecode(s, q, j, k, visit)
					found = found || f
					if stop {
						return true
					}
				}
			}
		}
	}
	return found
}

// segmentsOf is what probe shows of s, in order (each decoded segment by
// its place, length and hash), stopping it at the stopAt-th segment (0:
// never), and what it returns.
func segmentsOf(probe func([]byte, func([]byte, int, int) bool) bool, s []byte, stopAt int) string {
	var b strings.Builder
	seen := 0
	ret := probe(s, func(dec []byte, from, to int) bool {
		seen++
		// (decoded bytes by a hash, never as they are: a source's key
		// material would show in a failure)
		sum := sha256.Sum256(dec)
		fmt.Fprintf(&b, "%d-%d:%d:%x ", from, to, len(dec), sum[:8])
		return seen == stopAt
	})
	fmt.Fprintf(&b, "→ %v", ret)
	return b.String()
}

// The escape loop finds each escape where going byte by byte did, and
// ProbeDecode shows the same segments in the same order and stops where
// it did: lines dense in '%', '\', '+' and what follows them, every
// length around a word, and the lines of Go's sources, generated
// escaped bytes (time/tzdata) included.
func TestProbeDecodeEscapesByWord(t *testing.T) {
	check := func(s []byte) {
		t.Helper()
		for _, stopAt := range []int{0, 1, 3} {
			if got, want := segmentsOf(ProbeDecode[[]byte], s, stopAt), segmentsOf(probeDecodeByByte, s, stopAt); got != want {
				t.Fatalf("a line of %d bytes (stop at %d): %s, byte by byte %s", len(s), stopAt, got, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"%", "%4", "%41", "%0a", `\`, `\u`, `\u0041`, `\U00`, "U+", "U+0041", "+", "41", "x", " ", "=", "\\x1f", "\\x8b", `\x`, `\x%`, `\x4`, `\xU`, `\x\x`, "Zm9vYmFyYmF6cXV4cXV1eA", "0123456789abcdef0123456789abcdef"}
	for n := 0; n < 100000; n++ {
		var b strings.Builder
		for k := r.IntN(30); k > 0; k-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		check([]byte(b.String()))
	}
	for _, line := range goLines(t) {
		check(line)
	}
}

// goLines are the lines of Go's net/http and net/url sources and of
// time/tzdata's generated file of escaped bytes.
func goLines(tb testing.TB) [][]byte {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Fatalf("go env GOROOT: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	var lines [][]byte
	for _, dir := range []string{"net/http", "net/url", "time/tzdata"} {
		files, _ := filepath.Glob(filepath.Join(src, dir, "*.go"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			lines = append(lines, bytes.Split(data, []byte("\n"))...)
		}
	}
	if len(lines) < 1000 {
		tb.Fatalf("only %d lines of Go sources", len(lines))
	}
	return lines
}

// BenchmarkProbeDecode probes each line of Go's sources (goLines) as the
// decoding passes' probe does, with ProbeDecode and its byte-by-byte
// predecessor.
func BenchmarkProbeDecode(b *testing.B) {
	all := goLines(b)
	// the generated file's lines of escaped bytes alone too
	var escaped [][]byte
	for _, l := range all {
		if len(l) > 4096 && bytes.Count(l, []byte(`\x`)) > len(l)/16 {
			escaped = append(escaped, l)
		}
	}
	if len(escaped) == 0 {
		b.Fatal("no line of escaped bytes in time/tzdata")
	}
	for _, set := range []struct {
		name  string
		lines [][]byte
	}{{"go", all}, {"escaped", escaped}} {
		n := 0
		for _, l := range set.lines {
			n += len(l) + 1
		}
		for _, c := range []struct {
			name  string
			probe func([]byte, func([]byte, int, int) bool) bool
		}{{"words", ProbeDecode[[]byte]}, {"byte-by-byte", probeDecodeByByte}} {
			b.Run(set.name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(n))
				for b.Loop() {
					for _, l := range set.lines {
						c.probe(l, func([]byte, int, int) bool { return false })
					}
				}
			})
		}
	}
}
