// Package credscan holds credscan's domain types: where bytes came from
// (Origin), what was found (Finding), the database identity a credential
// belongs to (DBIdentity) and the grouping of findings into credentials.
// It depends on the standard library only.
package credscan

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Kind is the kind of source a chunk came from.
type Kind string

// Source kinds.
const (
	KindDir    Kind = "dir"
	KindGit    Kind = "git"
	KindImage  Kind = "image"
	KindCIVars Kind = "civars"
)

// Origin says where bytes came from. It holds no secret, so it may be logged.
type Origin struct {
	Kind   Kind   `json:"kind"`
	App    string `json:"app,omitempty"`
	Target string `json:"target,omitempty"` // repo URL, image ref@digest, CI project, root dir
	Layer  string `json:"layer,omitempty"`  // image layer digest
	Path   string `json:"path"`             // relative to the source root; archive members joined with "!"
	Commit string `json:"commit,omitempty"` // git SHA of the commit that introduced it
	Line   int    `json:"line,omitempty"`   // 1-based
	Blob   string `json:"blob,omitempty"`   // git blob SHA of the content
	Author string `json:"author,omitempty"` // the introducing commit's author
	Date   string `json:"date,omitempty"`   // the introducing commit's author date (RFC 3339)
	// CI sources: the CI system, the job (or environment scope), the step
	// and the variable a finding is in.
	CI       string `json:"ci,omitempty"`
	Job      string `json:"job,omitempty"`
	Step     string `json:"step,omitempty"`
	Variable string `json:"variable,omitempty"`
}

// RedactURL drops any user information (a token) from a URL, for
// messages, reports and the audit log.
func RedactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			return u[:i+3] + rest[at+1:]
		}
	}
	return u
}

// String renders the origin as target:path:line, for humans.
func (o Origin) String() string {
	var parts []string
	for _, p := range []string{o.Target, o.Layer, o.Commit, o.Path} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if o.Line > 0 {
		parts = append(parts, strconv.Itoa(o.Line))
	}
	return strings.Join(parts, ":")
}

// Chunk is a piece of a source's content. Data is only valid during the
// call that receives it; StartLine is the 1-based line number of Data[0].
type Chunk struct {
	Origin    Origin
	Data      []byte
	StartLine int
	// Overlap is the number of leading bytes of Data that the previous
	// chunk of the same item also held (as its Tail), and Tail the number
	// of trailing bytes the next chunk holds too. Each chunk reports the
	// findings that start in its own part: from the middle of its Overlap
	// to the middle of its Tail, so every byte of an item belongs to one
	// chunk, which holds at least half the shared bytes on each side of it.
	Overlap, Tail int
	// Offset is the byte offset of Data[0] in the item, and LineOffset its
	// offset in its line (a chunk of a long line starts inside it).
	Offset     int64
	LineOffset int
	// Whole is true when Data is the item's entire content, so structural
	// parsers (YAML, JSON, XML, …) may run on it.
	Whole bool
	// Derived is true when Data re-presents content already yielded (a
	// pipeline's variables and scripts as shell lines): it is scanned but
	// not counted again.
	Derived bool
	// Skip, when set, says why the item was not scanned by the rules
	// ("binary"): the chunk is counted, and Data, when a binary item was
	// read whole, holds its bytes for the known-secret sweep.
	Skip string
	// Unchanged, when set, marks the lines of Data (0-based) that another
	// version of the item, scanned before, holds too, amid enough shared
	// lines that what line-bound rules find on them was found there: those
	// rules may skip them, and the source carries their findings over.
	Unchanged []bool
	// Base names the git blob Unchanged refers to (the other version).
	Base string
	// ByLine says the source found (rules.ReadsWhole) that the item, a
	// structured document, holds nothing its structure would assemble: it
	// is read line by line, and Unchanged holds for every rule as in text.
	ByLine bool
	// LineStarts, when set, are the offsets in Data where its lines start
	// (the first 0; a line break at the end starts no line), as the source
	// found them while reading: the scan need not look for them again.
	// Like Data, they are only valid during the call that receives them.
	LineStarts []int
	// LineGroups, when set, holds GroupedBy's byte for each line of Data
	// (see LineGrouper; as many as LineStarts), as the source found them:
	// copied from another version for the lines the two share, so that
	// only the others were looked at. A scan uses them only when it is
	// GroupedBy's.
	LineGroups []uint8
	GroupedBy  LineGrouper
	// Pgpass, when PgpassKnown, says whether Data names a pgpass file
	// ("pgpass" or "PGPASS", rules.MentionsPgpass), as the source found it
	// (set only with LineStarts: Data is the item as stored).
	PgpassKnown, Pgpass bool
	// Version, when set, names the item's version as its source tells it
	// without reading it (a file's device, inode, size and times): the
	// scan cache enters it with the content when the item is clean.
	Version string
	// Cached, when set, says the source did not read the item: the scan
	// cache knows it clean under this scan's configuration, and what it
	// counted when it was read.
	Cached *CachedItem
}

// CachedItem is what an item the scan cache knows clean counted.
type CachedItem struct {
	Bytes  int64
	Binary bool
	// Items, when more than 1, makes the chunk stand for that many items
	// known clean, counted at once (a history's blobs its source counts
	// from the cache's record): Bytes is their text bytes, BinaryItems how
	// many are binary, and Binary is not used.
	Items, BinaryItems int64
}

// Owns says whether the finding that starts at byte off of c.Data is c's
// to report (see Overlap).
func (c *Chunk) Owns(off int) bool {
	return off >= c.Overlap/2 && (c.Tail == 0 || off < len(c.Data)-c.Tail+c.Tail/2)
}

// SettledMargin is how many lines on each side of a line must be marked
// unchanged (themselves 6 or more lines from any change) for it to be
// settled: no changed line within 13, past the 12 lines the DB pack reads
// around a password, so that every rule finds there what it found in the
// other version.
const SettledMargin = 7

// SettledLines marks, in dst (grown to len(unchanged)), the lines Settled
// says are settled, in one pass.
func SettledLines(unchanged []bool, margin int, dst []bool) []bool {
	n := len(unchanged)
	dst = slices.Grow(dst[:0], n)[:n]
	clear(dst)
	// each run of marked lines [s, e) settles its lines margin or more
	// from its ends, where the item goes on past them
	for s := 0; s < n; {
		if !unchanged[s] {
			s++
			continue
		}
		e := s + 1
		for e < n && unchanged[e] {
			e++
		}
		lo, hi := s, e
		if s > 0 {
			lo += margin
		}
		if e < n {
			hi -= margin
		}
		for i := lo; i < hi; i++ {
			dst[i] = true
		}
		s = e
	}
	return dst
}

// Settled says whether line i and the margin lines on each side of it (as
// far as the item has lines) are marked in unchanged.
func Settled(unchanged []bool, i, margin int) bool {
	if i < 0 || i >= len(unchanged) {
		return false
	}
	for k := max(0, i-margin); k <= min(len(unchanged)-1, i+margin); k++ {
		if !unchanged[k] {
			return false
		}
	}
	return true
}

// DBIdentity is who a credential logs in as and where.
type DBIdentity struct {
	Driver   string   `json:"driver,omitempty"` // postgresql, mysql, sqlserver, …
	User     string   `json:"user,omitempty"`
	Host     string   `json:"host,omitempty"`
	Hosts    []string `json:"hosts,omitempty"` // all hosts of a multi-host DSN, when more than one
	Port     int      `json:"port,omitempty"`
	Database string   `json:"database,omitempty"`
}

// Empty reports whether nothing of the identity is known.
func (d *DBIdentity) Empty() bool {
	return d == nil || (d.User == "" && d.Host == "" && d.Port == 0 && d.Database == "" && len(d.Hosts) == 0)
}

// AllHosts returns Hosts, or Host alone.
func (d *DBIdentity) AllHosts() []string {
	if d == nil {
		return nil
	}
	if len(d.Hosts) > 0 {
		return d.Hosts
	}
	if d.Host != "" {
		return []string{d.Host}
	}
	return nil
}

// String renders user@host:port/db with unknown parts left out.
func (d *DBIdentity) String() string {
	if d.Empty() {
		return ""
	}
	var b strings.Builder
	if d.User != "" {
		b.WriteString(d.User)
		b.WriteString("@")
	}
	b.WriteString(strings.Join(d.AllHosts(), ","))
	if d.Port != 0 {
		fmt.Fprintf(&b, ":%d", d.Port)
	}
	if d.Database != "" {
		b.WriteString("/")
		b.WriteString(d.Database)
	}
	return b.String()
}

// Finding is one occurrence of a secret.
type Finding struct {
	RuleID      string
	Description string
	Origin      Origin
	Secret      Secret
	DB          *DBIdentity // user, host, port, database, when known
	Target      string      // ARP, OTC, GPS … from the manifest; "" when unknown
	Fingerprint string      // HMAC-SHA256(key, normalized secret), hex
	Redacted    string      // the line with the secret masked
	// Raw is the secret as written at the location (percent-encoded, base64,
	// escaped …). It is used for redaction only and never printed.
	Raw Secret
	// Column is the 1-based byte column of Raw on the line, 0 when unknown.
	Column int
	// Database is true for findings of credscan's DB rule pack.
	Database bool
	// Blocking is set by policy: the finding fails the run (exit code 1).
	Blocking bool
	// Tags carries rule-specific notes that hold no secret (for example
	// "assembled" for sibling-key assembly, or "history-only").
	Tags []string
}

// User returns the DB user, or "".
func (f *Finding) User() string {
	if f.DB == nil {
		return ""
	}
	return f.DB.User
}

// CredentialKey identifies a credential: one secret of one user of one
// target, found in many places.
type CredentialKey struct {
	Target      string
	User        string
	Fingerprint string
}

// Credential is the group of findings that share a CredentialKey.
type Credential struct {
	CredentialKey
	DB       *DBIdentity // the richest identity among the occurrences
	Findings []*Finding
}

// Apps lists the apps the credential occurs in, sorted.
func (c *Credential) Apps() []string {
	seen := map[string]bool{}
	var apps []string
	for _, f := range c.Findings {
		if f.Origin.App != "" && !seen[f.Origin.App] {
			seen[f.Origin.App] = true
			apps = append(apps, f.Origin.App)
		}
	}
	sort.Strings(apps)
	return apps
}

// Rules lists the rule IDs that found the credential, sorted.
func (c *Credential) Rules() []string {
	seen := map[string]bool{}
	var rules []string
	for _, f := range c.Findings {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			rules = append(rules, f.RuleID)
		}
	}
	sort.Strings(rules)
	return rules
}

// Group groups findings into credentials by (target, user, fingerprint).
// A finding without a user joins the credential of the same target and
// fingerprint that has one, when exactly one such user exists; a finding
// with neither target nor user joins the one credential of its
// fingerprint, when there is exactly one. Credentials
// are sorted by target, user and fingerprint; their findings by origin.
func Group(findings []*Finding) []*Credential {
	users := map[[2]string]map[string]bool{} // (target, fp) → users
	for _, f := range findings {
		k := [2]string{f.Target, f.Fingerprint}
		if users[k] == nil {
			users[k] = map[string]bool{}
		}
		if u := f.User(); u != "" {
			users[k][u] = true
		}
	}
	// a bare secret (a CI variable, an environment value) knows neither
	// target nor user: it joins the one credential its fingerprint has
	known := map[string]map[[2]string]bool{} // fp → (target, user)
	for _, f := range findings {
		if f.Target != "" || f.User() != "" {
			if known[f.Fingerprint] == nil {
				known[f.Fingerprint] = map[[2]string]bool{}
			}
			known[f.Fingerprint][[2]string{f.Target, f.User()}] = true
		}
	}
	byKey := map[CredentialKey]*Credential{}
	for _, f := range findings {
		target, user := f.Target, f.User()
		if target == "" && user == "" && len(known[f.Fingerprint]) == 1 {
			for k := range known[f.Fingerprint] {
				target, user = k[0], k[1]
			}
		}
		if user == "" {
			if us := users[[2]string{target, f.Fingerprint}]; len(us) == 1 {
				for u := range us {
					user = u
				}
			}
		}
		k := CredentialKey{Target: target, User: user, Fingerprint: f.Fingerprint}
		c := byKey[k]
		if c == nil {
			c = &Credential{CredentialKey: k}
			byKey[k] = c
		}
		c.Findings = append(c.Findings, f)
	}
	out := make([]*Credential, 0, len(byKey))
	for _, c := range byKey {
		SortFindings(c.Findings)
		// the richest identity, the first in that order among equals: not
		// the first to arrive, which the scan's workers decide
		for _, f := range c.Findings {
			if f.DB.Richness() > c.DB.Richness() {
				c.DB = f.DB
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Target == "") != (b.Target == "") {
			return a.Target != "" // known targets first
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.User != b.User {
			return a.User < b.User
		}
		return a.Fingerprint < b.Fingerprint
	})
	return out
}

// Richness counts the known parts of the identity (user, host, database, port).
func (d *DBIdentity) Richness() int {
	if d == nil {
		return 0
	}
	n := 0
	for _, s := range []string{d.User, d.Host, d.Database} {
		if s != "" {
			n++
		}
	}
	if d.Port != 0 {
		n++
	}
	return n
}

// SortFindings orders findings by place (CompareOrigins), then rule,
// column, fingerprint and redacted line: a total order.
func SortFindings(fs []*Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if c := CompareOrigins(a.Origin, b.Origin); c != 0 {
			return c < 0
		}
		// a total order, so that findings of a run split in shards and
		// merged come out as one run's do
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Fingerprint != b.Fingerprint {
			return a.Fingerprint < b.Fingerprint
		}
		return a.Redacted < b.Redacted
	})
}

// SortReferences sorts references by place, then key.
func SortReferences(refs []Reference) {
	slices.SortStableFunc(refs, func(a, b Reference) int {
		return cmp.Or(CompareOrigins(a.Origin, b.Origin), strings.Compare(a.Key, b.Key), cmpBool(a.Encrypted, b.Encrypted))
	})
}

// SortErrors sorts item errors by place, then message.
func SortErrors(errs []*ItemError) {
	slices.SortStableFunc(errs, func(a, b *ItemError) int {
		// by what reports show of an error's place (its app is not)
		ao, bo := a.Origin, b.Origin
		ao.App, bo.App = "", ""
		return cmp.Or(CompareOrigins(ao, bo), strings.Compare(a.Err.Error(), b.Err.Error()))
	})
}

// SortCISecrets sorts CI secret names by app, name, store, use, place.
func SortCISecrets(s []CISecret) {
	slices.SortStableFunc(s, func(a, b CISecret) int {
		return cmp.Or(strings.Compare(a.Origin.App, b.Origin.App), strings.Compare(a.Name, b.Name), strings.Compare(a.Store, b.Store),
			strings.Compare(a.Use, b.Use), CompareOrigins(a.Origin, b.Origin), strings.Compare(a.Scope, b.Scope))
	})
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// CompareOrigins orders places: by app, source, layer, path, commit,
// line, then the CI fields.
func CompareOrigins(a, b Origin) int {
	return cmp.Or(strings.Compare(a.App, b.App), strings.Compare(a.Target, b.Target), strings.Compare(a.Layer, b.Layer),
		strings.Compare(a.Path, b.Path), strings.Compare(a.Commit, b.Commit), cmp.Compare(a.Line, b.Line),
		strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.CI, b.CI), strings.Compare(a.Job, b.Job),
		strings.Compare(a.Step, b.Step), strings.Compare(a.Variable, b.Variable), strings.Compare(a.Blob, b.Blob))
}

// Reference is a credential setting that points at the environment or a
// secret store instead of holding a secret: the good end state, counted per
// app as "referenced".
type Reference struct {
	Origin Origin `json:"origin"`
	Key    string `json:"key"`
	// Encrypted: the value is ciphertext or names its secret store (SOPS
	// ENC[…], ansible-vault, Sealed Secrets, ref+vault://, AWS Secrets
	// Manager, secretKeyRef), counted as "encrypted" rather than
	// "referenced".
	Encrypted bool `json:"encrypted,omitempty"`
}

// CISecret is a secret a CI system holds by name: one a pipeline
// references (${{ secrets.ARP_DB_PASSWORD }}, credentials('arp-db'),
// $ARP_PASSWORD), or one a variable store lists. It never holds a value;
// these are the names to re-point at Vault.
type CISecret struct {
	Origin  Origin   `json:"origin"`            // where it is referenced, or the store that holds it
	Name    string   `json:"name"`              // its name in the CI's store
	Store   string   `json:"store"`             // secrets, vars, variables, credentials, variable group, context, …
	Use     string   `json:"use"`               // "referenced" (by a pipeline) or "stored" (listed by a store)
	Scope   string   `json:"scope,omitempty"`   // repository, environment:prod, organization, environment scope …
	Updated string   `json:"updated,omitempty"` // last update (RFC 3339), when the store says
	Flags   []string `json:"flags,omitempty"`   // protected, masked, hidden, file, visibility …
}

// Counts are what was read of a part of a scan (an image layer).
type Counts struct {
	Items   int64          `json:"items"`
	Bytes   int64          `json:"bytes"`
	Binary  int64          `json:"binary,omitempty"`
	Skipped map[string]int `json:"skipped,omitempty"`
}

// Add adds sign (1 or -1) times c's counts to these.
func (s *Counts) Add(sign int64, c Counts) {
	addCounts(sign, c, &s.Items, &s.Bytes, &s.Binary, &s.Skipped)
}

// Add adds sign (1 or -1) times c's counts to the stats' items, bytes,
// binary and skipped counts.
func (s *Stats) Add(sign int64, c Counts) {
	addCounts(sign, c, &s.Items, &s.Bytes, &s.Binary, &s.Skipped)
}

func addCounts(sign int64, c Counts, items, bytes, binary *int64, skipped *map[string]int) {
	*items += sign * c.Items
	*bytes += sign * c.Bytes
	*binary += sign * c.Binary
	for k, n := range c.Skipped {
		if *skipped == nil {
			*skipped = map[string]int{}
		}
		(*skipped)[k] += int(sign) * n
		if (*skipped)[k] == 0 {
			delete(*skipped, k)
		}
	}
}

// Stats counts what a scan read and found.
type Stats struct {
	Items       int64          `json:"items"`               // files, blobs, layer entries … read
	Bytes       int64          `json:"bytes"`               // bytes read
	Binary      int64          `json:"binary"`              // items skipped as binary
	Cached      int64          `json:"cached,omitempty"`    // items the scan cache knew clean, not read again (counted in items and bytes as when read)
	Skipped     map[string]int `json:"skipped,omitempty"`   // items skipped for other reasons ("git LFS pointer")
	Errors      int            `json:"errors"`              // items that could not be read
	Findings    int            `json:"findings"`            // findings reported
	Credentials int            `json:"credentials"`         // distinct credentials reported
	Allowed     int            `json:"allowed"`             // suppressed by an inline marker (credscan:allow, gitleaks:allow, trufflehog:ignore, pragma: allowlist secret, #nosec)
	Allowlisted int            `json:"allowlisted"`         // suppressed by the manifest's allowlist
	Baselined   int            `json:"baselined"`           // suppressed by the baseline
	Blocking    int            `json:"blocking"`            // findings that fail the run
	Referenced  map[string]int `json:"referenced"`          // per app: settings that read the environment or a secret store
	Encrypted   map[string]int `json:"encrypted,omitempty"` // per app: settings that hold ciphertext or name their secret store
	Hardcoded   map[string]int `json:"hardcoded"`           // per app: findings
	Problems    []string       `json:"problems,omitempty"`
}

// A LineGrouper gives each line of an item a byte that says which of a
// scan's rules the keywords on it wake. The byte is a function of the
// line's bytes alone (no keyword spans a line break), so a source that
// knows two versions share a line may copy its byte from one to the
// other instead of looking at the line again. A scan puts its grouper in
// the context it reads a source with (WithLineGrouper).
type LineGrouper interface {
	// LineGroups returns one byte per line of data (lines end at '\n';
	// a last line without one counts), in dst when it has the capacity;
	// nil when the grouper cannot tell (the scan's rules failed to load).
	LineGroups(data []byte, dst []uint8) []uint8
}

type lineGrouperKey struct{}

// WithLineGrouper returns ctx carrying g for the sources read with it.
func WithLineGrouper(ctx context.Context, g LineGrouper) context.Context {
	return context.WithValue(ctx, lineGrouperKey{}, g)
}

// A PathFilter says, from an item's path alone, that a scan's rules read
// nothing of it (a package manager's lock file): its source may count it
// as skipped without reading it. The scan skips such an item whether or
// not its source asked (counted in Stats.Skipped under the same reason),
// so asking changes what is read, never what is reported. A scan puts its
// filter in the context it reads a source with (WithPathFilter), and none
// when every byte must be read (the known-secret sweep).
type PathFilter interface {
	// SkipPath returns why no rule reads an item at path (slash-separated),
	// or "" when some rule may; "" too while the filter cannot tell yet.
	// It is safe for concurrent use.
	SkipPath(path string) string
}

type pathFilterKey struct{}

// WithPathFilter returns ctx carrying f for the sources read with it.
func WithPathFilter(ctx context.Context, f PathFilter) context.Context {
	return context.WithValue(ctx, pathFilterKey{}, f)
}

// PathFilterFrom returns the PathFilter ctx carries, or nil.
func PathFilterFrom(ctx context.Context) PathFilter {
	f, _ := ctx.Value(pathFilterKey{}).(PathFilter)
	return f
}

// LineGrouperFrom returns the LineGrouper ctx carries, or nil.
func LineGrouperFrom(ctx context.Context) LineGrouper {
	g, _ := ctx.Value(lineGrouperKey{}).(LineGrouper)
	return g
}
