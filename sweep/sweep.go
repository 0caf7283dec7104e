// Package sweep finds every copy of known secrets in any bytes: text or
// binary, plain or encoded (percent-encoding, base64 at each of its three
// alignments and URL-safe, hex, JSON, XML and shell escapes), in one
// multi-pattern pass (a sampled q-gram index) whose cost does not grow
// with the number of secrets.
//
// It is the pass after the pattern rules: once a database password is
// known (found by the scan, or read from Vault), each of its copies is an
// occurrence of that credential, wherever it sits. A Matcher holds the
// secrets in memory only; it never writes them anywhere.
package sweep

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// MinLen is the shortest secret swept: shorter ones would match too much
// unrelated text.
const MinLen = 6

// Wordlike says whether a secret is letters only or digits only (a word,
// a name, a number): swept for, it would match ordinary text (a password
// "hashicorp" in a test is every import path of a Go module cache). The
// estate sweep leaves passwords it found that are wordlike out; secrets a
// user names as known are swept whatever they are.
func Wordlike(s string) bool {
	letters, digits := true, true
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		letters = letters && 'a' <= c && c <= 'z'
		digits = digits && '0' <= s[i] && s[i] <= '9'
	}
	return letters || digits
}

// Encodings the sweep looks for, as they tag a hit.
const (
	Plain         = "plain"
	Percent       = "percent"
	Base64        = "base64"
	Base64URL     = "base64url"
	Hex           = "hex"
	JSONEscape    = "json-escape"
	XMLEscape     = "xml-escape"
	ShellEscape   = "shell-escape"
	minPatternLen = 6
)

// Hit is one copy of a known secret in the data searched.
type Hit struct {
	Secret   int    // index of the secret in the list New was given
	Encoding string // how it was written
	Start    int    // byte offsets in the data of the copy as written
	End      int
}

// Matcher searches for a fixed set of secrets. It is immutable and safe
// for concurrent use.
//
// It is a sampled q-gram index (Rabin–Karp over many patterns): every
// pattern is at least minLen bytes, so any copy covers one of the text
// positions sampled every step = minLen-3 bytes at an offset below step
// from its start. Each pattern's 4-byte grams at those offsets are
// indexed; the text's sampled grams are looked up (a 128 KiB bitset
// first, then the index) and each candidate is compared whole. The cost
// per byte is one bitset probe per step bytes, whatever the number of
// secrets; memory is a few bytes per pattern and offset.
type Matcher struct {
	pats   []pattern
	grams  []uint64           // bitset of gram hashes
	index  map[uint32][]entry // gram → (pattern, offset)
	minLen int
	step   int
}

type pattern struct {
	secret int
	enc    string
	text   []byte
}

type entry struct{ pat, off int32 }

const (
	gram     = 4
	gramBits = 20
)

func load32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func gramHash(x uint32) uint32 { return (x * 2654435761) >> (32 - gramBits) }

// New builds a matcher for secrets. Secrets shorter than MinLen are not
// swept: their indexes are returned in skipped.
func New(secrets []string) (m *Matcher, skipped []int) {
	m = &Matcher{}
	seen := map[string]bool{}
	for i, s := range secrets {
		if len(s) < MinLen {
			skipped = append(skipped, i)
			continue
		}
		for _, e := range Encode(s) {
			if len(e.Text) < minPatternLen || seen[e.Text] {
				continue
			}
			seen[e.Text] = true
			m.pats = append(m.pats, pattern{secret: i, enc: e.Encoding, text: []byte(e.Text)})
		}
	}
	if len(m.pats) == 0 {
		return m, skipped
	}
	m.minLen = len(m.pats[0].text)
	for _, p := range m.pats {
		m.minLen = min(m.minLen, len(p.text))
	}
	m.step = m.minLen - gram + 1
	m.grams = make([]uint64, 1<<gramBits/64)
	m.index = map[uint32][]entry{}
	for k, p := range m.pats {
		for o := 0; o < m.step; o++ {
			x := load32(p.text[o:])
			h := gramHash(x)
			m.grams[h/64] |= 1 << (h % 64)
			m.index[x] = append(m.index[x], entry{int32(k), int32(o)})
		}
	}
	return m, skipped
}

// Len is the number of patterns (secrets times their distinct encodings).
func (m *Matcher) Len() int { return len(m.pats) }

// Find calls fn once for each copy of a pattern in data (in no set
// order): a copy that is a pattern of several secrets is reported for
// each.
func (m *Matcher) Find(data []byte, fn func(Hit)) {
	if m == nil || len(m.pats) == 0 || len(data) < m.minLen {
		return
	}
	for i := 0; i+gram <= len(data); i += m.step {
		x := load32(data[i:])
		h := gramHash(x)
		if m.grams[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, e := range m.index[x] {
			p := &m.pats[e.pat]
			start := i - int(e.off)
			if start < 0 || start+len(p.text) > len(data) || !bytes.Equal(data[start:start+len(p.text)], p.text) {
				continue
			}
			fn(Hit{Secret: p.secret, Encoding: p.enc, Start: start, End: start + len(p.text)})
		}
	}
}

// Encoded is one way a secret may be written.
type Encoded struct {
	Encoding string
	Text     string
}

// Encode lists the ways s may be written, each once: as is, and in the
// encodings that change it. For base64 a secret that sits inside a
// longer encoded value starts at any of three byte alignments; each gives
// the characters that encode s alone whatever surrounds it.
func Encode(s string) []Encoded {
	var out []Encoded
	seen := map[string]bool{}
	add := func(enc, t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, Encoded{enc, t})
		}
	}
	add(Plain, s)
	add(Percent, url.QueryEscape(s))
	add(Percent, strings.ReplaceAll(url.QueryEscape(s), "+", "%20"))
	add(Percent, url.PathEscape(s))
	add(Percent, percentAll(s, false))
	add(Percent, percentAll(s, true))
	for a := 0; a < 3; a++ {
		std, ok := base64Aligned(s, a, base64.StdEncoding)
		if ok {
			add(Base64, std)
		}
		if u, ok := base64Aligned(s, a, base64.URLEncoding); ok {
			add(Base64URL, u)
		}
	}
	add(Hex, hex.EncodeToString([]byte(s)))
	add(Hex, strings.ToUpper(hex.EncodeToString([]byte(s))))
	if b, err := json.Marshal(s); err == nil {
		add(JSONEscape, string(b[1:len(b)-1]))
	}
	add(JSONEscape, jsonEscapeAll(s))
	add(XMLEscape, xmlEscape(s, false))
	add(XMLEscape, xmlEscape(s, true))
	add(ShellEscape, shellEscape(s, `"\$`+"`"))
	add(ShellEscape, shellEscape(s, ` "'\$`+"`!&|;<>()*?[]#~"))
	add(ShellEscape, strings.ReplaceAll(s, `'`, `'\''`))
	return out
}

// base64Aligned is the part of the base64 encoding of s, placed after a
// bytes of other data, that depends on s alone.
func base64Aligned(s string, a int, enc *base64.Encoding) (string, bool) {
	buf := make([]byte, a+len(s))
	copy(buf[a:], s)
	full := enc.EncodeToString(buf)
	skip := [...]int{0, 2, 3}[a]
	end := (a + len(s)) * 8 / 6
	if end <= skip {
		return "", false
	}
	return full[skip:end], true
}

// percentAll percent-encodes every byte that is not a letter or a digit.
func percentAll(s string, lower bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
			continue
		}
		f := "%%%02X"
		if lower {
			f = "%%%02x"
		}
		fmt.Fprintf(&b, f, c)
	}
	return b.String()
}

// jsonEscapeAll writes every non-alphanumeric byte as \u00XX.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, c)
	}
	return b.String()
}

// xmlEscape writes XML's entities (named, or numeric for every
// non-alphanumeric byte).
func xmlEscape(s string, numeric bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case numeric && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80):
			fmt.Fprintf(&b, "&#%d;", c)
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '"':
			b.WriteString("&quot;")
		case c == '\'':
			b.WriteString("&apos;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// shellEscape puts a backslash before each byte of special.
func shellEscape(s, special string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Sorted returns hits sorted by start, then secret.
func Sorted(hs []Hit) []Hit {
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Start != hs[j].Start {
			return hs[i].Start < hs[j].Start
		}
		return hs[i].Secret < hs[j].Secret
	})
	return hs
}
