package rules

import (
	"strings"
)

// ValueClass says whether a credential value is a real, hardcoded secret.
type ValueClass int

// Value classes.
const (
	Literal     ValueClass = iota // a hardcoded value: a finding
	Empty                         // nothing there
	Placeholder                   // <password>, changeme, xxx, *** …: documentation, not a secret
	Reference                     // ${VAR}, os.Getenv(…), vault:…: the good end state, counted as "referenced"
)

func (c ValueClass) String() string {
	return [...]string{"literal", "empty", "placeholder", "reference"}[c]
}

// referenceMarkers make a value a reference to the environment or a secret
// store wherever they occur in it (lower-cased).
var referenceMarkers = []string{
	"${", "$(", "{{", "}}", "%(", "<%=", "#{", "((", "os.getenv", "os.environ", "getenv(", "process.env",
	"env[", "env.fetch", "env(", "system.getenv", "environment.getenvironmentvariable",
	"vault:", "vault(", "vault.", "!vault", "secret/", "secretkeyref", "secretref", "secrets.",
	"keyvault", "ssm:", "secretsmanager", "awssecret", "lookup(", "enc(", "configuration[",
	"config.get", "settings.", "@secret", "dotenv", "file(",
}

// placeholderWords are values that document where a password goes.
var placeholderWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "secret": true, "user": true,
	"username": true, "mypassword": true, "yourpassword": true, "your_password": true,
	"your-password": true, "dbpassword": true, "db_password": true, "db-password": true,
	"pa$$word": true, "p@ssw0rd": true, "p@ssword": true, "passw0rd": true, "changeit": true,
	"null": true, "nil": true, "none": true, "true": true, "false": true, "undefined": true,
	"todo": true, "tbd": true, "fixme": true, "replace_me": true, "replaceme": true, "redacted": true,
	"masked": true, "hidden": true, "notset": true, "not_set": true, "unset": true, "empty": true,
	"...": true, "…": true, "<>": true, "dummy": true, "test": true, "foo": true, "bar": true,
	"foobar": true, "password123": false,
}

// placeholderParts mark a value as a placeholder when they occur in it.
var placeholderParts = []string{
	"changeme", "change_me", "change-me", "example", "xxx", "***", "placeholder", "your_", "your-",
	"<password", "<pass", "<secret", "<pwd", "[password", "redacted", "dummy", "sample", "fake",
	"insert_", "enter_", "put_your", "mask",
}

// ClassifyValue tells whether v (decoded) is a literal secret, empty, a
// placeholder or a reference to a secret store or the environment.
func ClassifyValue(v string) ValueClass {
	t := strings.TrimSpace(v)
	t = strings.Trim(t, `"'`+"`")
	if t == "" {
		return Empty
	}
	l := strings.ToLower(t)
	if l[0] == '$' && len(l) > 1 && (l[1] == '{' || l[1] == '(' || l[1] == '_' || l[1] >= 'a' && l[1] <= 'z') && !strings.ContainsAny(l[1:], "$") {
		return Reference // $VAR, ${VAR}, $(cmd)
	}
	if strings.HasPrefix(l, "$") && isUpperIdent(t[1:]) {
		return Reference
	}
	for _, m := range referenceMarkers {
		if strings.Contains(l, m) {
			return Reference
		}
	}
	if placeholderWords[l] {
		return Placeholder
	}
	for _, m := range placeholderParts {
		if strings.Contains(l, m) {
			return Placeholder
		}
	}
	if strings.HasPrefix(l, "<") && strings.HasSuffix(l, ">") {
		return Placeholder
	}
	if allSame(l) {
		return Placeholder // "xxxxxx", "******", "000000"
	}
	return Literal
}

func isUpperIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func allSame(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return len(s) > 2
}
