package rules

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/credscan/credscan/scanners/dsn"
)

// Differential: on real structured files (Go's source tree: JSON, YAML,
// XML, properties, TOML; the escape corpus and every rule test's
// documents), skipping the structural parse of documents mayAssemble
// passes over finds exactly what parsing every document finds.
func TestMayAssembleLosesNothing(t *testing.T) {
	var docs []struct{ path, data string }
	goroot, _ := exec.Command("go", "env", "GOROOT").Output()
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= 3000 {
			return nil
		}
		if DetectFormat(p).Structured() {
			if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
				docs = append(docs, struct{ path, data string }{p, string(b)})
				n++
			}
		}
		return nil
	})
	// documents that hold credentials in every structured shape the tests use
	for _, c := range []string{
		"application.yml|spring:\n  datasource:\n    url: jdbc:postgresql://arp-db:5432/arp\n    username: arp_app\n    password: \"Spr1ngY4ml\"\n",
		"ormconfig.json|{\"type\": \"postgres\", \"host\": \"arp-db\", \"username\": \"orm\", \"password\": \"T0rmPw9x\"}",
		"app.json|{\"url\": \"postgres:\\/\\/app:Esc4ped9@arp-db\\/arp\"}",
		"context.xml|<Resource url=\"jdbc:mysql://h/d?user=u&amp;password=Xm1Ent9x\"/>",
		"deploy.yaml|env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: arp\n",
		"values.yaml|db:\n  url: >\n    postgres://app:F0lded9x@arp-db/arp\n",
		"robo3t.json|{\"connections\": [{\"serverHost\": \"mongo1\", \"credentials\": [{\"userName\": \"robo\", \"userPassword\": \"Robo3tPw9\"}]}]}",
		"my.cnf|[client]\nuser=u\npassword=MyCnfPw9x\n",
		// keys that are password words over an object or an array, and
		// block scalars under keys with no role, are not parsed for
		"compute-api.json|{\"schemas\": {\"sharedSecret\": {\"type\": \"string\", \"url\": \"postgres://app:Js0nObj9x@arp-db/arp\"},\n \"password\": [\"Arr4yPw9x\"], \"oauth2ClientSecret\": {\"host\": \"arp-db\", \"user\": \"app\"}}}",
		"nested.json|{\"sharedSecret\": {\"db\": {\"password\": \"Nest3dPw9\", \"host\": \"arp-db\"}}}",
		"openapi.yaml|paths:\n  /q:\n    description: |\n      postgres://app:Bl0ckDesc9@arp-db/arp\n      user: app\n    value: >\n      jdbc:postgresql://arp-db/arp?user=app\n",
		"values.yaml|db:\n  url: |\n    postgres://app:Bl0ckUrl9@arp-db/arp\n  notes: >-\n    host=arp-db\n",
		"api.json|{\"description\": \"the \\\"x\\\" field: https://cloud.example.com/docs\",\n \"url\": \"postgres://app:Pl4inUrl9@arp-db/arp\", \"dsn\": \"postgres:\\/\\/app:Esc4ped7@arp-db\\/arp\"}",
		// a password that is a reference, and the same key with a value
		// that is not one
		"ci.yml|jobs:\n  publish:\n    steps:\n      - uses: ./.github/actions/publish\n        with:\n          docker_hub_login: ${{ secrets.docker_hub_login }}\n          docker_hub_password: ${{ secrets.docker_hub_password }}\n          quay_io_password: \"${{ secrets.quay }}\"\n",
		"compose.yaml|services:\n  db:\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: ${DB_PASSWORD}\n      host: arp-db\n",
		"values.yaml|db:\n  host: arp-db\n  user: app\n  password: ${DB_PASSWORD}\n  url: postgres://app:${DB_PASSWORD}@arp-db/arp\n",
		"values.yaml|db:\n  host: arp-db\n  user: app\n  password: ${{ secrets.x }} R3fN0t9x\n",
		"values.yaml|db:\n  host: arp-db\n  user: app\n  password: ${DB}R3fN0t9y\n",
		"values.yaml|db:\n  host: arp-db\n  user: app\n  password: '${{ secrets.x }}' # R3fN0t9z\n",
		"config.yml|spring:\n  datasource:\n    url: jdbc:postgresql://arp-db:5432/arp\n    username: arp_app\n    password: ${SPRING_PW}\n  mail:\n    password: Spr1ngM4il\n",
		"pnpm-lock.yaml|packages:\n  /x@1.0.0:\n    deprecated: |-\n      use postgres://app:Depr3c9x@arp-db/arp instead\n    resolution: {integrity: sha512-abc, tarball: https://registry.example/x.tgz}\n",
	} {
		p, d, _ := strings.Cut(c, "|")
		docs = append(docs, struct{ path, data string }{p, d})
	}
	if n == 0 {
		t.Log("no Go source tree: the fixtures only")
	}
	compared := 0
	for _, d := range docs {
		parseAlways = false
		fast := scanText(t, d.path, d.data)
		parseAlways = true
		full := scanText(t, d.path, d.data)
		parseAlways = false
		if a, b := fmt.Sprint(fast.Candidates, fast.References), fmt.Sprint(full.Candidates, full.References); a != b {
			t.Errorf("%s: skipping the parse changes what is found (%d candidates and %d references against %d and %d)",
				d.path, len(fast.Candidates), len(fast.References), len(full.Candidates), len(full.References))
		}
		compared++
	}
	t.Logf("%d documents compared", compared)
}

// What mayAssemble passes over and what it does not, line by line: a
// JSON key that is a password word over an object or an array, and a
// YAML block scalar under a key with no role, hold nothing to assemble.
func TestMayAssembleLines(t *testing.T) {
	json, yaml := DetectFormat("a.json"), DetectFormat("a.yaml")
	for _, c := range []struct {
		f    Format
		line string
		want bool
	}{
		{json, `"sharedSecret": {`, false},
		{json, `  "oauth2ClientSecret":{"type": "string"}`, false},
		{json, `"password": [`, false},
		{json, `"password": "x"`, true},
		{json, `"password": 5`, true},
		{json, `"password":`, true}, // the value on the next line: counted
		{json, `'dbPass' : null`, true},
		{json, `"description": "the \"x\" field, see https://cloud.example.com/docs"`, false},
		{json, `"url": "postgres:\/\/app:pw@h\/arp"`, true},
		{json, `"url": "Postgres://app:p\"w@h/arp"`, true},
		{json, `"url": "\u0070ostgres://app:pw@h/arp"`, true}, // an escaped scheme: counted
		{json, `"url": "\x70ostgres://app:pw@h/arp"`, true},
		{json, `"description": "For example:\nhttps://example.com/x \"y\""`, false},
		{json, `"url": "\npostgres://app:p\"w@h/arp"`, true},
		{DetectFormat("a.properties"), `url=\postgres://app:pw@h/arp\`, true},
		{json, `"url": "mysql+pymysql://app:pw@h/arp", "note": "\"x\""`, true},
		{json, `"url": "jdbc:postgresql://h/arp?password=p\u0021"`, true},
		{DetectFormat("a.xml"), `<a href="https://example.com/?a=1&amp;b=2"/>`, false},
		{DetectFormat("a.xml"), `<r url="postgres://app:p&amp;w@h/arp"/>`, true},
		{DetectFormat("a.xml"), `<r url="post&#103;res://app:p&amp;w@h/arp"/>`, true},
		{yaml, `    description: |`, false},
		{yaml, `- deprecated: >-`, false},
		{yaml, `  "value": |`, false},
		{yaml, `  url: |`, true},
		{yaml, `  - jdbcUrl: >`, true},
		{yaml, `  host: |`, true},
		{yaml, `  "db.url": |`, true},
		{yaml, `? : |`, true},     // no key to read: counted
		{yaml, `a: b: |`, true},   // not a plain key: counted
		{yaml, `x: "a: |"`, true}, // the marker in a quoted value: counted
		// a password that is one reference to the end of its line
		{yaml, `          docker_hub_password: ${{ secrets.docker_hub_password }}`, false},
		{yaml, `  "password": "${{ secrets.x }}"`, false},
		{yaml, "  POSTGRES_PASSWORD: ${DB_PASSWORD}\r", false},
		{yaml, `  password : '${PW}'  `, false},
		{yaml, `  password: ${{ secrets.x }} # rotated`, true},
		{yaml, `  password: ${{ secrets.x }}Pw9`, true},
		{yaml, `  password: ${{ format('{0}', secrets.x) }}`, true},
		{yaml, `  password: ${DB_PASSWORD:-Def4ult9}`, true},
		{yaml, `  password: ${DB}${PW}`, true},
		{yaml, `  password: "${PW}'`, true},
		{yaml, `  password:`, true},
		{yaml, `  password: ${}`, true},
		{json, `"password": "${PW}"`, true}, // (JSON's keys are not looked past)
	} {
		if got := mayAssemble(c.f, []byte(c.line+"\n")); got != c.want {
			t.Errorf("format %d, %q: mayAssemble %v, want %v", c.f, c.line, got, c.want)
		}
	}
}

// endsInPasswordWord's two-letter gate turns away only what the words
// themselves would: it agrees with trying every word.
func TestPasswordWordGate(t *testing.T) {
	every := endsInWord
	pieces := []string{"pass", "PASS", "word", "Word", "wd", "WD", "pw", "Pw", "d", "s", "db", "DB", "secret", "Secret", "phrase", "PHRASE", "_", "-", ".", "x", "a", "e", "t", "r", "sw", "ps"}
	r := rand.New(rand.NewPCG(3, 3))
	hits := 0
	for range 200000 {
		var b []byte
		for range 1 + r.IntN(5) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		want := every(b)
		if got := endsInPasswordWord(b); got != want {
			t.Fatalf("%q: %v, every word says %v", b, got, want)
		}
		if want {
			hits++
		}
	}
	if hits < 1000 {
		t.Fatalf("only %d password words made", hits)
	}
}

// What ReadsWhole looks for lies within a line: a document reads whole
// exactly when one of its lines (with its line break), taken alone, does.
// So a version whose earlier version it shares lines with need only be
// checked on the lines it does not share (ReadsWholeIn). Checked on Go's
// structured files and on random lines built from what ReadsWhole reacts
// to (password words, terminators, escapes and URLs, block scalars, kind:
// secret), in every structured format.
func TestReadsWholeIsLineLocal(t *testing.T) {
	type doc struct {
		f    Format
		data string
	}
	var docs []doc
	goroot, _ := exec.Command("go", "env", "GOROOT").Output()
	filepath.WalkDir(filepath.Join(strings.TrimSpace(string(goroot)), "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || len(docs) >= 2000 {
			return nil
		}
		if f := DetectFormat(p); f.Structured() {
			if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
				docs = append(docs, doc{f, string(b)})
			}
		}
		return nil
	})
	r := rand.New(rand.NewPCG(53, 59))
	pieces := []string{"password", "Passwd", "db_pass", "dbPWD", "secret", "userPassword", "passphrase", "bypass", "pw", "key", "name",
		":", "=", "==", " : ", "\": ", "' :", "\t", " ", "\r", "\"", "'", "://", `:\/\/`, "jdbc:", "\\", "&", ": |", ": >", "kind: secret", "KIND: Secret", "x", "-", "{", "}", "[", "url", "description", "- ", "postgres", "https", "mysql+x", "&amp;"}
	formats := []Format{FormatJSON, FormatYAML, FormatXML, FormatCompose, DetectFormat("a.properties"), DetectFormat("a.toml"), DetectFormat("a.ini")}
	for trial := 0; trial < 4000; trial++ {
		var b strings.Builder
		for n := 1 + r.IntN(6); n > 0; n-- {
			for k := r.IntN(8); k > 0; k-- {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			if r.IntN(5) != 0 {
				b.WriteByte('\n')
			}
		}
		docs = append(docs, doc{formats[r.IntN(len(formats))], b.String()})
	}
	reads, lines := 0, 0
	for i, d := range docs {
		whole := ReadsWhole(d.f, []byte(d.data))
		any := false
		for _, l := range strings.SplitAfter(d.data, "\n") {
			if l != "" && ReadsWhole(d.f, []byte(l)) {
				any = true
			}
			lines++
		}
		if whole != any {
			t.Fatalf("document %d (format %d, %d bytes): ReadsWhole %v on the whole, %v on its lines", i, d.f, len(d.data), whole, any)
		}
		if whole {
			reads++
		}
	}
	t.Logf("%d documents (%d lines), %d read whole", len(docs), lines, reads)
	if reads < 500 || len(docs)-reads < 500 {
		t.Fatal("too little compared")
	}
}

// mentionsPgpass agrees with looking for "pgpass" and "PGPASS" with
// bytes.Contains, wherever they sit (word edges, the ends of the data)
// among near misses.
func TestMentionsPgpass(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 67))
	parts := []string{"pgpass", "PGPASS", "PgPass", "pgpas", "gpass", "pg pass", "g", "G", "p", "ass", "x", "\n", "héllo", "\x00"}
	yes := 0
	for trial := 0; trial < 20000; trial++ {
		var b strings.Builder
		for n := r.IntN(12); n > 0; n-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		data := []byte(b.String())
		want := bytes.Contains(data, []byte("pgpass")) || bytes.Contains(data, []byte("PGPASS"))
		if got := MentionsPgpass(data); got != want {
			t.Fatalf("trial %d: MentionsPgpass(%q) = %v, want %v", trial, data, got, want)
		}
		if want {
			yes++
		}
	}
	if yes < 5000 || yes > 15000 {
		t.Fatalf("%d of 20000 texts mention it: the test has no teeth", yes)
	}
}

// mayPDO passes every line pdoRe matches: random lines built from what
// its matches are made of (case mixed, white space of every kind \s
// holds, backslashes, near misses), and it turns down most lines that
// only hold "pdo". The letters it looks for have no case outside ASCII,
// which the expression's (?i) would also match.
func TestMayPDONeverMisses(t *testing.T) {
	for _, c := range "newpdo" {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f > unicode.MaxASCII {
				t.Fatalf("%c folds to %U: mayPDO's lower-casing would miss it", c, f)
			}
		}
	}
	r := rand.New(rand.NewPCG(7, 11))
	pieces := []string{"new", "NEW", "New", "nEw", " ", "\t", "\n", "\f", "\r", "\v", `\`, "PDO", "pdo", "Pdo", "(", "'pgsql:host=db'", `"u"`, "'pw'", ",", "x", "renew", "pdos"}
	matched, turnedDown := 0, 0
	for n := 0; n < 200000; n++ {
		var b strings.Builder
		for k := r.IntN(6); k > 0; k-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if r.IntN(2) == 0 {
			// a call, each part of it written one of several ways, some of
			// them wrong
			pick := func(alts ...string) string { return alts[r.IntN(len(alts))] }
			b.WriteString(pick("new", "NEW", "New", "ne w", "knew", "") + pick(" ", "\t", "\n\t", "\f", "\r", "\v", "", "  ") +
				pick("", `\`, `\\`) + pick("PDO", "pdo", "PdO", "PD0") + pick("", " ", "\t") + "(" +
				pick("'pgsql:host=db;dbname=arp'", `"mysql:host=db"`) + pick(", ", ",") + pick(`"app"`, "'app'") + ", " + pick("'s3cr3t'", `"p\"w"`, "pw"))
		}
		for k := r.IntN(4); k > 0; k-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		may := mayPDO(dsn.LowerASCII(s))
		if pdoRe.MatchString(s) {
			matched++
			if !may {
				// (named without its password)
				shown := strings.NewReplacer("s3cr3t", "…", `p\"w`, "…").Replace(s)
				t.Fatalf("pdoRe matches %q, mayPDO says no", shown)
			}
		} else if !may && strings.Contains(dsn.LowerASCII(s), "pdo") {
			turnedDown++
		}
	}
	if matched == 0 || turnedDown == 0 {
		t.Fatalf("%d lines matched, %d turned down: the generator misses a case", matched, turnedDown)
	}
}

// splitKeyByBuilder is splitKey as it was, a builder for each segment:
// the reference.
func splitKeyByBuilder(k string) []string {
	var segs []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 && !allDigits(cur.String()) {
			segs = append(segs, strings.ToLower(cur.String()))
		}
		cur.Reset()
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '.' || c == '_' || c == '-' || c == ' ' || c == '/' || c == ':' || c == '[' || c == ']' || c == '$' || c == '@' || c == '#':
			flush()
		case 'A' <= c && c <= 'Z' && i > 0 && 'a' <= k[i-1] && k[i-1] <= 'z':
			flush()
			cur.WriteByte(c)
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	if len(segs) == 1 && strings.HasPrefix(segs[0], "pg") && len(segs[0]) > 2 {
		switch rest := segs[0][2:]; rest {
		case "password", "user", "host", "hostaddr", "port", "database", "passfile", "service":
			segs = []string{"pg", rest}
		}
	}
	return segs
}

// splitKey splits every key as the builder did: keys made of separators,
// camelCase, digits, upper case, bytes outside ASCII and PG names.
func TestSplitKeyIsByBuilder(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 17))
	pieces := []string{".", "_", "-", " ", "/", ":", "[0]", "]", "$", "@", "#", "db", "DB", "Password", "password", "PG", "pg", "PASSWORD", "user", "Host", "12", "3", "x", "Ä", "é", "spring", "dataSource", "URL", "aB", "Ab"}
	for n := 0; n < 100000; n++ {
		var b strings.Builder
		for k := r.IntN(8); k > 0; k-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		k := b.String()
		if got, want := splitKey(k), splitKeyByBuilder(k); !slices.Equal(got, want) {
			t.Fatalf("splitKey(%q) = %q, the builder gave %q", k, got, want)
		}
	}
}
