package rules

import (
	"regexp"
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
	// Weak is a dictionary password (password, admin, postgres, root …):
	// a finding, tagged weak, where a real host and user show it is a
	// credential (legacy databases have such passwords), documentation
	// elsewhere.
	Weak
	// Template is a format placeholder (%s, {0}, {password},
	// %(password)s, #{password}, {{password}}, :password): code that
	// builds a DSN, not a secret.
	Template
	// Encrypted is ciphertext or a secret-store reference (SOPS ENC[…],
	// ansible-vault, Sealed Secrets, ref+vault://, AWS Secrets Manager,
	// External Secrets, secretKeyRef): the good end state, counted as
	// "encrypted".
	Encrypted
)

func (c ValueClass) String() string {
	return [...]string{"literal", "empty", "placeholder", "reference", "weak", "template", "encrypted"}[c]
}

// encryptedMarkers make a value ciphertext or a secret-store reference
// (lower-cased; prefixes or anywhere).
var encryptedMarkers = []string{
	"enc[aes256_gcm", "enc[", "$ansible_vault;", "ref+vault://", "ref+awssecrets://", "ref+awsssm://", "ref+gcpsecrets://", "ref+azurekeyvault://",
	"{{resolve:secretsmanager:", "{{resolve:ssm-secure:", "arn:aws:secretsmanager:", "remoteref", "secretkeyref",
}

// weakWords are dictionary passwords: real when a credential's context
// is (a real host and user), documentation otherwise.
var weakWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "secret": true, "admin": true, "root": true,
	"postgres": true, "postgresql": true, "mysql": true, "oracle": true, "sa": true, "test": true, "guest": true,
	"changeit": true, "letmein": true, "qwerty": true, "welcome": true, "123456": true, "12345678": true,
	"password1": true, "password123": true, "admin123": true, "pa$$word": true, "p@ssw0rd": true, "p@ssword": true, "passw0rd": true,
	"default": true, "demo": true, "master": true,
}

// templateRe matches a value that is a whole format placeholder.
var templateRe = regexp.MustCompile(`^(?:%[sdvqr]|%\(\w+\)[sdr]|\{\d*\}|\{\w+(?:\.\w+)*\}|#\{\w+\}|\{\{\s*[\w.]+\s*\}\}|:\w+|\?|@\w+)$`)

// upperPlaceholderRe matches NEW_PASSWORD_HERE, YOUR_PASSWORD,
// MY-PASSWORD, DB_PASSWORD: capitals (or dashes) that name a password.
var upperPlaceholderRe = regexp.MustCompile(`^[A-Za-z]+(?:[_-][A-Za-z]+)*$`)

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
	"user": true, "username": true, "mypassword": true, "yourpassword": true, "your_password": true,
	"your-password": true, "dbpassword": true, "db_password": true, "db-password": true,
	"null": true, "nil": true, "none": true, "true": true, "false": true, "undefined": true,
	"todo": true, "tbd": true, "fixme": true, "replace_me": true, "replaceme": true, "redacted": true,
	"masked": true, "hidden": true, "notset": true, "not_set": true, "unset": true, "empty": true,
	"...": true, "…": true, "<>": true, "dummy": true, "foo": true, "bar": true, "foobar": true,
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
	for _, m := range encryptedMarkers {
		if strings.HasPrefix(l, m) || (len(m) > 6 && strings.Contains(l, m)) {
			return Encrypted
		}
	}
	if templateRe.MatchString(t) {
		return Template
	}
	if l[0] == '$' && len(l) > 1 && (l[1] == '{' || l[1] == '(' || l[1] == '_' || l[1] >= 'a' && l[1] <= 'z') && !strings.ContainsAny(l[1:], "$") &&
		(l[1] == '{' || l[1] == '(' || !passwordShaped(t[1:])) {
		return Reference // $VAR, ${VAR}, $(cmd); "$tr4ngePw" is a password that starts with '$'
	}
	if strings.HasPrefix(l, "$") && isUpperIdent(t[1:]) {
		return Reference
	}
	for _, m := range referenceMarkers {
		if strings.Contains(l, m) {
			return Reference
		}
	}
	if weakWords[l] {
		return Weak
	}
	if placeholderWords[l] {
		return Placeholder
	}
	if upperPlaceholderRe.MatchString(t) && (t == strings.ToUpper(t) || strings.ContainsAny(t, "-_")) &&
		(strings.Contains(l, "pass") || strings.Contains(l, "pwd") || strings.Contains(l, "secret") || strings.Contains(l, "here")) {
		return Placeholder // NEW_PASSWORD_HERE, YOUR_PASSWORD, MY-PASSWORD
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

// passwordShaped says whether s mixes digits with lower and upper case
// letters, as generated and chosen passwords do and variable names rarely
// do.
func passwordShaped(s string) bool {
	var lower, upper, digit bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		}
	}
	return lower && upper && digit
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
