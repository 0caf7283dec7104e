package dsn

import "strings"

// libpqKeys are the connection keywords of libpq (and so of psql,
// psycopg, pgx and every libpq-based driver).
var libpqKeys = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true,
	"password": true, "passfile": true, "sslmode": true, "connect_timeout": true,
	"application_name": true, "options": true, "service": true, "target_session_attrs": true,
	"sslrootcert": true, "sslcert": true, "sslkey": true, "client_encoding": true,
	"keepalives": true, "channel_binding": true, "require_auth": true, "load_balance_hosts": true,
	"gssencmode": true, "krbsrvname": true, "fallback_application_name": true,
}

// ParseKeyValue parses a libpq keyword/value connection string such as
// "host=db port=5432 dbname=arp user=app password='p w\'d'". Values are bare
// words or single-quoted with \' and \\ escapes; spaces around '=' are
// allowed. At least two known keywords are required. Unknown words are
// skipped.
func ParseKeyValue(s string) (*Parsed, error) {
	p := newParsed("postgresql")
	known := 0
	i := 0
	for i < len(s) {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		ks := i
		for i < len(s) && (isWordByte(s[i])) {
			i++
		}
		key := strings.ToLower(s[ks:i])
		j := i
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if key == "" || j >= len(s) || s[j] != '=' {
			// not key=value: skip one token
			if i == ks {
				i++
			}
			continue
		}
		j++
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		vs := j
		var val string
		if j < len(s) && s[j] == '\'' {
			var b strings.Builder
			j++
			closed := false
			for j < len(s) {
				c := s[j]
				if c == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if c == '\'' {
					j++
					closed = true
					break
				}
				b.WriteByte(c)
				j++
			}
			if !closed {
				return nil, ErrNoDSN
			}
			val = b.String()
		} else {
			for j < len(s) && !isSpace(s[j]) {
				j++
			}
			val = unescapeBackslash(s[vs:j])
		}
		raw := s[vs:j]
		i = j
		if !libpqKeys[key] {
			continue
		}
		known++
		if key == "password" {
			if val != "" {
				p.setPassword(raw, vs, val)
			}
			continue
		}
		applyParam(p, key, val, raw, vs)
	}
	if known < 2 {
		return nil, ErrNoDSN
	}
	return p, nil
}

func unescapeBackslash(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// ParsePgpass parses one .pgpass line, hostname:port:database:username:password,
// where '\:' and '\\' escape a colon and a backslash. Comments and blank
// lines return ErrNoDSN. A '*' field stays '*'.
func ParsePgpass(line string) (*Parsed, error) {
	trimmed := strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(trimmed) == "" || strings.HasPrefix(strings.TrimSpace(trimmed), "#") {
		return nil, ErrNoDSN
	}
	var fields []string
	var starts []int
	var b strings.Builder
	start := 0
	for i := 0; i < len(trimmed); i++ {
		c := trimmed[i]
		if c == '\\' && i+1 < len(trimmed) {
			b.WriteByte(trimmed[i+1])
			i++
			continue
		}
		if c == ':' && len(fields) < 4 {
			fields = append(fields, b.String())
			starts = append(starts, start)
			b.Reset()
			start = i + 1
			continue
		}
		b.WriteByte(c)
	}
	fields = append(fields, b.String())
	starts = append(starts, start)
	if len(fields) != 5 {
		return nil, ErrNoDSN
	}
	p := newParsed("postgresql")
	if fields[0] != "*" && fields[0] != "" {
		p.Hosts = []string{fields[0]}
	}
	if fields[1] != "*" {
		p.Port = atoiPort(fields[1])
	}
	if fields[2] != "*" {
		p.Database = fields[2]
	}
	if fields[3] != "*" {
		p.User = fields[3]
	}
	if fields[4] != "" {
		p.setPassword(trimmed[starts[4]:], starts[4], fields[4])
	}
	return p, nil
}
