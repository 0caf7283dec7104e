package manifest

import (
	"fmt"
	"strings"
	"time"
)

// Rotation configures `credscan rotate`: the migrated target's two sides
// (blue, the legacy database; green, the new one), the connection broker
// applications connect to, the new password's shape and the evidence
// revocation waits for. Administrator credentials are Vault paths (KV v2,
// under vault.mount), never flags or files.
type Rotation struct {
	// Target is the migrated target (default vault.migrating, else ARP).
	Target string `yaml:"target"`
	// Database is the database applications use, on both sides.
	Database string `yaml:"database"`
	Blue     Side   `yaml:"blue"`
	Green    Side   `yaml:"green"`
	// Broker is the PgBouncer applications behind the broker connect to.
	Broker *Broker `yaml:"broker"`
	// Password is the shape of generated passwords.
	Password PasswordPolicy `yaml:"password"`
	// RevokeWindow is how long after the cutover the connection logs must
	// show no legacy login before revocation (default 24h).
	RevokeWindow time.Duration `yaml:"revoke_window"`
	// Readiness are optional cutover checks.
	Readiness Readiness `yaml:"readiness"`
}

// Side is one database of the migration.
type Side struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 5432
	// Admin is the Vault path of {dsn: postgres://admin:…@host:port/db}.
	Admin string `yaml:"admin"`
	// Logs are the server's log files (globs), with log_connections on
	// and a log_line_prefix with user=%u db=%d app=%a client=%h.
	Logs []string `yaml:"logs"`
}

// Broker is a PgBouncer.
type Broker struct {
	// Admin is the Vault path of {dsn: …/pgbouncer} for the admin console.
	Admin string `yaml:"admin"`
	// Host and Port are where applications connect.
	Host string `yaml:"host"`
	Port int    `yaml:"port"` // default 6432
	// Database is the [databases] entry the cutover switches (default
	// rotation.database).
	Database string `yaml:"database"`
	// DatabasesFile is the file PgBouncer %includes with that entry.
	DatabasesFile string `yaml:"databases_file"`
	// Logs are PgBouncer's log files (globs), with log_connections on.
	Logs []string `yaml:"logs"`
	// Check is the Vault path of {user, password}: a client of the broker
	// whose login proves the switched path.
	Check string `yaml:"check"`
}

// PasswordPolicy is the shape of a generated password.
type PasswordPolicy struct {
	Length   int    `yaml:"length"`   // default 32
	Alphabet string `yaml:"alphabet"` // urlsafe (default) or alnum
}

// Readiness are checks the cutover makes before switching.
type Readiness struct {
	// MaxLagBytes: green's subscriptions (pg_stat_subscription) at most
	// this far behind blue's WAL position (0: not checked).
	MaxLagBytes int64 `yaml:"max_lag_bytes"`
	// Tables (schema.name) whose exact row counts must be equal.
	Tables []string `yaml:"tables"`
}

// Connects says how an app follows a cutover.
const (
	ConnectsBroker  = "broker"  // it connects to PgBouncer
	ConnectsPointer = "pointer" // it reads <target>/current/<role> from Vault on each (re)connect
)

// RotationTarget is the migrated target's name.
func (m *Manifest) RotationTarget() string {
	switch {
	case m.Rotation.Target != "":
		return m.Rotation.Target
	case m.Vault.Migrating != "":
		return m.Vault.Migrating
	}
	return "ARP"
}

// TargetNamed returns the target called name.
func (m *Manifest) TargetNamed(name string) (*Target, bool) {
	for i := range m.Targets {
		if strings.EqualFold(m.Targets[i].Name, name) {
			return &m.Targets[i], true
		}
	}
	return nil, false
}

// MatchHost says whether host is one of the target's hosts (names, globs,
// IPs, CIDRs).
func (t *Target) MatchHost(host string) bool { return t.matchHost(host) }

func (r *Rotation) withDefaults() {
	for _, s := range []*Side{&r.Blue, &r.Green} {
		if s.Port == 0 {
			s.Port = 5432
		}
	}
	if r.Broker != nil {
		if r.Broker.Port == 0 {
			r.Broker.Port = 6432
		}
		if r.Broker.Database == "" {
			r.Broker.Database = r.Database
		}
	}
	if r.Password.Length == 0 {
		r.Password.Length = 32
	}
	if r.Password.Alphabet == "" {
		r.Password.Alphabet = "urlsafe"
	}
	if r.RevokeWindow == 0 {
		r.RevokeWindow = 24 * time.Hour
	}
}

// Configured says whether the manifest has a rotation section.
func (r *Rotation) Configured() bool { return r.Blue.Host != "" || r.Green.Host != "" }

func (m *Manifest) validateRotation() error {
	r := &m.Rotation
	for i, a := range m.Apps {
		if a.Connects != "" && a.Connects != ConnectsBroker && a.Connects != ConnectsPointer {
			return fmt.Errorf("apps[%d] (%s): connects: want broker or pointer", i, a.Name)
		}
	}
	if !r.Configured() {
		return nil
	}
	r.withDefaults()
	t, ok := m.TargetNamed(m.RotationTarget())
	if !ok {
		return fmt.Errorf("rotation: target %s is not among targets", m.RotationTarget())
	}
	if r.Database == "" {
		return fmt.Errorf("rotation.database is required")
	}
	for name, s := range map[string]Side{"blue": r.Blue, "green": r.Green} {
		switch {
		case s.Host == "" || s.Admin == "":
			return fmt.Errorf("rotation.%s: host and admin (a Vault path) are required", name)
		case s.Port < 1 || s.Port > 65535:
			return fmt.Errorf("rotation.%s.port: %d is not a port", name, s.Port)
		}
	}
	// logins go to the target's hosts only: blue must be one of them
	if !t.MatchHost(r.Blue.Host) {
		return fmt.Errorf("rotation.blue.host %s is not one of target %s's hosts", r.Blue.Host, t.Name)
	}
	if b := r.Broker; b != nil {
		if b.Admin == "" || b.Host == "" || b.DatabasesFile == "" {
			return fmt.Errorf("rotation.broker: admin, host and databases_file are required")
		}
		b.DatabasesFile = m.Resolve(b.DatabasesFile)
	}
	if r.Password.Length < 16 || r.Password.Length > 128 {
		return fmt.Errorf("rotation.password.length: %d (want 16 to 128)", r.Password.Length)
	}
	if r.Password.Alphabet != "urlsafe" && r.Password.Alphabet != "alnum" {
		return fmt.Errorf("rotation.password.alphabet: %q (want urlsafe or alnum)", r.Password.Alphabet)
	}
	for _, tb := range r.Readiness.Tables {
		if strings.Count(tb, ".") > 1 || tb == "" {
			return fmt.Errorf("rotation.readiness.tables: %q (want table or schema.table)", tb)
		}
	}
	for _, s := range []*Side{&r.Blue, &r.Green} {
		for i, l := range s.Logs {
			s.Logs[i] = m.Resolve(l)
		}
	}
	if r.Broker != nil {
		for i, l := range r.Broker.Logs {
			r.Broker.Logs[i] = m.Resolve(l)
		}
	}
	return nil
}
