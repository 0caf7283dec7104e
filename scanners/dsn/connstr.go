package dsn

import "strings"

// ParseConnString parses an ADO.NET, Npgsql or ODBC connection string:
// "Server=db;Port=5432;Database=arp;User Id=app;Password=secret;" with
// values that may be quoted with '…' or "…" (doubled to escape) or, for
// ODBC, braced {…} (with "}}" as an escaped brace). At least a password or
// user key and a server/database key are required.
func ParseConnString(s string) (*Parsed, error) {
	p := newParsed("")
	i := 0
	haveWhere, haveWho := false, false
	for i < len(s) {
		for i < len(s) && (isSpace(s[i]) || s[i] == ';') {
			i++
		}
		ks := i
		for i < len(s) && s[i] != '=' && s[i] != ';' {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(s[ks:i]))
		i++
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		vs := i
		var val string
		if i < len(s) && (s[i] == '\'' || s[i] == '"' || s[i] == '{') {
			open := s[i]
			closeCh := open
			if open == '{' {
				closeCh = '}'
			}
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == closeCh {
					if i+1 < len(s) && s[i+1] == closeCh {
						b.WriteByte(closeCh)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, ErrNoDSN
			}
			val = b.String()
		} else {
			for i < len(s) && s[i] != ';' {
				i++
			}
			val = strings.TrimRight(s[vs:i], " \t")
		}
		raw := s[vs:i]
		if raw != "" && (raw[0] != '\'' && raw[0] != '"' && raw[0] != '{') {
			raw = strings.TrimRight(raw, " \t")
		}
		switch key {
		case "driver":
			lv := strings.ToLower(val)
			switch {
			case strings.Contains(lv, "postgres"):
				p.Driver = "postgresql"
			case strings.Contains(lv, "mysql"), strings.Contains(lv, "maria"):
				p.Driver = "mysql"
			case strings.Contains(lv, "sql server"), strings.Contains(lv, "sqlserver"):
				p.Driver = "sqlserver"
			default:
				p.Driver = "odbc"
			}
		case "password", "pwd", "passwd", "pass":
			haveWho = true
		case "user", "username", "uid", "user id", "userid", "user name":
			haveWho = true
		case "host", "server", "data source", "address", "addr", "network address", "hostname", "servername",
			"database", "dbname", "initial catalog", "dsn":
			haveWhere = true
		}
		applyParam(p, key, val, raw, vs)
	}
	if !haveWho || !haveWhere {
		return nil, ErrNoDSN
	}
	return p, nil
}

// ParsePDO parses the DSN argument of a PHP PDO constructor,
// "pgsql:host=db;port=5432;dbname=arp" (user and password, when present in
// the DSN, are read too; usually they are separate constructor arguments).
func ParsePDO(s string) (*Parsed, error) {
	c := strings.IndexByte(s, ':')
	if c <= 0 {
		return nil, ErrNoDSN
	}
	var driver string
	switch strings.ToLower(s[:c]) {
	case "pgsql":
		driver = "postgresql"
	case "mysql":
		driver = "mysql"
	case "sqlsrv", "dblib", "mssql":
		driver = "sqlserver"
	case "oci":
		driver = "oracle"
	default:
		return nil, ErrNoDSN
	}
	p := newParsed(driver)
	parseSemicolonPairs(p, s, c+1)
	return p, nil
}
