package dsn

import "strings"

// schemes maps URI schemes to drivers.
var schemes = map[string]string{
	"postgres":    "postgresql",
	"postgresql":  "postgresql",
	"pgsql":       "postgresql",
	"cockroachdb": "postgresql",
	"mysql":       "mysql",
	"mysqlx":      "mysql",
	"mariadb":     "mariadb",
	"sqlserver":   "sqlserver",
	"mssql":       "sqlserver",
	"oracle":      "oracle",
	"mongodb":     "mongodb",
	"mongodb+srv": "mongodb",
	"redis":       "redis",
	"rediss":      "redis",
}

// SchemeDriver is the driver of a URI scheme, with SQLAlchemy's
// dialect+driver form (postgresql+psycopg2, mysql+pymysql,
// mssql+pyodbc) read as its dialect.
func SchemeDriver(scheme string) (string, bool) {
	scheme = strings.ToLower(scheme)
	if d, ok := schemes[scheme]; ok {
		return d, true
	}
	if dialect, driver, ok := strings.Cut(scheme, "+"); ok && driver != "" && !strings.Contains(driver, "+") {
		d, ok := schemes[dialect]
		return d, ok
	}
	return "", false
}

// Drivers lists the URI schemes ParseURI accepts.
func Schemes() []string {
	out := make([]string, 0, len(schemes))
	for s := range schemes {
		out = append(out, s)
	}
	return out
}

// uriEnd returns the length of the URI that starts at s[0]: it ends at
// white space, a quote, a backtick, '<', '>' or a control byte.
func uriEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c == '"', c == '\'', c == '`', c == '<', c == '>', c == 0x7f:
			return i
		}
	}
	return len(s)
}

// ParseURI parses a database URI such as
// postgres://user:pa%40ss@host1:5432,host2/db?sslmode=require&password=…
// starting at s[0]. It returns the parsed URI and its length in s (the URI
// ends at white space or a quote). Percent-encoded users and passwords,
// IPv6 hosts, several hosts and query parameters are understood.
func ParseURI(s string) (*Parsed, int, error) {
	sep := strings.Index(s, "://")
	if sep <= 0 || sep > 32 {
		return nil, 0, ErrNoDSN
	}
	driver, ok := SchemeDriver(s[:sep])
	if !ok {
		return nil, 0, ErrNoDSN
	}
	n := uriEnd(s)
	if n < sep+3 {
		return nil, 0, ErrNoDSN
	}
	p := newParsed(driver)
	parseURIBody(p, s[:n], sep+3)
	return p, n, nil
}

// parseURIBody parses s[start:] — [userinfo@]hosts[/db][?query][#frag] —
// into p, with offsets relative to s.
func parseURIBody(p *Parsed, s string, start int) {
	rest := s[start:]
	// The authority ends at the first '/', '?' or '#' after the last '@'
	// that precedes the path: an unencoded '@' inside a password is
	// tolerated, an unencoded '/' is not (it must be percent-encoded).
	authEnd := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authEnd = i
	}
	at := strings.LastIndexByte(rest[:authEnd], '@')
	if at >= 0 && at == authEnd-1 {
		// "user:pa@#ss@host": the strict read leaves no host; a person
		// reads the password up to the '@' a host follows
		if a, end, ok := humanAuthority(rest); ok && a > at {
			at, authEnd = a, end
			p.Malformed = true
		}
	}
	if at < 0 {
		// a password with a raw '#', '?' or '/' (malformed by RFC 3986,
		// refused by libpq, still a hardcoded password): read it as a
		// person does, up to the last '@' that a host list follows
		if a, end, ok := humanAuthority(rest); ok {
			at, authEnd = a, end
			p.Malformed = true
		}
	}
	hostStart := 0
	if at >= 0 {
		userinfo := rest[:at]
		hostStart = at + 1
		if c := strings.IndexByte(userinfo, ':'); c >= 0 {
			p.User = percentDecode(userinfo[:c], false)
			raw := userinfo[c+1:]
			if raw != "" {
				p.setPassword(raw, start+c+1, percentDecode(raw, false))
			}
		} else {
			p.User = percentDecode(userinfo, false)
		}
	}
	hosts := rest[hostStart:authEnd]
	for _, h := range strings.Split(hosts, ",") {
		if h != "" {
			p.addHostPort(percentDecode(h, false))
		}
	}
	tail := rest[authEnd:]
	tailStart := start + authEnd
	if strings.HasPrefix(tail, "/") {
		end := strings.IndexAny(tail, "?#")
		if end < 0 {
			end = len(tail)
		}
		p.Database = percentDecode(tail[1:end], false)
		tail, tailStart = tail[end:], tailStart+end
	}
	if strings.HasPrefix(tail, "?") {
		q := tail[1:]
		if f := strings.IndexByte(q, '#'); f >= 0 {
			q = q[:f]
		}
		parseQuery(p, q, tailStart+1, "&")
	}
}

// parseQuery reads key=value pairs separated by sep (offsets relative to
// the original string through base).
func parseQuery(p *Parsed, q string, base int, sep string) {
	off := 0
	for _, kv := range strings.Split(q, sep) {
		eq := strings.IndexByte(kv, '=')
		if eq > 0 {
			key := strings.ToLower(percentDecode(kv[:eq], true))
			rawVal := kv[eq+1:]
			val := percentDecode(rawVal, true)
			applyParam(p, key, val, rawVal, base+off+eq+1)
		}
		off += len(kv) + len(sep)
	}
}

// applyParam applies a connection parameter understood by several formats.
func applyParam(p *Parsed, key, val, rawVal string, rawStart int) {
	switch key {
	case "password", "pwd", "pass", "passwd":
		if val != "" {
			p.setPassword(rawVal, rawStart, val)
		}
	case "user", "username", "uid", "user id", "userid", "user name":
		if val != "" {
			p.User = val
		}
	case "host", "hostaddr", "server", "data source", "address", "addr", "network address", "servername":
		if val != "" && len(p.Hosts) == 0 {
			for _, h := range strings.Split(val, ",") {
				p.addHostPort(strings.TrimPrefix(strings.TrimSpace(h), "tcp:"))
			}
		}
	case "port":
		if n := atoiPort(val); n > 0 {
			p.Port = n
		}
	case "dbname", "database", "databasename", "database name", "initial catalog", "db":
		if val != "" {
			p.Database = val
		}
	}
}

// humanAuthority finds, in rest (what follows "scheme://"), the last '@'
// that user:password precedes and a host list follows, when the strict
// parse found none before the first '/', '?' or '#'. It returns that '@'
// and where the authority ends.
func humanAuthority(rest string) (at, end int, ok bool) {
	for i := len(rest) - 1; i > 0; i-- {
		if rest[i] != '@' {
			continue
		}
		userinfo := rest[:i]
		c := strings.IndexByte(userinfo, ':')
		if c <= 0 || c == len(userinfo)-1 || strings.ContainsAny(userinfo[:c], "/?#@") {
			continue
		}
		h := rest[i+1:]
		e := strings.IndexAny(h, "/?#")
		if e < 0 {
			e = len(h)
		}
		if isHostList(h[:e]) {
			return i, i + 1 + e, true
		}
	}
	return 0, 0, false
}

// isHostList says whether s reads as host[:port][,host[:port]…].
func isHostList(s string) bool {
	if s == "" {
		return false
	}
	for _, h := range strings.Split(s, ",") {
		if h == "" {
			return false
		}
		for i := 0; i < len(h); i++ {
			c := h[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']') {
				return false
			}
		}
		if !strings.ContainsAny(h, ".:[") && !hasLetter(h) {
			return false
		}
	}
	return true
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}
