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
	bucket [1 << 16]uint16 // bigram → 1 + index into buckets, 0 when none
	lists  [][]Keyword
	third  []byteSet // per bucket: the folded bytes that may come third
	all    uint8
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
		k := uint16(kw[0])<<8 | uint16(kw[1])
		if m.bucket[k] == 0 {
			m.lists = append(m.lists, nil)
			m.third = append(m.third, byteSet{})
			m.bucket[k] = uint16(len(m.lists))
		}
		i := m.bucket[k] - 1
		if len(kw) == 2 {
			m.third[i] = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		} else {
			m.third[i].add(kw[2]) // (lower case: what Fold gives)
		}
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
	return m
}

// scan returns, for each line of data (0-based), the groups its keywords
// woke, in lineGroups (reused when it has capacity), and the number of lines.
func (m *Matcher) Scan(data []byte, lineGroups []uint8) []uint8 {
	lineGroups = lineGroups[:0]
	line := uint8(0)
	n := len(data)
	for i := 0; i < n; i++ {
		c := data[i]
		if c == '\n' {
			lineGroups = append(lineGroups, line)
			line = 0
			continue
		}
		if i+1 >= n {
			break
		}
		b := m.bucket[uint16(Fold[c])<<8|uint16(Fold[data[i+1]])]
		if b == 0 || i+2 < n && !m.third[b-1].has(Fold[data[i+2]]) {
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
	if n > 0 && data[n-1] != '\n' {
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
	bucket [1 << 16]uint16 // bigram → 1 + index into lists, 0 when none
	lists  [][]KwUnits
}

type KwUnits struct {
	lower string
	units []int
}

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
		b := uint16(kw[0])<<8 | uint16(kw[1])
		if k.bucket[b] == 0 {
			k.lists = append(k.lists, nil)
			k.bucket[b] = uint16(len(k.lists))
		}
		i := k.bucket[b] - 1
		k.lists[i] = append(k.lists[i], KwUnits{lower: kw, units: kws[kw]})
	}
	return k
}

// each calls f with the units of every Keyword line holds (a unit may
// come more than once), until f returns true; it reports whether f did.
func (k *KwIndex) Each(line []byte, f func(units []int) (stop bool)) bool {
	for i := 0; i+1 < len(line); i++ {
		b := k.bucket[uint16(Fold[line[i]])<<8|uint16(Fold[line[i+1]])]
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
		b := k.bucket[uint16(Fold[line[i]])<<8|uint16(Fold[line[i+1]])]
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
