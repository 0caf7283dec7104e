// Package rules is credscan's database-credential rule pack: line
// detectors for connection strings (URIs, JDBC, libpq, .pgpass, ADO.NET,
// ODBC, PDO, SQL role DDL, environment assignments) and a structural
// assembler that joins a password with its sibling user, host, port,
// database and URL keys in YAML, JSON, XML, properties, INI, TOML and
// source code into one credential.
//
// A Pack is immutable after New and safe for concurrent use.
package rules

import (
	"path"
	"strings"

	"github.com/credscan/credscan/scanners/dsn"
)

// Rule describes one rule of the pack.
type Rule struct {
	ID          string
	Description string
	Help        string
}

// Rule IDs.
const (
	PostgresURI   = "postgres-uri"
	MySQLURI      = "mysql-uri"
	DBURI         = "db-uri"
	JDBCPostgres  = "jdbc-postgresql"
	JDBCMySQL     = "jdbc-mysql"
	JDBCSQLServer = "jdbc-sqlserver"
	JDBCOther     = "jdbc-other"
	LibpqConninfo = "libpq-conninfo"
	Pgpass        = "pgpass"
	NetrcDB       = "netrc-db"
	PgService     = "pg-service"
	PgEnv         = "pg-env"
	DBEnvPassword = "db-env-password"
	ConnString    = "ado-odbc-connection-string"
	PHPPDO        = "php-pdo"
	PHPConnect    = "php-db-connect"
	SQLRole       = "sql-role-password"
	ConfigCred    = "db-config-credential"
	K8sSecret     = "k8s-secret-db-credential"
	// GenericPassword is a password with no database context: not a DB
	// credential (no target), of lower severity, but grouped with the DB
	// credential whose secret it is when there is one.
	GenericPassword = "generic-password"
	// KnownSecret is a copy of a known credential's secret found by the
	// sweep, in any bytes and encoding.
	KnownSecret = "known-secret"
)

// All lists the pack's rules.
var All = []Rule{
	{PostgresURI, "PostgreSQL connection URI with a password", "Move the password out of the URI: read the DSN from Vault (arp/current/<role>) or from an environment variable injected at run time."},
	{MySQLURI, "MySQL/MariaDB connection URI, or Go MySQL driver DSN (user:pass@tcp(host)/db), with a password", "Move the password out of the URI into Vault or an injected environment variable."},
	{DBURI, "Database connection URI with a password (SQL Server, Oracle, MongoDB, Redis, CockroachDB)", "Move the password out of the URI into Vault or an injected environment variable."},
	{JDBCPostgres, "PostgreSQL JDBC URL with a password", "Remove the password from the JDBC URL; let the datasource read it from Vault (Spring Cloud Vault) or the environment."},
	{JDBCMySQL, "MySQL/MariaDB JDBC URL with a password", "Remove the password from the JDBC URL; read it from Vault or the environment."},
	{JDBCSQLServer, "SQL Server JDBC URL with a password", "Remove the password from the JDBC URL; read it from Vault or the environment."},
	{JDBCOther, "Oracle or other JDBC URL, or an Oracle Net descriptor (tnsnames style), with a password", "Remove the password from the JDBC URL; read it from Vault or the environment."},
	{LibpqConninfo, "libpq keyword/value connection string with a password", "Drop password= from the conninfo; use a Vault-rendered .pgpass or PGPASSWORD injected at run time."},
	{Pgpass, ".pgpass entry", "A .pgpass file must not be committed or baked into an image; render it from Vault at run time with mode 0600."},
	{NetrcDB, ".netrc entry whose machine is a database host", "Do not commit .netrc files; render credentials from Vault at run time."},
	{PgService, "pg_service.conf section with a password", "Keep the service definition without password=; supply the password through a Vault-rendered .pgpass."},
	{PgEnv, "PGPASSWORD (with PGHOST/PGUSER) set in a script, Dockerfile, compose file, unit or .env", "Do not hardcode PGPASSWORD; inject it at run time from Vault (vault agent, CI secret, Kubernetes secret)."},
	{DBEnvPassword, "Database password in an environment variable assignment (DB_PASSWORD, POSTGRES_PASSWORD …)", "Do not hardcode the variable's value; inject it at run time from Vault."},
	{ConnString, "ADO.NET / ODBC / Npgsql connection string with a password", "Remove Password=/Pwd= from the connection string; read it from Vault or the environment."},
	{PHPPDO, "PHP PDO constructor with a literal password", "Pass the password from getenv() or a Vault-rendered config, not a literal."},
	{PHPConnect, "PHP mysqli_connect / new mysqli / mysql_connect call with a literal password", "Pass the password from getenv() or a Vault-rendered config, not a literal."},
	{SQLRole, "SQL CREATE/ALTER ROLE or USER with a literal password", "Set role passwords outside versioned SQL (psql \\password, or Vault's database secrets engine)."},
	{ConfigCred, "Database password in a configuration file or source code, assembled with its user, host and database", "Replace the literal with a reference (${DB_PASSWORD}, Spring Cloud Vault, vault agent template) and store the value in Vault."},
	{GenericPassword, "Password assigned or compared in code or configuration with no database context (FTP, SMTP, an application's own); grouped with a DB credential that has the same secret", "Move the value out of the code into Vault or an injected environment variable; if it is the database password, it is one more copy to rotate."},
	{KnownSecret, "Copy of a known database password (found by the scan or read from Vault) in any file, blob, layer or binary, plain or encoded (--sweep)", "Every copy is one more place that breaks at rotation: remove it, or point it at Vault."},
	{K8sSecret, "Database credential in a Kubernetes Secret manifest (data: base64 or stringData:)", "Do not commit Secret manifests with values; use the Vault Secrets Operator, External Secrets or sealed secrets."},
}

// Candidate is a credential the pack found, before fingerprinting.
type Candidate struct {
	RuleID string
	Line   int // 1-based, absolute in the item
	// Col is the 1-based byte column on Line where the secret as written
	// (quotes excluded, escapes included) starts; 0 when unknown, and
	// then the whole line is masked.
	Col int
	// EndLine and EndCol end the secret as written: EndCol is the 1-based
	// byte column just past its last byte on EndLine (EndLine 0: Line).
	// EndCol 0 means the end is unknown: Line is masked from Col to its end.
	EndLine, EndCol int
	// MaskLine and MaskCol, when MaskLine is set, are where the secret as
	// written starts when that is after Line (a match over several lines,
	// reported where the match starts): the mask starts there.
	MaskLine, MaskCol int
	Secret            string
	Raw               string // as written at the location
	DB                dsn.Parsed
	Tags              []string
}

// Ref is a credential value that points at the environment or a
// secret store instead of holding the secret: the good end state.
type Ref struct {
	Line int
	Key  string
	// Encrypted: the value is ciphertext or a secret-store reference
	// that names its store (SOPS, ansible-vault, Sealed Secrets,
	// ref+vault://, AWS Secrets Manager, secretKeyRef), counted as
	// "encrypted"; otherwise it reads the environment or is a template.
	Encrypted bool
}

// Options configure a Pack.
type Options struct {
	// ContextWords are extra words that make a key a database key, for
	// example the manifest's target names ("arp", "otc").
	ContextWords []string
}

// Pack is the compiled rule pack.
type Pack struct {
	ctxWords map[string]bool
}

// New compiles the pack.
func New(o Options) *Pack {
	p := &Pack{ctxWords: map[string]bool{}}
	for w := range dbWords {
		p.ctxWords[w] = dbWords[w]
	}
	for _, w := range o.ContextWords {
		p.ctxWords[strings.ToLower(w)] = true
	}
	return p
}

// Keywords are the lower-case strings at least one of which a line must
// contain for a line detector to find anything on it.
func (p *Pack) Keywords() []string {
	kw := []string{"pass", "pwd", "pswd", "jdbc:", "pdo", "://", `:\/\/`, "mysqli", "mysql_connect", "mysql_pconnect", "secret", "@tcp(", "@unix(", "@cloudsql"}
	return kw
}

// Format is how a file's content is structured.
type Format int

// Formats.
const (
	FormatText Format = iota
	FormatCode
	FormatShell // sh, .env, crontab, systemd units
	FormatDockerfile
	FormatCompose
	FormatYAML
	FormatJSON
	FormatXML
	FormatProperties
	FormatINI // ini, toml, cfg, conf, tfvars, pg_service.conf
	FormatPgpass
	FormatNetrc // .netrc: machine … login … password …
)

// Structured reports whether the format has a structural parser.
func (f Format) Structured() bool {
	switch f {
	case FormatYAML, FormatJSON, FormatXML, FormatProperties, FormatINI, FormatCompose:
		return true
	}
	return false
}

// WholeFile reports whether the format is read whole by the pack, not
// only on the lines that hold a keyword (.pgpass, .netrc).
func (f Format) WholeFile() bool { return f == FormatPgpass || f == FormatNetrc }

// DetectFormat guesses the format from a file path (slash-separated).
func DetectFormat(p string) Format {
	base := strings.ToLower(path.Base(p))
	ext := path.Ext(base)
	switch {
	case base == ".pgpass" || strings.HasPrefix(base, "pgpass") || strings.HasSuffix(base, ".pgpass"):
		return FormatPgpass
	case base == ".netrc" || base == "_netrc" || base == "netrc":
		return FormatNetrc
	case base == "dockerfile" || strings.HasPrefix(base, "dockerfile.") || strings.HasSuffix(base, ".dockerfile") || base == "containerfile":
		return FormatDockerfile
	case (strings.HasPrefix(base, "docker-compose") || strings.HasPrefix(base, "compose")) && (ext == ".yml" || ext == ".yaml"):
		return FormatCompose
	case base == ".env" || strings.HasPrefix(base, ".env.") || ext == ".env" || base == "crontab" || strings.HasPrefix(base, "crontab.") ||
		ext == ".service" || ext == ".sh" || ext == ".bash" || ext == ".zsh" || ext == ".ksh" || base == ".bashrc" || base == ".profile" || ext == ".envrc" || base == ".envrc" || ext == ".cron":
		return FormatShell
	}
	switch ext {
	case ".yml", ".yaml":
		return FormatYAML
	case ".json", ".jsonc":
		return FormatJSON
	case ".xml", ".config", ".xsd_", ".jrxml":
		return FormatXML
	case ".properties":
		return FormatProperties
	case ".ini", ".toml", ".cfg", ".conf", ".cnf", ".tfvars":
		return FormatINI
	case ".go", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".php", ".java", ".kt", ".kts", ".scala", ".groovy", ".cs", ".vb",
		".c", ".h", ".cpp", ".rs", ".swift", ".pl", ".pm", ".ex", ".exs", ".erl", ".tf", ".hcl", ".gradle", ".sql", ".jsx", ".tsx", ".vue", ".ps1", ".lua", ".r", ".dart":
		return FormatCode
	}
	return FormatText
}

// isDBFile reports whether the file's name alone says it configures a database.
func isDBFile(p string) bool {
	base := strings.ToLower(path.Base(p))
	switch base {
	case "my.cnf", ".my.cnf", "my.ini", "odbc.ini", ".odbc.ini", "tnsnames.ora", "sqlnet.ora", "pgadmin4.db", "data-sources.xml", "datasources.xml", "datasources.local.xml":
		return true
	}
	for _, s := range []string{"database", "knexfile", "ormconfig", "typeorm", "sequelize", "pg_service", "pgpass", "hibernate", "persistence", "datasource", "db.", "db-", "db_", "postgres", "mysql", "liquibase", "flyway"} {
		if strings.Contains(base, s) {
			return true
		}
	}
	return false
}

// isContext reports whether any of the segments is a database word.
func (p *Pack) isContext(segs []string) bool {
	for _, s := range segs {
		if p.ctxWords[s] {
			return true
		}
	}
	return false
}

// driverRule maps a driver to the rule of its URI.
func driverRule(driver string, jdbc bool) string {
	switch {
	case jdbc && driver == "postgresql":
		return JDBCPostgres
	case jdbc && (driver == "mysql" || driver == "mariadb"):
		return JDBCMySQL
	case jdbc && driver == "sqlserver":
		return JDBCSQLServer
	case jdbc:
		return JDBCOther
	case driver == "postgresql":
		return PostgresURI
	case driver == "mysql" || driver == "mariadb":
		return MySQLURI
	}
	return DBURI
}
