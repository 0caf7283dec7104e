package rules

import (
	"context"
	"encoding/binary"
	"math/bits"
	"regexp"
	"strconv"
	"strings"

	"github.com/credscan/credscan/scanners/dsn"
)

// File is the item a pack scans: one chunk of a file, with its format.
type File struct {
	Path      string // slash-separated, used for format and file-name rules
	Format    Format
	Data      []byte
	StartLine int // 1-based line number of Data[0]
	Whole     bool
	// ByLine says the caller found, with ReadsWhole, that the document
	// holds nothing its structure would assemble: it is read line by line
	// without asking again.
	ByLine bool
	// PgpassKnown says Pgpass tells whether Data names a pgpass file
	// (MentionsPgpass), as the caller found it: the pack does not look
	// again.
	PgpassKnown, Pgpass bool

	fenced []bool // per line of a document: inside a fenced code block
}

// Result collects what a scan of one File found.
type Result struct {
	Candidates []Candidate
	References []Ref
	// Problems are parse errors (malformed YAML …) that made the pack fall
	// back to line rules. They never hold file content.
	Problems []error
}

func (r *Result) add(c Candidate) {
	r.Candidates = append(r.Candidates, c)
}

// Scan runs the pack over f. hits are the 0-based indices (into lines) of
// the lines that hold a keyword; pgpass files are scanned whole.
// Structured files that are Whole are parsed structurally and, when that
// fails (malformed, or nested deeper than MaxDepth), scanned line by line.
// Scan never panics on any input; a canceled ctx stops it early, with
// what it found so far in r.
func (p *Pack) Scan(ctx context.Context, f *File, lines *Lines, hits []int, r *Result) {
	switch f.Format {
	case FormatPgpass:
		for i := 0; i < lines.Len(); i++ {
			p.pgpassLine(f, lines, i, r)
		}
		return
	case FormatNetrc:
		p.netrc(f, lines, r)
		return
	}
	if f.Pgpass || !f.PgpassKnown && MentionsPgpass(f.Data) {
		p.scriptPgpass(f, lines, r)
	}
	f.fenced = nil
	if isDoc(f.Path) {
		f.fenced = fencedLines(lines)
	}
	structuredOK := false
	if f.Whole && !f.ByLine && f.Format.Structured() && (len(hits) > 0 && (parseAlways || mayAssemble(f.Format, f.Data)) || f.Format == FormatYAML && containsFold(f.Data, "kind: secret")) {
		if err := p.scanStructured(ctx, f, lines, r); ctx.Err() != nil {
			return
		} else if err != nil {
			r.Problems = append(r.Problems, err)
		} else {
			structuredOK = true
		}
	}
	for _, i := range hits {
		p.scanLine(f, lines, i, !structuredOK, r)
	}
}

// parseAlways turns mayAssemble off (tests compare).
var parseAlways = false

// ReadsWhole says whether Scan may read a whole document of format f
// structurally (when a line of it holds a keyword): when it does not, the
// document is read line by line like any text, and what the pack finds on
// a line depends on the lines around it only as in text.
func ReadsWhole(f Format, data []byte) bool {
	return f.Structured() && (parseAlways || mayAssemble(f, data) || f == FormatYAML && containsFold(data, "kind: secret"))
}

// MentionsPgpass says whether data holds "pgpass" or "PGPASS". It looks
// eight bytes at a time for a p or P followed by a g or G, a pair rare in
// text and in base64 alike, and checks each in place. (Two
// bytes.Contains, each stopping at every "p", were a twelfth of a history
// scan's CPU.)
func MentionsPgpass(data []byte) bool {
	const low, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	// zero marks the bytes of v that are 0 (exactly: no borrow between bytes)
	zero := func(v uint64) uint64 { return ^((v&low + low) | v | low) }
	at := func(k int) bool {
		w := string(data[k : k+6])
		return w == "pgpass" || w == "PGPASS"
	}
	i := 0
	for ; i+9 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		next := binary.LittleEndian.Uint64(data[i+1:]) | 0x2020202020202020
		m := zero((w|0x2020202020202020)^0x7070707070707070) & zero(next^0x6767676767676767) & high
		for m != 0 {
			k := i + bits.TrailingZeros64(m)/8
			if k+6 <= len(data) && at(k) {
				return true
			}
			m &= m - 1
		}
	}
	for ; i+6 <= len(data); i++ {
		if at(i) {
			return true
		}
	}
	return false
}

// ReadsWholeIn is ReadsWhole for a version of a document in format f that
// shares all but the lines in spans (byte ranges of whole lines, each
// with its line break) with a version ReadsWhole turned down: what
// ReadsWhole looks for lies each within one line (TestReadsWholeIsLineLocal),
// so only those lines can hold it.
func ReadsWholeIn(f Format, data []byte, spans [][2]int) bool {
	if !f.Structured() {
		return false
	}
	if parseAlways {
		return true
	}
	for _, s := range spans {
		if ReadsWhole(f, data[s[0]:s[1]]) {
			return true
		}
	}
	return false
}

// containsFold says whether b holds lowerNeedle (lower-case ASCII) in any
// ASCII case.
func containsFold(b []byte, lowerNeedle string) bool {
	first := lowerNeedle[0]
	for i := 0; i+len(lowerNeedle) <= len(b); i++ {
		if lowerFold(b[i]) != first {
			continue
		}
		k := 1
		for k < len(lowerNeedle) && lowerFold(b[i+k]) == lowerNeedle[k] {
			k++
		}
		if k == len(lowerNeedle) {
			return true
		}
	}
	return false
}

// lowerFold lower-cases an ASCII letter and leaves every other byte.
func lowerFold(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// scanLine runs the line detectors on line i. kv says whether key/value
// assignments on the line still need the line-based assembler.
func (p *Pack) scanLine(f *File, lines *Lines, i int, kv bool, r *Result) {
	text := lines.Text(i)
	// very long lines (minified files, dumps) are scanned in overlapping
	// windows so every part of them is seen; columns and the DSN spans
	// count from the line's start
	var spans [][2]int
	hasPass := false
	for off := 0; ; off += maxLine - lineOverlap {
		end := min(len(text), off+maxLine)
		var hp bool
		n := len(r.Candidates)
		spans, hp = p.scanText(f, i, text[off:end], off, r, spans)
		hasPass = hasPass || hp
		if off > 0 || end < len(text) {
			// a window keeps what starts in its own part (from the middle
			// of the overlap before it to the middle of the one after), so
			// a password is taken from the window that holds it whole
			lo, hi := off, end
			if off > 0 {
				lo += lineOverlap / 2
			}
			if end < len(text) {
				hi -= lineOverlap / 2
			}
			kept := r.Candidates[:n]
			for _, c := range r.Candidates[n:] {
				if at := c.Col - 1; lo <= at && at < hi {
					kept = append(kept, c)
				}
			}
			r.Candidates = kept
		}
		if end == len(text) {
			break
		}
	}
	if !kv || !hasPass {
		return
	}
	switch f.Format {
	case FormatShell, FormatDockerfile, FormatCompose:
		p.envAssembly(f, lines, i, spans, r)
	default:
		p.codeAssembly(f, lines, i, spans, r)
	}
}

const (
	maxLine     = 64 << 10
	lineOverlap = 2 << 10
)

// scanText runs the connection-string detectors on text, which is line i
// or the window of it that starts at byte off. It returns the line's DSN
// spans (a password inside one is the DSN's) with those it found added,
// and whether the text names a password key.
func (p *Pack) scanText(f *File, i int, text string, off int, r *Result, spans [][2]int) ([][2]int, bool) {
	lineNo := f.StartLine + i
	lower := dsn.LowerASCII(text)
	if strings.Contains(lower, "://") || strings.Contains(lower, "jdbc:") {
		spans = p.uris(text, lower, lineNo, off, r, spans)
	}
	if mayPDO(lower) {
		p.pdo(text, lineNo, off, r)
	}
	if strings.Contains(lower, "mysql") {
		p.phpConnect(text, lineNo, off, r)
	}
	if strings.Contains(lower, "@tcp(") || strings.Contains(lower, "@unix(") || strings.Contains(lower, "@cloudsql") {
		p.goMySQL(text, lineNo, off, r)
	}
	hasPass := strings.Contains(lower, "pass") || strings.Contains(lower, "pwd") || strings.Contains(lower, "pswd")
	if !hasPass {
		return spans, strings.Contains(lower, "secret")
	}
	if strings.Contains(lower, "(password") || strings.Contains(lower, "( password") {
		if p.tns(text, lower, lineNo, off, r) {
			return append(spans, [2]int{off, off + len(text)}), true
		}
	}
	if strings.Contains(lower, "role") || strings.Contains(lower, "user") {
		p.sqlRole(text, lineNo, off, r)
	}
	return p.connStrings(text, lower, lineNo, off, r, spans), true
}

// uris finds database URIs and JDBC URLs on a line.
func (p *Pack) uris(text, lower string, lineNo, off0 int, r *Result, spans [][2]int) [][2]int {
	for off := 0; off < len(text); {
		j := strings.Index(lower[off:], "://")
		o := strings.Index(lower[off:], "jdbc:oracle:")
		var start, next int
		switch {
		case o >= 0 && (j < 0 || o < j):
			start = off + o
			next = start + len("jdbc:oracle:")
		case j >= 0:
			sep := off + j
			next = sep + 3
			start = sep
			for start > off && isSchemeByte(lower[start-1]) {
				start--
			}
			if start >= 10 && lower[start-10:start] == "jdbc:jtds:" {
				start -= 10
			} else if start >= 5 && lower[start-5:start] == "jdbc:" {
				start -= 5
			}
			if start == sep {
				off = next
				continue
			}
		default:
			return spans
		}
		var parsed *dsn.Parsed
		var n int
		var err error
		jdbc := strings.HasPrefix(lower[start:], "jdbc:")
		if jdbc {
			parsed, n, err = dsn.ParseJDBC(text[start:])
		} else {
			parsed, n, err = dsn.ParseURI(text[start:])
		}
		if err != nil || n == 0 {
			off = next
			continue
		}
		if parsed.HasPassword() && len(parsed.Hosts) == 0 && start+n < len(text) && text[start+n-1] == '@' {
			off = next // user:password@<your-host>: documentation
			continue
		}
		p.emitDSN(driverRule(parsed.Driver, jdbc), parsed, text[start:start+n], off0+start, lineNo, r, 0)
		spans = append(spans, [2]int{off0 + start, off0 + start + n})
		off = max(start+n, next)
	}
	return spans
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+'
}

// emitDSN records a parsed connection string s, which starts at byte base
// of line lineNo, as a candidate or a reference. maskEnd, when past the
// password's end, is where its mask must reach (the end of a quoted
// literal whose own escapes the parser did not resolve).
func (p *Pack) emitDSN(rule string, parsed *dsn.Parsed, s string, base, lineNo int, r *Result, maskEnd int) {
	if !parsed.HasPassword() {
		return
	}
	class := ClassifyValue(parsed.Password)
	if r.refer(class, lineNo, rule) {
		return
	}
	c := Candidate{RuleID: rule, Line: lineNo, Col: base + parsed.PwStart + 1, EndCol: base + parsed.PwEnd + 1,
		Secret: parsed.Password, Raw: parsed.RawPassword(s), DB: *parsed}
	c.EndCol = max(c.EndCol, maskEnd+1)
	var extra []string
	if parsed.Malformed {
		extra = append(extra, TagMalformed)
	}
	r.addSecret(c, class, rule != Pgpass, extra...)
}

var pdoRe = regexp.MustCompile(`(?i)new\s+\\?PDO\s*\(\s*(['"])([^'"]*)['"]\s*,\s*(['"])([^'"]*)['"]\s*,\s*(['"])((?:\\.|[^\\'"])*)['"]`)

// mayPDO says whether lower (a line, lower-cased) holds what every match
// of pdoRe starts with: "new", white space, maybe a backslash, "pdo". (A
// "pdo" anywhere ran the expression over the whole line: on a generated
// file's long lines of escaped bytes, a twentieth of a history scan.)
func mayPDO(lower string) bool {
	for at := 0; ; {
		i := strings.Index(lower[at:], "pdo")
		if i < 0 {
			return false
		}
		j := at + i
		at = j + 1
		if j > 0 && lower[j-1] == '\\' {
			j--
		}
		k := j
		for k > 0 && isRESpace(lower[k-1]) {
			k--
		}
		if k < j && strings.HasSuffix(lower[:k], "new") {
			return true
		}
	}
}

// isRESpace says whether c is in regexp's \s: [\t\n\f\r ].
func isRESpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// pdo finds new PDO("pgsql:…", "user", "password") in text, which starts
// at byte off of its line.
func (p *Pack) pdo(text string, lineNo, off int, r *Result) {
	for _, m := range pdoRe.FindAllStringSubmatchIndex(text, -1) {
		parsed, err := dsn.ParsePDO(text[m[4]:m[5]])
		if err != nil {
			continue
		}
		parsed.User = text[m[8]:m[9]]
		pw := text[m[12]:m[13]]
		parsed.Password = pw
		parsed.PwStart, parsed.PwEnd = m[12], m[13]
		c := Candidate{RuleID: PHPPDO, Line: lineNo, Col: off + m[12] + 1, EndCol: off + m[13] + 1, Secret: unescapePHP(pw, text[m[10]]), Raw: pw, DB: *parsed}
		r.addSecret(c, ClassifyValue(pw), true)
	}
}

var phpConnectRe = regexp.MustCompile(`(?i)(?:\bmysqli_connect|\bmysqli_real_connect|\bmysql_p?connect|\bnew\s+\\?mysqli)\s*\(\s*(?:\$\w+\s*,\s*)?(['"])([^'"]*)['"]\s*,\s*(['"])([^'"]*)['"]\s*,\s*(['"])((?:\\.|[^\\'"])*)['"](?:\s*,\s*['"]([^'"]*)['"])?(?:\s*,\s*['"]?(\d+))?`)

// phpConnect finds mysqli_connect("host", "user", "password", "db"),
// new mysqli(…), mysqli_real_connect($link, …) and mysql_connect(…) with
// literal arguments in text, which starts at byte off of its line.
func (p *Pack) phpConnect(text string, lineNo, off int, r *Result) {
	for _, m := range phpConnectRe.FindAllStringSubmatchIndex(text, -1) {
		pw := text[m[12]:m[13]]
		parsed := dsn.Parsed{Driver: "mysql", User: text[m[8]:m[9]], Password: unescapePHP(pw, text[m[10]]), PwStart: m[12], PwEnd: m[13]}
		if h := text[m[4]:m[5]]; h != "" {
			parsed.Hosts = []string{h}
			if hh, port := splitHostPortLoose(h); port > 0 {
				parsed.Hosts, parsed.Port = []string{hh}, port
			}
		}
		if m[14] >= 0 {
			parsed.Database = text[m[14]:m[15]]
		}
		if m[16] >= 0 {
			parsed.Port = atoi(text[m[16]:m[17]])
		}
		class := ClassifyValue(parsed.Password)
		if r.refer(class, lineNo, PHPConnect) {
			continue
		}
		c := Candidate{RuleID: PHPConnect, Line: lineNo, Col: off + m[12] + 1, EndCol: off + m[13] + 1, Secret: parsed.Password, Raw: pw, DB: parsed}
		r.addSecret(c, class, true)
	}
}

var tnsRe = regexp.MustCompile(`(?i)\(\s*(user(?:_?id|name)?|password|host|port|service_name|sid)\s*=\s*([^()\s]+)\s*\)`)

// tns reads an Oracle Net descriptor that carries credentials,
// (DESCRIPTION=(ADDRESS=(HOST=…)(PORT=…))(CONNECT_DATA=(SERVICE_NAME=…))
// (USER=…)(PASSWORD=…)), in text, which starts at byte off of its line.
func (p *Pack) tns(text, lower string, lineNo, off int, r *Result) bool {
	ms := tnsRe.FindAllStringSubmatchIndex(text, -1)
	id := dsn.Parsed{Driver: "oracle", PwStart: -1, PwEnd: -1}
	for _, m := range ms {
		v := text[m[4]:m[5]]
		switch k := lower[m[2]:m[3]]; k {
		case "password":
			id.Password, id.PwStart, id.PwEnd = v, m[4], m[5]
		case "host":
			id.Hosts = []string{v}
		case "port":
			id.Port = atoi(v)
		case "service_name", "sid":
			id.Database = v
		default:
			id.User = v
		}
	}
	if id.PwStart < 0 {
		return false
	}
	p.emitDSN(JDBCOther, &id, text, off, lineNo, r, 0)
	return true
}

var goMySQLRe = regexp.MustCompile(`([A-Za-z0-9_.$-]+):([^@\s"'` + "`" + `]+)@(tcp6?|unix|cloudsql-mysql|[a-z-]+)\(([^)\s]*)\)/([A-Za-z0-9_.$-]*)`)

// goMySQL finds the Go MySQL driver's DSN, user:password@tcp(host:port)/db
// (also unix(…) and Cloud SQL's cloudsql-mysql(…)), in text, which starts
// at byte off of its line.
func (p *Pack) goMySQL(text string, lineNo, off int, r *Result) {
	for _, m := range goMySQLRe.FindAllStringSubmatchIndex(text, -1) {
		parsed := dsn.Parsed{Driver: "mysql", User: text[m[2]:m[3]], Password: text[m[4]:m[5]], PwStart: m[4], PwEnd: m[5], Database: text[m[10]:m[11]]}
		if addr := text[m[8]:m[9]]; addr != "" && text[m[6]:m[7]] != "unix" {
			h, port := splitHostPortLoose(addr)
			parsed.Hosts, parsed.Port = []string{h}, port
		}
		p.emitDSN(MySQLURI, &parsed, text, off, lineNo, r, 0)
	}
}

var sqlRoleRe = regexp.MustCompile(`(?i)\b(?:create|alter)\s+(?:role|user)\s+(?:if\s+not\s+exists\s+)?("?)([\w.$-]+)"?[^;']*?\bpassword\s+'((?:[^']|'')*)'`)

// sqlRole finds CREATE/ALTER ROLE|USER … PASSWORD '…' in text, which
// starts at byte off of its line.
func (p *Pack) sqlRole(text string, lineNo, off int, r *Result) {
	for _, m := range sqlRoleRe.FindAllStringSubmatchIndex(text, -1) {
		raw := text[m[6]:m[7]]
		pw := strings.ReplaceAll(raw, "''", "'")
		parsed := dsn.Parsed{Driver: "postgresql", User: text[m[4]:m[5]], Password: pw, PwStart: m[6], PwEnd: m[7]}
		c := Candidate{RuleID: SQLRole, Line: lineNo, Col: off + m[6] + 1, EndCol: off + m[7] + 1, Secret: pw, Raw: raw, DB: parsed}
		var extra []string
		if strings.HasPrefix(strings.ToLower(pw), "md5") || strings.HasPrefix(pw, "SCRAM-SHA-256$") {
			extra = append(extra, "password-hash")
		}
		// a role's DDL is a credential: a dictionary password is a weak one
		r.addSecret(c, ClassifyValue(pw), false, extra...)
	}
}

// connStrings finds libpq conninfo and ADO.NET/ODBC strings around each
// "password=" / "pwd=" on the line.
func (p *Pack) connStrings(text, lower string, lineNo, off0 int, r *Result, spans [][2]int) [][2]int {
	for off := 0; off < len(lower); {
		j := indexPwKey(lower[off:])
		if j < 0 {
			return spans
		}
		at := off + j
		off = at + 3
		seg, segStart := enclosing(text, at)
		if seg == "" {
			continue
		}
		var parsed *dsn.Parsed
		var err error
		rule := LibpqConninfo
		if !strings.Contains(seg, ";") && quotedAfterEq(text, at) {
			// password="…": an XML attribute or a call's argument, which
			// the structural rules read; libpq quotes with ' only
			continue
		}
		if strings.Contains(seg, ";") {
			parsed, err = dsn.ParseConnString(seg)
			rule = ConnString
		} else {
			parsed, err = dsn.ParseKeyValue(seg)
		}
		if err != nil {
			continue
		}
		// a conninfo inside a string literal of code is written with that
		// language's escapes too: when there is one in or after the
		// password, its end as parsed is not where it ends as written,
		// and the mask runs to the literal's end
		maskEnd := 0
		if q := segStart - 1; q >= 0 && strings.IndexByte("\"'`", text[q]) >= 0 && parsed.PwStart >= 0 && strings.IndexByte(seg[parsed.PwStart:], '\\') >= 0 {
			maskEnd = off0 + segStart + len(seg)
		}
		p.emitDSN(rule, parsed, seg, off0+segStart, lineNo, r, maskEnd)
		spans = append(spans, [2]int{off0 + segStart, off0 + segStart + len(seg)})
		if segStart+len(seg) > off {
			off = segStart + len(seg)
		}
	}
	return spans
}

// indexPwKey finds "password" or "pwd" followed by optional blanks and '='.
func indexPwKey(l string) int {
	for off := 0; off < len(l); {
		i := strings.Index(l[off:], "p")
		if i < 0 {
			return -1
		}
		at := off + i
		var n int
		switch {
		case strings.HasPrefix(l[at:], "password"):
			n = 8
		case strings.HasPrefix(l[at:], "pwd"):
			n = 3
		default:
			off = at + 1
			continue
		}
		k := at + n
		for k < len(l) && (l[k] == ' ' || l[k] == '\t') {
			k++
		}
		if k < len(l) && l[k] == '=' && (k+1 >= len(l) || l[k+1] != '=') && (at == 0 || !isWordByte(l[at-1])) {
			return at
		}
		off = at + 1
	}
	return -1
}

// quotedAfterEq says whether the value after the key at at and its '='
// opens with a double quote.
func quotedAfterEq(text string, at int) bool {
	eq := strings.IndexByte(text[at:], '=')
	if eq < 0 {
		return false
	}
	v := strings.TrimLeft(text[at+eq+1:], " \t")
	return strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `\"`)
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// enclosing returns the quoted string around position at, or the line
// from the first connection keyword when at is not inside quotes.
func enclosing(text string, at int) (string, int) {
	for _, q := range []byte{'"', '\'', '`'} {
		open := -1
		inside := false
		for k := 0; k < at; k++ {
			if text[k] == q && (k == 0 || text[k-1] != '\\') {
				inside = !inside
				open = k
			}
		}
		if inside {
			end := strings.IndexByte(text[at:], q)
			for end > 0 && text[at+end-1] == '\\' {
				next := strings.IndexByte(text[at+end+1:], q)
				if next < 0 {
					end = -1
					break
				}
				end += next + 1
			}
			if end < 0 {
				return text[open+1:], open + 1
			}
			return text[open+1 : at+end], open + 1
		}
	}
	// unquoted: from the start of the key=value run
	start := 0
	l := dsn.LowerASCII(text)
	for _, k := range []string{"host=", "host =", "server=", "data source=", "driver=", "dbname=", "user=", "user id=", "uid=", "database=", "port=", "hostaddr=", "service="} {
		if i := strings.Index(l, k); i >= 0 && i < at && (start == 0 || i < start) {
			start = i
		}
	}
	if start == 0 && !strings.HasPrefix(l, "host") && !strings.HasPrefix(l, "server") && !strings.HasPrefix(l, "user") {
		return text[at:], at
	}
	return text[start:], start
}

// pgpassLine parses one line of a .pgpass file.
func (p *Pack) pgpassLine(f *File, lines *Lines, i int, r *Result) {
	text := lines.Text(i)
	parsed, err := dsn.ParsePgpass(text)
	if err != nil || !parsed.HasPassword() {
		return
	}
	p.emitDSN(Pgpass, parsed, text, 0, f.StartLine+i, r, 0)
}

// envAssembly handles NAME=value assignments in shell-like files: a
// password variable is joined with the user, host, port and database
// variables of the same prefix within 12 lines (PGHOST, PGUSER, PGPASSWORD
// become one credential).
func (p *Pack) envAssembly(f *File, lines *Lines, i int, spans [][2]int, r *Result) {
	d := dsn.Shell
	switch f.Format {
	case FormatDockerfile:
		d = dsn.Dockerfile
	case FormatCompose:
		d = dsn.Compose
	}
	parse := func(_ int, s string) []dsn.Assignment {
		as := dsn.ParseEnvLine(s, d)
		if f.Format == FormatCompose {
			as = append(as, dsn.ParseCodeLine(s)...)
		}
		return as
	}
	p.lineAssembly(f, lines, i, parse, spans, r)
}

// codeAssembly handles key/value pairs in source code and unparsed config.
func (p *Pack) codeAssembly(f *File, lines *Lines, i int, spans [][2]int, r *Result) {
	bareLiteral := f.Format.Structured()
	makefile := isMakefile(f.Path)
	parse := func(k int, s string) []dsn.Assignment {
		if makefile {
			if as := dsn.ParseMakeLine(s); len(as) > 0 {
				return as
			}
		}
		as := dsn.ParseCodeLine(s)
		if bareLiteral || k < len(f.fenced) && f.fenced[k] {
			for k := range as {
				if as[k].Expr && isBareINIValue(as[k].Value) {
					as[k].Expr = false
				}
			}
		}
		if f.Format == FormatText || f.Format == FormatCode || f.Format == FormatINI || f.Format == FormatProperties {
			// .env-like lines inside text files, Makefiles, READMEs
			for _, a := range dsn.ParseEnvLine(s, dsn.Shell) {
				dup := false
				for k, b := range as {
					if b.ValStart == a.ValStart {
						dup = true
						if b.Expr && !a.Expr {
							as[k] = a // NAME=value is a literal in an env-style line
						}
					}
				}
				if !dup {
					as = append(as, a)
				}
			}
		}
		if f.Format == FormatText {
			// a properties line in text (a README, notes, a heredoc): its
			// bare value is a literal, not an expression
			for _, pa := range dsn.ParsePropertiesLine(s) {
				known := false
				for k := range as {
					if as[k].ValStart == pa.ValStart {
						known = true
						if as[k].Expr && isBareINIValue(as[k].Value) {
							as[k].Expr = false
						}
					}
				}
				if !known && isBareINIValue(pa.Value) {
					as = append(as, pa)
				}
			}
		}
		return as
	}
	p.lineAssembly(f, lines, i, parse, spans, r)
}

// isMakefile says whether p is a Makefile (Makefile, GNUmakefile, *.mk).
func isMakefile(p string) bool {
	base := strings.ToLower(p[strings.LastIndexByte(p, '/')+1:])
	return base == "makefile" || base == "gnumakefile" || strings.HasSuffix(base, ".mk") || strings.HasPrefix(base, "makefile.")
}

const neighbourhood = 12

func (p *Pack) lineAssembly(f *File, lines *Lines, i int, parse func(int, string) []dsn.Assignment, spans [][2]int, r *Result) {
	text := lines.Text(i)
	var entries []Entry
	for _, a := range parse(i, text) {
		role, _ := keyRole(a.Name)
		if (role == RolePassword || role == RoleSecret) && !inSpans(spans, a.ValStart) {
			entries = append(entries, entryFrom(a, text, f.StartLine+i))
		}
	}
	if len(entries) == 0 {
		return
	}
	lo, hi := max(0, i-neighbourhood), min(lines.Len()-1, i+neighbourhood)
	for k := lo; k <= hi; k++ {
		if k == i {
			for _, a := range parse(k, text) {
				if role, _ := keyRole(a.Name); role != RolePassword && role != RoleSecret {
					entries = append(entries, entryFrom(a, text, f.StartLine+k))
				}
			}
			continue
		}
		b := lines.Bytes(k)
		if len(b) > 4096 || !hasAssignByte(b) {
			continue
		}
		for _, a := range parse(k, string(b)) {
			if role, _ := keyRole(a.Name); role != RolePassword && role != RoleSecret {
				entries = append(entries, entryFrom(a, string(b), f.StartLine+k))
			}
		}
	}
	p.assemble(f, entries, true, r)
}

func hasAssignByte(b []byte) bool {
	for _, c := range b {
		if c == '=' || c == ':' || c == '(' {
			return true
		}
	}
	return false
}

// entryFrom is the entry of assignment a, parsed from text, line number
// line. A quoted value that something other than a delimiter follows (a
// quote, a word: the language may read it as one value) is masked to the
// line's end.
func entryFrom(a dsn.Assignment, text string, line int) Entry {
	e := Entry{Key: a.Name, Value: a.Value, Line: line, Col: a.ValStart + 1, EndCol: a.ValEnd + 1, Expr: a.Expr, Compare: a.Compare}
	if a.ValStart > 0 && a.ValEnd+1 < len(text) && a.ValEnd < len(text) && text[a.ValEnd] == text[a.ValStart-1] && strings.IndexByte("\"'`", text[a.ValEnd]) >= 0 {
		if next := text[a.ValEnd+1]; isWordByte(next) || next == '"' || next == '\'' || next == '`' || next == '\\' {
			e.EndCol = 0
		}
	}
	return e
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

func inSpans(spans [][2]int, at int) bool {
	for _, s := range spans {
		if s[0] <= at && at < s[1] {
			return true
		}
	}
	return false
}

// unescapePHP resolves the escapes of a PHP string literal quoted with q:
// \\ and \' in single quotes; \\ \" \$ \n \t \r \v \f \e, octal and \xHH
// in double quotes. Unknown escapes stay as written, as PHP keeps them.
func unescapePHP(s string, q byte) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		if q == '\'' {
			if n == '\\' || n == '\'' {
				b.WriteByte(n)
				i++
			} else {
				b.WriteByte(c)
			}
			continue
		}
		switch n {
		case '\\', '"', '$':
			b.WriteByte(n)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'e':
			b.WriteByte(0x1b)
		case 'x':
			if i+2 < len(s) && isHexByte(s[i+2]) {
				v, k := 0, i+2
				for ; k < len(s) && k < i+4 && isHexByte(s[k]); k++ {
					v = v*16 + hexVal(s[k])
				}
				b.WriteByte(byte(v))
				i = k - 1
				continue
			}
			b.WriteByte(c)
			continue
		default:
			if '0' <= n && n <= '7' {
				v, k := 0, i+1
				for ; k < len(s) && k < i+4 && '0' <= s[k] && s[k] <= '7'; k++ {
					v = v*8 + int(s[k]-'0')
				}
				b.WriteByte(byte(v))
				i = k - 1
				continue
			}
			b.WriteByte(c)
			continue
		}
		i++
	}
	return b.String()
}

func isHexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
