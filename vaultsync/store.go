package vaultsync

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Layout says where credentials go in Vault (DESIGN.md, "Vault layout").
type Layout struct {
	Mount     string // KV v2 mount (default "secret")
	Prefix    string // prepended to every path ("" by default)
	Migrating string // the target being migrated: its credentials go to <target>/legacy/ (default "ARP")
}

func (l Layout) withDefaults() Layout {
	if l.Mount == "" {
		l.Mount = "secret"
	}
	if l.Migrating == "" {
		l.Migrating = "ARP"
	}
	l.Prefix = strings.Trim(l.Prefix, "/")
	return l
}

func (l Layout) path(p string) string {
	if l.Prefix == "" {
		return p
	}
	return l.Prefix + "/" + p
}

// CredentialPath is where a credential goes: <migrating>/legacy/<role>/<fp>
// for the migrated target (one entry per distinct password), else
// <target>/<role>/<fp>; "unclassified" when no target is known.
func (l Layout) CredentialPath(k credscan.CredentialKey) string {
	l = l.withDefaults()
	role := pathSegment(k.User, "unknown-user")
	fp := k.Fingerprint
	if len(fp) > 12 {
		fp = fp[:12]
	}
	switch {
	case k.Target != "" && strings.EqualFold(k.Target, l.Migrating):
		return l.path(strings.ToLower(pathSegment(k.Target, "")) + "/legacy/" + role + "/" + fp)
	case k.Target != "":
		return l.path(strings.ToLower(pathSegment(k.Target, "")) + "/" + role + "/" + fp)
	}
	return l.path("unclassified/" + role + "/" + fp)
}

// KVMount is the mount, defaulted.
func (l Layout) KVMount() string { return l.withDefaults().Mount }

// TargetDir is the directory of target's credentials ("arp" for the
// migrated one: legacy/ and green/ are under it).
func (l Layout) TargetDir(target string) string {
	return l.withDefaults().path(strings.ToLower(pathSegment(target, "unclassified")))
}

// FindingsDir is the directory of the apps' redacted occurrences.
func (l Layout) FindingsDir() string { return l.withDefaults().path("credscan/findings") }

// FindingsPath is where an app's redacted occurrences go.
func (l Layout) FindingsPath(app string) string {
	return l.withDefaults().path("credscan/findings/" + pathSegment(app, "no-app"))
}

func pathSegment(s, empty string) string {
	if s == "" {
		return empty
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '\\' || r < 32 {
			return '_'
		}
		return r
	}, s)
}

// Entry is one secret to write. Data may hold a password: it is never
// printed, logged or put in an error.
type Entry struct {
	Path string
	Data map[string]any
	// Meta is the custom_metadata (values are capped at 512 characters,
	// the keys at 64: Vault's limits).
	Meta map[string]string
	// Label names the entry in plans and errors (target/user/fp, never a value).
	Label string
}

// Vault's limits on custom_metadata.
const (
	maxMetaKeys  = 64
	maxMetaValue = 512
)

// Entries builds the entries of the database credentials among creds and
// the redacted occurrences of each app. version stamps the metadata.
func Entries(creds []*credscan.Credential, l Layout, version string) []Entry {
	var out []Entry
	byApp := map[string][]map[string]any{}
	for _, c := range creds {
		var pw *credscan.Finding
		for _, f := range c.Findings {
			if f.Database && !f.Secret.Empty() && pw == nil {
				pw = f
			}
			byApp[f.Origin.App] = append(byApp[f.Origin.App], occurrence(f, c))
		}
		if pw == nil {
			continue // gitleaks findings are reported, not vaulted
		}
		db := c.DB
		if db == nil {
			db = &credscan.DBIdentity{}
		}
		data := map[string]any{
			"password": pw.Secret.Reveal(),
			"user":     c.User,
			"host":     strings.Join(db.AllHosts(), ","),
			"port":     portString(db.Port),
			"database": db.Database,
			"dsn":      legacyDSN(db, c.User, pw.Secret.Reveal()),
		}
		meta := map[string]string{
			"fingerprint": c.Fingerprint,
			"target":      c.Target,
			"user":        c.User,
			"occurrences": strconv.Itoa(len(c.Findings)),
			"apps":        strings.Join(c.Apps(), ","),
			"rules":       strings.Join(c.Rules(), ","),
			"written_by":  "credscan " + version,
		}
		if first := firstCommitDate(c); first != "" {
			meta["first_committed"] = first
		}
		out = append(out, Entry{Path: l.CredentialPath(c.CredentialKey), Data: data, Meta: capMeta(meta),
			Label: fmt.Sprintf("%s/%s fp %s", orDash(c.Target), orDash(c.User), short(c.Fingerprint))})
	}
	apps := make([]string, 0, len(byApp))
	for a := range byApp {
		apps = append(apps, a)
	}
	sort.Strings(apps)
	for _, a := range apps {
		occ := byApp[a]
		out = append(out, Entry{Path: l.FindingsPath(a), Data: map[string]any{"app": a, "occurrences": occ, "count": len(occ)},
			Meta:  capMeta(map[string]string{"app": a, "occurrences": strconv.Itoa(len(occ)), "written_by": "credscan " + version}),
			Label: "findings of " + orDash(a)})
	}
	return out
}

// occurrence is a finding without its secret, for credscan/findings/<app>.
func occurrence(f *credscan.Finding, c *credscan.Credential) map[string]any {
	o := map[string]any{
		"rule": f.RuleID, "target": c.Target, "user": c.User, "fingerprint": c.Fingerprint,
		"kind": string(f.Origin.Kind), "source": f.Origin.Target, "path": f.Origin.Path, "line": f.Origin.Line,
		"redacted": f.Redacted, "blocking": f.Blocking,
	}
	for k, v := range map[string]string{"commit": f.Origin.Commit, "layer": f.Origin.Layer, "ci": f.Origin.CI, "job": f.Origin.Job, "variable": f.Origin.Variable} {
		if v != "" {
			o[k] = v
		}
	}
	return o
}

func legacyDSN(db *credscan.DBIdentity, user, password string) string {
	scheme := "postgresql"
	switch db.Driver {
	case "mysql", "sqlserver", "mariadb":
		scheme = db.Driver
	}
	u := url.URL{Scheme: scheme, User: url.UserPassword(user, password), Host: strings.Join(db.AllHosts(), ",")}
	if db.Port != 0 && len(db.AllHosts()) <= 1 {
		u.Host += ":" + strconv.Itoa(db.Port)
	}
	if db.Database != "" {
		u.Path = "/" + db.Database
	}
	return u.String()
}

func portString(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

func firstCommitDate(c *credscan.Credential) string {
	first := ""
	for _, f := range c.Findings {
		if f.Origin.Date != "" && (first == "" || f.Origin.Date < first) {
			first = f.Origin.Date
		}
	}
	return first
}

func capMeta(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
			continue
		}
		if len(v) > maxMetaValue {
			cut := strings.LastIndexByte(v[:maxMetaValue-16], ',')
			if cut < 0 {
				cut = maxMetaValue - 16
			}
			m[k] = v[:cut] + fmt.Sprintf(",…(+%d)", strings.Count(v[cut:], ",")) // full list: credscan/findings/<app>
		}
	}
	return m
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// Action is what a push did (or, in a dry run, would do) to an entry.
type Action string

// Actions.
const (
	New       Action = "new"
	Unchanged Action = "unchanged"
	Changed   Action = "changed" // the value in Vault differs: someone rotated it by hand
	Failed    Action = "failed"
)

// Outcome is what happened to one entry.
type Outcome struct {
	Path    string
	Label   string
	Action  Action
	Version int   // the version now current (0 when none)
	Err     error // for Failed; never holds a value
}

// Store writes entries into a KV store (Vault KV v2 through kv.Vault; a
// kv.DryRun around it plans without writing).
type Store struct {
	kv      kv.KV
	l       Layout
	log     *slog.Logger
	Retries int           // attempts per entry for retryable failures (default 6)
	Backoff time.Duration // first wait between attempts, doubled each time (default 500 ms, at most 8 s)
	Workers int           // entries written at once (default 4)
	// now stamps first_seen/last_seen (tests may fix it).
	now func() time.Time
	// down is set once an entry failed with Vault unavailable after every
	// retry: the entries after it are not attempted (and are listed).
	down atomic.Pointer[string]
}

// NewStore returns a Store over the KV store k with the layout l (whose
// mount names k's mount in messages).
func NewStore(k kv.KV, l Layout, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{kv: k, l: l.withDefaults(), log: log, Retries: 6, Backoff: 500 * time.Millisecond, Workers: 4, now: time.Now}
}

// KV is the store's KV.
func (s *Store) KV() kv.KV { return s.kv }

// Layout returns the store's layout.
func (s *Store) Layout() Layout { return s.l }

// Push writes every entry with check-and-set (over a kv.DryRun, it only
// reads and says what it would do). It returns an outcome per entry, in
// order, and an error listing the entries that were not written.
func (s *Store) Push(ctx context.Context, entries []Entry) ([]Outcome, error) {
	out := make([]Outcome, len(entries))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, s.Workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i] = s.pushOne(ctx, entries[i])
			}
		}()
	}
	for i := range entries {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var failed []string
	for _, o := range out {
		if o.Action == Failed {
			failed = append(failed, fmt.Sprintf("%s (%s): %v", o.Path, o.Label, o.Err))
		}
	}
	if len(failed) > 0 {
		return out, &PushError{Failed: failed, Total: len(entries)}
	}
	return out, nil
}

// PushError lists the entries a push could not write.
type PushError struct {
	Failed []string
	Total  int
}

func (e *PushError) Error() string {
	return fmt.Sprintf("%d of %d entries NOT written to Vault (run the push again to complete them):\n  %s",
		len(e.Failed), e.Total, strings.Join(e.Failed, "\n  "))
}

func (s *Store) pushOne(ctx context.Context, e Entry) Outcome {
	o := Outcome{Path: e.Path, Label: e.Label}
	if ctx.Err() != nil {
		o.Action, o.Err = Failed, fmt.Errorf("not attempted: %v", ctx.Err())
		return o
	}
	if why := s.down.Load(); why != nil {
		o.Action, o.Err = Failed, fmt.Errorf("not attempted: Vault unavailable (%s)", *why)
		return o
	}
	var last error
	for attempt := 1; attempt <= max(1, s.Retries); attempt++ {
		act, ver, err := s.write(ctx, e)
		if err == nil {
			o.Action, o.Version = act, ver
			return o
		}
		last = err
		if credscan.CodeOf(err) == credscan.CodeConflict {
			s.log.Info("check-and-set conflict: another writer changed the entry; reading it again", "path", e.Path)
			continue
		}
		if !kv.Retryable(err) || ctx.Err() != nil {
			break
		}
		if attempt < s.Retries {
			wait := kv.Wait(s.Backoff, attempt)
			s.log.Warn("vault unavailable: retrying", "path", e.Path, "attempt", attempt, "wait", wait.String(), "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
	o.Action, o.Err = Failed, last
	if kv.Retryable(last) {
		why := last.Error()
		s.down.CompareAndSwap(nil, &why)
	}
	return o
}

// write reads the entry's current version and writes the data with
// check-and-set on that version unless it is already there; it then sets
// the custom metadata (keeping first_seen).
func (s *Store) write(ctx context.Context, e Entry) (Action, int, error) {
	current, meta := 0, map[string]string{}
	md, err := s.kv.Metadata(ctx, e.Path)
	switch {
	case credscan.CodeOf(err) == credscan.CodeNotFound:
	case err != nil:
		return "", 0, err
	default:
		current, meta = md.Current, md.Custom
	}
	act := New
	if current > 0 {
		act = Changed
		sec, err := s.kv.GetVersion(ctx, e.Path, current)
		if err != nil && credscan.CodeOf(err) != credscan.CodeNotFound {
			return "", 0, err
		}
		if err == nil && sameData(sec.Data, e.Data) {
			act = Unchanged
		}
	}
	version := current
	if act != Unchanged {
		if version, err = s.kv.Put(ctx, e.Path, e.Data, current); err != nil {
			return "", 0, err
		}
		if act == Changed && version != current {
			s.log.Warn("the value in Vault differed from the discovered one (rotated by hand?): wrote a new version", "path", e.Path, "version", version)
		}
	}
	now := s.now().UTC().Format(time.RFC3339)
	custom := map[string]string{}
	for k, v := range e.Meta {
		custom[k] = v
	}
	custom["last_seen"] = now
	custom["first_seen"] = now
	if fs := meta["first_seen"]; fs != "" {
		custom["first_seen"] = fs
	}
	if err := s.kv.PatchMetadata(ctx, e.Path, kv.MetadataPatch{Custom: custom}); err != nil {
		return "", 0, err
	}
	return act, version, nil
}

// sameData compares stored data with the entry's, as Vault returns it
// (JSON numbers and arrays come back as json.Number and []any).
func sameData(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if fmt.Sprint(normalize(a[k])) != fmt.Sprint(normalize(v)) {
			return false
		}
	}
	return true
}

func normalize(v any) any {
	switch x := v.(type) {
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = normalize(m)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = normalize(m)
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%v;", k, normalize(x[k]))
		}
		return b.String()
	default:
		return fmt.Sprint(x)
	}
}
