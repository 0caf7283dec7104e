package engine

import (
	"bytes"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/credscan/credscan/scanners/engine/internal/accel"
)

// gitleaks' generic-api-key rule takes most of its regex time: its
// keywords ("key", "token", "auth", "api", "access") are in a large share
// of all source lines, and its expression has no literal to anchor on.
// Yet a finding of it needs, after a accel.Keyword, an assignment operator and
// then a value of 12 characters or more (its entropy must exceed 3.5 bits,
// which takes 12 distinct characters) holding a digit, "=", "+" or "/"
// (its allowlist drops values of letters, "_", "." and "-" alone).
// genericGate checks that in one pass, so the expression runs only on the
// lines that pass. It applies only to the rule exactly as gitleaks ships it.

const genericRegex = `(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)`

// genericKeywords are the keywords of the expression; "passw" stands for
// passwd and password.
var genericKeywords = []string{"access", "auth", "api", "credential", "creds", "key", "passw", "secret", "token"}

// genericByFirst holds, for each byte, the generic keywords it starts
// (most bytes start none, and no keyword starts another with the same
// first letter, so at most one of a byte's matches at a place: their
// order does not matter).
var genericByFirst = byFirstByte(genericKeywords)

// byFirstByte returns, for each byte, the words of words (lower case, not
// empty) whose first letter it is in either case.
func byFirstByte(words []string) *[256][]string {
	var t [256][]string
	for _, w := range words {
		for c := range 256 {
			if accel.Fold[c] == w[0] {
				t[c] = append(t[c], w)
			}
		}
	}
	return &t
}

var betweenClass, opClass, valueClass, valueMust, preValue, valueEnd [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		word := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_'
		space := b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
		betweenClass[c] = word || space || b == '.' || b == '-' || b == '\'' || b == '"'
		opClass[c] = b == '=' || b == '>' || b == ':' || b == '|' || b == '?' || b == ','
		valueClass[c] = word || b == '.' || b == '=' || b == '-' || b == '+' || b == '/'
		valueMust[c] = '0' <= b && b <= '9' || b == '=' || b == '+' || b == '/'
		// what may stand between an operator's first character and the
		// value (the rest of the operator, then [\x60'"\s=]), and what may
		// follow a value ([\x60'"\s;], or a backslash of \n or \r)
		preValue[c] = space || b == '`' || b == '\'' || b == '"' || b == '=' || b == ':' || b == '|' || b == '>'
		valueEnd[c] = space || b == '`' || b == '\'' || b == '"' || b == ';' || b == '\\'
	}
}

// vaultRegex is gitleaks' vault-service-token expression. Its accel.Keyword
// "s." is in most lines of Go, Python and JavaScript, but a token needs
// exactly 24 letters and digits after "s." (or 90 word characters after
// "hvs."), which vaultGate checks without the expression.
const vaultRegex = `\b((?:hvs\.[\w-]{90,120}|s\.(?i:[a-z0-9]{24})))(?:[\x60'"\s;]|\\[nr]|$)`

var alnum [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
	}
}

func vaultGate(data []byte, from, to int) (int, bool) {
	line := data[from:to]
	for i := 0; i+1 < len(line); i++ {
		if line[i] != 's' || line[i+1] != '.' {
			continue
		}
		j := i + 2
		for j < len(line) && alnum[line[j]] {
			j++
		}
		if j-(i+2) == 24 {
			return to, true
		}
		if i >= 2 && line[i-2] == 'h' && line[i-1] == 'v' {
			for j < len(line) && valueClass[line[j]] && line[j] != '.' && line[j] != '=' && line[j] != '+' && line[j] != '/' {
				j++
			}
			if j-(i+2) >= 90 {
				return to, true
			}
		}
	}
	return 0, false
}

// litGate returns a gate that passes lines holding one of lits (lower
// case), the literals a rule's expression cannot match without.
func litGate(lits []string) func(data []byte, from, to int) (int, bool) {
	if slices.Contains(lits, "") {
		return func(_ []byte, _, to int) (int, bool) { return to, true } // (every line holds it)
	}
	first := byFirstByte(lits)
	return func(data []byte, from, to int) (int, bool) {
		line := data[from:to]
		for i := range line {
			for _, l := range first[line[i]] {
				if accel.HasPrefixFold(line[i:], l) {
					return to, true
				}
			}
		}
		return 0, false
	}
}

// isDefaultGeneric says r is gitleaks' generic-api-key as shipped.
func isDefaultGeneric(r config.Rule) bool {
	if r.Regex == nil || r.Regex.String() != genericRegex || r.Entropy < 3.5 || len(r.RequiredRules) > 0 {
		return false
	}
	for _, a := range r.Allowlists {
		if a.RegexTarget != "" || a.MatchCondition == config.AllowlistMatchAnd {
			continue
		}
		for _, re := range a.Regexes {
			if re.String() == `^[a-zA-Z_.-]+$` {
				return true
			}
		}
	}
	return false
}

// genericGate says whether a accel.Keyword starting in data[from:to] (one line)
// can begin a generic-api-key finding, and if so the offset where the
// value it found ends (the value may sit on a later line).
func genericGate(data []byte, from, to int) (end int, ok bool) {
	for p := from; p < to; p++ {
		kws := genericByFirst[data[p]]
		if kws == nil {
			continue
		}
		for _, kw := range kws {
			if !accel.HasPrefixFold(data[p:], kw) {
				continue
			}
			if e, ok := genericValue(data, p+len(kw)); ok {
				return e, true
			}
		}
	}
	return 0, false
}

// genericValue looks, after a accel.Keyword ending at e, for an operator within
// 23 characters of the expression's "between" classes, then for a value
// right after it: the expression allows only the rest of an operator
// (":::=", "||", "=>", "?=") and up to five of [\x60'"\s=] between the
// operator's first character and the value. The value starts with one of
// [\w.=-], runs to the end of its characters (what may follow it,
// [\x60'"\s;], a backslash or the end of the text, is none of them), and
// needs 12 of them and a digit, "=", "+" or "/".
func genericValue(data []byte, e int) (int, bool) {
	n := len(data)
	for q := e; q < n && q <= e+23; q++ {
		c := data[q]
		if opClass[c] {
			for s := q + 1; s < n && s <= q+1+3+5; s++ {
				v := data[s]
				if !valueClass[v] {
					if preValue[v] {
						continue
					}
					break
				}
				if v == '+' || v == '/' {
					break // no value starts so
				}
				r, must := s, false
				for r < n && valueClass[data[r]] {
					must = must || valueMust[data[r]]
					r++
				}
				if must && r-s >= 12 && (r == n || valueEnd[data[r]]) {
					return r, true
				}
				if v != '=' {
					break // a value starting later would start inside this one
				}
			}
		}
		if !betweenClass[c] {
			return 0, false
		}
	}
	return 0, false
}

// Most of gitleaks' rules (96 of 222) are built from one template: a name
// (the rule's identifiers), up to 20 characters of a name's, up to three
// blanks or quotes, an assignment operator, then the rule's own value:
// assignmentPrefix + "(?:" + identifiers + ")" + assignmentOp + value.
// Their keywords are the identifiers, which are in many more lines than
// assignments to them; assignmentGate passes only the lines where one is
// followed by an operator, as every match of such an expression needs.
const (
	assignmentPrefix = `(?i)[\w.-]{0,50}?(?:`
	assignmentOp     = `)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)`
)

// assignmentIDs returns the identifiers (lower case) of an expression
// built from the template, when they are plain words (letters in either
// case, digits, "_" and "-") and the expression has no other branch; nil
// otherwise.
func assignmentIDs(expr string) []string {
	rest, ok := strings.CutPrefix(expr, assignmentPrefix)
	if !ok {
		return nil
	}
	i := strings.Index(rest, assignmentOp)
	if i < 0 {
		return nil
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat {
		return nil // a branch of the whole expression need not assign
	}
	ids, err := syntax.Parse("(?i)(?:"+rest[:i]+")", syntax.Perl)
	if err != nil {
		return nil
	}
	return fixedWords(ids.Simplify())
}

// fixedWords returns the words (lower case) an expression made only of
// literals, one-letter case classes and alternations matches; nil when it
// is made of anything else.
func fixedWords(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCharClass:
		if l := accel.MustLits(re); len(l) == 1 {
			return l
		}
	case syntax.OpCapture:
		return fixedWords(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			w := fixedWords(sub)
			if w == nil {
				return nil
			}
			out = append(out, w...)
		}
		return out
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			w := fixedWords(sub)
			if w == nil || len(out)*len(w) > 64 {
				return nil
			}
			var next []string
			for _, a := range out {
				for _, b := range w {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out
	}
	return nil
}

// assignmentGate passes a line where one of ids (lower case) starts and is
// followed, within 23 characters of a name's, blanks or quotes (line
// breaks included: the operator may be on a later line), by an operator.
func assignmentGate(ids []string) func(data []byte, from, to int) (int, bool) {
	return func(data []byte, from, to int) (int, bool) {
		for p := from; p < to; p++ {
			for _, id := range ids {
				if accel.Fold[data[p]] != id[0] || !accel.HasPrefixFold(data[p:], id) {
					continue
				}
				e := p + len(id)
				for q := e; q < len(data) && q <= e+23; q++ {
					if opClass[data[q]] {
						return to, true
					}
					if !betweenClass[data[q]] {
						break
					}
				}
			}
		}
		return 0, false
	}
}

// gitleaks' curl rules wake on every line that says "curl" (docs, test
// scripts, Dockerfiles), and their expressions, which may run over up to
// eleven line breaks with lazy or greedy wildcards, are among the
// costliest to run. A match needs the word curl, then (within eleven line
// breaks) a blank or line break, the rule's flag, "=" or up to five
// blanks, and what the rule's value starts with: for the header rule a
// quote and the first letter of Authorization, X-…, Api…, Key or Token;
// for the user rule a quote or one of [\w$@.-]. curlGate checks that on a
// window's text, which is all the expression sees, so the window keeps
// the same bounds as without it (a greedy expression may match further
// in a longer text) and is only not run when it cannot match.
const (
	curlHeaderRegex = `\bcurl\b(?:.*?|.*?(?:[\r\n]{1,2}.*?){1,5})[ \t\n\r](?:-H|--header)(?:=|[ \t]{0,5})(?:"(?i)(?:Authorization:[ \t]{0,5}(?:Basic[ \t]([a-z0-9+/]{8,}={0,3})|(?:Bearer|(?:Api-)?Token)[ \t]([\w=~@.+/-]{8,})|([\w=~@.+/-]{8,}))|(?:(?:X-(?:[a-z]+-)?)?(?:Api-?)?(?:Key|Token)):[ \t]{0,5}([\w=~@.+/-]{8,}))"|'(?i)(?:Authorization:[ \t]{0,5}(?:Basic[ \t]([a-z0-9+/]{8,}={0,3})|(?:Bearer|(?:Api-)?Token)[ \t]([\w=~@.+/-]{8,})|([\w=~@.+/-]{8,}))|(?:(?:X-(?:[a-z]+-)?)?(?:Api-?)?(?:Key|Token)):[ \t]{0,5}([\w=~@.+/-]{8,}))')(?:\B|\s|\z)`
	curlUserRegex   = `\bcurl\b(?:.*|.*(?:[\r\n]{1,2}.*){1,5})[ \t\n\r](?:-u|--user)(?:=|[ \t]{0,5})("(:[^"]{3,}|[^:"]{3,}:|[^:"]{3,}:[^"]{3,})"|'([^:']{3,}:[^']{3,})'|((?:"[^"]{3,}"|'[^']{3,}'|[\w$@.-]+):(?:"[^"]{3,}"|'[^']{3,}'|[\w${}@.-]+)))(?:\s|\z)`
)

// twilioRegex is gitleaks' twilio-api-key expression. Its keyword "sk"
// wakes every line saying task, disk, mask or risk, but a key is an
// upper-case "SK" and 32 hex digits, which twilioGate checks.
const twilioRegex = `SK[0-9a-fA-F]{32}`

func twilioGate(data []byte, from, to int) (int, bool) {
	line := data[from:to]
	for i := 0; i+34 <= len(line); i++ {
		if line[i] != 'S' || line[i+1] != 'K' {
			continue
		}
		j := i + 2
		for j < i+34 && accel.IsHex(line[j]) {
			j++
		}
		if j == i+34 {
			return to, true
		}
	}
	return 0, false
}

// kubernetesSecretRegex is gitleaks' kubernetes-secret-yaml expression:
// both of its branches need "kind:" and "secret" as a word after it
// (blanks and a quote between), and "data:", in any case. Its keyword
// "secret" wakes far more YAML than Secret manifests.
const kubernetesSecretRegex = `(?i)(?:\bkind:[ \t]*["']?\bsecret\b["']?(?s:.){0,200}?\bdata:(?s:.){0,100}?\s+([\w.-]+:(?:[ \t]*(?:\||>[-+]?)\s+)?[ \t]*(?:["']?[a-z0-9+/]{10,}={0,3}["']?|\{\{[ \t\w"|$:=,.-]+}}|""|''))|\bdata:(?s:.){0,100}?\s+([\w.-]+:(?:[ \t]*(?:\||>[-+]?)\s+)?[ \t]*(?:["']?[a-z0-9+/]{10,}={0,3}["']?|\{\{[ \t\w"|$:=,.-]+}}|""|''))(?s:.){0,200}?\bkind:[ \t]*["']?\bsecret\b["']?)`

// kubernetesSecretGate says whether text holds "data:" and a "kind:"
// naming a secret, in any case.
func kubernetesSecretGate(text []byte) bool {
	if indexFold(text, "data:") < 0 {
		return false
	}
	for off := 0; ; {
		k := indexFold(text[off:], "kind:")
		if k < 0 {
			return false
		}
		p := off + k + len("kind:")
		off = p
		for p < len(text) && (text[p] == ' ' || text[p] == '\t') {
			p++
		}
		if p < len(text) && (text[p] == '"' || text[p] == '\'') {
			p++
		}
		if accel.HasPrefixFold(text[p:], "secret") {
			return true
		}
	}
}

// indexFold is the offset of the first lower in b, in any case (-1:
// none).
func indexFold(b []byte, lower string) int {
	for i := 0; i+len(lower) <= len(b); i++ {
		if accel.Fold[b[i]] == lower[0] && accel.HasPrefixFold(b[i:], lower) {
			return i
		}
	}
	return -1
}

// textGate returns the window check of a rule (see curlGate), or nil.
func textGate(r config.Rule) func(text []byte) bool {
	if r.Regex == nil {
		return nil // a rule of paths alone
	}
	switch r.Regex.String() {
	case kubernetesSecretRegex:
		return kubernetesSecretGate
	case curlHeaderRegex:
		return curlGate([]string{"-H", "--header"}, func(text []byte, s int) bool {
			if s+1 >= len(text) || text[s] != '"' && text[s] != '\'' {
				return false
			}
			switch accel.Fold[text[s+1]] {
			case 'a', 'x', 'k', 't':
				return true
			}
			return false
		})
	case curlUserRegex:
		return curlGate([]string{"-u", "--user"}, func(text []byte, s int) bool {
			c := text[s]
			return c == '"' || c == '\'' || c == '$' || c == '@' || c == '.' || c == '-' || wordByte(c)
		})
	}
	return nil
}

// curlLineBreaks is how many line breaks a curl rule's match may cross
// before its flag: five times [\r\n]{1,2}, then the blank before the flag.
const curlLineBreaks = 11

func curlGate(flags []string, value func(text []byte, s int) bool) func(text []byte) bool {
	return func(text []byte) bool {
		for off := 0; off < len(text); {
			k := bytes.Index(text[off:], []byte("curl"))
			if k < 0 {
				return false
			}
			p := off + k
			off = p + 1
			if p > 0 && wordByte(text[p-1]) || p+4 < len(text) && wordByte(text[p+4]) {
				continue // not \bcurl\b
			}
			breaks := 0
			for q := p + 4; q+1 < len(text); q++ {
				c := text[q]
				if (c == ' ' || c == '\t' || c == '\n' || c == '\r') && text[q+1] == '-' && curlFlag(text, q+1, flags, value) {
					return true
				}
				if c == '\n' {
					if breaks++; breaks >= curlLineBreaks {
						break
					}
				}
			}
		}
		return false
	}
}

// curlFlag says whether one of flags starts at p, followed by "=" or up
// to five blanks and what value accepts.
func curlFlag(text []byte, p int, flags []string, value func(text []byte, s int) bool) bool {
	for _, f := range flags {
		if !bytes.HasPrefix(text[p:], []byte(f)) {
			continue
		}
		s := p + len(f)
		if s < len(text) && text[s] == '=' {
			if s+1 < len(text) && value(text, s+1) {
				return true
			}
		}
		for b := 0; s < len(text) && b <= 5; b++ {
			if value(text, s) {
				return true
			}
			if text[s] != ' ' && text[s] != '\t' {
				break
			}
			s++
		}
	}
	return false
}

func wordByte(c byte) bool { return alnum[c] || c == '_' }
