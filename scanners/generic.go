package scanners

import "github.com/zricethezav/gitleaks/v8/config"

// gitleaks' generic-api-key rule takes most of its regex time: its
// keywords ("key", "token", "auth", "api", "access") are in a large share
// of all source lines, and its expression has no literal to anchor on.
// Yet a finding of it needs, after a keyword, an assignment operator and
// then a value of 12 characters or more (its entropy must exceed 3.5 bits,
// which takes 12 distinct characters) holding a digit, "=", "+" or "/"
// (its allowlist drops values of letters, "_", "." and "-" alone).
// genericGate checks that in one pass, so the expression runs only on the
// lines that pass. It applies only to the rule exactly as gitleaks ships it.

const genericRegex = `(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)`

// genericKeywords are the keywords of the expression; "passw" stands for
// passwd and password.
var genericKeywords = []string{"access", "auth", "api", "credential", "creds", "key", "passw", "secret", "token"}

var betweenClass, opClass, valueClass, valueMust [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		word := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_'
		space := b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
		betweenClass[c] = word || space || b == '.' || b == '-' || b == '\'' || b == '"'
		opClass[c] = b == '=' || b == '>' || b == ':' || b == '|' || b == '?' || b == ','
		valueClass[c] = word || b == '.' || b == '=' || b == '-' || b == '+' || b == '/'
		valueMust[c] = '0' <= b && b <= '9' || b == '=' || b == '+' || b == '/'
	}
}

// vaultRegex is gitleaks' vault-service-token expression. Its keyword
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
	return func(data []byte, from, to int) (int, bool) {
		line := data[from:to]
		for i := range line {
			for _, l := range lits {
				if fold[line[i]] == l[0] && hasPrefixFold(line[i:], l) {
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

// genericGate says whether a keyword starting in data[from:to] (one line)
// can begin a generic-api-key finding, and if so the offset where the
// value it found ends (the value may sit on a later line).
func genericGate(data []byte, from, to int) (end int, ok bool) {
	for p := from; p < to; p++ {
		switch fold[data[p]] {
		case 'a', 'c', 'k', 'p', 's', 't':
		default:
			continue
		}
		for _, kw := range genericKeywords {
			if !hasPrefixFold(data[p:], kw) {
				continue
			}
			if e, ok := genericValue(data, p+len(kw)); ok {
				return e, true
			}
		}
	}
	return 0, false
}

// genericValue looks, after a keyword ending at e, for an operator within
// 23 characters of the expression's "between" classes, then for a value
// starting within 10 characters of it.
func genericValue(data []byte, e int) (int, bool) {
	n := len(data)
	for q := e; q < n && q <= e+23; q++ {
		c := data[q]
		if opClass[c] {
			for s := q + 1; s < n && s <= q+10; s++ {
				if !valueClass[data[s]] {
					continue
				}
				r, must := s, false
				for r < n && valueClass[data[r]] {
					must = must || valueMust[data[r]]
					r++
				}
				if must && r-s >= 12 {
					return r, true
				}
			}
		}
		if !betweenClass[c] {
			return 0, false
		}
	}
	return 0, false
}
