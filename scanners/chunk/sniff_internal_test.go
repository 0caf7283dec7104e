package chunk

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/credscan/credscan"
)

// sniff skips the UTF-16 shape count when no zero byte follows the first
// pair: it decides as counting always would, on texts, UTF-16 of either
// order, binary and short inputs.
func TestSniffSkipsTheShapeWithoutZeros(t *testing.T) {
	always := func(b []byte) content { // sniff as it was
		w := b[:min(len(b), binarySniff)]
		hasZero := len(w) > 2 && bytes.IndexByte(w[2:], 0) >= 0
		switch {
		case bytes.HasPrefix(b, []byte{0xff, 0xfe}) && !bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}) && hasZero:
			return contentUTF16LE
		case bytes.HasPrefix(b, []byte{0xfe, 0xff}) && hasZero:
			return contentUTF16BE
		}
		if c, ok := utf16Shape(w); ok {
			return c
		}
		i := 0
		for i < len(b) && b[i] == 0 {
			i++
		}
		if bytes.IndexByte(b[i:min(len(b), i+binarySniff)], 0) >= 0 {
			return contentBinary
		}
		return contentText
	}
	r := rand.New(rand.NewPCG(89, 97))
	seen := map[content]int{}
	for trial := 0; trial < 20000; trial++ {
		b := make([]byte, r.IntN(40))
		zeros := r.IntN(3)
		for i := range b {
			switch {
			case zeros == 1 && i%2 == 1, zeros == 2 && i%2 == 0:
				b[i] = 0
			case r.IntN(50) == 0:
				b[i] = byte(r.IntN(3)) // a stray zero, one or two
			default:
				b[i] = "ab \n\xff\xfe"[r.IntN(6)]
			}
		}
		want := always(b)
		if got := sniff(b); got != want {
			t.Fatalf("trial %d: sniff(%q) = %v, want %v", trial, b, got, want)
		}
		seen[want]++
	}
	if len(seen) < 4 {
		t.Fatalf("only %d kinds of content sniffed: %v", len(seen), seen)
	}
}

// IsText is true exactly when Whole hands the bytes over as they are.
func TestIsTextIsWholeAsIs(t *testing.T) {
	for _, data := range [][]byte{[]byte("plain\n"), {0xff, 0xfe, 'a', 0, '\n', 0}, []byte("a\x00b"), {0, 0, 'x', '\n'}, {}} {
		var got []byte
		skip := ""
		_ = Whole(data, credscan.Origin{}, func(ch credscan.Chunk, err error) error {
			got, skip = ch.Data, ch.Skip
			return nil
		})
		asIs := skip == "" && string(got) == string(data)
		if IsText(data) != asIs {
			t.Errorf("% x: IsText %v, Whole hands it over as it is: %v", data, IsText(data), asIs)
		}
	}
}
