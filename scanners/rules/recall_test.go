package rules

import (
	"slices"
	"testing"
)

// The categories of issue 17: each with true positives (shaped as real
// applications write them) and false positives that must stay silent.

func TestDriverSuffixedURIs(t *testing.T) {
	runCases(t, []ruleCase{
		{"psycopg2 percent-encoded", "db.py", `engine = create_engine("postgresql+psycopg2://arp_app:Sq%40lA%3Ach%2Fy%23@arp-db.prod:5432/arp")`,
			[]want{{PostgresURI, "Sq@lA:ch/y#", "arp_app", "arp-db.prod", "arp", 5432, 1}}, 0},
		{"asyncpg", "db.py", `e = create_async_engine("postgresql+asyncpg://report:AsyncPw77@10.1.2.3/gps")`,
			[]want{{PostgresURI, "AsyncPw77", "report", "10.1.2.3", "gps", 0, 1}}, 0},
		{"pyodbc", "settings.py", `SQLALCHEMY_DATABASE_URI = "mssql+pyodbc://sa:MsOdbc99@sql01:1433/ledger?driver=ODBC+Driver+17"`,
			[]want{{DBURI, "MsOdbc99", "sa", "sql01", "ledger", 1433, 1}}, 0},
		{"unknown dialect is not a db", "a.py", `x = "git+ssh://git:T0ken99x@github.com/a/b"`, nil, 0},
		{"dialect with a reference", "a.py", `url = "postgresql+psycopg2://app:${DB_PASSWORD}@arp-db/arp"`, nil, 1},
	})
}

func TestGoMySQLDSN(t *testing.T) {
	runCases(t, []ruleCase{
		{"tcp", "main.go", `db, err := sql.Open("mysql", "shop:G0dsn9x@tcp(mysql1.internal:3306)/shop?parseTime=true")`,
			[]want{{MySQLURI, "G0dsn9x", "shop", "mysql1.internal", "shop", 3306, 1}}, 0},
		{"cloud sql", "main.go", `dsn := "app:Cl0udSq1@cloudsql-mysql(proj:region:inst)/arp"`,
			[]want{{MySQLURI, "Cl0udSq1", "app", "proj:region:inst", "arp", 0, 1}}, 0},
		{"format string", "main.go", `dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", u, p, h, d)`, nil, 1},
		{"placeholder", "README.md", "user:password@tcp(localhost:3306)/dbname", nil, 0},
	})
}

func TestJDBCUserInfo(t *testing.T) {
	runCases(t, []ruleCase{
		{"postgres userinfo", "App.java", `String a = "jdbc:postgresql://arp_app:JdbcUi9x@arp-db:5432/arp";`,
			[]want{{JDBCPostgres, "JdbcUi9x", "arp_app", "arp-db", "arp", 5432, 1}}, 0},
		{"no host", "App.java", `String b = "jdbc:postgresql:///arp?user=local&password=NoHost99";`,
			[]want{{JDBCPostgres, "NoHost99", "local", "", "arp", 0, 1}}, 0},
		{"jtds", "ds.properties", `url=jdbc:jtds:sqlserver://sql01:1433/ledger;user=sa;password=Jtds9xx1`,
			[]want{{JDBCSQLServer, "Jtds9xx1", "sa", "sql01", "ledger", 1433, 1}}, 0},
		{"sqlserver PWD key", "App.java", `String d = "jdbc:sqlserver://sql02;databaseName=hr;userName=hr_app;PWD=SqPwd77x";`,
			[]want{{JDBCSQLServer, "SqPwd77x", "hr_app", "sql02", "hr", 0, 1}}, 0},
		{"template password", "App.java", `String e = "jdbc:mysql://app:%s@db:3306/shop";`, nil, 1},
	})
}

func TestPHP(t *testing.T) {
	runCases(t, []ruleCase{
		{"wordpress define", "wp-config.php", "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wp_user' );\ndefine( 'DB_PASSWORD', 'Wp9Secret!x' );\ndefine( 'DB_HOST', 'mysql.internal' );\n",
			[]want{{ConfigCred, "Wp9Secret!x", "wp_user", "mysql.internal", "wordpress", 0, 4}}, 0},
		{"define from getenv", "wp-config.php", "<?php\ndefine('DB_PASSWORD', getenv('WP_DB_PASSWORD'));\n", nil, -1},
		{"variables beside pg_connect", "conn.php", "<?php\n$db_host = \"arp-db\";\n$db_user = \"arp_php\";\n$db_pass = \"PhpVar9x\";\n$conn = pg_connect(\"host=$db_host user=$db_user password=$db_pass dbname=arp\");\n",
			[]want{{ConfigCred, "PhpVar9x", "arp_php", "arp-db", "", 0, 4}}, -1},
		{"mysqli_connect", "db.php", `$m = mysqli_connect('mysql1', 'shop', 'Mysqli9x', 'shop');`,
			[]want{{PHPConnect, "Mysqli9x", "shop", "mysql1", "shop", 0, 1}}, 0},
		{"new mysqli with port", "db.php", `$db = new mysqli("10.0.0.5", "app", "N3wMysqli", "crm", 3307);`,
			[]want{{PHPConnect, "N3wMysqli", "app", "10.0.0.5", "crm", 3307, 1}}, 0},
		{"mysqli variables", "db.php", `$m = mysqli_connect($host, $user, $pass, $db);`, nil, 0},
	})
}

func TestClientConfigs(t *testing.T) {
	runCases(t, []ruleCase{
		{"dbeaver data-sources", ".dbeaver/data-sources.xml", "<data-sources>\n<data-source id=\"pg-1\" provider=\"postgresql\" name=\"arp prod\">\n<connection host=\"arp-db.prod\" port=\"5432\" database=\"arp\" url=\"jdbc:postgresql://arp-db.prod:5432/arp\" user=\"dbeaver_u\" password=\"DbvrPw9x\" type=\"prod\"/>\n</data-source>\n</data-sources>\n",
			[]want{{ConfigCred, "DbvrPw9x", "dbeaver_u", "arp-db.prod", "arp", 5432, 3}}, 0},
		{"dbeaver credentials-config (plain)", ".dbeaver/credentials-config.json", `{"postgres-jdbc-1":{"#connection":{"user":"dbv","password":"DbvCred9x"}}}`,
			[]want{{ConfigCred, "DbvCred9x", "dbv", "", "", 0, 1}}, 0},
		{"jetbrains dataSources", ".idea/dataSources.xml", "<project version=\"4\">\n<component name=\"DataSourceManagerImpl\">\n<data-source source=\"LOCAL\" name=\"arp\">\n<driver-ref>postgresql</driver-ref>\n<jdbc-url>jdbc:postgresql://arp-db:5432/arp</jdbc-url>\n<user-name>idea_u</user-name>\n<user-password>IdeaPw9x</user-password>\n</data-source>\n</component>\n</project>\n",
			[]want{{ConfigCred, "IdeaPw9x", "idea_u", "arp-db", "arp", 5432, 7}}, 0},
		{"pgadmin servers.json", "servers.json", "{\n \"Servers\": {\n  \"1\": {\n   \"Name\": \"arp\",\n   \"Host\": \"arp-db.prod\",\n   \"Port\": 5432,\n   \"MaintenanceDB\": \"arp\",\n   \"Username\": \"pgadmin_u\",\n   \"Password\": \"PgAdm1nPw\"\n  }\n }\n}\n",
			[]want{{ConfigCred, "PgAdm1nPw", "pgadmin_u", "arp-db.prod", "arp", 5432, 9}}, 0},
		{"pgadmin pgpassfile", "pgpassfile", "arp-db.prod:5432:*:pgadmin_u:PgPassF1le\n",
			[]want{{Pgpass, "PgPassF1le", "pgadmin_u", "arp-db.prod", "", 5432, 1}}, 0},
		{"robo 3t", "robo3t.json", "{\n \"connections\": [\n  {\n   \"serverHost\": \"mongo1.internal\",\n   \"serverPort\": 27017,\n   \"credentials\": [ { \"userName\": \"robo\", \"userPassword\": \"Robo3tPw9\", \"databaseName\": \"admin\", \"enabled\": true } ]\n  }\n ]\n}\n",
			[]want{{ConfigCred, "Robo3tPw9", "robo", "mongo1.internal", "admin", 27017, 6}}, 0},
		{"my.cnf", ".my.cnf", "[client]\nuser=mycnf\npassword=MyCnfPw9x\nhost=mysql1\n",
			[]want{{ConfigCred, "MyCnfPw9x", "mycnf", "mysql1", "", 0, 3}}, 0},
		{"my.ini", "my.ini", "[mysqldump]\nuser=dump\npassword=\"MyIni9xx\"\n",
			[]want{{ConfigCred, "MyIni9xx", "dump", "", "", 0, 3}}, 0},
		{"odbc.ini", "odbc.ini", "[ARP]\nDriver=PostgreSQL Unicode\nServername=arp-db\nPort=5432\nDatabase=arp\nUsername=odbc_u\nPassword=OdbcIni9x\n",
			[]want{{ConfigCred, "OdbcIni9x", "odbc_u", "arp-db", "arp", 5432, 7}}, 0},
		{"netrc db host", ".netrc", "machine arp-db.prod.internal login netrc_u password NetrcPw9x\nmachine github.com login x password ghp_notadb9\n",
			[]want{{NetrcDB, "NetrcPw9x", "netrc_u", "arp-db.prod.internal", "", 0, 1}}, 0},
		{"netrc across lines", "_netrc", "machine pg1.internal\n  login ops\n  password NetrcMl9x\n",
			[]want{{NetrcDB, "NetrcMl9x", "ops", "pg1.internal", "", 0, 3}}, 0},
		{"netrc forge only", ".netrc", "machine gitlab.example.com login ci password T0kenX99\n", nil, 0},
		{"tnsnames with credentials", "tnsnames.ora", "ARP = (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = ora1)(PORT = 1521)) (CONNECT_DATA = (SERVICE_NAME = ORCL)) (USER = scott) (PASSWORD = T1gerTns9))\n",
			[]want{{JDBCOther, "T1gerTns9", "scott", "ora1", "ORCL", 1521, 1}}, 0},
		{"tnsnames without", "tnsnames.ora", "ARP = (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = ora1)(PORT = 1521)))\n", nil, 0},
	})
}

func TestEnvNames(t *testing.T) {
	runCases(t, []ruleCase{
		{"rds group", "env.sh", "export RDS_HOSTNAME=arp.cluster-x.rds.amazonaws.com\nexport RDS_USERNAME=rds_u\nexport RDS_PASSWORD=RdsPw9xx\n",
			[]want{{DBEnvPassword, "RdsPw9xx", "rds_u", "arp.cluster-x.rds.amazonaws.com", "", 0, 3}}, 0},
		{"mysql and mariadb", ".env", "MYSQL_PWD=MyPwd9xx\nMYSQL_ROOT_PASSWORD=MyRoot9x\nMARIADB_PASSWORD=Maria9xx\nMONGO_INITDB_ROOT_PASSWORD=Mongo9xx\n",
			[]want{{DBEnvPassword, "MyPwd9xx", "", "", "", 0, 1}, {DBEnvPassword, "MyRoot9x", "", "", "", 0, 2}, {DBEnvPassword, "Maria9xx", "", "", "", 0, 3}, {DBEnvPassword, "Mongo9xx", "", "", "", 0, 4}}, 0},
		{"suffixes", "env.sh", "ARP_DB_PASS=ArpDb9xx\nARP_DBPASS=ArpDbp9x\nARP_DB_PSWD=ArpPswd9\nARP_DB_PWD=ArpPwd9x\n",
			[]want{{DBEnvPassword, "ArpDb9xx", "", "", "", 0, 1}, {DBEnvPassword, "ArpDbp9x", "", "", "", 0, 2}, {DBEnvPassword, "ArpPswd9", "", "", "", 0, 3}, {DBEnvPassword, "ArpPwd9x", "", "", "", 0, 4}}, 0},
		{"makefile", "Makefile", "DB_HOST := arp-db\nDB_USER := make_u\nDB_PWD:=MakePw9x\nDB_PASS ?= MakeQ9xx\n\ntest:\n\tpsql -h $(DB_HOST)\n",
			[]want{{ConfigCred, "MakePw9x", "make_u", "arp-db", "", 0, 3}, {ConfigCred, "MakeQ9xx", "make_u", "arp-db", "", 0, 4}}, 0},
		{"makefile reference", "build.mk", "DB_PASSWORD ?= $(shell vault kv get -field=password arp/app)\n", nil, -1},
		{"bypass is not a password", "env.sh", "export PROXY_BYPASS=Internal9x\n", nil, 0},
	})
}

func TestGenericPasswords(t *testing.T) {
	runCases(t, []ruleCase{
		{"assignment", "gen.py", `password = "Gen3ricPw9"`, []want{{GenericPassword, "Gen3ricPw9", "", "", "", 0, 1}}, 0},
		{"typed default argument", "gen.py", `def connect(host, passwd: str = "DefArgPw9"):`, []want{{GenericPassword, "DefArgPw9", "", "", "", 0, 1}}, 0},
		{"secret", "gen.py", `secret = "S3cretVal9"`, []want{{GenericPassword, "S3cretVal9", "", "", "", 0, 1}}, 0},
		{"comparison", "auth.js", `if (password !== "Cmp4r3dX9") { deny() }`, []want{{GenericPassword, "Cmp4r3dX9", "", "", "", 0, 1}}, 0},
		{"dollar that is not a variable", "gen.py", `password = "$tr4ngePw"`, []want{{GenericPassword, "$tr4ngePw", "", "", "", 0, 1}}, 0},
		{"braces", "gen.py", `password = "Br{ace}9x"`, []want{{GenericPassword, "Br{ace}9x", "", "", "", 0, 1}}, 0},
		{"quotes and spaces", "gen.py", `password = "it's 9 o\"clock"`, []want{{GenericPassword, `it's 9 o"clock`, "", "", "", 0, 1}}, 0},
		{"letters and a dash, cases mixed as generators mix them", "gen.yaml", `password: "PyuU-RDCdBsAcb"`, []want{{GenericPassword, "PyuU-RDCdBsAcb", "", "", "", 0, 1}}, 0},
		{"identifier", "gen.py", `password = "userPassword"`, nil, 0},
		{"acronyms in a name", "gen.py", `password = "XMLHttpRequest-IsAValue"`, nil, 0},
		{"snake identifier", "gen.py", `password = "db_password_key"`, nil, 0},
		{"prose", "gen.py", `password = "the password you chose"`, nil, 0},
		{"call", "gen.py", `password = get_password()`, nil, 0},
		{"variable", "gen.js", `password: process.env.PW,`, nil, -1},
		{"path", "gen.py", `password = "/run/secrets/pw_file1"`, nil, 0},
		{"number", "gen.py", `password = "123456789"`, nil, 0},
		{"ftp in an IDE deployment config", ".idea/deployment.xml", "<project>\n<fileTransfer host=\"ftp.example.com\" port=\"21\" accessType=\"FTP\" login=\"ftpuser\" password=\"FtpPw9xx\" />\n</project>\n",
			[]want{{GenericPassword, "FtpPw9xx", "", "", "", 0, 2}}, 0},
		{"sftp-config", "sftp-config.json", "{\n \"type\": \"sftp\",\n \"host\": \"files.example.com\",\n \"user\": \"deploy\",\n \"password\": \"SftpPw9xx\"\n}\n",
			[]want{{GenericPassword, "SftpPw9xx", "", "", "", 0, 5}}, 0},
	})
}

func TestReservedCharactersUnencoded(t *testing.T) {
	runCases(t, []ruleCase{
		{"raw hash", "a.txt", `DATABASE_URL=postgresql://report:hT8#k9q2@10.20.30.40:5432/db`,
			[]want{{PostgresURI, "hT8#k9q2", "report", "10.20.30.40", "db", 5432, 1}}, 0},
		{"raw slash and question mark", "a.yml", `url: postgres://app:a/b?c9x@arp-db/arp`,
			[]want{{PostgresURI, "a/b?c9x", "app", "arp-db", "arp", 0, 1}}, 0},
		{"fragment that is not a password", "a.md", `see postgres://arp-db/arp#section-2 and mail me@x.org`, nil, 0},
	})
	r := scanText(t, "a.txt", `postgresql://report:hT8#k9q2@10.20.30.40:5432/db`)
	if len(r.Candidates) != 1 || !slices.Contains(r.Candidates[0].Tags, TagMalformed) {
		t.Errorf("want one candidate tagged %s", TagMalformed)
	}
}

func TestPgpassOutsidePgpassFiles(t *testing.T) {
	runCases(t, []ruleCase{
		{"echo", "setup.sh", `echo "arp-db:5432:arp:arp_app:ScriptPg9" >> ~/.pgpass`,
			[]want{{Pgpass, "ScriptPg9", "arp_app", "arp-db", "arp", 5432, 1}}, 0},
		{"heredoc", "setup.sh", "cat > ~/.pgpass <<EOT\narp-db.prod:*:*:report:HeredocPg9\nEOT\necho done: ok: yes: no: x\n",
			[]want{{Pgpass, "HeredocPg9", "report", "arp-db.prod", "", 0, 2}}, 0},
		{"dockerfile run", "Dockerfile", "FROM postgres:15\nRUN echo \"arp-db:5432:*:etl:DockerPg9\" > /root/.pgpass && chmod 600 /root/.pgpass\n",
			[]want{{Pgpass, "DockerPg9", "etl", "arp-db", "", 5432, 2}}, 0},
		{"printf two lines", "setup.sh", `printf 'db1:5432:*:a:PrintfPg1\ndb2:5432:*:b:PrintfPg2\n' > "$HOME/.pgpass"`,
			[]want{{Pgpass, "PrintfPg1", "a", "db1", "", 5432, 1}, {Pgpass, "PrintfPg2", "b", "db2", "", 5432, 1}}, 0},
		{"not a pgpass line", "setup.sh", `echo "time: 12:30:00:00:00" >> pgpass.log`, nil, 0},
		{"markdown code block", "README.md", "# Setup\n```yaml\nenv:\n  PGHOST: arp-db\n  PGUSER: readme_u\n  PGPASSWORD: ReadmePg9\n```\n",
			[]want{{PgEnv, "ReadmePg9", "readme_u", "arp-db", "", 0, 6}}, 0},
		{"markdown prose", "README.md", "Set PGPASSWORD: the value from Vault.\n", nil, -1},
		{"a fence with an info string inside a block is a line of it", "README.md", "```\n$ docker pull x\n```yaml\nPGHOST: arp-db\nPGPASSWORD: InnerPg9x\n```\n",
			[]want{{PgEnv, "InnerPg9x", "", "arp-db", "", 0, 5}}, 0},
	})
}

func TestWeakPasswords(t *testing.T) {
	cases := []struct {
		name, path, content string
		weak                bool // found and tagged weak; false: nothing found
	}{
		{"pgpass", ".pgpass", "arp-db:5432:arp:postgres:postgres\n", true},
		{"role DDL", "V2__roles.sql", "ALTER ROLE report PASSWORD 'postgres';\n", true},
		{"pdo with a real host", "db.php", `$pdo = new PDO("pgsql:host=arp-db.prod;dbname=arp", "arp_app", "admin");`, true},
		{"uri with a real host", "a.txt", "postgres://admin:admin@arp-db.prod.internal:5432/arp", true},
		{"config with host and user", "application.yml", "spring:\n  datasource:\n    url: jdbc:postgresql://arp-db:5432/arp\n    username: arp_app\n    password: secret\n", true},
		{"uri on localhost", "README.md", "postgres://user:password@localhost/db", false},
		{"uri on a documentation domain", "README.md", "postgres://app:postgres@db.example.com/app", false},
		{"config without host", "application.yml", "db:\n  password: root\n", false},
		{"conninfo with a documentation host", "guide.md", `connect("host=project:region:instance user=postgres dbname=postgres password=password")`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scanText(t, tc.path, tc.content)
			got := dedupe(r.Candidates)
			if !tc.weak {
				if len(got) != 0 {
					t.Fatalf("got %d candidates, want none", len(got))
				}
				return
			}
			if len(got) != 1 || !slices.Contains(got[0].Tags, TagWeak) {
				t.Fatalf("got %d candidates, want one tagged weak", len(got))
			}
		})
	}
}

// encrypted counts references to ciphertext and secret stores.
func encrypted(r *Result) (n int) {
	for _, ref := range r.References {
		if ref.Encrypted {
			n++
		}
	}
	return n
}

func TestCiphertextAndStoresAreEncrypted(t *testing.T) {
	cases := []struct{ name, path, content string }{
		{"sops", "secrets.enc.yaml", "db:\n  host: arp-db\n  user: arp_app\n  password: ENC[AES256_GCM,data:Tr2f8w==,iv:abc=,tag:def=,type:str]\n"},
		{"sealed secret", "sealed.yaml", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: arp-db\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq\n"},
		{"ansible vault", "group_vars/db.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  62313365396662343061393464336163\n"},
		{"vals ref", "values.yaml", "db:\n  user: arp_app\n  password: ref+vault://secret/arp#password\n"},
		{"cloudformation resolve", "stack.yaml", "Resources:\n  Db:\n    Properties:\n      MasterUserPassword: '{{resolve:secretsmanager:arp-db:SecretString:password}}'\n      DBName: arp\n      MasterUsername: admin\n"},
		{"secrets manager arn", "config.yml", "database:\n  password: arn:aws:secretsmanager:eu-west-1:123456789012:secret:arp-db\n"},
		{"secretKeyRef", "deploy.yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: arp-db\n        key: password\n"},
		{"external secrets remoteRef", "es.yaml", "spec:\n  data:\n    - secretKey: db_password\n      remoteRef:\n        key: arp/db\n        property: password\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scanText(t, tc.path, tc.content)
			if len(r.Candidates) != 0 {
				t.Fatalf("got %d candidates, want none", len(r.Candidates))
			}
			if encrypted(r) == 0 {
				t.Fatalf("no encrypted reference (%d references)", len(r.References))
			}
		})
	}
}

func TestTemplatesAndPlaceholders(t *testing.T) {
	for _, v := range []string{"%s", "{}", "{0}", "%(password)s", "#{password}", "{{password}}", "{{ .Values.db.password }}", ":password", "{password}"} {
		if c := ClassifyValue(v); c != Template && c != Reference {
			t.Errorf("%q is %v, want template", v, c)
		}
	}
	runCases(t, []ruleCase{
		{"printf dsn", "dsn.py", `dsn = "postgresql://%s:%s@%s/%s" % (user, pw, host, db)`, nil, -1},
		{"libpq format", "dsn.py", `c = "host=%s user=%s password=%s dbname=arp"`, nil, 1},
		{"str.format", "dsn.py", `d = "postgres://{user}:{password}@{host}/arp"`, nil, -1},
		{"ruby interpolation", "db.rb", `url = "postgres://app:#{password}@arp-db/arp"`, nil, 1},
		{"mustache", "tpl.txt", `postgres://app:{{password}}@arp-db/arp`, nil, 1},
		{"bind parameter", "a.sql", `-- postgres://app::password@arp-db/arp`, nil, 1},
		{"capital placeholder", "README.md", `postgres://app:NEW_PASSWORD_HERE@arp-db/arp`, nil, 0},
		{"your password", "README.md", `mysql://root:YOUR_PASSWORD@db/x`, nil, 0},
		{"dashed placeholder", "README.md", `postgres://app:MY-PASSWORD@x.x.x.x/arp`, nil, 0},
		{"placeholder host", "README.md", `postgres://app:S3cretPw9@<your-host>/arp`, nil, 0},
		{"capital host", "README.md", `postgres://app:S3cretPw9@HOST/arp`, nil, 0},
		{"real one beside", "README.md", `postgres://app:S3cretPw9@arp-db/arp`, []want{{PostgresURI, "S3cretPw9", "app", "arp-db", "arp", 0, 1}}, 0},
	})
}

// A document with no password-like key and no escaped URL is not parsed
// structurally (nothing to assemble: its URLs are the line rules'); one
// that may hold either is.
func TestMayAssemble(t *testing.T) {
	lock := `{"packages": {"node_modules/a": {"resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "sha512-xPw==", "bypass": true}}}`
	for _, tc := range []struct {
		f    Format
		doc  string
		want bool
	}{
		{FormatJSON, lock, false},
		{FormatJSON, `{"db": {"password": "x"}}`, true},
		{FormatJSON, `{"DB_PASS" : "x"}`, true},
		{FormatJSON, `{"url": "postgres:\/\/u:p@h\/db"}`, true},
		{FormatJSON, `{"url": "postgres://u:p\u0040ss@h/db"}`, true},
		{FormatYAML, "spring:\n  datasource:\n    password: x\n", true},
		{FormatYAML, "env:\n  - name: DB_PASSWORD\n    valueFrom: {}\n", true},
		{FormatYAML, "environment:\n  - POSTGRES_PASSWORD=x\n", true},
		{FormatYAML, "url: >\n  postgres://u:p@h/db\n", true},
		{FormatYAML, "image: postgres:15\nurl: https://example.com\n", false},
		{FormatXML, `<a><user-password>x</user-password></a>`, true},
		{FormatXML, `<a url="jdbc:mysql://h/d?user=u&amp;password=p"/>`, true},
		{FormatXML, `<a href="https://example.com/x"/>`, false},
		{FormatProperties, "spring.datasource.password=x\n", true},
		{FormatINI, "[client]\npassword = x\n", true},
		{FormatINI, "[server]\nurl = https://example.com\n", false},
	} {
		if got := mayAssemble(tc.f, []byte(tc.doc)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.doc, got, tc.want)
		}
	}
}

// A properties pair with a dotted key in text that is not a properties
// file (a README, notes, a heredoc writing application.properties) is read
// as one: the DB pack finds the datasource password; code and
// expressions are not.
func TestPropertiesLineInText(t *testing.T) {
	for _, c := range []struct {
		path, text string
		want       bool
	}{
		{"README.md", "Set\nspring.datasource.url=jdbc:postgresql://arp-db/arp\nspring.datasource.password=Pq8xZ_2mW!vLk3\n", true},
		{"notes.txt", "spring.datasource.password: Pq8xZ_2mW!vLk3\n", true},
		{"notes.txt", "spring.datasource.password=${DB_PASSWORD}\n", false},
		{"notes.txt", "spring.datasource.password=getPassword()\n", false},
		{"notes.txt", "see spring.datasource.password for details\n", false},
	} {
		got := false
		for _, cand := range scanText(t, c.path, c.text).Candidates {
			if cand.Secret == "Pq8xZ_2mW!vLk3" {
				got = true
			}
		}
		if got != c.want {
			t.Errorf("%s %q: found %v, want %v", c.path, c.text, got, c.want)
		}
	}
}
