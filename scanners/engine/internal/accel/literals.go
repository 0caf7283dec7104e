package accel

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RequiredLiterals returns strings, lower-cased, of which at least one
// occurs (case-insensitively) in every text the regular expression
// matches; nil when it cannot tell. A text holding none of them cannot
// match, which is far cheaper to check than running the expression.
func RequiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := MustLits(re.Simplify())
	if MinLen(lits) < 2 {
		return nil
	}
	return lits
}

func MustLits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCharClass:
		// a class of one letter in both cases, e.g. (?i)a
		if len(re.Rune) <= 4 {
			var s string
			for i := 0; i+1 < len(re.Rune); i += 2 {
				for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
					l := strings.ToLower(string(r))
					if s != "" && l != s {
						return nil
					}
					s = l
				}
			}
			if s != "" && utf8.RuneCountInString(s) == 1 {
				return []string{s}
			}
		}
		return nil
	case syntax.OpCapture, syntax.OpPlus:
		return MustLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return MustLits(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		// adjacent literals join into longer ones
		var best []string
		var run strings.Builder
		consider := func(l []string) {
			// longer literals first, then fewer of them
			if l != nil && (best == nil || MinLen(l) > MinLen(best) || MinLen(l) == MinLen(best) && len(l) < len(best)) {
				best = l
			}
		}
		for _, s := range re.Sub {
			if l := MustLits(s); len(l) == 1 && (s.Op == syntax.OpLiteral || s.Op == syntax.OpCharClass) {
				run.WriteString(l[0])
				continue
			} else {
				consider(l)
			}
			if run.Len() > 0 {
				consider([]string{run.String()})
				run.Reset()
			}
		}
		if run.Len() > 0 {
			consider([]string{run.String()})
		}
		return best
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			l := MustLits(s)
			if l == nil {
				return nil
			}
			out = append(out, l...)
		}
		return out
	}
	return nil
}

func MinLen(lits []string) int {
	if len(lits) == 0 {
		return 0
	}
	m := len(lits[0])
	for _, l := range lits[1:] {
		m = min(m, len(l))
	}
	return m
}

// LitMatcher is a regular expression guarded by its required literals.
type LitMatcher struct {
	lits []string
	re   interface{ MatchString(string) bool }
}

func NewLitMatcher(re interface {
	MatchString(string) bool
	String() string
}) LitMatcher {
	return LitMatcher{lits: RequiredLiterals(re.String()), re: re}
}

// Guarded says whether the matcher has literals to check first.
func (m LitMatcher) Guarded() bool { return m.lits != nil }

// Match says whether the expression matches s; lower is s lower-cased.
func (m LitMatcher) Match(s, lower string) bool {
	if m.lits != nil {
		found := false
		for _, l := range m.lits {
			if strings.Contains(lower, l) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return m.re.MatchString(s)
}

// MaxMatchLen returns the most bytes a match of the regular expression can
// span, or -1 when that is unbounded (a *, a +, a {n,}) or it cannot tell.
func MaxMatchLen(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return -1
	}
	const unbounded = -1
	var walk func(re *syntax.Regexp) int
	walk = func(re *syntax.Regexp) int {
		switch re.Op {
		case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
			syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
			return 0
		case syntax.OpLiteral:
			n := 0
			for _, r := range re.Rune {
				if re.Flags&syntax.FoldCase != 0 {
					n += maxFoldLen(r)
				} else {
					n += max(utf8.RuneLen(r), 1)
				}
			}
			return n
		case syntax.OpCharClass:
			if len(re.Rune) == 0 {
				return 0
			}
			return utf8.RuneLen(min(re.Rune[len(re.Rune)-1], unicode.MaxRune))
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			return utf8.UTFMax
		case syntax.OpCapture, syntax.OpQuest:
			return walk(re.Sub[0])
		case syntax.OpStar, syntax.OpPlus:
			return unbounded
		case syntax.OpRepeat:
			if re.Max < 0 {
				return unbounded
			}
			n := walk(re.Sub[0])
			if n < 0 {
				return unbounded
			}
			return n * re.Max
		case syntax.OpConcat:
			total := 0
			for _, sub := range re.Sub {
				n := walk(sub)
				if n < 0 {
					return unbounded
				}
				total += n
			}
			return total
		case syntax.OpAlternate:
			most := 0
			for _, sub := range re.Sub {
				n := walk(sub)
				if n < 0 {
					return unbounded
				}
				most = max(most, n)
			}
			return most
		}
		return unbounded
	}
	return walk(re)
}

// maxFoldLen is the longest UTF-8 encoding among r's case folds.
func maxFoldLen(r rune) int {
	n := max(utf8.RuneLen(r), 1)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		n = max(n, utf8.RuneLen(f))
	}
	return n
}

// NewlineSpan says how many line breaks inside a match of the regular
// expression a scan must allow for: 0 when it cannot match one, 1 when
// only white space (\s) can, and SpanLines when it matches line breaks
// on purpose ([\r\n], a literal \n, or . with the s flag).
func NewlineSpan(expr string) int {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return SpanLines
	}
	span := 0
	// atEnd: nothing follows in the match, so a single line break matched
	// there is the end of the line the match is on
	var walk func(re *syntax.Regexp, atEnd bool)
	walk = func(re *syntax.Regexp, atEnd bool) {
		switch re.Op {
		case syntax.OpAnyChar:
			span = SpanLines
		case syntax.OpLiteral:
			if slices.Contains(re.Rune, '\n') {
				span = SpanLines
			}
		case syntax.OpCharClass:
			nl, sp := false, false
			for i := 0; i+1 < len(re.Rune); i += 2 {
				nl = nl || re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1]
				sp = sp || re.Rune[i] <= ' ' && ' ' <= re.Rune[i+1]
			}
			switch {
			case !nl || atEnd:
			case !sp:
				span = SpanLines
			default:
				span = max(span, 1)
			}
		case syntax.OpConcat:
			for i, sub := range re.Sub {
				walk(sub, atEnd && i == len(re.Sub)-1)
			}
			return
		case syntax.OpAlternate, syntax.OpCapture, syntax.OpQuest:
			for _, sub := range re.Sub {
				walk(sub, atEnd)
			}
			return
		}
		for _, sub := range re.Sub {
			walk(sub, false)
		}
	}
	walk(re, true)
	return span
}

// StopBytes returns the ASCII bytes that no match of the expression can
// hold (in no literal or class of it, case folding included), or nil when
// there are none. Bytes from 0x80 up are never stoppers.
func StopBytes(expr string) *[128]bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var can [128]bool
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpAnyChar:
			for b := range can {
				can[b] = true
			}
		case syntax.OpAnyCharNotNL:
			for b := range can {
				can[b] = b != '\n'
			}
		case syntax.OpLiteral:
			for _, r := range re.Rune {
				if r < 128 {
					can[r] = true
					for f := unicode.SimpleFold(r); re.Flags&syntax.FoldCase != 0 && f != r; f = unicode.SimpleFold(f) {
						if f < 128 {
							can[f] = true
						}
					}
				}
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				for r := re.Rune[i]; r <= re.Rune[i+1] && r < 128; r++ {
					can[r] = true
				}
			}
		}
		for _, sub := range re.Sub {
			walk(sub)
		}
	}
	walk(re)
	var stop [128]bool
	any := false
	for b := range stop {
		stop[b] = !can[b]
		any = any || stop[b]
	}
	if !any {
		return nil
	}
	return &stop
}

// AssertionFree says whether no expression asserts anything about where
// it matches (line or text edges, word boundaries): then one that does not
// match a text matches no part of it either.
func AssertionFree(res []*regexp.Regexp) bool {
	for _, r := range res {
		re, err := syntax.Parse(r.String(), syntax.Perl)
		if err != nil {
			return false
		}
		free := true
		var walk func(re *syntax.Regexp)
		walk = func(re *syntax.Regexp) {
			switch re.Op {
			case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
				free = false
			}
			for _, sub := range re.Sub {
				walk(sub)
			}
		}
		walk(re)
		if !free {
			return false
		}
	}
	return true
}

// SpanLines is how far past its last woken line the window of a rule that
// matches line breaks runs (gitleaks' curl rules span up to 5 lines).
const SpanLines = 5
