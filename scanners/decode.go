package scanners

import (
	"encoding/base64"
	"strings"
)

// gitleaks' decoding passes look for percent, unicode, hex and base64
// segments with one regular expression over the whole fragment, decode
// them, and run every rule again. Most fragments hold nothing that decodes
// to text, and mayDecode tells so in one pass over the bytes, so that the
// passes run only where they can find something.

var b64Class, hexClass, likelyB64 [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		word := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_'
		b64Class[c] = word || b == '/' || b == '+' || b == '-'
		hexClass[c] = '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
		likelyB64[c] = '0' <= b && b <= '9' || strings.IndexByte("+/-_", b) >= 0
	}
}

// printable is gitleaks' notion of printable ASCII.
func printable(b byte) bool { return '\x08' < b && b < '\x7f' }

func hexVal(b byte) byte {
	switch {
	case '0' <= b && b <= '9':
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}

func hex4[T ~string | ~[]byte](s T) bool {
	if len(s) < 4 {
		return false
	}
	return hexClass[s[0]] && hexClass[s[1]] && hexClass[s[2]] && hexClass[s[3]]
}

// mayDecode says whether gitleaks' decoder could find a segment of s that
// decodes to something. It errs towards yes: a percent escape of a
// printable byte, a unicode escape, or a run of 32 hex digits is a yes; a
// base64 run is a yes when it, or any suffix of it of 16 characters or
// more (an earlier segment can end inside a run), decodes to printable
// ASCII.
func mayDecode[T ~string | ~[]byte](s T) bool {
	n := len(s)
	for i := 0; i < n; i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 < n && hexClass[s[i+1]] && hexClass[s[i+2]] && printable(hexVal(s[i+1])<<4|hexVal(s[i+2])) {
				return true
			}
		case '\\':
			if i+1 < n && (s[i+1]|0x20) == 'u' && hex4(s[i+2:]) {
				return true
			}
		case '+':
			if i > 0 && s[i-1] == 'U' && hex4(s[i+1:]) {
				return true
			}
		}
	}
	for i := 0; i < n; {
		if !b64Class[s[i]] {
			i++
			continue
		}
		j := i
		hexRun := 0
		for j < n && b64Class[s[j]] {
			if hexClass[s[j]] {
				hexRun++
				if hexRun >= 32 {
					return true
				}
			} else {
				hexRun = 0
			}
			j++
		}
		k := j
		for k < n && k < j+2 && s[k] == '=' {
			k++
		}
		if j-i >= 16 && base64SuffixDecodes(string(s[i:j]), string(s[j:k])) {
			return true
		}
		i = k
	}
	return false
}

// base64SuffixDecodes says whether some suffix of run of 16 characters or
// more, followed by pad, decodes as gitleaks' decoder does it (standard
// alphabet with padding, else URL alphabet without) to printable ASCII
// and holds a character that base64 has and words rarely do.
func base64SuffixDecodes(run, pad string) bool {
	std := run[strings.LastIndexAny(run, "-_")+1:]
	if suffixDecodes(base64.StdEncoding, std, pad, func(l int) bool { return l%4 == 0 }) {
		return true
	}
	if pad != "" {
		return false
	}
	url := run[strings.LastIndexAny(run, "+/")+1:]
	return suffixDecodes(base64.RawURLEncoding, url, "", func(l int) bool { return l%4 != 1 })
}

// suffixDecodes tries the suffixes of run, all in the encoding's
// alphabet, by alignment: the suffixes that start 4 characters apart
// decode to the tails, 3 bytes apart, of the same bytes.
func suffixDecodes(enc *base64.Encoding, run, pad string, okLen func(int) bool) bool {
	for a := 0; a < 4 && a < len(run); a++ {
		seg := run[a:] + pad
		if len(run)-a < 16 || !okLen(len(seg)) {
			continue
		}
		dec, err := enc.DecodeString(seg)
		if err != nil {
			continue
		}
		last := -1
		for i, b := range dec {
			if !printable(b) {
				last = i
			}
		}
		q := last/3 + 1 // quads to skip past the last unprintable byte
		if last < 0 {
			q = 0
		}
		if len(run)-a-4*q < 16 {
			continue
		}
		for _, c := range []byte(seg[4*q:]) {
			if likelyB64[c] {
				return true
			}
		}
	}
	return false
}
