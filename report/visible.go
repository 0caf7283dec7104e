package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Visible renders s for a human: control characters (C0 but for none,
// DEL, C1), the Unicode line and paragraph separators, bidirectional
// overrides and isolates, and bytes that are not UTF-8 are written as
// escapes (\x1b, \u202e, \xff), so a file name, a file's content or a
// server's error cannot move the cursor, set a terminal's title, hide or
// reorder text, or split a row. Text without them is returned as is.
func Visible(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c, r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// styled is text the report wrote itself (ANSI colour around text that
// was made visible): errWriter prints it as it is.
type styled string

// visibleArgs makes every string and error among args visible.
func visibleArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case styled:
			out[i] = string(v)
		case string:
			out[i] = Visible(v)
		case error:
			out[i] = Visible(v.Error())
		default:
			out[i] = a
		}
	}
	return out
}
