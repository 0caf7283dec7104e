package dsn

import "strings"

// ParseJDBC parses a JDBC URL starting at s[0] ("jdbc:postgresql://…",
// "jdbc:mysql://…", "jdbc:mariadb://…", "jdbc:sqlserver://…;user=…",
// "jdbc:oracle:thin:user/pass@//host:1521/svc"). It returns the parsed URL
// and its length in s.
func ParseJDBC(s string) (*Parsed, int, error) {
	if len(s) < 6 || !strings.EqualFold(s[:5], "jdbc:") {
		return nil, 0, ErrNoDSN
	}
	n := uriEnd(s)
	s = s[:n]
	body := s[5:]
	lower := LowerASCII(body)
	switch {
	case strings.HasPrefix(lower, "postgresql://"), strings.HasPrefix(lower, "postgres://"),
		strings.HasPrefix(lower, "mysql://"), strings.HasPrefix(lower, "mariadb://"):
		sep := strings.Index(body, "://")
		driver := schemes[lower[:sep]]
		p := newParsed(driver)
		parseURIBody(p, s, 5+sep+3)
		return p, n, nil
	case strings.HasPrefix(lower, "sqlserver://"), strings.HasPrefix(lower, "jtds:sqlserver://"):
		start := 5 + strings.Index(lower, "://") + 3
		p := newParsed("sqlserver")
		rest := s[start:]
		semi := strings.IndexByte(rest, ';')
		hostPart := rest
		if semi >= 0 {
			hostPart = rest[:semi]
		}
		if slash := strings.IndexByte(hostPart, '/'); slash >= 0 { // jTDS: host:port/db
			p.Database = hostPart[slash+1:]
			hostPart = hostPart[:slash]
		}
		if bs := strings.IndexByte(hostPart, '\\'); bs >= 0 { // host\instance:port
			inst := hostPart[bs:]
			hostPart = hostPart[:bs]
			if c := strings.IndexByte(inst, ':'); c >= 0 {
				p.Port = atoiPort(inst[c+1:])
			}
		}
		if hostPart != "" {
			p.addHostPort(hostPart)
		}
		if semi >= 0 {
			parseSemicolonPairs(p, s, start+semi+1)
		}
		return p, n, nil
	case strings.HasPrefix(lower, "oracle:"):
		p := newParsed("oracle")
		at := strings.LastIndexByte(s, '@')
		if at < 0 {
			return p, n, nil
		}
		// jdbc:oracle:thin:user/pass@host:port:sid or @//host:port/service
		if c := strings.LastIndexByte(s[:at], ':'); c >= 0 {
			cred := s[c+1 : at]
			if sl := strings.IndexByte(cred, '/'); sl >= 0 {
				p.User = cred[:sl]
				if raw := cred[sl+1:]; raw != "" {
					p.setPassword(raw, c+1+sl+1, raw)
				}
			}
		}
		hp := strings.TrimPrefix(s[at+1:], "//")
		if q := strings.IndexByte(hp, '?'); q >= 0 {
			hp = hp[:q]
		}
		if sl := strings.IndexByte(hp, '/'); sl >= 0 {
			p.Database = hp[sl+1:]
			hp = hp[:sl]
		} else if parts := strings.Split(hp, ":"); len(parts) == 3 {
			p.Database = parts[2]
			hp = parts[0] + ":" + parts[1]
		}
		p.addHostPort(hp)
		return p, n, nil
	}
	return nil, 0, ErrNoDSN
}

// parseSemicolonPairs reads ";key=value" pairs (SQL Server JDBC style,
// unquoted except for {braced} values) from s[start:].
func parseSemicolonPairs(p *Parsed, s string, start int) {
	i := start
	for i < len(s) {
		end := strings.IndexByte(s[i:], ';')
		if end < 0 {
			end = len(s) - i
		}
		kv := s[i : i+end]
		if eq := strings.IndexByte(kv, '='); eq > 0 {
			key := strings.ToLower(strings.TrimSpace(kv[:eq]))
			raw := kv[eq+1:]
			val := raw
			if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") && len(raw) >= 2 {
				val = raw[1 : len(raw)-1]
			}
			applyParam(p, key, val, raw, i+eq+1)
		}
		i += end + 1
	}
}
