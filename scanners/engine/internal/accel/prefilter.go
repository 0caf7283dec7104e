// Package accel holds the engine's speed-ups, each exact by construction and
// tested against what it stands in for: the keyword prefilter that wakes
// rules only on lines holding their keywords, the probe that tells which
// lines hold something gitleaks' decoding passes could decode, and the
// analysis of a regular expression's required literals, stop bytes and line
// span.
package accel

import (
	"bytes"
	"sort"
	"strings"
)

// Keyword groups: which detector a Keyword wakes.
const (
	GroupDB       uint8 = 1 << iota // credscan's DB rule pack
	GroupGitleaks                   // gitleaks' rules
)

var Fold [256]byte

func init() {
	for i := range Fold {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		Fold[i] = c
	}
}

type Keyword struct {
	lower  string
	groups uint8
}

// Matcher finds case-insensitive ASCII keywords and marks the lines that
// hold them. It reads every byte once: a bigram of the folded bytes is
// looked up in a 128 KiB table, and only bigrams that start a Keyword, and
// are followed by a byte that follows them in one, are compared further
// (common bigrams such as "pa" or "se" start a keyword; what follows them
// in text mostly does not continue one). Once a line has woken every
// group it skips to the next line. A Matcher is immutable and safe for
// concurrent use.
type Matcher struct {
	starts bigrams
	lists  [][]Keyword // per bucket
	all    uint8
}

// bigrams finds where a keyword may start: at a folded bigram that starts
// one, followed by a byte that may come third in one of them. Each such
// bigram has a bucket, numbered from 1.
type bigrams struct {
	// bucket is the bucket of a bigram as written (every case of a
	// keyword's first two bytes), read with one 16-bit load, data[i] the
	// low byte; 0 when none, lineBreak for a bigram that starts with a
	// line break (set by finish)
	bucket [1 << 16]uint16
	third  []byteSet // per bucket - 1: the bytes that may come third
}

// lineBreak marks, in bigrams.bucket, the bigrams that start with '\n'.
const lineBreak = 1<<16 - 1

// finish marks the bigrams that start with a line break, once every
// keyword is added.
func (t *bigrams) finish() {
	if len(t.third) >= lineBreak {
		panic("accel: too many keyword bigrams")
	}
	for b := range 256 {
		t.bucket['\n'|uint16(b)<<8] = lineBreak
	}
}

// foldsTo gives the bytes Fold turns into c: c and its upper case, c
// alone, or none (an upper-case c).
func foldsTo(c byte) []byte {
	var out []byte
	for x := range 256 {
		if Fold[x] == c {
			out = append(out, byte(x))
		}
	}
	return out
}

// add gives the bucket of kw (lower case, at least two bytes) and whether
// it is new.
func (t *bigrams) add(kw string) (b uint16, isNew bool) {
	if b = t.bucket[uint16(kw[0])|uint16(kw[1])<<8]; b == 0 {
		t.third = append(t.third, byteSet{})
		b, isNew = uint16(len(t.third)), true
		// every byte pair that folds to kw's first two
		for _, x := range foldsTo(kw[0]) {
			for _, y := range foldsTo(kw[1]) {
				t.bucket[uint16(x)|uint16(y)<<8] = b
			}
		}
	}
	if len(kw) == 2 {
		t.third[b-1] = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	} else {
		t.third[b-1].add(kw[2]) // (lower case: what Fold gives)
	}
	return b, isNew
}

// at gives the bucket of the keywords that may start at data[i] (which
// must have a byte after it), or 0.
func (t *bigrams) at(data []byte, i int) uint16 {
	b := t.bucket[uint16(data[i])|uint16(data[i+1])<<8]
	if b == 0 || b == lineBreak || i+2 < len(data) && !t.third[b-1].has(Fold[data[i+2]]) {
		return 0
	}
	return b
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

func NewMatcher(kws map[string]uint8) *Matcher {
	m := &Matcher{}
	for kw, g := range kws {
		kw = strings.ToLower(kw)
		if len(kw) < 2 {
			continue
		}
		b, isNew := m.starts.add(kw)
		if isNew {
			m.lists = append(m.lists, nil)
		}
		i := b - 1
		merged := false
		for j := range m.lists[i] {
			if m.lists[i][j].lower == kw {
				m.lists[i][j].groups |= g
				merged = true
			}
		}
		if !merged {
			m.lists[i] = append(m.lists[i], Keyword{lower: kw, groups: g})
		}
		m.all |= g
	}
	m.starts.finish()
	return m
}

// scan returns, for each line of data (0-based), the groups its keywords
// woke, in lineGroups (reused when it has capacity), and the number of lines.
func (m *Matcher) Scan(data []byte, lineGroups []uint8) []uint8 {
	lineGroups = lineGroups[:0]
	line := uint8(0)
	n := len(data)
	for i := 0; i+1 < n; i++ {
		b := m.starts.bucket[uint16(data[i])|uint16(data[i+1])<<8]
		if b == 0 {
			continue
		}
		if b == lineBreak {
			lineGroups = append(lineGroups, line)
			line = 0
			continue
		}
		if i+2 < n && !m.starts.third[b-1].has(Fold[data[i+2]]) {
			continue
		}
		for _, kw := range m.lists[b-1] {
			if line&kw.groups == kw.groups || !HasPrefixFold(data[i:], kw.lower) {
				continue
			}
			line |= kw.groups
		}
		if line == m.all {
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				break
			}
			i += j - 1 // the loop's i++ lands on '\n'
		}
	}
	if n > 0 {
		// the last line: ended by the last byte, which the loop does
		// not reach, or by the end of data
		lineGroups = append(lineGroups, line)
	}
	return lineGroups
}

func HasPrefixFold(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if Fold[b[i]] != lower[i] {
			return false
		}
	}
	return true
}

// KwIndex finds which keywords, and so which units, a line holds.
type KwIndex struct {
	starts bigrams
	lists  [][]KwUnits // per bucket
}

type KwUnits struct {
	lower string
	units []int
}

// NewKWIndex indexes kws, lower-case keywords.
func NewKWIndex(kws map[string][]int) *KwIndex {
	k := &KwIndex{}
	var names []string
	for kw := range kws {
		names = append(names, kw)
	}
	sort.Strings(names)
	for _, kw := range names {
		if len(kw) < 2 {
			continue
		}
		b, isNew := k.starts.add(kw)
		if isNew {
			k.lists = append(k.lists, nil)
		}
		k.lists[b-1] = append(k.lists[b-1], KwUnits{lower: kw, units: kws[kw]})
	}
	k.starts.finish()
	return k
}

// each calls f with the units of every Keyword line holds (a unit may
// come more than once), until f returns true; it reports whether f did.
func (k *KwIndex) Each(line []byte, f func(units []int) (stop bool)) bool {
	for i := 0; i+1 < len(line); i++ {
		b := k.starts.at(line, i)
		if b == 0 {
			continue
		}
		for _, kw := range k.lists[b-1] {
			if HasPrefixFold(line[i:], kw.lower) && f(kw.units) {
				return true
			}
		}
	}
	return false
}

// Positions appends to dst the offset in line of every Keyword's start,
// ascending (an offset where several start comes once).
func (k *KwIndex) Positions(line []byte, dst []int) []int {
	for i := 0; i+1 < len(line); i++ {
		b := k.starts.at(line, i)
		if b == 0 {
			continue
		}
		for _, kw := range k.lists[b-1] {
			if HasPrefixFold(line[i:], kw.lower) {
				dst = append(dst, i)
				break
			}
		}
	}
	return dst
}

// any says whether b holds any Keyword.
func (k *KwIndex) Any(b []byte) bool {
	return k.Each(b, func([]int) bool { return true })
}
