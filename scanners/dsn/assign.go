package dsn

import "strings"

// Assignment is one NAME=value (or key: "value") found on a line.
type Assignment struct {
	Name  string
	Value string // decoded: quotes removed, escapes resolved
	// ValStart and ValEnd delimit the value as written on the line,
	// quotes excluded.
	ValStart, ValEnd int
	// Expr is true when the value is an expression rather than a literal
	// (a call, a variable, a concatenation); Value then holds its text.
	Expr bool
	// Compare is true when the literal is compared with the key
	// (password == "…", pw !== '…'), not assigned to it.
	Compare bool
}

// EnvDialect selects the escaping rules of an environment assignment.
type EnvDialect int

// Dialects of environment assignments.
const (
	Shell      EnvDialect = iota // sh, bash, crontab, .env, systemd
	Dockerfile                   // ENV/ARG, where \$ is a literal '$'
	Compose                      // docker compose, where $$ is a literal '$'
)

// ParseEnvLine finds environment assignments on one line: "NAME=value",
// "export NAME=value", "NAME='v' cmd", a crontab's "PGPASSWORD=x psql …",
// Dockerfile "ENV NAME value", "ENV A=1 B=2", "ARG NAME=value", systemd
// "Environment=A=1 \"B=2 3\"" and compose "- NAME=value". Values follow shell
// quoting: '…' literal, "…" with backslash escapes, bare words with
// backslash escapes. It never panics.
func ParseEnvLine(line string, d EnvDialect) []Assignment {
	var out []Assignment
	trim := strings.TrimLeft(line, " \t")
	lead := len(line) - len(trim)
	upper := strings.ToUpper(trim)
	if d == Dockerfile && (strings.HasPrefix(upper, "ENV ") || strings.HasPrefix(upper, "ENV\t")) {
		rest := strings.TrimLeft(trim[4:], " \t")
		restStart := lead + len(trim) - len(rest)
		// Legacy form "ENV NAME value with spaces": no '=' in the first word.
		sp := strings.IndexAny(rest, " \t")
		if sp > 0 && !strings.Contains(rest[:sp], "=") && isEnvName(rest[:sp]) {
			vs := sp
			for vs < len(rest) && (rest[vs] == ' ' || rest[vs] == '\t') {
				vs++
			}
			raw := strings.TrimRight(rest[vs:], " \t\r\\")
			val, _ := unquoteShell(raw, d)
			return append(out, Assignment{Name: rest[:sp], Value: val, ValStart: restStart + vs + quoteSkip(raw), ValEnd: restStart + vs + len(raw) - quoteSkip(raw)})
		}
	}
	for i := 0; i < len(line); i++ {
		if line[i] != '=' || i == 0 {
			continue
		}
		// name is the run of name bytes before '='
		ns := i
		for ns > 0 && isEnvNameByte(line[ns-1]) {
			ns--
		}
		if ns == i || !isEnvName(line[ns:i]) {
			continue
		}
		quotedPair := false
		if ns > 0 {
			prev := line[ns-1]
			switch prev {
			case ' ', '\t', ';', '(', '&', '|', '=':
			case '"', '\'':
				quotedPair = true
			default:
				continue
			}
		}
		name := line[ns:i]
		vs := i + 1
		if quotedPair { // systemd / compose "NAME=value with spaces"
			q := line[ns-1]
			end := strings.IndexByte(line[vs:], q)
			if end < 0 {
				end = len(line) - vs
			}
			raw := line[vs : vs+end]
			val := raw
			if d == Compose {
				val = strings.ReplaceAll(val, "$$", "$")
			}
			out = append(out, Assignment{Name: name, Value: val, ValStart: vs, ValEnd: vs + end})
			i = vs + end
			continue
		}
		end := shellWordEnd(line, vs)
		raw := line[vs:end]
		if k := strings.IndexByte(raw, '='); k > 0 && isEnvName(raw[:k]) {
			continue // "Environment=NAME=value": the pair is the value
		}
		val, ok := unquoteShell(raw, d)
		if !ok {
			continue
		}
		qs := quoteSkip(raw)
		out = append(out, Assignment{Name: name, Value: val, ValStart: vs + qs, ValEnd: end - qs, Expr: isShellExpr(raw)})
		i = end
	}
	return out
}

func quoteSkip(raw string) int {
	if len(raw) >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len(raw)-1] == raw[0] {
		return 1
	}
	return 0
}

func isShellExpr(raw string) bool {
	return strings.HasPrefix(raw, "$") || strings.HasPrefix(raw, "\"$") || strings.HasPrefix(raw, "`")
}

// shellWordEnd returns the end of the shell word starting at i.
func shellWordEnd(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n', ';', '&', '|':
			return i
		case '\\':
			i += 2
			continue
		case '\'':
			e := strings.IndexByte(s[i+1:], '\'')
			if e < 0 {
				return len(s)
			}
			i += e + 2
			continue
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
			continue
		}
		i++
	}
	if i > len(s) {
		return len(s)
	}
	return i
}

// unquoteShell resolves shell quoting of one word.
func unquoteShell(w string, d EnvDialect) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '\'':
			e := strings.IndexByte(w[i+1:], '\'')
			if e < 0 {
				return "", false
			}
			b.WriteString(w[i+1 : i+1+e])
			i += e + 1
		case c == '"':
			j := i + 1
			for ; j < len(w) && w[j] != '"'; j++ {
				if w[j] == '\\' && j+1 < len(w) && strings.IndexByte("\\\"$`", w[j+1]) >= 0 {
					j++
				}
				b.WriteByte(w[j])
			}
			if j >= len(w) {
				return "", false
			}
			i = j
		case c == '\\' && i+1 < len(w):
			i++
			b.WriteByte(w[i])
		case c == '$' && d == Compose && i+1 < len(w) && w[i+1] == '$':
			b.WriteByte('$')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func isEnvNameByte(c byte) bool { return isWordByte(c) }

func isEnvName(s string) bool {
	if s == "" || len(s) > 128 || ('0' <= s[0] && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isEnvNameByte(s[i]) {
			return false
		}
	}
	return true
}

// ParseCodeLine finds key/value pairs in a line of source code or
// configuration: 'PASSWORD': 'x', password: "x", password = "x",
// :password => 'x', $password = 'x', password := "x", Password = "x";,
// <key>=<value> in INI/TOML/properties, and calls such as
// setPassword("x"), .password("x") or setProperty("password", "x"). A value
// that is not a string literal is returned with Expr set, so callers can
// tell os.Getenv("X") (a reference) from a literal.
func ParseCodeLine(line string) []Assignment {
	var out []Assignment
	for i := 0; i < len(line); i++ {
		c := line[i]
		sepLen := 0
		switch {
		case c == '=' && i+1 < len(line) && line[i+1] == '>':
			sepLen = 2
		case c == ':' && i+1 < len(line) && line[i+1] == '=':
			sepLen = 2
		case c == '=' && i+1 < len(line) && line[i+1] == '=' || c == '!' && i+1 < len(line) && line[i+1] == '=':
			// a comparison with a literal: password == "…", pw !== '…'
			n := 2
			if i+2 < len(line) && line[i+2] == '=' {
				n = 3
			}
			if key, ok := keyBefore(line, i); ok {
				vs := i + n
				for vs < len(line) && line[vs] == ' ' {
					vs++
				}
				if vs < len(line) {
					if a, end, ok := literalAt(line, vs); ok && !a.Expr {
						a.Name, a.Compare = key, true
						out = append(out, a)
						i = end - 1
						continue
					}
				}
			}
			i += n - 1
			continue
		case c == '=' && i > 0 && strings.IndexByte("!<>=+-*/%&|^~", line[i-1]) >= 0:
			continue
		case c == '=' || c == ':':
			sepLen = 1
		case c == '(':
			if a, ok := callAssignment(line, i); ok {
				out = append(out, a)
			}
			continue
		default:
			continue
		}
		if c == ':' && i+1 < len(line) && line[i+1] == ':' { // Ruby/C++ scope, IPv6
			i++
			continue
		}
		key, ok := keyBefore(line, i)
		if !ok {
			continue
		}
		vs := i + sepLen
		for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		if vs >= len(line) {
			if c == ':' && sepLen == 1 {
				out = append(out, Assignment{Name: key, ValStart: vs, ValEnd: vs})
			}
			continue
		}
		if a, end, ok := literalAt(line, vs); ok {
			a.Name = key
			out = append(out, a)
			i = end - 1
			continue
		}
		if line[vs] == '{' || line[vs] == '[' {
			// a nested object: the key is context, its pairs follow
			out = append(out, Assignment{Name: key, ValStart: vs, ValEnd: vs})
			i = vs
			continue
		}
		// bare value: up to ',', ';', ')' '}' or end (INI/properties/YAML-ish lines)
		end := vs
		depth := 0
		for end < len(line) {
			ch := line[end]
			if ch == '(' || ch == '[' {
				depth++
			} else if (ch == ')' || ch == ']') && depth > 0 {
				depth--
			} else if depth == 0 && (ch == ',' || ch == ';' || ch == ')' || ch == '}' || ch == '#') {
				break
			}
			end++
		}
		raw := strings.TrimRight(line[vs:end], " \t\r")
		if raw == "" {
			continue
		}
		if c == ':' && sepLen == 1 {
			// a typed parameter's default: passwd: str = "…"
			if eq := strings.IndexByte(raw, '='); eq > 0 && eq+1 < len(raw) && raw[eq+1] != '=' && isTypeName(strings.TrimSpace(raw[:eq])) {
				ls := vs + eq + 1
				for ls < len(line) && line[ls] == ' ' {
					ls++
				}
				if a, end, ok := literalAt(line, ls); ok {
					a.Name = key
					out = append(out, a)
					i = end - 1
					continue
				}
			}
		}
		if c == ':' && sepLen == 1 && strings.HasPrefix(raw, "#") {
			continue
		}
		out = append(out, Assignment{Name: key, Value: raw, ValStart: vs, ValEnd: vs + len(raw), Expr: true})
		i = end - 1
	}
	return out
}

// isTypeName says whether s reads as a type annotation: str,
// Optional[str], string, typing.Text.
func isTypeName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isWordByte(c) || c == '.' || c == '[' || c == ']' || c == '|' || c == ' ' || c == ',') {
			return false
		}
	}
	return true
}

// keyBefore returns the key that ends just before the separator at sep:
// a word (with . - _), optionally quoted, optionally after $ or :.
func keyBefore(line string, sep int) (string, bool) {
	e := sep
	for e > 0 && (line[e-1] == ' ' || line[e-1] == '\t') {
		e--
	}
	if e == 0 {
		return "", false
	}
	var q byte
	if c := line[e-1]; c == '"' || c == '\'' {
		q = c
		e--
	}
	s := e
	if q != 0 {
		for s > 0 && line[s-1] != q {
			s--
		}
		if s == 0 {
			return "", false
		}
		k := line[s:e]
		return k, k != "" && len(k) <= 128
	}
	for s > 0 && (isWordByte(line[s-1]) || line[s-1] == '.' || line[s-1] == '-') {
		s--
	}
	if s == e || e-s > 128 {
		return "", false
	}
	return strings.TrimLeft(line[s:e], ".-"), true
}

// literalAt parses a string literal ('…', "…", `…`) at line[i].
func literalAt(line string, i int) (Assignment, int, bool) {
	q := line[i]
	if q != '"' && q != '\'' && q != '`' {
		return Assignment{}, 0, false
	}
	var b strings.Builder
	j := i + 1
	for j < len(line) {
		c := line[j]
		if c == '\\' && j+1 < len(line) && q != '`' {
			switch n := line[j+1]; n {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(n)
			}
			j += 2
			continue
		}
		if c == q && j+1 < len(line) && line[j+1] == q && q != '`' {
			// a doubled quote: an escaped one (YAML, SQL, VB), or two
			// literals run together (Python): either way the value goes on
			b.WriteByte(q)
			j += 2
			continue
		}
		if c == q {
			a := Assignment{Value: b.String(), ValStart: i + 1, ValEnd: j}
			// A literal followed by an operator is an expression ("a" + x).
			rest := strings.TrimLeft(line[j+1:], " \t")
			if strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, ".") && !strings.HasPrefix(rest, "..") || strings.HasPrefix(rest, "%") {
				a.Expr = true
			}
			return a, j + 1, true
		}
		b.WriteByte(c)
		j++
	}
	return Assignment{}, 0, false
}

// callAssignment reads setPassword("x"), .password("x"), withPassword("x")
// and setProperty("password", "x") / put("password", "x") at the '(' at open.
func callAssignment(line string, open int) (Assignment, bool) {
	s := open
	for s > 0 && isWordByte(line[s-1]) {
		s--
	}
	name := line[s:open]
	if name == "" {
		return Assignment{}, false
	}
	args := open + 1
	for args < len(line) && line[args] == ' ' {
		args++
	}
	if args >= len(line) {
		return Assignment{}, false
	}
	first, end, ok := literalAt(line, args)
	if !ok {
		return Assignment{}, false
	}
	lname := strings.ToLower(name)
	switch lname {
	case "setproperty", "put", "setattribute", "add", "set", "setenv", "putenv", "addproperty", "define":
		k := end
		for k < len(line) && (line[k] == ' ' || line[k] == ',') {
			k++
		}
		if k < len(line) {
			if second, _, ok := literalAt(line, k); ok {
				second.Name = first.Value
				return second, true
			}
		}
		return Assignment{}, false
	}
	for _, p := range []string{"set", "with"} {
		if strings.HasPrefix(lname, p) && len(name) > len(p) {
			first.Name = name[len(p):]
			return first, true
		}
	}
	if s > 0 && line[s-1] == '.' {
		first.Name = name
		return first, true
	}
	return Assignment{}, false
}

// ParseMakeLine reads a Make variable assignment: "NAME = value",
// "NAME := value", "NAME ::= value", "NAME ?= value", "NAME += value",
// with an optional "export" or "override". The value runs to the end of
// the line or an unescaped '#'; one that holds $(…) or ${…} is an
// expression. It never panics.
func ParseMakeLine(line string) []Assignment {
	t := strings.TrimLeft(line, " \t")
	if t == "" || t[0] == '#' || t[0] == '\t' && len(line) > 0 && line[0] == '\t' {
		return nil // a comment, or a recipe line
	}
	i := len(line) - len(t)
	for _, w := range []string{"export ", "override "} {
		if strings.HasPrefix(line[i:], w) {
			i += len(w)
			for i < len(line) && line[i] == ' ' {
				i++
			}
		}
	}
	ns := i
	for i < len(line) && (isWordByte(line[i]) || line[i] == '.' || line[i] == '-') {
		i++
	}
	if i == ns {
		return nil
	}
	name := line[ns:i]
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	op := ""
	for _, o := range []string{"::=", ":=", "?=", "+=", "!=", "="} {
		if strings.HasPrefix(line[i:], o) {
			op = o
			break
		}
	}
	if op == "" || op == "!=" {
		return nil // not an assignment, or a shell command's output
	}
	vs := i + len(op)
	for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
		vs++
	}
	ve := vs
	for ve < len(line) && !(line[ve] == '#' && (ve == vs || line[ve-1] != '\\')) {
		ve++
	}
	raw := strings.TrimRight(line[vs:ve], " \t\r")
	if raw == "" {
		return nil
	}
	val := strings.ReplaceAll(raw, `\#`, "#")
	expr := strings.Contains(raw, "$(") || strings.Contains(raw, "${")
	return []Assignment{{Name: name, Value: strings.ReplaceAll(val, "$$", "$"), ValStart: vs, ValEnd: vs + len(raw), Expr: expr}}
}

// ParsePropertiesLine finds a Java-properties-style pair with a dotted key
// on one line of text that is not a properties file (a README, a script's
// heredoc, notes): "spring.datasource.password=value" or "db.password:
// value". The value runs to the end of the line, trailing blanks
// trimmed. A key without a dot is left to ParseEnvLine.
func ParsePropertiesLine(line string) []Assignment {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	start := i
	dot := false
	for i < len(line) {
		c := line[i]
		if c == '.' {
			dot = true
		} else if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			break
		}
		i++
	}
	key := line[start:i]
	if !dot || key == "" || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || !(key[0] >= 'a' && key[0] <= 'z' || key[0] >= 'A' && key[0] <= 'Z') {
		return nil
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i >= len(line) || line[i] != '=' && line[i] != ':' {
		return nil
	}
	i++
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	end := len(strings.TrimRight(line, " \t\r\n"))
	if i >= end {
		return nil
	}
	return []Assignment{{Name: key, Value: line[i:end], ValStart: i, ValEnd: end}}
}
