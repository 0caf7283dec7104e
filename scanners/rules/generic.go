package rules

import "strings"

// generic reports a literal password entry that has no database context
// under GenericPassword, when its value has the shape of a password:
// identifiers, code, paths, URLs and prose are not reported.
func (p *Pack) generic(e *Entry, r *Result) {
	if e.Expr || e.Tag != "" || ClassifyValue(e.Value) != Literal || !genericShape(e.Value) {
		return
	}
	raw := e.Raw
	if raw == "" {
		raw = e.Value
	}
	c := Candidate{RuleID: GenericPassword, Line: e.Line, Col: e.Col, EndLine: e.EndLine, EndCol: e.EndCol, Secret: e.Value, Raw: raw}
	c.DB.PwStart, c.DB.PwEnd = -1, -1
	r.add(c)
}

// genericShape says whether v looks like a password rather than an
// identifier (userPassword, db_password_key), a dotted or dashed name, a
// path, a URL, code or a sentence: 6 to 128 bytes, at least two of lower
// case, upper case, digits and symbols, and a digit or a symbol unless
// it mixes cases inside a word.
func genericShape(v string) bool {
	if len(v) < 6 || len(v) > 128 || strings.Contains(v, "://") || strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") {
		return false
	}
	var lower, upper, digit, symbol, space int
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		case '0' <= c && c <= '9':
			digit++
		case c == ' ' || c == '\t':
			space++
		case c < 0x20 || c == 0x7f:
			return false
		default:
			symbol++
		}
	}
	if digit == len(v) {
		return false // a number
	}
	if versionSpec(v) {
		return false // a dependency's version: "parse-passwd": "^1.0.0"
	}
	if space > 0 {
		// a sentence: words of letters only
		prose := true
		for _, w := range strings.Fields(v) {
			w = strings.Trim(w, ".,;:!?'\"()")
			for i := 0; i < len(w); i++ {
				if c := w[i] | 0x20; c < 'a' || c > 'z' {
					prose = false
				}
			}
		}
		if prose || space > 3 {
			return false
		}
	}
	if digit == 0 && !mixedInWords(v) {
		if symbol == 0 {
			return false // a word or an identifier: userPassword, Hunter
		}
		if isIdentifier(v) {
			return false // db_password_key, user.password, my-pass
		}
	}
	classes := 0
	for _, n := range []int{lower, upper, digit, symbol} {
		if n > 0 {
			classes++
		}
	}
	if classes < 2 {
		return false
	}
	// code: a call, an index, an operator between words
	if strings.Contains(v, "()") || strings.Contains(v, "=>") || strings.Contains(v, "->") || strings.Contains(v, "::") || strings.Contains(v, " = ") {
		return false
	}
	return true
}

// mixedInWords says whether v's letters switch case the way generated
// passwords do and names do not: an upper case letter, one lower case
// letter, an upper case letter again, twice or more (PyuU-RDCdBsAcb).
// camelCase, PascalCase and acronyms (userPassword, XMLHttpRequest,
// IsAValue) have it once at most.
func mixedInWords(v string) bool {
	n := 0
	for i := 0; i+2 < len(v); i++ {
		if isUpper(v[i]) && 'a' <= v[i+1] && v[i+1] <= 'z' && isUpper(v[i+2]) {
			n++
		}
	}
	return n >= 2
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// isIdentifier says whether v is letters, digits and _ . - only, with the
// separators between words (a name, a key, a dotted path).
func isIdentifier(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(isWordByte(c) || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// versionSpec says whether v is a version or a version range as package
// manifests and lock files write them (npm, Cargo, pip, Composer): specs
// such as ^1.0.0, ~2.3, >=1.2.0-rc.1, 1.x or v3.2.1, joined by spaces,
// commas, " - " or "||". A spec is an optional operator and v, then at
// least two dot-separated parts of digits (or x, X, *), then an optional
// pre-release or build tag of lower case letters, digits, dots and dashes
// (a password's upper case letter makes it no version).
func versionSpec(v string) bool {
	n := 0
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '|' }) {
		if f == "-" {
			continue
		}
		if !oneVersion(f) {
			return false
		}
		n++
	}
	return n > 0
}

func oneVersion(f string) bool {
	f = strings.TrimLeft(f, "^~<>=!")
	f = strings.TrimPrefix(f, "v")
	parts := 0
	i := 0
	for i < len(f) {
		j := i
		for j < len(f) && '0' <= f[j] && f[j] <= '9' {
			j++
		}
		if j == i && (f[i] == 'x' || f[i] == 'X' || f[i] == '*') {
			j++
		}
		if j == i {
			return false
		}
		parts++
		i = j
		if i+1 < len(f) && f[i] == '.' {
			i++
			continue
		}
		break
	}
	if parts < 2 {
		return false
	}
	if i == len(f) {
		return true
	}
	if f[i] != '-' && f[i] != '+' {
		return false
	}
	for _, c := range []byte(f[i+1:]) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '+') {
			return false
		}
	}
	return i+1 < len(f)
}
