package chunk

import (
	"bytes"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// content is what the first bytes of an item say it holds.
type content int

const (
	contentText content = iota
	contentBinary
	contentUTF16LE
	contentUTF16BE
)

// sniff tells text from binary the way git does (a zero byte among the
// first 8000), past a leading run of zero bytes (a sparse file's hole
// holds nothing, and text after it must not be taken for binary), and
// recognises UTF-16 by its byte order mark with zero bytes after it or,
// without one, by zero bytes at every other place among printable ones.
func sniff(b []byte) content {
	w := b[:min(len(b), binarySniff)]
	// a byte order mark, and zero bytes after it (UTF-16 writes a line
	// break or a blank with one): bytes FF FE before plain text are not
	// UTF-16
	hasZero := len(w) > 2 && bytes.IndexByte(w[2:], 0) >= 0
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}) && !bytes.HasPrefix(b, []byte{0xff, 0xfe, 0, 0}) && hasZero:
		return contentUTF16LE
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}) && hasZero:
		return contentUTF16BE
	}
	// (without a zero byte past the first pair, no 9 pairs in 10 hold one)
	if hasZero {
		if c, ok := utf16Shape(w); ok {
			return c
		}
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

// utf16Shape says whether w reads as UTF-16 text of mostly ASCII with no
// byte order mark: 9 pairs in 10 or more hold one zero byte, always on the
// same side, and a printable or blank byte on the other.
func utf16Shape(w []byte) (content, bool) {
	n := len(w) / 2
	if n < 2 {
		return contentText, false
	}
	le, be := 0, 0
	for k := 0; k+1 < len(w); k += 2 {
		a, b := w[k], w[k+1]
		switch {
		case b == 0 && textByte(a):
			le++
		case a == 0 && textByte(b):
			be++
		}
	}
	switch {
	case le*10 >= n*9:
		return contentUTF16LE, true
	case be*10 >= n*9:
		return contentUTF16BE, true
	}
	return contentText, false
}

func textByte(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' }

// utf16Decoder decodes UTF-16 of the sniffed order to UTF-8, dropping a
// byte order mark.
func utf16Decoder(c content) transform.Transformer {
	order := unicode.LittleEndian
	if c == contentUTF16BE {
		order = unicode.BigEndian
	}
	return unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder()
}

// decodeUTF16 returns data (UTF-16 of order c) as UTF-8; what does not
// decode becomes U+FFFD.
func decodeUTF16(data []byte, c content) []byte {
	out, _, err := transform.Bytes(utf16Decoder(c), data)
	if err != nil {
		return nil
	}
	return bytes.TrimPrefix(out, []byte("\ufeff"))
}

// utf16Reader decodes r (UTF-16 of order c) to UTF-8 as it is read.
func utf16Reader(r io.Reader, c content) io.Reader {
	return transform.NewReader(r, utf16Decoder(c))
}

// IsText says whether Whole hands data over as it is: neither binary nor
// UTF-16.
func IsText(data []byte) bool { return sniff(data) == contentText }
