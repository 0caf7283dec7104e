package engine

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
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
		if got := mayDecode(tc.in); got != tc.want {
			t.Errorf("mayDecode(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if gitleaksDecodes(tc.in) && !mayDecode(tc.in) {
			t.Errorf("gitleaks decodes %q but mayDecode says no", tc.in)
		}
	}
}

// TestMayDecodeNeverMisses compares mayDecode with gitleaks' decoder on
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
			if !mayDecode(s) {
				t.Fatalf("gitleaks decodes %q but mayDecode says no", s)
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
		if gitleaksDecodes(s) && !mayDecode(s) {
			t.Fatalf("gitleaks decodes %q but mayDecode says no", s)
		}
	})
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
		if hasSpecial(w) != want {
			t.Fatalf("hasSpecial(%q) = %v", b, !want)
		}
	}
}

// A window's key names the unit, the path and the text; the set forgets
// everything when full.
func TestQuietWindows(t *testing.T) {
	var q quietWindows
	k := q.key(1, "a.go", []byte("token = x"))
	for _, other := range [][2]uint64{q.key(2, "a.go", []byte("token = x")), q.key(1, "b.go", []byte("token = x")), q.key(1, "a.go", []byte("token = y")), q.key(1, "a.gotoken", []byte(" = x"))} {
		if other == k {
			t.Fatal("two different windows share a key")
		}
	}
	q.add(k)
	if !q.has(k) || q.has(q.key(1, "a.go", []byte("token = y"))) {
		t.Fatal("has")
	}
	for i := 0; len(q.seen) < maxQuiet; i++ {
		q.add([2]uint64{uint64(i), 7})
	}
	q.add([2]uint64{1, 1})
	if q.has(k) || !q.has([2]uint64{1, 1}) || len(q.seen) != 1 {
		t.Fatal("a full set was not emptied")
	}
}
