package rules

import (
	"strings"
)

// Role is what a configuration key holds.
type Role int

// Key roles.
const (
	RoleNone Role = iota
	RolePassword
	RoleUser
	RoleHost
	RolePort
	RoleDatabase
	RoleURL
	// RoleSecret is a key named only "secret": a password with no
	// database context, reported by the generic rule alone.
	RoleSecret
)

// dbWords mark a key, a path or a value as being about a database.
var dbWords = map[string]bool{
	"db": true, "database": true, "databases": true, "datasource": true, "jdbc": true, "pg": true,
	"postgres": true, "postgresql": true, "psql": true, "pgsql": true, "mysql": true, "mariadb": true,
	"sql": true, "mssql": true, "sqlserver": true, "oracle": true, "hibernate": true, "connection": true,
	"rds": true, "knex": true, "typeorm": true, "sequelize": true, "persistence": true, "jpa": true,
	"r2dbc": true, "flyway": true, "liquibase": true, "pgbouncer": true, "mongo": true, "mongodb": true,
	"aurora": true, "cockroach": true, "pgpool": true, "odbc": true, "ado": true,
}

// splitKey splits a configuration key into lower-case segments at '.',
// '_', '-', ' ', '/', ':' and camelCase boundaries; "PGPASSWORD" becomes
// ["pg", "password"].
func splitKey(k string) []string {
	// (segments are k's own bytes, which strings.ToLower copies only when
	// they hold an upper-case letter: a builder and a copy for each were
	// most of the structured documents' assembly time)
	var segs []string
	start := 0
	flush := func(end int) {
		if seg := k[start:end]; seg != "" && !allDigits(seg) {
			segs = append(segs, strings.ToLower(seg))
		}
		start = end
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '.' || c == '_' || c == '-' || c == ' ' || c == '/' || c == ':' || c == '[' || c == ']' || c == '$' || c == '@' || c == '#':
			flush(i)
			start = i + 1
		case 'A' <= c && c <= 'Z' && i > 0 && 'a' <= k[i-1] && k[i-1] <= 'z':
			flush(i)
		}
	}
	flush(len(k))
	if len(segs) == 1 && strings.HasPrefix(segs[0], "pg") && len(segs[0]) > 2 {
		switch rest := segs[0][2:]; rest {
		case "password", "user", "host", "hostaddr", "port", "database", "passfile", "service":
			segs = []string{"pg", rest}
		}
	}
	return segs
}

// keyRole returns the role of a key from its last segment(s), and the
// segments that precede the role word (the key's own prefix).
func keyRole(key string) (Role, []string) {
	segs := splitKey(key)
	if len(segs) == 0 {
		return RoleNone, nil
	}
	last := segs[len(segs)-1]
	prefix := segs[:len(segs)-1]
	// two-word roles: "user id", "initial catalog", "connection string"
	// drop both words; "db name", "jdbc url", "db host" keep the first as
	// the key's prefix, so DB_NAME groups with DB_PASSWORD.
	if len(segs) >= 2 {
		first := segs[len(segs)-2]
		switch first + last {
		case "userid", "username", "hostname", "servername":
			return roleOf(first + last), segs[:len(segs)-2]
		case "initialcatalog":
			return RoleDatabase, segs[:len(segs)-2]
		case "connectionstring", "connstring", "jdbcurl":
			return RoleURL, segs[:len(segs)-2]
		case "maintenancedb": // pgAdmin
			return RoleDatabase, segs[:len(segs)-2]
		}
	}
	if last == "name" {
		if key == "NAME" || len(prefix) > 0 && (dbWords[prefix[len(prefix)-1]] || prefix[len(prefix)-1] == "database") {
			return RoleDatabase, prefix
		}
		return RoleNone, prefix
	}
	if last == "secret" && len(prefix) == 0 {
		return RoleSecret, prefix
	}
	switch last {
	case "password", "passwd", "pwd", "pass", "pw", "passphrase", "pswd":
		if n := len(prefix); n > 0 && (prefix[n-1] == "user" || prefix[n-1] == "login") {
			prefix = prefix[:n-1] // userPassword beside userName
		}
		return RolePassword, prefix
	case "dbpass", "dbpasswd", "dbpwd", "dbpswd", "dbpassword":
		return RolePassword, append(prefix, "db")
	case "user", "username", "usr", "uid", "login", "userid", "owner":
		return RoleUser, prefix
	case "host", "hostname", "server", "address", "addr", "endpoint", "servername", "hostaddr", "datasource":
		if last == "datasource" && len(prefix) == 0 {
			return RoleNone, prefix
		}
		return RoleHost, prefix
	case "port":
		return RolePort, prefix
	case "database", "dbname", "db", "catalog", "databasename":
		return RoleDatabase, prefix
	case "url", "uri", "dsn", "jdbcurl", "connectionstring", "connstr", "connstring", "databaseurl":
		return RoleURL, prefix
	}
	if strings.HasSuffix(last, "password") || strings.HasSuffix(last, "passwd") {
		return RolePassword, append(prefix, strings.TrimSuffix(strings.TrimSuffix(last, "password"), "passwd"))
	}
	return RoleNone, prefix
}

// valueMentionsDB reports whether a (non-secret) value names a database
// engine or driver, as Django's ENGINE or Rails' adapter do.
func valueMentionsDB(v string) bool {
	l := strings.ToLower(v)
	for _, w := range []string{"postgres", "psycopg", "pgsql", "mysql", "mariadb", "sqlserver", "mssql", "oracle", "jdbc:", "org.postgresql", "npgsql", "sqlalchemy", "mongodb", "cockroach"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func roleOf(word string) Role {
	switch word {
	case "userid", "username":
		return RoleUser
	case "hostname", "servername":
		return RoleHost
	}
	return RoleNone
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
