package rules

import (
	"slices"
	"strings"

	"github.com/credscan/credscan/scanners/dsn"
)

// Entry is one key/value pair found in a file.
type Entry struct {
	Path  string // parent path in a structured document ("spring.datasource"), "" for line-based entries
	Key   string
	Value string // decoded
	Raw   string // as written, when it differs from Value (base64, escapes); "" otherwise
	Line  int    // absolute, 1-based
	Col   int    // 1-based byte column where the value as written starts on Line, 0 when unknown
	// EndLine and EndCol end the value as written (EndCol just past its
	// last byte; EndLine 0: Line); EndCol 0 when the end is unknown.
	EndLine, EndCol int
	Expr            bool   // the value is an expression, not a literal
	Compare         bool   // the value is compared with the key, not assigned
	Tag             string // "base64" for Kubernetes Secret data
	Rule            string // rule to report a password under; ConfigCred when ""
}

type roled struct {
	*Entry
	role  Role
	group string
	segs  []string
}

// assemble turns key/value entries into candidates: each password entry
// with a literal value becomes one candidate, reported at its own line,
// with the user, host, port, database and URL of its siblings (same group:
// the same parent path and key prefix; with proximity, also within
// neighbourhood lines). Each URL entry holding a DSN with a password
// becomes a candidate too. Password entries that reference a secret store
// become References.
func (p *Pack) assemble(f *File, entries []Entry, proximity bool, r *Result) {
	rs := make([]roled, len(entries))
	// neighbouring entries mostly share their path: it is split once
	var path, group string
	var pathSegs []string
	for i := range entries {
		e := &entries[i]
		role, prefix := keyRole(e.Key)
		if i == 0 || e.Path != path {
			path, pathSegs = e.Path, slices.Clip(splitKey(e.Path))
			group = strings.Join(pathSegs, ".")
		}
		segs, g := pathSegs, group
		if len(prefix) > 0 {
			segs = append(pathSegs, prefix...) // (a copy: pathSegs is clipped)
			g = strings.Join(segs, ".")
		}
		if role == RoleHost && strings.ContainsAny(e.Value, " \t=") {
			role = RoleNone // "host=$h user=$u …": a string built from variables
		}
		rs[i] = roled{Entry: e, role: role, group: g, segs: segs}
	}
	dbFile := isDBFile(f.Path)
	for i := range rs {
		e := rs[i]
		switch e.role {
		case RolePassword:
		case RoleSecret:
			p.generic(e.Entry, r)
			continue
		case RoleURL:
			p.urlEntry(f, rs, i, proximity, r)
			continue
		default:
			continue
		}
		class := ClassifyValue(e.Value)
		if e.Tag == tagEncrypted {
			class = Encrypted
		}
		if e.Expr && class == Literal {
			continue // a variable or a call: not a literal, not a known reference
		}
		if e.Compare {
			p.generic(e.Entry, r) // a password checked against a literal
			continue
		}
		sib := siblings(rs, i, proximity)
		var kin, elders []roled // the same object's other keys, its ancestors' keys
		if !proximity {
			kin, elders = family(rs, i)
		}
		ctx := dbFile || p.isContext(e.segs) || p.isContext(splitKey(e.Key))
		var id dsn.Parsed
		id.PwStart, id.PwEnd = -1, -1
		for _, s := range sib {
			if valueMentionsDB(s.Value) || p.isContext(splitKey(s.Key)) {
				ctx = true
			}
		}
		nHost, nDB := 0, 0
		for _, role := range []Role{RoleURL, RoleUser, RoleHost, RolePort, RoleDatabase} {
			s := nearest(sib, role, e.Line)
			if s == nil {
				s = nearest(kin, role, e.Line)
			}
			if s == nil && (role == RoleHost || role == RolePort) {
				s = nearest(elders, role, e.Line) // Robo 3T: the server above its credentials
			}
			if s == nil || ClassifyValue(s.Value) == Reference && role != RoleURL {
				continue
			}
			switch role {
			case RoleURL:
				if parsed := parseAnyDSN(s.Value); parsed != nil {
					ctx = true
					id = *parsed
					id.Password, id.PwStart, id.PwEnd = "", -1, -1
				}
			case RoleUser:
				if !s.Expr {
					id.User = s.Value
				}
			case RoleHost:
				if !s.Expr && !strings.Contains(s.Value, "://") {
					nHost++
					id.Hosts = []string{s.Value}
					if h, port := splitHostPortLoose(s.Value); port > 0 {
						id.Hosts, id.Port = []string{h}, port
					}
				}
			case RolePort:
				if n := atoi(s.Value); n > 0 {
					id.Port = n
				}
			case RoleDatabase:
				if !s.Expr {
					nDB++
					id.Database = s.Value
				}
			}
		}
		if nHost > 0 && nDB > 0 {
			ctx = true
		}
		if !ctx {
			p.generic(e.Entry, r)
			continue
		}
		if r.refer(class, e.Line, e.Key) {
			continue
		}
		rule := e.Rule
		if rule == "" {
			rule = p.ruleFor(f, e.segs, e.Key)
		}
		raw := e.Raw
		if raw == "" {
			raw = e.Value
		}
		c := Candidate{RuleID: rule, Line: e.Line, Col: e.Col, EndLine: e.EndLine, EndCol: e.EndCol, Secret: e.Value, Raw: raw, DB: id, Tags: []string{"assembled"}}
		if e.Tag != "" {
			c.Tags = append(c.Tags, e.Tag)
		}
		r.addSecret(c, class, true)
	}
}

// ruleFor names the rule of an assembled password.
func (p *Pack) ruleFor(f *File, segs []string, key string) string {
	switch f.Format {
	case FormatShell, FormatDockerfile, FormatCompose:
		if len(segs) > 0 && segs[len(segs)-1] == "pg" || strings.EqualFold(key, "PGPASSWORD") {
			return PgEnv
		}
		return DBEnvPassword
	case FormatINI:
		if strings.Contains(strings.ToLower(f.Path), "pg_service") {
			return PgService
		}
	}
	if strings.EqualFold(key, "PGPASSWORD") {
		return PgEnv
	}
	return ConfigCred
}

// urlEntry reports a URL entry whose value is a DSN with a literal
// password when the line detectors cannot see it (encoded values), joined
// with a sibling user when the DSN has none.
func (p *Pack) urlEntry(f *File, rs []roled, i int, proximity bool, r *Result) {
	e := rs[i]
	if e.Raw == "" || e.Raw == e.Value {
		return // the line detectors see the same text
	}
	parsed := parseAnyDSN(e.Value)
	if parsed == nil || !parsed.HasPassword() {
		return
	}
	if parsed.User == "" {
		if s := nearest(siblings(rs, i, proximity), RoleUser, e.Line); s != nil && !s.Expr {
			parsed.User = s.Value
		}
	}
	class := ClassifyValue(parsed.Password)
	if r.refer(class, e.Line, e.Key) {
		return
	}
	rule := e.Rule
	if rule == "" {
		rule = ConfigCred
	}
	c := Candidate{RuleID: rule, Line: e.Line, Col: e.Col, EndLine: e.EndLine, EndCol: e.EndCol, Secret: parsed.Password, Raw: e.Raw, DB: *parsed, Tags: []string{"assembled"}}
	if e.Tag != "" {
		c.Tags = append(c.Tags, e.Tag)
	}
	r.addSecret(c, class, true)
}

// parseAnyDSN parses a value as a URI, JDBC URL, libpq conninfo or
// ADO.NET/ODBC connection string.
func parseAnyDSN(v string) *dsn.Parsed {
	v = strings.TrimSpace(v)
	l := strings.ToLower(v)
	switch {
	case strings.HasPrefix(l, "jdbc:"):
		if p, _, err := dsn.ParseJDBC(v); err == nil {
			return p
		}
	case strings.Contains(l, "://"):
		if p, _, err := dsn.ParseURI(v); err == nil {
			return p
		}
	case strings.Contains(l, ";"):
		if p, err := dsn.ParseConnString(v); err == nil {
			return p
		}
	case strings.Contains(l, "="):
		if p, err := dsn.ParseKeyValue(v); err == nil {
			return p
		}
	}
	return nil
}

func splitHostPortLoose(v string) (string, int) {
	if strings.Count(v, ":") == 1 {
		i := strings.IndexByte(v, ':')
		return v[:i], atoi(v[i+1:])
	}
	return v, 0
}

// siblings returns the entries of i's group (other than i itself).
func siblings(rs []roled, i int, proximity bool) []roled {
	var out []roled
	for k := range rs {
		if k == i || rs[k].Path != rs[i].Path {
			continue
		}
		if rs[k].group != rs[i].group && !(proximity && (rs[k].group == "" || rs[i].group == "")) {
			continue
		}
		if proximity && abs(rs[k].Line-rs[i].Line) > neighbourhood {
			continue
		}
		out = append(out, rs[k])
	}
	return out
}

// family returns the entries of i's object outside its group, and those
// of the objects that enclose it.
func family(rs []roled, i int) (kin, elders []roled) {
	p := rs[i].Path
	for k := range rs {
		switch {
		case k == i:
		case rs[k].Path == p:
			if rs[k].group != rs[i].group {
				kin = append(kin, rs[k])
			}
		case strings.HasPrefix(p, rs[k].Path) && (rs[k].Path == "" || p[len(rs[k].Path)] == '.' || p[len(rs[k].Path)] == '#'):
			elders = append(elders, rs[k])
		}
	}
	return kin, elders
}

// nearest returns the sibling with the role closest to line.
func nearest(sib []roled, role Role, line int) *roled {
	var best *roled
	for k := range sib {
		if sib[k].role != role {
			continue
		}
		if best == nil || abs(sib[k].Line-line) < abs(best.Line-line) {
			best = &sib[k]
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
