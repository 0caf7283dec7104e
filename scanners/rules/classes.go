package rules

import (
	"strings"

	"github.com/credscan/credscan/scanners/dsn"
)

// Tags the pack sets on candidates.
const (
	TagWeak      = "weak"          // a dictionary password with a real host and user
	TagMalformed = "malformed-uri" // a URI with reserved characters unencoded in its password
)

// refer records a value that points at a secret instead of holding it:
// a reference or a template (counted as referenced) or ciphertext
// (counted as encrypted). It reports whether class is one of those.
func (r *Result) refer(class ValueClass, line int, key string) bool {
	switch class {
	case Reference, Template:
		r.References = append(r.References, Ref{Line: line, Key: key})
	case Encrypted:
		r.References = append(r.References, Ref{Line: line, Key: key, Encrypted: true})
	default:
		return false
	}
	return true
}

// addSecret adds c when class and its identity make it a finding (see
// secretClass), tagged weak for a dictionary password in a credential's
// context, then with extra.
func (r *Result) addSecret(c Candidate, class ValueClass, strict bool, extra ...string) {
	report, weak := secretClass(class, &c.DB, strict)
	if !report {
		return
	}
	if weak {
		c.Tags = append(c.Tags, TagWeak)
	}
	c.Tags = append(c.Tags, extra...)
	r.add(c)
}

// secretClass decides what a value with the identity id is: a finding
// (report true), tagged weak when it is a dictionary word that a real
// host (and, where strict, a user) shows to be a credential. strict asks
// for a user too (URIs, configs); a .pgpass line needs only a host that
// is not a placeholder.
func secretClass(class ValueClass, id *dsn.Parsed, strict bool) (report, weak bool) {
	switch class {
	case Literal:
		return !placeholderHost(id.Host()), false
	case Weak:
		h := id.Host()
		if placeholderHost(h) {
			return false, false
		}
		if !strict {
			return true, true
		}
		return realHost(h) && realUser(id.User), true
	}
	return false, false
}

// placeholderHost says whether h is documentation rather than a host:
// <your-host>, x.x.x.x, HOST, your_db_host.
func placeholderHost(h string) bool {
	if h == "" {
		return false
	}
	l := strings.ToLower(h)
	if strings.ContainsAny(l, "<>{}$%") || strings.Contains(l, "your") {
		return true
	}
	switch l {
	case "host", "hostname", "server", "servername", "db-host", "db_host", "dbhost", "database-host", "myhost", "my-host", "host.name", "ip":
		return true
	}
	return strings.Trim(l, "x.*") == "" || h == strings.ToUpper(h) && strings.Contains(h, "HOST")
}

// realHost says whether h names a machine a credential would be used on:
// not empty, not a placeholder, not loopback, not a documentation domain.
func realHost(h string) bool {
	l := strings.ToLower(h)
	if l == "" || placeholderHost(h) {
		return false
	}
	switch l {
	case "localhost", "127.0.0.1", "::1", "0.0.0.0", "db", "database", "postgres", "mysql":
		return false
	}
	// a host name or an address, not "project:region:instance"
	for i := 0; i < len(l); i++ {
		if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	if strings.Count(l, ":") > 0 && !strings.HasPrefix(l, "[") && strings.Trim(l, "0123456789abcdef:.") != "" {
		return false
	}
	for _, d := range []string{"example.com", "example.org", "example.net", ".example", ".test", ".invalid"} {
		if strings.HasSuffix(l, d) {
			return false
		}
	}
	return true
}

// realUser says whether u is a user name rather than documentation.
func realUser(u string) bool {
	if u == "" {
		return false
	}
	switch c := ClassifyValue(u); c {
	case Literal, Weak:
	default:
		return false
	}
	switch strings.ToLower(u) {
	case "user", "username", "myuser", "dbuser", "db_user", "your_user", "<user>":
		return false
	}
	return true
}
