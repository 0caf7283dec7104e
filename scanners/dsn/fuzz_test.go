package dsn

import (
	"strings"
	"testing"
)

// checkParsed asserts the invariants every parser keeps: the password span
// lies inside the input, and masking removes the raw password.
func checkParsed(t *testing.T, s string, p *Parsed) {
	if p == nil || !p.HasPassword() {
		return
	}
	if p.PwStart < 0 || p.PwEnd > len(s) || p.PwStart > p.PwEnd {
		t.Fatalf("password span [%d,%d) outside input of %d bytes", p.PwStart, p.PwEnd, len(s))
	}
	raw := p.RawPassword(s)
	masked := p.Mask(s)
	// (a password made of the mask's own stars may reappear beside it)
	if len(raw) >= 4 && !strings.Contains(raw, "*") && strings.Count(masked, raw) >= strings.Count(s, raw) {
		t.Fatalf("mask left the raw password in place")
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"postgres://u:p%40ss@h:5432/db?sslmode=require", "postgresql://[::1]:5432,h2/db?password=x", "mysql://a:b@c", "postgres://", "redis://:pw@h:6379/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, n, err := ParseURI(s)
		if err != nil {
			return
		}
		if n > len(s) {
			t.Fatalf("length %d beyond input %d", n, len(s))
		}
		checkParsed(t, s[:n], p)
		// round trip: the decoded password of a re-encoded URI is the same
		if p.HasPassword() && p.User != "" && len(p.Hosts) == 1 && !strings.ContainsAny(p.Hosts[0], "[]:/?#@,") {
			u := "postgres://" + encode(p.User) + ":" + encode(p.Password) + "@" + p.Hosts[0] + "/db"
			q, _, err := ParseURI(u)
			if err != nil || q.Password != p.Password || q.User != p.User {
				t.Fatalf("round trip changed user or password")
			}
		}
	})
}

func encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isWordByte(c) || c == '-' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

func FuzzParseJDBC(f *testing.F) {
	for _, s := range []string{"jdbc:postgresql://h:5432/db?user=u&password=p", "jdbc:sqlserver://h\\inst:1433;databaseName=d;user=sa;password={a;b}", "jdbc:oracle:thin:u/p@//h:1521/s", "jdbc:mysql://u:p@h/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, n, err := ParseJDBC(s)
		if err != nil {
			return
		}
		checkParsed(t, s[:n], p)
	})
}

func FuzzParseKeyValue(f *testing.F) {
	for _, s := range []string{"host=h port=5432 dbname=d user=u password='p w\\'x'", "host = h password = p", "password=", "user='unclosed"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseKeyValue(s)
		if err == nil {
			checkParsed(t, s, p)
		}
		q, err := ParseConnString(s)
		if err == nil {
			checkParsed(t, s, q)
		}
	})
}

func FuzzParsePgpass(f *testing.F) {
	for _, s := range []string{"h:5432:db:u:p\\:w\\\\d", "*:*:*:postgres:x", "# c", "a:b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePgpass(s)
		if err != nil {
			return
		}
		checkParsed(t, strings.TrimRight(s, "\r\n"), p)
		// round trip through the escaping
		esc := func(x string) string { return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(x) }
		if p.HasPassword() && !strings.ContainsAny(p.Password, "\r\n") {
			line := "h:1:d:" + esc(p.User) + ":" + esc(p.Password)
			q, err := ParsePgpass(line)
			if err != nil || q.Password != p.Password || q.User != p.User {
				t.Fatalf("pgpass round trip changed user or password")
			}
		}
	})
}

func FuzzParseEnvLine(f *testing.F) {
	for _, s := range []string{"export PGPASSWORD='a b'", "ENV PGPASSWORD \"x\\$y\"", "Environment=A=1 \"B=2 3\"", "- P=$$x", "x=\"unclosed"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []EnvDialect{Shell, Dockerfile, Compose} {
			for _, a := range ParseEnvLine(s, d) {
				if a.ValStart < 0 || a.ValEnd > len(s) || a.ValStart > a.ValEnd {
					t.Fatalf("value span [%d,%d) outside input of %d", a.ValStart, a.ValEnd, len(s))
				}
			}
		}
		for _, a := range ParseCodeLine(s) {
			if a.ValStart < 0 || a.ValEnd > len(s) || a.ValStart > a.ValEnd {
				t.Fatalf("code value span [%d,%d) outside input of %d", a.ValStart, a.ValEnd, len(s))
			}
		}
	})
}
