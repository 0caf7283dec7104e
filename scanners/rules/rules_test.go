package rules

import (
	"context"
	"strings"
	"testing"
)

// scanText runs the pack on content as if it were the file at path, with
// every line a keyword hit.
func scanText(t *testing.T, path, content string) *Result {
	t.Helper()
	p := New(Options{ContextWords: []string{"arp"}})
	f := &File{Path: path, Format: DetectFormat(path), Data: []byte(content), StartLine: 1, Whole: true}
	var l Lines
	l.Reset(f.Data)
	hits := make([]int, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		if hasKeyword(strings.ToLower(l.Text(i)), p.Keywords()) {
			hits = append(hits, i)
		}
	}
	var r Result
	p.Scan(context.Background(), f, &l, hits, &r)
	return &r
}

func hasKeyword(s string, kws []string) bool {
	for _, k := range kws {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

type want struct {
	rule, secret, user, host, db string
	port, line                   int
}

type ruleCase struct {
	name, path, content string
	want                []want // true positives; empty means no finding
	refs                int    // references expected (-1: don't care)
}

func runCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scanText(t, tc.path, tc.content)
			got := dedupe(r.Candidates)
			if len(got) != len(tc.want) {
				var ids []string
				for _, c := range got {
					ids = append(ids, c.RuleID)
				}
				t.Fatalf("got %d candidates %v, want %d", len(got), ids, len(tc.want))
			}
			for i, w := range tc.want {
				c := got[i]
				if c.RuleID != w.rule {
					t.Errorf("[%d] rule %q, want %q", i, c.RuleID, w.rule)
				}
				if c.Secret != w.secret {
					t.Errorf("[%d] secret mismatch (len %d, want len %d)", i, len(c.Secret), len(w.secret))
				}
				if w.user != "" && c.DB.User != w.user {
					t.Errorf("[%d] user %q, want %q", i, c.DB.User, w.user)
				}
				if w.host != "" && c.DB.Host() != w.host {
					t.Errorf("[%d] host %q, want %q", i, c.DB.Host(), w.host)
				}
				if w.db != "" && c.DB.Database != w.db {
					t.Errorf("[%d] db %q, want %q", i, c.DB.Database, w.db)
				}
				if w.port != 0 && c.DB.Port != w.port {
					t.Errorf("[%d] port %d, want %d", i, c.DB.Port, w.port)
				}
				if w.line != 0 && c.Line != w.line {
					t.Errorf("[%d] line %d, want %d", i, c.Line, w.line)
				}
			}
			if tc.refs >= 0 && len(r.References) != tc.refs {
				t.Errorf("references %d, want %d", len(r.References), tc.refs)
			}
		})
	}
}

// dedupe keeps one candidate per (line, secret), preferring assembled
// identities, as the engine does.
func dedupe(cs []Candidate) []Candidate {
	var out []Candidate
	idx := map[[2]string]int{}
	for _, c := range cs {
		k := [2]string{string(rune(c.Line)), c.Secret}
		if i, ok := idx[k]; ok {
			if richness(c) > richness(out[i]) {
				out[i] = c
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, c)
	}
	return out
}

func richness(c Candidate) int {
	n := 0
	for _, s := range []string{c.DB.User, c.DB.Host(), c.DB.Database} {
		if s != "" {
			n++
		}
	}
	return n
}

func TestURIs(t *testing.T) {
	runCases(t, []ruleCase{
		{"postgres basic", "app.go", `dsn := "postgres://arp_app:S3cr3tPw@arp-db.prod.internal:5432/arp?sslmode=require"`,
			[]want{{PostgresURI, "S3cr3tPw", "arp_app", "arp-db.prod.internal", "arp", 5432, 1}}, 0},
		{"postgresql percent-encoded", "a.txt", `DATABASE_URL=postgresql://arp%40ops:p%40ss%3Aw%2Fo%23r%3Fd%25x@db.internal/arp`,
			[]want{{PostgresURI, "p@ss:w/o#r?d%x", "arp@ops", "db.internal", "arp", 0, 1}}, 0},
		{"ipv6 and multiple hosts", "a.txt", `url: postgres://u1:Hx7pw2@[2001:db8::1]:6432,[2001:db8::2]:6433/arp`,
			[]want{{PostgresURI, "Hx7pw2", "u1", "2001:db8::1", "arp", 6432, 1}}, 0},
		{"query password", "a.txt", `postgres://db.internal/arp?user=arp_app&password=Qw3rty%21x`,
			[]want{{PostgresURI, "Qw3rty!x", "arp_app", "db.internal", "arp", 0, 1}}, 0},
		{"unencoded at in password", "a.txt", `postgres://bob:p@ss@db1/arp`,
			[]want{{PostgresURI, "p@ss", "bob", "db1", "arp", 0, 1}}, 0},
		{"mysql", "a.py", `engine = create_engine("mysql+pymysql://root:Rt9x2kq@mysql.local:3306/shop")`,
			[]want{{MySQLURI, "Rt9x2kq", "root", "mysql.local", "shop", 3306, 1}}, 0}, // SQLAlchemy's dialect+driver
		{"mysql plain", "a.py", `url = "mysql://root:Rt9x2kq@mysql.local:3306/shop"`,
			[]want{{MySQLURI, "Rt9x2kq", "root", "mysql.local", "shop", 3306, 1}}, 0},
		{"mongodb srv", "a.js", `const uri = "mongodb+srv://svc:Mg8pw77a@cluster0.example.net/app"`,
			[]want{{DBURI, "Mg8pw77a", "svc", "cluster0.example.net", "app", 0, 1}}, 0},
		{"no password", "a.go", `dsn := "postgres://arp_app@arp-db/arp"`, nil, 0},
		{"placeholder env", "a.go", `dsn := "postgres://arp_app:${DB_PASSWORD}@arp-db/arp"`, nil, 1},
		{"placeholder angle", "README.md", `postgres://user:<password>@host/db`, nil, 0},
		{"placeholder word", "README.md", `postgres://user:password@localhost/db`, nil, 0},
		{"http url is not a db", "a.txt", `see https://user:tok3nX9@example.com/x`, nil, 0},
	})
}

func TestJDBC(t *testing.T) {
	runCases(t, []ruleCase{
		{"postgres query", "a.properties", `spring.datasource.url=jdbc:postgresql://arp-db:5432/arp?user=arp_app&password=Jd8cPw1x`,
			[]want{{JDBCPostgres, "Jd8cPw1x", "arp_app", "arp-db", "arp", 5432, 1}}, 0},
		{"mysql userinfo", "A.java", `String url = "jdbc:mysql://app:My5qlPw9@db:3306/shop";`,
			[]want{{JDBCMySQL, "My5qlPw9", "app", "db", "shop", 3306, 1}}, 0},
		{"sqlserver props", "A.java", `String u = "jdbc:sqlserver://sql01:1433;databaseName=ledger;user=sa;password=Sq1Srv!x;encrypt=true";`,
			[]want{{JDBCSQLServer, "Sq1Srv!x", "sa", "sql01", "ledger", 1433, 1}}, 0},
		{"oracle thin", "a.xml", `<url>jdbc:oracle:thin:scott/T1ger99x@//ora1:1521/ORCL</url>`,
			[]want{{JDBCOther, "T1ger99x", "scott", "ora1", "ORCL", 1521, 1}}, 0},
		{"no password", "a.properties", `spring.datasource.url=jdbc:postgresql://arp-db:5432/arp`, nil, 0},
	})
}

func TestLibpqAndConnStrings(t *testing.T) {
	runCases(t, []ruleCase{
		{"libpq psycopg", "a.py", `conn = psycopg2.connect("host=arp-db port=5432 dbname=arp user=arp_app password='pa ss\'w0rd'")`,
			[]want{{LibpqConninfo, "pa ss'w0rd", "arp_app", "arp-db", "arp", 5432, 1}}, 0},
		{"libpq bare", "run.sh", `psql "host=10.20.30.40 user=report password=Rp0rtPw9 dbname=gps"`,
			[]want{{LibpqConninfo, "Rp0rtPw9", "report", "10.20.30.40", "gps", 0, 1}}, 0},
		{"libpq placeholder", "a.py", `conn = connect("host=db user=x password=%(pw)s dbname=arp")`, nil, 1},
		{"ado.net", "appsettings.json", `{"ConnectionStrings": {"Arp": "Server=arp-db;Port=5432;Database=arp;User Id=arp_app;Password=Ad0Net#9;"}}`,
			[]want{{ConnString, "Ad0Net#9", "arp_app", "arp-db", "arp", 5432, 1}}, 0},
		{"odbc braces", "a.ini", `conn="Driver={PostgreSQL Unicode};Server=db1;Database=arp;Uid=odbc;Pwd={x;y}}z9};"`,
			[]want{{ConnString, "x;y}z9", "odbc", "db1", "arp", 0, 1}}, 0},
		{"npgsql", "Program.cs", `var cs = "Host=arp-db;Username=arp_app;Password=Npg5ql!x;Database=arp";`,
			[]want{{ConnString, "Npg5ql!x", "arp_app", "arp-db", "arp", 0, 1}}, 0},
		{"pdo", "db.php", `$pdo = new PDO("pgsql:host=arp-db;port=5432;dbname=arp", "arp_app", "Pd0Secret9");`,
			[]want{{PHPPDO, "Pd0Secret9", "arp_app", "arp-db", "arp", 5432, 1}}, 0},
		{"pdo getenv", "db.php", `$pdo = new PDO("pgsql:host=arp-db;dbname=arp", "arp_app", getenv("DB_PASS"));`, nil, -1},
		{"sql create role", "V1__roles.sql", `CREATE ROLE arp_app WITH LOGIN PASSWORD 'Cr3ate''Role';`,
			[]want{{SQLRole, "Cr3ate'Role", "arp_app", "", "", 0, 1}}, 0},
		{"sql alter user", "x.sql", `ALTER USER "report" PASSWORD 'Alt3rUsr9';`,
			[]want{{SQLRole, "Alt3rUsr9", "report", "", "", 0, 1}}, 0},
		{"sql placeholder", "x.sql", `CREATE ROLE app LOGIN PASSWORD '<password>';`, nil, 0},
	})
}

func TestPgpassAndService(t *testing.T) {
	runCases(t, []ruleCase{
		{"pgpass escapes", ".pgpass", "# comment\narp-db:5432:arp:arp_app:pa\\:ss\\\\w0rd\n*:*:*:postgres:Sup3rUs3r\n",
			[]want{{Pgpass, `pa:ss\w0rd`, "arp_app", "arp-db", "arp", 5432, 2}, {Pgpass, "Sup3rUs3r", "postgres", "", "", 0, 3}}, 0},
		{"pg_service", "pg_service.conf", "[arp]\nhost=arp-db.prod.internal\nport=5432\ndbname=arp\nuser=arp_app\npassword=Svc3Pw9x\n",
			[]want{{PgService, "Svc3Pw9x", "arp_app", "arp-db.prod.internal", "arp", 5432, 6}}, 0},
	})
}

func TestEnv(t *testing.T) {
	runCases(t, []ruleCase{
		{"shell group", "backup.sh", "#!/bin/sh\nexport PGHOST=arp-db.prod.internal\nexport PGUSER=arp_backup\nexport PGPASSWORD='Bk9#pw$x'\npg_dump arp > /tmp/x\n",
			[]want{{PgEnv, "Bk9#pw$x", "arp_backup", "arp-db.prod.internal", "", 0, 4}}, 0},
		{"crontab inline", "crontab", "0 2 * * * PGPASSWORD=Cr0nPw9x PGUSER=arp_cron psql -h arp-db -c 'vacuum'\n",
			[]want{{PgEnv, "Cr0nPw9x", "arp_cron", "", "", 0, 1}}, 0},
		{"dockerfile env", "Dockerfile", "FROM postgres:15\nENV PGHOST=arp-db PGUSER=arp_app\nENV PGPASSWORD \"D0ck\\$rPw\"\n",
			[]want{{PgEnv, "D0ck$rPw", "arp_app", "arp-db", "", 0, 3}}, 0},
		{"dockerfile arg", "Dockerfile", "ARG DB_PASSWORD=Arg5ecret9\nARG DB_USER=app\n",
			[]want{{DBEnvPassword, "Arg5ecret9", "app", "", "", 0, 1}}, 0},
		{"compose list", "docker-compose.yml", "services:\n  api:\n    environment:\n      - POSTGRES_USER=arp_app\n      - POSTGRES_PASSWORD=C0mp$$ose9\n      - POSTGRES_DB=arp\n",
			[]want{{DBEnvPassword, "C0mp$ose9", "arp_app", "", "arp", 0, 5}}, 0},
		{"compose map", "compose.yaml", "services:\n  db:\n    image: postgres:15\n    environment:\n      POSTGRES_PASSWORD: Map$$Pw77\n      POSTGRES_USER: arp\n",
			[]want{{DBEnvPassword, "Map$Pw77", "arp", "", "", 0, 5}}, 0},
		{"systemd", "arp-sync.service", "[Service]\nEnvironment=PGHOST=arp-db \"PGPASSWORD=Sy5 temd\"\nEnvironment=PGUSER=sync\n",
			[]want{{PgEnv, "Sy5 temd", "sync", "arp-db", "", 0, 2}}, 0},
		{"dotenv", ".env", "DB_HOST=arp-db\nDB_USER=arp_app\nDB_PASSWORD=\"D0tEnv9x\"\nDB_NAME=arp\nSMTP_PASSWORD=notadb123\n",
			[]want{{DBEnvPassword, "D0tEnv9x", "arp_app", "arp-db", "arp", 0, 3}, {GenericPassword, "notadb123", "", "", "", 0, 5}}, 0},
		{"env reference", ".env", "DB_PASSWORD=${VAULT_DB_PASSWORD}\n", nil, 1},
		{"env empty", ".env", "PGPASSWORD=\n", nil, 0},
		{"not db: generic", "run.sh", "export SMTP_PASSWORD=Sm7pPw99\n", []want{{GenericPassword, "Sm7pPw99", "", "", "", 0, 1}}, 0},
	})
}

func TestFrameworks(t *testing.T) {
	runCases(t, []ruleCase{
		{"spring properties", "application.properties",
			"spring.datasource.url=jdbc:postgresql://arp-db.prod.internal:5432/arp\nspring.datasource.username=arp_app\nspring.datasource.password=Spr1ngPw9\n",
			[]want{{ConfigCred, "Spr1ngPw9", "arp_app", "arp-db.prod.internal", "arp", 5432, 3}}, 0},
		{"spring yaml", "application.yml",
			"spring:\n  datasource:\n    url: jdbc:postgresql://arp-db:5432/arp\n    username: arp_app\n    password: \"Spr1ngY4ml\"\n",
			[]want{{ConfigCred, "Spr1ngY4ml", "arp_app", "arp-db", "arp", 5432, 5}}, 0},
		{"spring yaml reference", "application.yml",
			"spring:\n  datasource:\n    url: jdbc:postgresql://arp-db:5432/arp\n    username: arp_app\n    password: ${ARP_DB_PASSWORD}\n", nil, 1},
		{"django", "settings.py",
			"DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.postgresql',\n        'NAME': 'arp',\n        'USER': 'arp_web',\n        'PASSWORD': 'Dj4ngoPw!',\n        'HOST': 'arp-db',\n        'PORT': '5432',\n    }\n}\n",
			[]want{{ConfigCred, "Dj4ngoPw!", "arp_web", "arp-db", "arp", 5432, 6}}, 0},
		{"django getenv", "settings.py",
			"DATABASES = {\n  'default': {\n    'ENGINE': 'django.db.backends.postgresql',\n    'PASSWORD': os.environ['DB_PASSWORD'],\n  }\n}\n", nil, 1},
		{"rails", "config/database.yml",
			"production:\n  adapter: postgresql\n  host: arp-db\n  database: arp\n  username: rails\n  password: R4ilsPw9\ndevelopment:\n  adapter: postgresql\n  password: <%= ENV['DB_PASSWORD'] %>\n",
			[]want{{ConfigCred, "R4ilsPw9", "rails", "arp-db", "arp", 0, 6}}, 1},
		{"knexfile", "knexfile.js",
			"module.exports = {\n  client: 'pg',\n  connection: {\n    host: 'arp-db',\n    user: 'knex',\n    password: 'Kn3xPw9x',\n    database: 'arp'\n  }\n};\n",
			[]want{{ConfigCred, "Kn3xPw9x", "knex", "arp-db", "arp", 0, 6}}, 0},
		{"typeorm json", "ormconfig.json",
			"{\n  \"type\": \"postgres\",\n  \"host\": \"arp-db\",\n  \"port\": 5432,\n  \"username\": \"orm\",\n  \"password\": \"T0rmPw9x\",\n  \"database\": \"arp\"\n}\n",
			[]want{{ConfigCred, "T0rmPw9x", "orm", "arp-db", "arp", 5432, 6}}, 0},
		{"sequelize json", "config/config.json",
			"{\n  \"production\": {\n    \"username\": \"seq\",\n    \"password\": \"S3qPw9xx\",\n    \"database\": \"arp\",\n    \"host\": \"arp-db\",\n    \"dialect\": \"postgres\"\n  }\n}\n",
			[]want{{ConfigCred, "S3qPw9xx", "seq", "arp-db", "arp", 0, 4}}, 0},
		{"hibernate xml", "hibernate.cfg.xml",
			"<hibernate-configuration><session-factory>\n<property name=\"hibernate.connection.url\">jdbc:postgresql://arp-db/arp</property>\n<property name=\"hibernate.connection.username\">hib</property>\n<property name=\"hibernate.connection.password\">H1bPw99x</property>\n</session-factory></hibernate-configuration>\n",
			[]want{{ConfigCred, "H1bPw99x", "hib", "arp-db", "arp", 0, 4}}, 0},
		{"tomcat context", "context.xml",
			"<Context>\n  <Resource name=\"jdbc/arp\" auth=\"Container\" type=\"javax.sql.DataSource\"\n    url=\"jdbc:postgresql://arp-db:5432/arp\"\n    username=\"tomcat\"\n    password=\"T0mc4tPw\"/>\n</Context>\n",
			[]want{{ConfigCred, "T0mc4tPw", "tomcat", "arp-db", "arp", 5432, 5}}, 0},
		{"helm values", "values.yaml",
			"postgresql:\n  auth:\n    username: helm\n    password: H3lmPw9x\n    database: arp\n",
			[]want{{ConfigCred, "H3lmPw9x", "helm", "", "arp", 0, 4}}, 0},
		{"k8s secret data", "secret.yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: arp-db\ndata:\n  username: YXJwX2FwcA==\n  password: SzhzUHc5eHg=\n",
			[]want{{K8sSecret, "K8sPw9xx", "arp_app", "", "", 0, 7}}, 0},
		{"k8s secret url", "secret.yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ndata:\n  DATABASE_URL: cG9zdGdyZXM6Ly9hcHA6SzhzVXJsOXhAYXJwLWRiL2FycA==\n",
			[]want{{K8sSecret, "K8sUrl9x", "app", "arp-db", "arp", 0, 6}}, 0},
		{"k8s stringData", "secret.yaml",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: arp-db\nstringData:\n  password: Str1ngD4ta\n",
			[]want{{K8sSecret, "Str1ngD4ta", "", "", "", 0, 6}}, 0},
		{"tfvars", "prod.tfvars", "db_host     = \"arp-db\"\ndb_username = \"tf\"\ndb_password = \"Tf4rsPw9\"\n",
			[]want{{ConfigCred, "Tf4rsPw9", "tf", "arp-db", "", 0, 3}}, 0},
		{"ansible", "group_vars/all.yml", "arp_db_host: arp-db\narp_db_user: ansible\narp_db_password: Ans1bl3Pw\n",
			[]want{{ConfigCred, "Ans1bl3Pw", "ansible", "arp-db", "", 0, 3}}, 0},
		{"ansible vault", "group_vars/all.yml", "arp_db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6231\n", nil, -1},
		{"toml", "config.toml", "[database]\nhost = \"arp-db\"\nuser = \"toml\"\npassword = \"T0mlPw9x\"\n",
			[]want{{ConfigCred, "T0mlPw9x", "toml", "arp-db", "", 0, 4}}, 0},
		{"malformed yaml falls back to lines", "bad.yml", "db:\n  password: M4lf0rmed\n   user: [x\n",
			[]want{{ConfigCred, "M4lf0rmed", "", "", "", 0, 2}}, -1},
		{"smtp password is not a db credential", "mail.yml", "smtp:\n  host: mail\n  password: Sm7pPw99\n", []want{{GenericPassword, "Sm7pPw99", "", "", "", 0, 3}}, 0},
		{"go code const", "db.go", "const dbPassword = \"G0C0nst9\"\nconst dbUser = \"gouser\"\n",
			[]want{{ConfigCred, "G0C0nst9", "gouser", "", "", 0, 1}}, 0},
		{"go getenv", "db.go", "dbPassword := os.Getenv(\"DB_PASSWORD\")\n", nil, 1},
		{"java setter", "Cfg.java", "ds.setUrl(\"jdbc:postgresql://arp-db/arp\");\nds.setUsername(\"jv\");\nds.setPassword(\"J4vaSet9\");\n",
			[]want{{ConfigCred, "J4vaSet9", "jv", "arp-db", "arp", 0, 3}}, 0},
		{"comparison is a generic password", "a.go", "if dbPassword == \"Cmp4r3d9\" {\n", []want{{GenericPassword, "Cmp4r3d9", "", "", "", 0, 1}}, 0},
	})
}

// A dependency's version is not a password: lock files name packages
// that end in a password word ("parse-passwd": "^1.0.0"). A value with
// an upper case letter, or in a database's context, still is.
func TestGenericVersionSpecs(t *testing.T) {
	for _, v := range []string{"^1.0.0", "~2.3", ">=1.2.0-rc.1", "1.x", "v3.2.1", "1.0.0", ">=1.2.3 <2.0.0", "^1.0.0 || ^2.0.0", "1.2.3 - 2.3.4", "~1.2.3-beta.2+build.5", "10.0.0.1"} {
		if genericShape(v) {
			t.Errorf("%q has a password's shape", v)
		}
	}
	for _, v := range []string{"2024.01-Secret", "^1.0.0A", "1.2.3-Pw!", "S3cr3t^1.0", "10.20.30-", "v10.20.", "^1.0.0x9!", "12345.abcdef"} {
		if !genericShape(v) {
			t.Errorf("%q has no password's shape", v)
		}
	}
	runCases(t, []ruleCase{
		{"lock file dependency", "package-lock.json", "{\n  \"requires\": {\n    \"parse-passwd\": \"^1.0.0\"\n  }\n}\n", nil, 0},
		{"db context keeps it", "app.json", "{\n  \"db\": {\"host\": \"db.internal\", \"user\": \"app\", \"password\": \"^1.0.0\"}\n}\n",
			[]want{{ConfigCred, "^1.0.0", "app", "db.internal", "", 0, 2}}, 0},
	})
}
