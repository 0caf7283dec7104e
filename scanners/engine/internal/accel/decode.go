package accel

import (
	"encoding/base64"
	"math/bits"
	"strings"
)

// gitleaks' decoding passes look for percent, unicode, hex and base64
// segments with one regular expression over the whole fragment, decode
// them, and run every rule again. Most fragments hold nothing that decodes
// to text, and MayDecode tells so in one pass over the bytes, so that the
// passes run only where they can find something.

var b64Class, hexClass, likelyB64 [256]bool

// IsHex says whether c is a hexadecimal digit, in either case.
func IsHex(c byte) bool { return hexClass[c] }

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		word := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_'
		b64Class[c] = word || b == '/' || b == '+' || b == '-'
		hexClass[c] = '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
		likelyB64[c] = '0' <= b && b <= '9' || strings.IndexByte("+/-_", b) >= 0
	}
}

// Printable is gitleaks' notion of Printable ASCII.
func Printable(b byte) bool { return '\x08' < b && b < '\x7f' }

func hexVal(b byte) byte {
	switch {
	case '0' <= b && b <= '9':
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}

func Hex4[T ~string | ~[]byte](s T) bool {
	if len(s) < 4 {
		return false
	}
	return hexClass[s[0]] && hexClass[s[1]] && hexClass[s[2]] && hexClass[s[3]]
}

// MayDecode says whether gitleaks' decoder could find a segment of s that
// decodes to something. It errs towards yes, never towards no.
//
// The decoder's expression is an alternation (percent, unicode, hex,
// base64) matched leftmost-first. A percent escape of a Printable byte or
// a unicode escape is a yes. Hex and base64 segments start where a run of
// base64 characters starts, or where a percent escape ends inside one; a
// segment starting there is hex when 32 hex digits follow (up to the last
// of them), else base64 to the run's end (with up to two "=") when that
// is 16 characters or more. Each is a yes when it decodes to Printable
// text, as the decoder requires.
func MayDecode[T ~string | ~[]byte](s T) bool {
	return ProbeDecode(s, func([]byte, int, int) bool { return true })
}

// ProbeDecode is MayDecode that shows each segment found to visit, with
// its place s[from:to]: the decoded bytes of a hex or base64 segment, nil
// for a percent or unicode escape (whose decoded segment depends on the
// whole line; the place is the escape's). visit returns true to stop;
// ProbeDecode returns whether any segment was found.
func ProbeDecode[T ~string | ~[]byte](s T, visit func(decoded []byte, from, to int) bool) bool {
	n := len(s)
	found := false
	percent := false
	for i := 0; i < n; i++ {
		// skip eight bytes at a time to the first '%', '\\' or '+' (text
		// dense in them, a generated file's escaped bytes, went byte by
		// byte from the start of each word that held one)
		for i+8 <= n {
			k := specialAt(uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56)
			i += k
			if k < 8 {
				break
			}
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
			} else if i+3 < n && s[i+1] == 'x' {
				// a run of \xHH escapes (a generated file's bytes, one
				// special byte in four) holds no escape the decoder
				// reads: four bytes at a time to the first that may
				j := i
				for j+3 < n && s[j] == '\\' && s[j+1] == 'x' && !special[s[j+2]] && !special[s[j+3]] {
					j += 4
				}
				if j > i {
					i = j - 1 // (the loop goes on from j)
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

// SegmentsDecode tries the segments the decoder would match from p in the
// run s[p:j], followed by the padding s[j:k], showing those that decode
// to visit. It returns whether one decoded, and whether visit stopped.
func SegmentsDecode[T ~string | ~[]byte](s T, p, j, k int, visit func([]byte, int, int) bool) (found, stop bool) {
	for p < j {
		h := p
		for h < j && hexClass[s[h]] {
			h++
		}
		if h-p >= 32 {
			if dec := HexDecodes(s[p:h]); dec != nil {
				found = true
				if visit(dec, p, h) {
					return true, true
				}
			}
			p = h
			continue
		}
		if j-p >= 16 {
			if dec := Base64Decodes(string(s[p:k])); dec != nil {
				return true, visit(dec, p, k)
			}
		}
		return found, false
	}
	return found, false
}

// HexDecodes is the decoder's test of a hex segment (an even length, a
// digit, and Printable bytes); it returns the decoded bytes, or nil.
func HexDecodes[T ~string | ~[]byte](s T) []byte {
	if len(s)%2 != 0 {
		return nil
	}
	digit := false
	out := make([]byte, 0, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		digit = digit || s[i] <= '9' || s[i+1] <= '9'
		b := hexVal(s[i])<<4 | hexVal(s[i+1])
		if !Printable(b) {
			return nil
		}
		out = append(out, b)
	}
	if !digit {
		return nil
	}
	return out
}

// Base64Decodes is the decoder's test of a base64 segment: a character
// that words rarely hold, and Printable bytes decoded with the standard
// alphabet, else with the URL alphabet without padding; it returns the
// decoded bytes, or nil.
func Base64Decodes(seg string) []byte {
	likely := false
	for i := 0; i < len(seg); i++ {
		likely = likely || likelyB64[seg[i]]
	}
	if !likely {
		return nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		if dec, err := enc.DecodeString(seg); err == nil && AllPrintable(dec) {
			return dec
		}
	}
	return nil
}

func AllPrintable(b []byte) bool {
	for _, c := range b {
		if !Printable(c) {
			return false
		}
	}
	return true
}

// special marks '%', '\\' and '+', the bytes specialAt looks for.
var special = [256]bool{'%': true, '\\': true, '+': true}

// specialAt is the index of w's first byte (the lowest) that is '%', '\\'
// or '+', 8 when none is. (Each zero test may mark a byte above a true
// match, never one below: the lowest mark is exact.)
func specialAt(w uint64) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	return bits.TrailingZeros64(zero(w^('%'*ones))|zero(w^('\\'*ones))|zero(w^('+'*ones))) / 8
}

// InertUnicode says whether the unicode escape esc (\uXXXX or U+XXXX, as
// ProbeDecode shows it) is of a control character other than white
// space, which no character class of a rule's secret or key holds.
func InertUnicode(esc []byte) bool {
	if len(esc) < 6 || !Hex4(esc[2:]) {
		return false
	}
	r := rune(hexVal(esc[2]))<<12 | rune(hexVal(esc[3]))<<8 | rune(hexVal(esc[4]))<<4 | rune(hexVal(esc[5]))
	return r < 0x20 && (r < '\t' || r > '\r') || r == 0x7f
}

// EscapeAt says whether s[i:] starts with a percent escape (%XX), and
// the byte it decodes to.
func EscapeAt(s []byte, i int) (byte, bool) {
	if i < 0 || i+2 >= len(s) || s[i] != '%' || !hexClass[s[i+1]] || !hexClass[s[i+2]] {
		return 0, false
	}
	return hexVal(s[i+1])<<4 | hexVal(s[i+2]), true
}

// EscapeMayJoin says whether the byte a percent escape decodes to may
// become part of a segment the next decoding pass finds (a base64 or hex
// run, another escape).
func EscapeMayJoin(c byte) bool { return b64Class[c] || c == '=' || c == '%' || c == '\\' }

// PercentDecode appends s to dst with its percent escapes decoded.
func PercentDecode(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if c, ok := EscapeAt(s, i); ok {
			dst = append(dst, c)
			i += 2
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

// OutsideEscapes moves a cut between s[p-1] and s[p] out of any percent
// escape it would split: back to the escape's start when start is set,
// else past its end.
func OutsideEscapes(s []byte, p int, start bool) int {
	for k := 1; k <= 2; k++ {
		if _, ok := EscapeAt(s, p-k); ok {
			if start {
				return p - k
			}
			return p - k + 3
		}
	}
	return p
}

// PercentSpan is the segment gitleaks' decoder takes as percent-encoded
// on a line: from its first escape (%XX) to the end of its last one. ok
// says whether it decodes: gitleaks drops the whole segment when one
// escape is not of a Printable byte. (No other kind of segment can hold a
// '%', so none starts before the first escape and covers it.)
func PercentSpan(line []byte) (from, to int, ok bool) {
	from, to = -1, -1
	for i := 0; i+2 < len(line); i++ {
		if line[i] == '%' && hexClass[line[i+1]] && hexClass[line[i+2]] {
			if from < 0 {
				from = i
			}
			to = i + 3
		}
	}
	if from < 0 {
		return 0, 0, false
	}
	// decoded as gitleaks does: left to right, an escape at a time
	for i := from; i < to; {
		if line[i] == '%' && i+2 < to && hexClass[line[i+1]] && hexClass[line[i+2]] {
			if !Printable(hexVal(line[i+1])<<4 | hexVal(line[i+2])) {
				return from, to, false
			}
			i += 3
			continue
		}
		i++
	}
	return from, to, true
}
