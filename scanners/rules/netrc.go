package rules

import (
	"strings"

	"github.com/credscan/credscan/scanners/dsn"
)

// netrc reads a .netrc file (machine NAME login USER password PASS,
// tokens across any lines, macdef bodies skipped) and reports the
// passwords of machines that are database hosts: a name with a database
// word or a context word among its labels (arp-db.prod, pg1, mysql.internal)
// or a database port. Other machines (git forges, FTP) are not database
// credentials and are left to the generic rules.
func (p *Pack) netrc(f *File, lines *Lines, r *Result) {
	type tok struct {
		s         string
		line, col int
	}
	var toks []tok
	for i := 0; i < lines.Len(); i++ {
		text := lines.Text(i)
		if strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		if len(toks) > 0 && toks[len(toks)-1].s == "macdef" && strings.TrimSpace(text) != "" {
			continue // a macro's body runs to the next blank line
		}
		for j := 0; j < len(text); {
			for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
				j++
			}
			k := j
			for k < len(text) && text[k] != ' ' && text[k] != '\t' && text[k] != '\r' {
				k++
			}
			if k > j {
				toks = append(toks, tok{text[j:k], f.StartLine + i, j})
			}
			j = k
		}
	}
	var machine string
	var id dsn.Parsed
	for i := 0; i+1 < len(toks); i++ {
		switch toks[i].s {
		case "machine":
			machine = toks[i+1].s
			id = dsn.Parsed{Hosts: []string{machine}}
			if h, port := splitHostPortLoose(machine); port > 0 {
				id.Hosts, id.Port = []string{h}, port
			}
			i++
		case "default":
			machine, id = "", dsn.Parsed{}
		case "login":
			id.User = toks[i+1].s
			i++
		case "port":
			id.Port = atoi(toks[i+1].s)
			i++
		case "password":
			pw := toks[i+1]
			i++
			if machine == "" || !p.dbHost(id.Host(), id.Port) {
				continue
			}
			// the login may follow the password in the same entry
			for k := i + 1; k+1 < len(toks) && toks[k].s != "machine" && toks[k].s != "default"; k++ {
				if toks[k].s == "login" && id.User == "" {
					id.User = toks[k+1].s
				}
			}
			class := ClassifyValue(pw.s)
			if r.refer(class, pw.line, NetrcDB) {
				continue
			}
			c := Candidate{RuleID: NetrcDB, Line: pw.line, Col: pw.col + 1, EndCol: pw.col + len(pw.s) + 1, Secret: pw.s, Raw: pw.s, DB: id}
			c.DB.PwStart, c.DB.PwEnd = -1, -1
			r.addSecret(c, class, false)
		}
	}
}

// dbHost says whether a host name (or its port) names a database server.
func (p *Pack) dbHost(host string, port int) bool {
	switch port {
	case 5432, 6432, 3306, 1433, 1521, 27017, 26257:
		return true
	}
	if p.isContext(splitKey(host)) {
		return true
	}
	for _, seg := range splitKey(host) {
		for _, w := range []string{"pg", "postgres", "mysql", "maria", "mssql", "oracle", "mongo", "rds"} {
			if strings.HasPrefix(seg, w) {
				return true
			}
		}
		if strings.HasSuffix(seg, "db") {
			return true
		}
	}
	return false
}
