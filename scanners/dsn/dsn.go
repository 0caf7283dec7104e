// Package dsn parses database connection strings (URIs, JDBC URLs, libpq
// keyword/value strings, .pgpass lines, ADO.NET/ODBC connection strings and
// PHP PDO DSNs) into a database identity and the password they carry.
//
// Every parser is pure, never panics on any input (they are fuzzed), and
// records where the password stands in its input so a caller can mask it.
// Errors never contain the input.
package dsn

import (
	"errors"
	"strconv"
	"strings"
)

// ErrNoDSN is returned when the input is not a connection string of the
// parser's kind.
var ErrNoDSN = errors.New("not a connection string")

// Parsed is the result of parsing a connection string.
type Parsed struct {
	Driver   string // postgresql, mysql, sqlserver, mongodb, redis, oracle, odbc …
	User     string
	Hosts    []string
	Port     int
	Database string
	// Password is the decoded password, "" when the string carries none.
	Password string
	// PwStart and PwEnd delimit the password as written in the input
	// (percent-encoded, quoted, escaped); both are -1 when there is none.
	PwStart, PwEnd int
	// Malformed: the URI holds reserved characters unencoded in its
	// password; it was read the way a person reads it.
	Malformed bool
}

// Host returns the first host, or "".
func (p *Parsed) Host() string {
	if len(p.Hosts) == 0 {
		return ""
	}
	return p.Hosts[0]
}

// HasPassword reports whether a password was found.
func (p *Parsed) HasPassword() bool {
	return p.PwStart >= 0 && p.PwEnd >= p.PwStart && p.Password != ""
}

// RawPassword returns the password as written in s, the string that was parsed.
func (p *Parsed) RawPassword(s string) string {
	if p.PwStart < 0 || p.PwEnd > len(s) || p.PwStart > p.PwEnd {
		return ""
	}
	return s[p.PwStart:p.PwEnd]
}

// Mask returns s with the password span replaced by "****".
func (p *Parsed) Mask(s string) string {
	if p.PwStart < 0 || p.PwEnd > len(s) || p.PwStart > p.PwEnd {
		return s
	}
	return s[:p.PwStart] + "****" + s[p.PwEnd:]
}

func newParsed(driver string) *Parsed { return &Parsed{Driver: driver, PwStart: -1, PwEnd: -1} }

func (p *Parsed) setPassword(raw string, start int, decoded string) {
	p.Password = decoded
	p.PwStart = start
	p.PwEnd = start + len(raw)
}

// setHostPort parses "host", "host:port", "[v6]" or "[v6]:port".
func (p *Parsed) addHostPort(hp string) {
	host, port := splitHostPort(hp)
	if host != "" {
		p.Hosts = append(p.Hosts, host)
	}
	if port > 0 && p.Port == 0 {
		p.Port = port
	}
}

func splitHostPort(hp string) (string, int) {
	hp = strings.TrimSpace(hp)
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return hp, 0
		}
		host := hp[1:end]
		rest := hp[end+1:]
		if strings.HasPrefix(rest, ":") {
			return host, atoiPort(rest[1:])
		}
		return host, 0
	}
	if strings.Count(hp, ":") == 1 {
		i := strings.IndexByte(hp, ':')
		return hp[:i], atoiPort(hp[i+1:])
	}
	return hp, 0
}

func atoiPort(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

// DefaultPort returns the well-known port of a driver, 0 when unknown.
func DefaultPort(driver string) int {
	switch driver {
	case "postgresql":
		return 5432
	case "mysql", "mariadb":
		return 3306
	case "sqlserver":
		return 1433
	case "oracle":
		return 1521
	case "mongodb":
		return 27017
	case "redis":
		return 6379
	}
	return 0
}

// percentDecode decodes %XX escapes leniently: a malformed escape is kept
// as written. plusSpace turns '+' into ' ' (query strings).
func percentDecode(s string, plusSpace bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+' && plusSpace:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// LowerASCII lowers ASCII letters only, so every byte of the result stands
// where it stood in s: strings.ToLower changes lengths (invalid UTF-8
// becomes U+FFFD, 'İ' grows, the Kelvin sign shrinks), and an index found
// in its result is not one into s.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
