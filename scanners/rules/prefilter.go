package rules

import (
	"bytes"

	"github.com/credscan/credscan/scanners/dsn"
)

// passwordWords end a key the assembler reads as a password or a generic
// secret (keyRole: …password, …passwd, …pass, …pwd, …pw, …pswd,
// …passphrase, secret).
var passwordWords = []string{"password", "passwd", "passphrase", "pass", "pswd", "pwd", "pw", "secret"}

// mayAssemble says whether a structured document of format f may hold
// something its structural parse reports that the line rules do not: a
// key (or, in YAML, a value at a line's end: a Kubernetes env var's name)
// that ends in a password word, written where a key stands (in JSON: with
// a value that is not an object or an array), or a URL written with
// escapes (backslashes, XML entities, a YAML block scalar whose key may
// name a URL). It errs on the side of parsing: a document it passes over
// has nothing to assemble, such as a lock file whose only keyword lines
// are its thousands of "resolved": "https://…" entries.
func mayAssemble(f Format, b []byte) bool {
	if (f == FormatYAML || f == FormatCompose) && (blockMayAssemble(b, ": |") || blockMayAssemble(b, ": >")) {
		return true
	}
	lineStart, checked := 0, -1
	for i := 0; i < len(b); i++ {
		switch asmClass[b[i]] {
		case 0:
			continue
		case asmBreak:
			lineStart = i + 1
		case asmEscape:
			// each line is looked at once, however many escapes it holds
			if checked != lineStart {
				checked = lineStart
				if urlOnLine(b, lineStart) {
					return true
				}
			}
			continue
		}
		if i < 2 || !wordEnd[b[i-1]] || !endsInPasswordWord(b[:i]) {
			continue
		}
		if keyTerminator(f, b, i) && !((f == FormatYAML || f == FormatCompose) && referenceAfter(b, i)) {
			return true
		}
	}
	return false
}

// referenceAfter says whether, in YAML, the key that ends at b[i] (at a
// closing quote, a blank or its colon) holds a value that is, to the end
// of its line, one reference to a secret store or the environment:
// ${{ … }} (a GitHub Actions expression: `password: ${{ secrets.X }}`) or
// ${NAME}, optionally quoted. The assembler reads such a password as a
// reference, as the line rules do, and never reports it: a workflow's
// `docker_hub_password: ${{ secrets.… }}` does not make it parse the
// workflow whole (three fifths of prometheus' YAML parsing). Anything else on
// the line (a comment, a second value) leaves the document to the parse.
func referenceAfter(b []byte, i int) bool {
	j := i
	for j < len(b) && (b[j] == '"' || b[j] == '\'' || b[j] == ' ' || b[j] == '\t') {
		j++
	}
	if j >= len(b) || b[j] != ':' {
		return false
	}
	j++
	e := bytes.IndexByte(b[j:], '\n')
	if e < 0 {
		e = len(b)
	} else {
		e += j
	}
	v := bytes.Trim(b[j:e], " \t\r")
	if n := len(v); n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n-1] == v[0] {
		v = v[1 : n-1]
	}
	if len(v) > 5 && bytes.HasPrefix(v, []byte("${{")) && bytes.HasSuffix(v, []byte("}}")) {
		return !bytes.ContainsAny(v[3:len(v)-2], "{}\"'#")
	}
	if len(v) > 3 && v[0] == '$' && v[1] == '{' && v[len(v)-1] == '}' {
		for _, c := range v[2 : len(v)-1] {
			if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return false
			}
		}
		return true
	}
	return false
}

// mayAssemble's byte classes: what may end a key, a line break (which
// ends one too), an escape.
const (
	asmEnd = 1 + iota
	asmBreak
	asmEscape
)

var (
	asmClass [256]uint8
	wordEnd  [256]bool // the last letter of a password word
)

func init() {
	for _, c := range []byte("\"'" + ":=> \t\r") {
		asmClass[c] = asmEnd
	}
	asmClass['\n'] = asmBreak
	asmClass['\\'], asmClass['&'] = asmEscape, asmEscape
	for _, c := range []byte("dswetDSWET") {
		wordEnd[c] = true
	}
}

// endsInPasswordWord says whether b ends in a key segment keyRole reads
// as a password: any word ending in password or passwd (userPassword),
// else pass, pwd, pw, pswd, passphrase or secret as a whole segment (after
// a separator, a camelCase boundary or "db"), ASCII case-insensitively.
func endsInPasswordWord(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	// the last two letters of a password word: …rd, …wd, …ss, pw, …se, …et
	switch uint16(b[len(b)-2]|0x20)<<8 | uint16(b[len(b)-1]|0x20) {
	case 'r'<<8 | 'd', 'w'<<8 | 'd', 's'<<8 | 's', 'p'<<8 | 'w', 's'<<8 | 'e', 'e'<<8 | 't':
	default:
		return false
	}
	return endsInWord(b)
}

// endsInWord is endsInPasswordWord without its two-letter gate: every
// word tried.
func endsInWord(b []byte) bool {
	for _, w := range passwordWords {
		n := len(w)
		if len(b) < n || !hasSuffixFold(b, w) {
			continue
		}
		if w == "password" || w == "passwd" || segmentStart(b, len(b)-n) {
			return true
		}
		if w != "secret" && w != "passphrase" && len(b) >= n+2 && hasSuffixFold(b[:len(b)-n], "db") && segmentStart(b, len(b)-n-2) {
			return true // dbpass, DBPWD
		}
	}
	return false
}

func hasSuffixFold(b []byte, w string) bool {
	if len(b) < len(w) {
		return false
	}
	t := b[len(b)-len(w):]
	for k := 0; k < len(w); k++ {
		if t[k]|0x20 != w[k] {
			return false
		}
	}
	return true
}

// segmentStart says whether a key segment (splitKey's) starts at b[i].
func segmentStart(b []byte, i int) bool {
	if i == 0 {
		return true
	}
	p, c := b[i-1], b[i]
	if !(p >= 'a' && p <= 'z' || p >= 'A' && p <= 'Z' || p >= '0' && p <= '9') {
		return true
	}
	return p >= 'a' && p <= 'z' && c >= 'A' && c <= 'Z' // camelCase
}

// keyTerminator says whether the byte at i, after a password word, ends a
// key in format f.
func keyTerminator(f Format, b []byte, i int) bool {
	skip := func(j int) int { // where the first non-blank byte from j is
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		return j
	}
	next := func(j int) byte { // the first non-blank byte from j, 0 at the end
		if j = skip(j); j < len(b) {
			return b[j]
		}
		return 0
	}
	c := b[i]
	switch f {
	case FormatJSON:
		colon := i // a key's closing quote, or its colon
		if c == '"' || c == '\'' {
			colon = skip(i + 1)
		}
		if colon >= len(b) || b[colon] != ':' {
			return false
		}
		// a key whose value opens an object or an array (on its line)
		// holds no value jsonWalk makes an entry of: the keys inside are
		// looked at on their own
		v := next(colon + 1)
		return v != '{' && v != '['
	case FormatYAML, FormatCompose:
		switch c {
		case ':', '\n', '\r':
			return true
		case '"', '\'':
			n := next(i + 1)
			return n == ':' || n == 0 || n == '\n' || n == '\r'
		case '=':
			return i+1 >= len(b) || b[i+1] != '='
		case ' ', '\t':
			n := next(i + 1)
			return n == ':' || n == 0 || n == '\n' || n == '\r' || n == '='
		}
		return false
	case FormatXML:
		return true // element names, attributes, name="…password" values
	default: // properties, INI, TOML
		switch c {
		case '=', ':', ' ', '\t', '"', '\'', '\n', '\r', '>':
			return true
		}
	}
	return false
}

// urlOnLine says whether the line that starts at s holds a database URL
// or a JDBC URL (its escapes may hide a password the line rules read as
// written). The assembler reads a URL only from a value that starts with
// a database scheme (parseAnyDSN, dsn.ParseURI): a line whose every "://"
// follows another scheme (the https:// of a description) holds none. A
// scheme written with an escape counts as one.
func urlOnLine(b []byte, s int) bool {
	e := bytes.IndexByte(b[s:], '\n')
	if e < 0 {
		e = len(b)
	} else {
		e += s
	}
	line := b[s:e]
	return dbSchemeBefore(line, "://") || dbSchemeBefore(line, `:\/\/`) || bytes.Contains(line, []byte("jdbc:")) || bytes.Contains(line, []byte("JDBC:"))
}

// dbSchemeBefore says whether sep ("://", or JSON's ":\/\/") follows, in
// line, a database scheme (dsn.SchemeDriver), or a scheme written with an
// escape (\u, \x …, an XML entity's ';' or '&' just before it).
func dbSchemeBefore(line []byte, sep string) bool {
	return anyAt(line, sep, func(k int) bool {
		j := k
		for j > 0 && schemeChar(line[j-1]) {
			j--
		}
		scheme := line[j:k]
		if j > 0 && line[j-1] == '\\' {
			// an escape that stands for a byte no scheme holds (JSON's and
			// YAML's \n, \t …): the scheme is what follows it
			if len(scheme) == 0 || !bytes.ContainsRune([]byte(inertEscapes), rune(scheme[0])) {
				return true
			}
			scheme = scheme[1:]
		}
		if j > 0 && (line[j-1] == ';' || line[j-1] == '&') {
			return true
		}
		_, ok := dsn.SchemeDriver(string(scheme))
		return ok
	})
}

// anyAt says whether f holds at the offset of some occurrence of sep in
// b, trying them in order.
func anyAt(b []byte, sep string, f func(k int) bool) bool {
	for i := 0; ; {
		k := bytes.Index(b[i:], []byte(sep))
		if k < 0 {
			return false
		}
		if f(i + k) {
			return true
		}
		i += k + len(sep)
	}
}

// inertEscapes are the letters after a backslash that JSON and YAML
// decode to a control byte or a space (YAML's \N, \L, \P, \_ to Unicode
// breaks and spaces): never a scheme's.
const inertEscapes = "abtnvfre0NLP_"

func schemeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// blockMayAssemble says whether a YAML block scalar introduced by marker
// (": |" or ": >") in b may hold what the assembler reads: a URL, whose
// folded or kept lines the line rules do not see as one value. That takes
// a key with a role (keyRole: a URL, or a password, a host … beside one);
// a key it cannot isolate on the marker's line counts as one. A block
// scalar under any other key (a description, an embedded document, a
// lock file's deprecation notice) yields an entry the assembler passes
// over.
func blockMayAssemble(b []byte, marker string) bool {
	return anyAt(b, marker, func(k int) bool {
		return blockKeyMatters(b[bytes.LastIndexByte(b[:k], '\n')+1 : k])
	})
}

// blockKeyMatters says whether key, the text of a line before a block
// scalar's ": ", may be a key with a role: anything but a plain key (after
// indentation and sequence dashes, optionally quoted) whose role is none.
func blockKeyMatters(key []byte) bool {
	key = bytes.TrimLeft(key, " \t")
	for len(key) >= 2 && key[0] == '-' && (key[1] == ' ' || key[1] == '\t') {
		key = bytes.TrimLeft(key[1:], " \t")
	}
	key = bytes.TrimRight(key, " \t")
	if n := len(key); n >= 2 && (key[0] == '"' || key[0] == '\'') && key[n-1] == key[0] {
		key = key[1 : n-1]
	}
	if len(key) == 0 {
		return true
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ' ') {
			return true
		}
	}
	role, _ := keyRole(string(key))
	return role != RoleNone
}
