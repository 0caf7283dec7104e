package accel

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
