package rules

import "bytes"

// Lines indexes the line starts of a buffer. The zero value is unusable;
// build one with Reset.
type Lines struct {
	data   []byte
	starts []int
}

// Reset indexes data, reusing the Lines' memory.
func (l *Lines) Reset(data []byte) {
	l.data = data
	l.starts = append(l.starts[:0], 0)
	for off := 0; ; {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
		if off < len(data) {
			l.starts = append(l.starts, off)
		}
	}
}

// Use indexes data by starts, the offsets where its lines start as Reset
// would find them (copied: the caller keeps starts).
func (l *Lines) Use(data []byte, starts []int) {
	l.data = data
	l.starts = append(l.starts[:0], starts...)
}

// Len is the number of lines.
func (l *Lines) Len() int {
	if len(l.data) == 0 {
		return 0
	}
	return len(l.starts)
}

// Index returns the 0-based line holding byte offset off.
func (l *Lines) Index(off int) int {
	lo, hi := 0, len(l.starts)-1
	for lo < hi {
		m := (lo + hi + 1) / 2
		if l.starts[m] <= off {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo
}

// Start is the byte offset of line i.
func (l *Lines) Start(i int) int { return l.starts[i] }

// Bytes returns line i without its line ending.
func (l *Lines) Bytes(i int) []byte {
	if i < 0 || i >= len(l.starts) {
		return nil
	}
	s := l.starts[i]
	e := len(l.data)
	if i+1 < len(l.starts) {
		e = l.starts[i+1]
	}
	b := l.data[s:e]
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// Text returns line i as a string.
func (l *Lines) Text(i int) string { return string(l.Bytes(i)) }
