package leakcheck

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// Marker returns a random token of letters and digits (14 bytes) that a
// test writes as one piece of a planted secret: a piece that shows up in
// an output is a leak, even when the rest of the secret was masked.
func Marker(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "Lk" + strings.ToUpper(hex.EncodeToString(b))
}

// EscapedFile is a file of an escape corpus: a credential written with
// the escapes of the file's format.
type EscapedFile struct {
	Path    string // relative, slash-separated; its name sets the format
	Content string
	// Markers are the pieces of the secret as written between escapes;
	// none may appear in any output.
	Markers []string
}

// EscapeCorpus returns files that write ARP credentials with every escape
// each format credscan parses has: JSON, YAML (double- and single-quoted,
// continuations, block and multi-line plain scalars), docker compose,
// .properties, XML (entities in text and attributes), Python, shell,
// .env, Dockerfile, TOML/INI, Java, JavaScript, PHP, libpq conninfo,
// percent-encoded URIs, connection strings, SQL and .pgpass.
func EscapeCorpus(t testing.TB) []EscapedFile {
	t.Helper()
	var files []EscapedFile
	add := func(path string, build func(m func() string) string) {
		var ms []string
		m := func() string { x := Marker(t); ms = append(ms, x); return x }
		files = append(files, EscapedFile{Path: path, Content: build(m), Markers: ms})
	}
	const host, user = "arp-db.prod.internal", "arp_app"
	add("json/q.json", func(m func() string) string {
		return `{"database":{"host":"` + host + `","username":"` + user + `","database":"arp","password":"` + m() + `\"` + m() + `\\` + m() + `\/` + m() + `\u0041` + m() + "\"}}\n"
	})
	add("json/pretty.json", func(m func() string) string {
		return "{\n  \"db\": {\n    \"host\": \"" + host + "\",\n    \"user\": \"" + user + "\",\n    \"password\": \"" + m() + `\u00e9\t` + m() + `\ud83d\ude00` + m() + "\"\n  }\n}\n"
	})
	add("json/url.json", func(m func() string) string {
		return `{"database_url":"postgresql:\/\/` + user + `:` + m() + `%40` + m() + `@` + host + `\/arp"}` + "\n"
	})
	add("yaml/dq.yml", func(m func() string) string {
		return "database:\n  host: " + host + "\n  username: " + user + "\n  password: \"" + m() + `\"` + m() + `\\` + m() + `\x41` + m() + `\u0041\t` + m() + "\\\n    " + m() + "\"\n"
	})
	add("yaml/sq.yml", func(m func() string) string {
		return "database:\n  host: " + host + "\n  username: " + user + "\n  password: '" + m() + "''" + m() + "\n    " + m() + "'\n"
	})
	add("yaml/plain.yml", func(m func() string) string {
		return "database:\n  host: " + host + "\n  username: " + user + "\n  password: " + m() + "\n    " + m() + "\n  port: 5432\n"
	})
	add("yaml/block.yml", func(m func() string) string {
		return "database:\n  host: " + host + "\n  username: " + user + "\n  password: >-\n    " + m() + "\n    " + m() + "\n  port: 5432\n"
	})
	add("compose/docker-compose.yml", func(m func() string) string {
		return "services:\n  app:\n    environment:\n      POSTGRES_HOST: " + host + "\n      POSTGRES_USER: " + user + "\n      POSTGRES_PASSWORD: \"" + m() + "$$" + m() + "\"\n  worker:\n    environment:\n      - PGHOST=" + host + "\n      - PGPASSWORD=" + m() + "$$" + m() + "\n"
	})
	add("props/application.properties", func(m func() string) string {
		return "spring.datasource.url=jdbc:postgresql://" + host + ":5432/arp\nspring.datasource.username=" + user + "\nspring.datasource.password=" + m() + `\=` + m() + `\:` + m() + `\u0041` + m() + `\\` + m() + "\\\n    " + m() + "\n"
	})
	add("xml/hibernate.cfg.xml", func(m func() string) string {
		return "<hibernate-configuration><session-factory>\n  <property name=\"hibernate.connection.url\">jdbc:postgresql://" + host + "/arp</property>\n  <property name=\"hibernate.connection.username\">" + user + "</property>\n  <property name=\"hibernate.connection.password\">" + m() + "&amp;" + m() + "&#x41;" + m() + "&#65;" + m() + "&lt;" + m() + "</property>\n</session-factory></hibernate-configuration>\n"
	})
	add("xml/app.config", func(m func() string) string {
		return "<configuration>\n  <appSettings>\n    <add key=\"DbHost\" value=\"" + host + "\"/>\n    <add key=\"DbUser\" value=\"" + user + "\"/>\n    <add key=\"DbPassword\" value=\"" + m() + "&quot;" + m() + "&amp;" + m() + "&apos;" + m() + "\"/>\n  </appSettings>\n</configuration>\n"
	})
	add("py/settings.py", func(m func() string) string {
		return "DATABASES = {\n    'default': {\n        'HOST': '" + host + "',\n        'USER': '" + user + "',\n        'PASSWORD': '" + m() + `\'` + m() + `\\` + m() + "',\n    }\n}\nREPLICA = {'HOST': '" + host + "', 'USER': '" + user + "', 'PASSWORD': \"" + m() + `\"` + m() + `\x41` + m() + "\"}\n"
	})
	add("sh/run.sh", func(m func() string) string {
		return "export PGHOST=" + host + "\nexport PGUSER=" + user + "\nexport PGPASSWORD=\"" + m() + `\"` + m() + `\$` + m() + `\\` + m() + "\\`" + m() + "\"\n"
	})
	add("sh/quotes.sh", func(m func() string) string {
		return "export PGHOST=" + host + "\nexport PGUSER=" + user + "\nexport PGPASSWORD='" + m() + `'"'"'` + m() + "'\n"
	})
	add("sh/bare.sh", func(m func() string) string {
		return "PGHOST=" + host + " PGUSER=" + user + " PGPASSWORD=" + m() + `\ ` + m() + `\$` + m() + " psql arp\n"
	})
	add("env/.env", func(m func() string) string {
		return "DB_HOST=" + host + "\nDB_USER=" + user + "\nDB_PASSWORD=\"" + m() + `\"` + m() + `\\` + m() + "\"\n"
	})
	add("docker/Dockerfile", func(m func() string) string {
		return "FROM debian\nENV PGHOST=" + host + " PGUSER=" + user + "\nENV PGPASSWORD=" + m() + `\$` + m() + "\nENV DB_PASSWORD \"" + m() + `\"` + m() + "\"\n"
	})
	add("toml/config.toml", func(m func() string) string {
		return "[database]\nhost = \"" + host + "\"\nuser = \"" + user + "\"\npassword = \"" + m() + `\"` + m() + `\u0041` + m() + `\\` + m() + "\"\n[replica]\nhost = \"" + host + "\"\nuser = \"" + user + "\"\npassword = '" + m() + `\` + m() + "'\n"
	})
	add("ini/db.ini", func(m func() string) string {
		return "[postgres]\nhost = " + host + "\nuser = " + user + "\npassword = " + m() + `\;` + m() + "\n"
	})
	add("java/Db.java", func(m func() string) string {
		return "class Db {\n  void init(DataSource ds) {\n    ds.setUrl(\"jdbc:postgresql://" + host + "/arp\");\n    ds.setUsername(\"" + user + "\");\n    ds.setPassword(\"" + m() + `\"` + m() + `\\` + m() + `\u0041` + m() + "\");\n  }\n}\n"
	})
	add("js/knexfile.js", func(m func() string) string {
		return "module.exports = {\n  client: 'pg',\n  connection: {\n    host: '" + host + "',\n    user: '" + user + "',\n    password: '" + m() + `\'` + m() + `\x41` + m() + "',\n  },\n};\n"
	})
	add("php/db.php", func(m func() string) string {
		return "<?php\n$pdo = new PDO(\"pgsql:host=" + host + ";dbname=arp\", \"" + user + "\", \"" + m() + `\"` + m() + `\$` + m() + "\");\n"
	})
	add("go/conninfo.go", func(m func() string) string {
		return "package db\n\nconst conninfo = \"host=" + host + " user=" + user + " password='" + m() + `\\'` + m() + `\\\\` + m() + "' dbname=arp\"\n"
	})
	add("uri/db.txt", func(m func() string) string {
		return "DATABASE_URL=postgresql://" + user + ":" + m() + "%22" + m() + "%5C" + m() + "%40" + m() + "@" + host + ":5432/arp\n"
	})
	add("cs/appsettings.json", func(m func() string) string {
		return `{"ConnectionStrings":{"Arp":"Host=` + host + `;Username=` + user + `;Password=` + m() + `\"` + m() + `\\` + m() + `;Database=arp"}}` + "\n"
	})
	add("sql/roles.sql", func(m func() string) string {
		return "ALTER ROLE " + user + " WITH LOGIN PASSWORD '" + m() + "''" + m() + "';\n"
	})
	add("pgpass/.pgpass", func(m func() string) string {
		return host + ":5432:arp:" + user + ":" + m() + `\:` + m() + `\\` + m() + "\n"
	})
	return files
}

// Markers lists every marker of the corpus.
func Markers(files []EscapedFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Markers...)
	}
	return out
}

// AssertNoMarker fails t when output (named what) holds any marker. The
// failure names the marker's index, never the marker.
func AssertNoMarker(t testing.TB, what string, output []byte, markers []string) {
	t.Helper()
	s := string(output)
	for i, m := range markers {
		if strings.Contains(s, m) {
			t.Errorf("%s holds a piece of a planted secret (marker #%d) — output not shown", what, i)
		}
	}
}
