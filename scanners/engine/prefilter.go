package engine

import (
	"bytes"
	"sort"
	"strings"
)

// Keyword groups: which detector a keyword wakes.
const (
	groupDB       uint8 = 1 << iota // credscan's DB rule pack
	groupGitleaks                   // gitleaks' rules
)

var fold [256]byte

func init() {
	for i := range fold {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		fold[i] = c
	}
}

type keyword struct {
	lower  string
	groups uint8
}

// matcher finds case-insensitive ASCII keywords and marks the lines that
// hold them. It reads every byte once: a bigram of the folded bytes is
// looked up in a 128 KiB table, and only bigrams that start a keyword are
// compared further. Once a line has woken every group it skips to the next
// line. A matcher is immutable and safe for concurrent use.
type matcher struct {
	bucket [1 << 16]uint16 // bigram → 1 + index into buckets, 0 when none
	lists  [][]keyword
	all    uint8
}

func newMatcher(kws map[string]uint8) *matcher {
	m := &matcher{}
	for kw, g := range kws {
		kw = strings.ToLower(kw)
		if len(kw) < 2 {
			continue
		}
		k := uint16(kw[0])<<8 | uint16(kw[1])
		if m.bucket[k] == 0 {
			m.lists = append(m.lists, nil)
			m.bucket[k] = uint16(len(m.lists))
		}
		i := m.bucket[k] - 1
		merged := false
		for j := range m.lists[i] {
			if m.lists[i][j].lower == kw {
				m.lists[i][j].groups |= g
				merged = true
			}
		}
		if !merged {
			m.lists[i] = append(m.lists[i], keyword{lower: kw, groups: g})
		}
		m.all |= g
	}
	return m
}

// scan returns, for each line of data (0-based), the groups its keywords
// woke, in lineGroups (reused when it has capacity), and the number of lines.
func (m *matcher) scan(data []byte, lineGroups []uint8) []uint8 {
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
		b := m.bucket[uint16(fold[c])<<8|uint16(fold[data[i+1]])]
		if b == 0 {
			continue
		}
		for _, kw := range m.lists[b-1] {
			if line&kw.groups == kw.groups || !hasPrefixFold(data[i:], kw.lower) {
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

func hasPrefixFold(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if fold[b[i]] != lower[i] {
			return false
		}
	}
	return true
}

// kwIndex finds which keywords, and so which units, a line holds.
type kwIndex struct {
	bucket [1 << 16]uint16 // bigram → 1 + index into lists, 0 when none
	lists  [][]kwUnits
}

type kwUnits struct {
	lower string
	units []int
}

func newKWIndex(kws map[string][]int) *kwIndex {
	k := &kwIndex{}
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
		k.lists[i] = append(k.lists[i], kwUnits{lower: kw, units: kws[kw]})
	}
	return k
}

// each calls f with the units of every keyword line holds (a unit may
// come more than once), until f returns true; it reports whether f did.
func (k *kwIndex) each(line []byte, f func(units []int) (stop bool)) bool {
	for i := 0; i+1 < len(line); i++ {
		b := k.bucket[uint16(fold[line[i]])<<8|uint16(fold[line[i+1]])]
		if b == 0 {
			continue
		}
		for _, kw := range k.lists[b-1] {
			if hasPrefixFold(line[i:], kw.lower) && f(kw.units) {
				return true
			}
		}
	}
	return false
}

// any says whether b holds any keyword.
func (k *kwIndex) any(b []byte) bool {
	return k.each(b, func([]int) bool { return true })
}
