// Package redact masks secrets in the lines credscan shows (reports, the
// TUI, Vault's findings records).
//
// Masking is driven by where a secret sits in the raw bytes: the span the
// parser consumed, escapes and quotes included, so a password written
// "Qw7\"x\\9" is hidden whatever it decodes to. Searching for the decoded
// value (and its percent and base64 encodings) is a second pass that hides
// other copies on the same line. A line in which nothing could be masked is
// withheld whole: masking never falls back to printing the line.
//
// Everything here is pure and safe for concurrent use.
package redact

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask is what a secret is replaced with.
const Mask = "****"

// Withheld replaces a line in which a secret could not be located.
const Withheld = "[line redacted]"

// MaxLen is the longest redacted line kept; longer ones are cut around the
// first mask.
const MaxLen = 200

// Span is the byte range [From, To) of a line that holds a secret as
// written. To < 0 means up to the line's end.
type Span struct{ From, To int }

// Elsewhere is the span of a finding whose secret is known to be written
// on other lines than the one shown (a match over several lines, shown at
// its first): nothing of the line is masked for it, and the line is not
// withheld for want of a mask.
var Elsewhere = Span{From: -1, To: -1}

// Line masks every span of line and every occurrence of each secret's
// forms (plain, percent- and base64-encoded), trims it, and cuts a long
// line around the first mask. It returns Withheld when nothing was masked,
// or when a secret of 4 bytes or more could still be read in the result.
func Line(line string, spans []Span, secrets []string) string {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, Forms(s)...)
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	cutLeft, cutRight := false, false
	if len(line) > longLine {
		// a line of megabytes (minified JSON, generated code) holding
		// many secrets: only the part shown is searched, never the whole
		// line once per secret
		whole := len(line)
		var from, to int
		line, spans, from, to = around(line, spans, forms)
		cutLeft, cutRight = from > 0, to < whole
	}
	out, masked := applySpans(line, spans)
	for _, f := range forms {
		if len(f) >= 2 && strings.Contains(out, f) {
			out = strings.ReplaceAll(out, f, Mask)
			masked = true
		}
	}
	if !masked {
		return Withheld
	}
	out = strings.TrimSpace(out)
	if len(out) > MaxLen {
		at := max(0, strings.Index(out, Mask))
		from := max(0, at-MaxLen/2)
		to := min(len(out), from+MaxLen)
		prefix, suffix := "", ""
		if from > 0 {
			prefix = "…"
		}
		if to < len(out) {
			suffix = "…"
		}
		out = prefix + strings.ToValidUTF8(out[from:to], "") + suffix
	}
	for _, f := range forms {
		if len(f) >= 4 && strings.Contains(out, f) {
			return Withheld
		}
	}
	if cutLeft && !strings.HasPrefix(out, "…") {
		out = "…" + out
	}
	if cutRight && !strings.HasSuffix(out, "…") {
		out += "…"
	}
	return strings.ToValidUTF8(out, "?")
}

// longLine is the length past which a line is cut before it is searched.
const longLine = 4 * MaxLen

// around cuts a long line to the part that can be shown: MaxLen bytes on
// each side of its first span (its start when it has none). Every span,
// and every occurrence of one of the secrets' forms that reaches into that part
// (found in the part and the longest form's length on each side of it),
// becomes a span of the part, clipped to it: no piece of a secret cut by
// an edge is left readable. It returns the part, its spans, and where it
// was in the line.
func around(line string, spans []Span, forms []string) (string, []Span, int, int) {
	center := -1
	for _, s := range spans {
		if s != Elsewhere && (center < 0 || s.From < center) {
			center = s.From
		}
	}
	center = max(0, min(center, len(line)))
	longest := 0
	for _, f := range forms {
		longest = max(longest, len(f))
	}
	from, to := max(0, center-MaxLen), min(len(line), center+MaxLen)
	efrom, eto := max(0, from-longest), min(len(line), to+longest)
	var out []Span
	clip := func(a, b int) {
		if a, b = max(a, from), min(b, to); b > a {
			out = append(out, Span{From: a - from, To: b - from})
		}
	}
	for _, s := range spans {
		if s == Elsewhere {
			out = append(out, Elsewhere)
			continue
		}
		end := s.To
		if end < 0 || end > len(line) {
			end = len(line)
		}
		clip(s.From, end)
	}
	ext := line[efrom:eto]
	for _, f := range forms {
		if len(f) < 2 {
			continue
		}
		for i := 0; i < len(ext); {
			j := strings.Index(ext[i:], f)
			if j < 0 {
				break
			}
			clip(efrom+i+j, efrom+i+j+len(f))
			i += j + 1
		}
	}
	return line[from:to], out, from, to
}

// applySpans replaces the spans (clamped to the line, merged where they
// touch) with Mask, and says whether any byte was masked.
func applySpans(line string, spans []Span) (string, bool) {
	if len(spans) == 0 {
		return line, false
	}
	ss := make([]Span, 0, len(spans))
	known := false
	for _, s := range spans {
		if s == Elsewhere {
			known = true
			continue
		}
		if s.To < 0 || s.To > len(line) {
			s.To = len(line)
		}
		s.From = max(0, min(s.From, len(line)))
		if s.To > s.From {
			ss = append(ss, s)
		}
	}
	if len(ss) == 0 {
		return line, known
	}
	slices.SortFunc(ss, func(a, b Span) int { return a.From - b.From })
	var b strings.Builder
	b.Grow(len(line))
	at := 0
	for i := 0; i < len(ss); {
		from, to := ss[i].From, ss[i].To
		for i++; i < len(ss) && ss[i].From <= to; i++ {
			to = max(to, ss[i].To)
		}
		if from > at {
			b.WriteString(line[at:from])
		}
		b.WriteString(Mask)
		at = max(at, to)
	}
	b.WriteString(line[at:])
	return b.String(), true
}

// Forms returns a secret and the encodings it may be written in: percent
// (query and path escaping) and base64 (standard and URL alphabets, with
// and without padding).
func Forms(s string) []string {
	if s == "" {
		return nil
	}
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.ReplaceAll(url.QueryEscape(s), "+", "%20")}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(s)))
	}
	return forms
}

// quoted matches what parsers quote from their input in messages:
// `…`, '…' and "…" runs on one line.
var quoted = regexp.MustCompile("`[^`\\n]*`|'[^'\\n]*'|\"[^\"\\n]*\"")

// Message returns a parser's error message without the parts it quotes
// from its input (yaml.v3's "cannot unmarshal !!str `Zq8-…` into int"
// quotes a value's first characters), each replaced by "…": errors never
// repeat content of scanned or configuration files.
func Message(msg string) string {
	return quoted.ReplaceAllString(msg, "…")
}
