// Package estate is credscan's runner: from an estate manifest (or
// sources named one by one) to results. It builds the sources, checks
// approvals, runs the engine, maps findings back to where they are
// (commits, images, CI jobs), applies the policy, pushes to Vault when
// asked, and records the run in the audit log. The command, the TUI and
// the rotation call it; none of them wires sources or Vault itself.
//
// A Session is one run: make it, scan what it should scan, Finish it.
// Sessions are independent and may run at the same time.
package estate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy"
	"github.com/credscan/credscan/policy/approval"
	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/civars"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
	gitsrc "github.com/credscan/credscan/scanners/git"
	imagesrc "github.com/credscan/credscan/scanners/image"
	"github.com/credscan/credscan/scanners/rules"
	"github.com/credscan/credscan/sweep"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync"
	"golang.org/x/sync/errgroup"
)

// Options configure a session. The zero value scans with every rule and
// records nothing.
type Options struct {
	// Apps and Kinds select what of the manifest is scanned: every app
	// and every kind when empty.
	Apps  []string
	Kinds []credscan.Kind

	Rules          engine.RuleSet // all (default), db or gitleaks
	GitleaksConfig string         // a gitleaks TOML config instead of its defaults
	MaxDecodeDepth int            // gitleaks' decoding passes
	Workers        int            // items scanned at once (default: one per CPU)
	// KeyFile is the fingerprint key file: "" takes the manifest's, else
	// the user's ($CREDSCAN_FINGERPRINT_KEY wins over both). A missing
	// file is created (mode 0600).
	KeyFile  string
	Baseline string // a baseline file: its findings do not block

	// Git, Image and CI are the templates of every source of their kind
	// (how git reads objects, registry credentials, CI tokens).
	Git   gitsrc.Options
	Image imagesrc.Options
	CI    CIOptions

	// Action names the run in the audit log ("scan estate").
	Action string
	// Approval is the approval the run holds; Approvals reads it, and
	// Identity is who runs (an approval is never for its own approver).
	Approval  string
	Approvals Approvals
	Identity  string
	// Recorder records the run (and refusals); nil records nothing.
	Recorder *audit.Recorder
	// Push, when set, writes the database credentials found to Vault.
	Push *Push
	// Tracker, when set, records each scanned app's evidence (what is
	// hardcoded where, what is in Vault) in the migration tracker.
	Tracker *tracker.Tracker

	Logger *slog.Logger
	// Now stamps the run's evidence for the tracker (default time.Now;
	// tests fix it).
	Now func() time.Time
	// Version stamps what the run writes to Vault ("credscan <version>").
	Version string

	// Sweep, after the pattern rules, reads every source again and
	// searches every byte (binary items included) for each database
	// password the scan found, and its encodings.
	Sweep bool
	// Known are credentials known before the scan (read from Vault with
	// --known-from-vault): every byte of every source is searched for
	// them as it is read, in the same pass as the rules.
	Known []engine.Known

	// Shard, when Total > 1, scans only that part of the manifest's apps
	// (Shard.Apps); the shards' JSON reports merge (report.Merge) into
	// the report of one run. Sweep's second pass needs every shard's
	// findings and is refused with it; Known works in every shard alike.
	Shard   Shard
	inShard map[string]bool // the apps of Shard

	// CacheDir, when set, holds the scan cache (package cache): content
	// known clean under this configuration is not read again, and what
	// the run finds clean is entered when it finishes. CacheMaxBytes
	// bounds it (0: cache.DefaultMaxBytes).
	CacheDir      string
	CacheMaxBytes int64
}

// Approvals is where approvals are read (Vault's credscan/approvals/).
type Approvals interface {
	ReadApproval(ctx context.Context, id string) (*approval.Approval, error)
}

// CIOptions are the tokens of CI variable stores.
type CIOptions struct {
	GitLabToken, GitHubToken string
}

// Push says where and how credentials are pushed.
type Push struct {
	Store *vaultsync.Store
	// CheckAudit lists Vault's audit devices: a push is refused when
	// there is none (or when they cannot be listed), unless AllowNoAudit,
	// which is recorded.
	CheckAudit   func(ctx context.Context) (vaultsync.DeviceCheck, error)
	AllowNoAudit bool
}

// Errors that say how a run ended; Results.Err returns them.
var (
	// ErrBlocking: the policy blocks findings (exit code 1).
	ErrBlocking = errors.New("blocking findings")
	// ErrPartial: some items could not be read (exit code 3).
	ErrPartial = errors.New("some items could not be read")
	// ErrInterrupted: the run was interrupted (exit code 130).
	ErrInterrupted = errors.New("interrupted")
)

// PushError is a push that left entries unwritten (they are listed).
type PushError struct{ Err error }

func (e *PushError) Error() string { return e.Err.Error() }
func (e *PushError) Unwrap() error { return e.Err }

// dirsAtOnce is how many directory sources ScanManifest scans at once.
const dirsAtOnce = 2

// Session is one run in progress. Its Scan methods may be called one after
// the other (not at once); Finish ends it.
type Session struct {
	m       *manifest.Manifest
	o       Options
	log     *slog.Logger
	eng     *engine.Engine
	pol     *policy.Policy
	res     *engine.Results
	mu      sync.Mutex // guards attr and swept (ScanManifest scans directories two at once)
	attr    []scanners.Attributor
	ci      []*civars.Scanner
	filters []func(*credscan.Finding) bool
	scope   []string
	cur     atomic.Pointer[current]
	// scannedApps are the manifest's apps ScanManifest scanned
	scannedApps []string
	// swept are the sources to read again for the credentials the scan
	// finds (Options.Sweep), with what closes them afterwards
	swept   []scanners.Source
	closers []func() error
	known   map[string]bool // fingerprints swept from the start
	now     func() time.Time
	// KeyCreated says the fingerprint key file was created.
	KeyCreated bool
	ruleSet    string
	keyID      string
	cache      *cache.Store // nil without Options.CacheDir
}

// current is the source being scanned, for Progress.
type current struct {
	label          string
	sizer          scanners.Sizer // nil when the source cannot tell its size
	items0, bytes0 int64          // what the run had read when it started
}

// Progress is a run's progress: the source being scanned, what of it was
// read so far and, when the source knows it, how much it holds.
type Progress struct {
	Source       string
	Items, Bytes int64 // read of this source
	TotalItems   int64 // known so far (0: the source cannot tell)
	Final        bool  // TotalItems is complete
	// RunItems and RunBytes are what the whole run has read.
	RunItems, RunBytes int64
}

// Progress returns the run's progress; it may be called at any time from
// any goroutine (a progress line, the TUI).
func (s *Session) Progress() Progress {
	items, bytes := s.res.Counted()
	p := Progress{RunItems: items, RunBytes: bytes}
	c := s.cur.Load()
	if c == nil {
		return p
	}
	p.Source, p.Items, p.Bytes = c.label, items-c.items0, bytes-c.bytes0
	if c.sizer != nil {
		p.TotalItems, _, p.Final = c.sizer.Size()
	}
	return p
}

// NewSession makes a session for the manifest m (nil when sources are
// named one by one).
func NewSession(m *manifest.Manifest, o Options) (*Session, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	keyFile := o.KeyFile
	if keyFile == "" {
		keyFile = m.KeyFile()
	}
	key, created, err := credscan.LoadFingerprintKey(keyFile)
	if err != nil {
		return nil, credscan.E(credscan.CodeInvalid, "fingerprint key", err)
	}
	if created {
		o.Logger.Info("created fingerprint key", "file", keyFile)
	}
	fp, err := credscan.NewFingerprinter(key)
	if err != nil {
		return nil, credscan.E(credscan.CodeInvalid, "fingerprint key", err)
	}
	if o.Shard.On() {
		if m == nil {
			return nil, credscan.UsageError("--shard splits an estate manifest's apps: it needs one")
		}
		o.inShard = map[string]bool{}
		for _, a := range o.Shard.Apps(m) {
			o.inShard[a] = true
		}
		if o.Sweep {
			return nil, credscan.UsageError("--sweep reads every source again for the passwords the whole scan found, which one shard does not know: run shards without it (--sweep=false), and sweep in every shard alike with --known-from-vault")
		}
	}
	eng, err := engine.New(engine.Options{
		Rules: o.Rules, GitleaksConfig: o.GitleaksConfig, MaxDecodeDepth: o.MaxDecodeDepth,
		Fingerprinter: fp, ContextWords: m.TargetNames(), Classify: m.Classify, Workers: o.Workers, Logger: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	pol, err := policy.New(m, o.Baseline)
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	var store *cache.Store
	if o.CacheDir != "" {
		// a cache only saves work: one that cannot be opened is said, and
		// the scan reads everything
		if store, err = cache.Open(o.CacheDir, o.CacheMaxBytes, o.Logger); err != nil {
			o.Logger.Warn("the scan cache cannot be used: everything is read", "error", err.Error())
			store = nil
		} else {
			eng.SetCache(store, cacheConfig(m, o, fp))
		}
	}
	s := &Session{cache: store, m: m, o: o, log: o.Logger, eng: eng, pol: pol, res: engine.NewResults(), KeyCreated: created,
		now: func() time.Time { return now().UTC() }, known: map[string]bool{},
		ruleSet: ruleSet(m, o), keyID: fp.Of("credscan fingerprint key id")[:16]}
	if len(o.Known) > 0 {
		set, skipped := eng.Compile(o.Known)
		for _, fp := range skipped {
			s.res.AddProblem(fmt.Sprintf("known secret %s is shorter than %d characters: not swept", shortFP(fp), sweep.MinLen))
			o.Logger.Warn("a known secret is shorter than the sweep's minimum: not swept", "fingerprint", shortFP(fp), "min", sweep.MinLen)
		}
		eng.SetKnown(set)
		for _, k := range o.Known {
			s.known[fp.Of(k.Secret)] = true
		}
		s.log.Info("sweeping for known secrets", "count", set.Len()-len(skipped))
	}
	return s, nil
}

func shortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// sweepFound is the second pass of the sweep: the sources are read again
// for the database passwords the scan found that were not swept for from
// the start.
func (s *Session) sweepFound(ctx context.Context) error {
	var db []*credscan.Finding
	for _, f := range append(slices.Clip(s.res.Findings), s.res.SuppressedFindings...) {
		if f.Database && !s.known[f.Fingerprint] && f.Secret.Reveal() != "" {
			db = append(db, f)
		}
	}
	if len(db) == 0 || len(s.swept) == 0 {
		return nil
	}
	var ks []engine.Known
	for _, c := range credscan.Group(db) {
		if s.known[c.Fingerprint] {
			continue // one fingerprint, several users: swept once
		}
		s.known[c.Fingerprint] = true
		secret := c.Findings[0].Secret.Reveal()
		if sweep.Wordlike(secret) && len(secret) >= sweep.MinLen {
			s.res.AddProblem(fmt.Sprintf("credential %s: password is a plain word or number: not swept (it would match ordinary text)", shortFP(c.Fingerprint)))
			s.log.Warn("a password found is a plain word or number: not swept", "fingerprint", shortFP(c.Fingerprint))
			continue
		}
		ks = append(ks, engine.Known{Secret: secret, Target: c.Target, DB: c.DB})
	}
	set, skipped := s.eng.Compile(ks)
	for _, fp := range skipped {
		s.res.AddProblem(fmt.Sprintf("credential %s: password shorter than %d characters: not swept", shortFP(fp), sweep.MinLen))
		s.log.Warn("a password found is shorter than the sweep's minimum: not swept", "fingerprint", shortFP(fp), "min", sweep.MinLen)
	}
	if set.Len() == len(skipped) {
		return nil
	}
	s.log.Info("sweeping the sources for the credentials found", "count", set.Len()-len(skipped), "sources", len(s.swept))
	// directories two at a time, as ScanManifest scans them
	dirs := &errgroup.Group{}
	dirs.SetLimit(dirsAtOnce)
	defer dirs.Wait() // (on an early return, its error is returned already)
	for _, src := range s.swept {
		if isDir(src) {
			dirs.Go(func() error { return s.eng.Sweep(ctx, src, s.res, set) })
			continue
		}
		if err := dirs.Wait(); err != nil {
			return err
		}
		if err := s.eng.Sweep(ctx, src, s.res, set); err != nil {
			return err
		}
	}
	return dirs.Wait()
}

// isDir says whether src is a directory source (ScanDirs').
func isDir(src scanners.Source) bool {
	if r, ok := src.(*relSource); ok {
		src = r.Source
	}
	_, ok := src.(*dir.Scanner)
	return ok
}

// Workers is the parallelism of the session's engine.
func (s *Session) Workers() int { return s.eng.Workers() }

// AddScope names what the run covers, for the audit log.
func (s *Session) AddScope(items ...string) { s.scope = append(s.scope, items...) }

// Authorize refuses the run when needs are not covered by the session's
// approval (CodeRefused), and records the refusal.
func (s *Session) Authorize(ctx context.Context, needs []approval.Need) error {
	if len(needs) == 0 {
		return nil
	}
	var scope []string
	for _, n := range needs {
		scope = append(scope, n.String())
	}
	refuse := func(err error) error {
		_, _ = s.record(ctx, audit.Record{Action: s.o.Action, Scope: scope, Approval: s.o.Approval, Result: "refused", Detail: err.Error()})
		if credscan.CodeOf(err) != credscan.CodeUnknown && credscan.CodeOf(err) != credscan.CodeRefused {
			return err // Vault unreachable, or the token may not read approvals
		}
		return credscan.E(credscan.CodeRefused, "", err)
	}
	if s.o.Approval == "" {
		return refuse(approval.MissingApproval(needs))
	}
	if s.o.Approvals == nil {
		return refuse(fmt.Errorf("approval %s cannot be checked: no Vault to read it from", s.o.Approval))
	}
	a, err := s.o.Approvals.ReadApproval(ctx, s.o.Approval)
	if err != nil {
		return refuse(err)
	}
	if err := approval.CheckApproval(a, needs, s.o.Identity, time.Now()); err != nil {
		return refuse(err)
	}
	s.log.Info("approved", "approval", a.ID, "by", a.Approver, "ticket", a.Ticket)
	return nil
}

// record records r when the session has a recorder.
func (s *Session) record(ctx context.Context, r audit.Record) (audit.Record, error) {
	if s.o.Recorder == nil {
		return r, nil
	}
	return s.o.Recorder.Record(ctx, r)
}

// ScanSource scans src; when it is an Attributor, its findings are mapped
// back once everything is scanned. An error stops the run (the source's
// own, an interruption); unreadable items are recorded and the scan goes
// on.
func (s *Session) ScanSource(ctx context.Context, src scanners.Source) error {
	label := "source"
	switch src.(type) {
	case *imagesrc.Scanner:
		label = "image"
	case *gitsrc.ChangeSet:
		label = "change"
	case *gitsrc.Scanner:
		label = "git"
	case *civars.Scanner:
		label = "ci"
	case *dir.Scanner:
		label = "dir"
	}
	return s.scan(ctx, src, label)
}

// scan scans src, named label in progress.
func (s *Session) scan(ctx context.Context, src scanners.Source, label string) error {
	s.mu.Lock()
	if a, ok := src.(scanners.Attributor); ok {
		s.attr = append(s.attr, a)
	}
	if s.o.Sweep {
		if _, ci := src.(*civars.Scanner); !ci { // CI values were swept as they were read
			s.swept = append(s.swept, src)
		}
	}
	s.mu.Unlock()
	c := &current{label: label}
	c.sizer, _ = src.(scanners.Sizer)
	if r, ok := src.(*relSource); ok {
		c.sizer, _ = r.Source.(scanners.Sizer)
	}
	c.items0, c.bytes0 = s.res.Counted()
	s.cur.Store(c)
	return s.eng.Scan(ctx, src, s.res)
}

// ScanDirs scans directories and files (for app, "" when none) and names
// each by label in reports (its absolute path when label is "").
func (s *Session) ScanDirs(ctx context.Context, roots []string, app, label string, missingOK bool) error {
	opts := []dir.Option{dir.WithApp(app), dir.WithWorkers(s.Workers())}
	if s.o.Sweep {
		opts = append(opts, dir.WithSecondPass()) // read again by the sweep
	}
	if missingOK {
		opts = append(opts, dir.WithMissingRoots())
	}
	d, err := dir.New(roots, opts...)
	if err != nil {
		return err
	}
	if label != "" && len(roots) == 1 {
		return s.scan(ctx, &relSource{Source: d, root: roots[0], label: label}, "dir "+label)
	}
	return s.scan(ctx, d, "dir "+strings.Join(roots, " "))
}

// ScanGit opens (or clones) a repository, scans its history and maps its
// findings to commits. A repository that cannot be opened is an
// unreadable item: the run goes on.
func (s *Session) ScanGit(ctx context.Context, spec string, o gitsrc.Options) error {
	o.Label = gitsrc.RedactURL(o.Label) // a URL may carry a token
	if o.Workers == 0 {
		o.Workers = s.Workers()
	}
	if o.Logger == nil {
		o.Logger = s.log
	}
	g, err := gitsrc.Open(ctx, spec, o)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.res.AddError(&credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindGit, App: o.App, Target: o.Label}, Err: err})
		return nil
	}
	if s.o.Sweep {
		s.closers = append(s.closers, g.Close) // read again by the sweep
	} else {
		defer g.Close()
	}
	if err := s.scan(ctx, g, "git "+o.Label); err != nil {
		return err // a bad revision, or an interruption
	}
	for _, w := range g.Warnings {
		s.res.AddProblem(w)
	}
	s.log.Info("git history scanned", "repo", o.Label, "commits", g.Commits, "submodules", len(g.Submodules))
	return nil
}

// ScanCI scans CI pipelines and variable stores; their references are
// mapped back to files and jobs, and their secret names listed.
func (s *Session) ScanCI(ctx context.Context, src *civars.Scanner) error {
	src.SetLogger(s.log)
	s.ci = append(s.ci, src)
	return s.scan(ctx, src, "ci")
}

// Filter keeps only the findings keep accepts (the merge gate keeps what
// a change adds).
func (s *Session) Filter(keep func(*credscan.Finding) bool) { s.filters = append(s.filters, keep) }

// Results is what a run found, ready to render.
type Results struct {
	*engine.Results
	Rules    map[string]string // rule ID → description
	RuleHelp map[string]string // rule ID → remediation
	// Incomplete says why the run stopped before its end ("interrupted").
	Incomplete string
	// Pushed lists what the push did to each entry (nil with no push);
	// PushTarget names where it went.
	Pushed     []vaultsync.Outcome
	PushTarget string
	DryRun     bool
	// RuleSet fingerprints what decides the report besides the sources
	// (version, rules, targets, policy, baseline); KeyID names the
	// fingerprint key (an HMAC of a fixed text, never the key). Shard and
	// ShardApps say which part of the estate a split run scanned.
	RuleSet, KeyID string
	Shard          Shard
	ShardApps      []string
	pushErr        error
	err            error
}

// Report is the results as report formats render them.
func (r *Results) Report(tool, version string) *report.Report {
	rep := &report.Report{Tool: tool, Version: version, Findings: r.Findings, References: r.References, CISecrets: r.CISecrets,
		Errors: r.Errors, Stats: r.Stats, Rules: r.Rules, RuleHelp: r.RuleHelp, Incomplete: r.Incomplete, RuleSet: r.RuleSet, KeyID: r.KeyID}
	if r.Shard.Total > 0 {
		rep.Shard = &report.Shard{Index: r.Shard.Index, Total: r.Shard.Total, Apps: r.ShardApps, Layers: r.Layers}
	}
	return rep
}

// Outcome says how a run ended from its report (a merged one): as
// Results.Err does, without the push (each shard pushed its own).
func Outcome(rep *report.Report) error {
	switch {
	case rep.Incomplete != "":
		return ErrInterrupted
	case rep.Stats.Blocking > 0:
		return ErrBlocking
	case rep.Stats.Errors > 0:
		return ErrPartial
	}
	return nil
}

// Err says how the run ended: ErrInterrupted, a *PushError, ErrBlocking,
// ErrPartial, or nil.
func (r *Results) Err() error { return r.err }

// Finish ends the run: findings are mapped back to where they are, the
// policy decides what blocks, the database credentials are pushed (when
// asked, and the run was not interrupted), and the run is recorded. The
// error is one that stopped the run (scanErr, a push refused, an audit
// log that cannot be written); how the run ended is Results.Err.
func (s *Session) Finish(ctx context.Context, scanErr error) (*Results, error) {
	defer func() {
		for _, c := range s.closers {
			_ = c()
		}
		s.closers = nil
	}()
	if s.cache != nil {
		defer func() {
			// what this run found clean (all of it was scanned, interrupted
			// or not) is entered; the file is written once, here
			if err := s.cache.Close(); err != nil {
				s.log.Warn("the scan cache could not be written: the next run reads everything again", "error", err.Error())
			} else if h := s.res.Stats.Cached; h > 0 {
				s.log.Info("scan cache", "known clean, not read again", h, "entries", s.cache.Len())
			}
		}()
	}
	interrupted := ctx.Err() != nil
	if scanErr != nil && !interrupted {
		return nil, fmt.Errorf("scan stopped: %w", scanErr)
	}
	if s.o.Sweep && !interrupted {
		if err := s.sweepFound(ctx); err != nil {
			if ctx.Err() == nil {
				return nil, fmt.Errorf("sweep stopped: %w", err)
			}
			interrupted = true
		}
	}
	for _, a := range s.attr {
		s.res.Findings = a.Attribute(s.res.Findings)
	}
	for _, c := range s.ci {
		s.res.References = c.AttributeRefs(s.res.References)
		s.res.AddCISecrets(c.Secrets())
	}
	s.res.CISecrets = civars.Link(s.res.CISecrets)
	for _, keep := range s.filters {
		s.res.Findings = slices.DeleteFunc(s.res.Findings, func(f *credscan.Finding) bool { return !keep(f) })
	}
	s.res.Finish()
	s.pol.Apply(s.res)
	r := &Results{Results: s.res, Rules: s.eng.RuleDescriptions(), RuleHelp: ruleHelp(), RuleSet: s.ruleSet, KeyID: s.keyID}
	if s.o.Shard.Total > 0 {
		r.Shard, r.ShardApps = s.o.Shard, s.o.Shard.Apps(s.m)
	}
	ctx = context.WithoutCancel(ctx) // what follows is written all the same
	if interrupted {
		r.Incomplete = "interrupted"
		if s.o.Push != nil {
			s.log.Warn("the scan was interrupted: nothing was pushed to Vault")
		}
	} else if s.o.Push != nil {
		if err := s.push(ctx, r); err != nil {
			return r, err
		}
	}
	if !interrupted {
		s.recordInventories(ctx, r)
	}
	switch {
	case interrupted:
		r.err = ErrInterrupted
	case r.pushErr != nil:
		r.err = &PushError{r.pushErr}
	case r.Stats.Blocking > 0:
		r.err = ErrBlocking
	case r.Stats.Errors > 0:
		r.err = ErrPartial
	}
	s.log.Info("scan finished", "items", r.Stats.Items, "bytes", r.Stats.Bytes, "findings", r.Stats.Findings,
		"credentials", r.Stats.Credentials, "blocking", r.Stats.Blocking, "errors", r.Stats.Errors)
	result := "ok"
	switch {
	case errors.Is(r.err, ErrInterrupted):
		result = "interrupted"
	case r.Stats.Blocking > 0:
		result = "blocked"
	case r.Stats.Errors > 0 || r.pushErr != nil:
		result = "partial"
	}
	if _, err := s.record(ctx, audit.Record{Action: s.o.Action, Scope: s.scope, Approval: s.o.Approval, Result: result,
		Counts: map[string]int{"items": int(r.Stats.Items), "findings": r.Stats.Findings, "credentials": r.Stats.Credentials,
			"blocking": r.Stats.Blocking, "errors": r.Stats.Errors}}); err != nil {
		return r, err
	}
	return r, nil
}

// push writes the run's database credentials to Vault, once Vault's audit
// devices say access is logged.
func (s *Session) push(ctx context.Context, r *Results) error {
	p := s.o.Push
	_, dry := p.Store.KV().(interface{ Planned() []string })
	r.DryRun = dry
	if p.CheckAudit != nil {
		chk, err := p.CheckAudit(ctx)
		if err != nil && !p.AllowNoAudit {
			return fmt.Errorf("%w; refusing to push without knowing Vault logs access (--allow-no-audit overrides, and is recorded)", err)
		}
		for _, w := range chk.Warnings {
			s.log.Warn(w)
		}
		if err == nil && !chk.OK || err != nil {
			if !p.AllowNoAudit {
				_, _ = s.record(ctx, audit.Record{Action: "vault.push", Approval: s.o.Approval, Result: "refused", Detail: "no Vault audit device is enabled"})
				return credscan.Errorf(credscan.CodeRefused, "vault has no audit device enabled: refusing to write secrets nobody's access to is logged (enable one: vault audit enable file file_path=…; or --allow-no-audit, recorded in credscan's audit log)")
			}
			if _, err := s.record(ctx, audit.Record{Action: "override", Result: "ok", Detail: "--allow-no-audit: pushing to a Vault with no audit device"}); err != nil {
				return err
			}
		}
	}
	entries := vaultsync.Entries(credscan.Group(r.Findings), p.Store.Layout(), s.o.Version)
	outs, perr := p.Store.Push(ctx, entries)
	r.Pushed, r.pushErr = outs, perr
	counts := map[string]int{}
	var paths []string
	for _, o := range outs {
		counts[string(o.Action)]++
		paths = append(paths, o.Path)
	}
	action, result := "vault.push", "ok"
	if dry {
		action = "vault.plan"
	}
	if perr != nil {
		result = "partial"
	}
	_, err := s.record(ctx, audit.Record{Action: action, Scope: paths, Approval: s.o.Approval, Result: result, Counts: counts})
	return err
}

func ruleHelp() map[string]string {
	out := map[string]string{}
	for _, r := range rules.All {
		out[r.ID] = r.Help
	}
	return out
}

// relSource names a directory source by its manifest spelling rather than
// its absolute path, so reports are stable across machines.
type relSource struct {
	scanners.Source
	root, label string
}

func (r *relSource) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	return r.Source.Chunks(ctx, func(ch credscan.Chunk, err error) error {
		if ch.Origin.Target == r.root {
			ch.Origin.Target = filepath.ToSlash(r.label)
		}
		if err != nil {
			if ie, ok := err.(*credscan.ItemError); ok && ie.Origin.Target == r.root {
				ie.Origin.Target = filepath.ToSlash(r.label)
			}
		}
		return yield(ch, err)
	})
}

// selected says whether the session scans app's sources of kind k.
func (o *Options) selected(app string, k credscan.Kind) bool {
	return (len(o.Apps) == 0 || slices.Contains(o.Apps, app)) && (k == "" || len(o.Kinds) == 0 || slices.Contains(o.Kinds, k)) &&
		(o.inShard == nil || o.inShard[app])
}

// Needs are the approvals the manifest's selected sources need.
func (s *Session) Needs() []approval.Need {
	var out []approval.Need
	for _, n := range approval.Needs(s.m) {
		if s.o.selected(n.App, kindOf(n.Kind)) {
			out = append(out, n)
		}
	}
	return out
}

func kindOf(name string) credscan.Kind {
	if name == "ci" {
		return credscan.KindCIVars
	}
	return credscan.Kind(name)
}

// ScanManifest scans every selected source of the manifest: git sources
// one repository at a time (each is cloned when its turn comes), every
// image of every app through one image source (a layer shared by several
// images is read once).
func (s *Session) ScanManifest(ctx context.Context) error {
	m := s.m
	if m == nil {
		return credscan.UsageError("no manifest")
	}
	for _, name := range s.o.Apps {
		if !slices.ContainsFunc(m.Apps, func(a manifest.App) bool { return a.Name == name }) {
			return credscan.Errorf(credscan.CodeNotFound, "app %q is not in the manifest", name)
		}
	}
	var images []imagesrc.Ref
	// directories are scanned two at a time: a directory's scan ends with
	// its slowest file on one core and starts with its walk on one, and
	// an estate is many small directories (what they find is sorted when
	// the run finishes, so the report does not depend on it); git
	// histories, CI and images are scanned one at a time, each with all
	// the workers
	dirs := &errgroup.Group{}
	dirs.SetLimit(dirsAtOnce)
	var dirErr atomic.Pointer[error]
	defer dirs.Wait() // (on an early return, its error is returned already)
	for _, app := range m.Apps {
		if s.o.selected(app.Name, "") {
			s.scannedApps = append(s.scannedApps, app.Name)
		}
		for _, src := range app.Sources {
			if !s.o.selected(app.Name, src.Kind()) {
				continue
			}
			s.AddScope(app.Name + " " + approval.KindName(string(src.Kind())) + " " + src.Spec())
			if p := dirErr.Load(); p != nil {
				return *p
			}
			if src.Kind() != credscan.KindDir {
				if err := dirs.Wait(); err != nil {
					return err
				}
			}
			var err error
			switch src.Kind() {
			case credscan.KindGit:
				spec := src.Git
				if !strings.Contains(spec, "://") && !strings.Contains(spec, "@") {
					spec = m.Resolve(spec)
				}
				o := s.o.Git
				o.App, o.Label = app.Name, src.Git
				if src.Ref != "" {
					o.Refs = []string{src.Ref}
				}
				err = s.ScanGit(ctx, spec, o)
			case credscan.KindImage:
				ref := src.Image
				for _, local := range []string{"oci:", "docker-archive:", "oci-archive:"} {
					if rest, ok := strings.CutPrefix(ref, local); ok {
						ref = local + m.Resolve(rest)
					}
				}
				images = append(images, imagesrc.Ref{Ref: ref, Label: src.Image, App: app.Name})
			case credscan.KindDir:
				root, name, label := m.Resolve(src.Dir), app.Name, src.Dir
				dirs.Go(func() error {
					err := s.ScanDirs(ctx, []string{root}, name, label, true)
					if err != nil {
						dirErr.CompareAndSwap(nil, &err)
					}
					return err
				})
			case credscan.KindCIVars:
				var sc *civars.Scanner
				if sc, err = ciSource(m, app.Name, src, s.o.CI); err == nil {
					err = s.ScanCI(ctx, sc)
				}
			default:
				err = credscan.UsageError("app %s: unknown source kind", app.Name)
			}
			if err != nil {
				return err
			}
		}
	}
	if err := dirs.Wait(); err != nil {
		return err
	}
	if len(images) > 0 {
		o := s.o.Image
		o.Workers, o.Logger = s.Workers(), s.log
		img, err := imagesrc.NewRefs(images, o)
		if err != nil {
			return err
		}
		return s.scan(ctx, img, fmt.Sprintf("%d image(s)", len(images)))
	}
	return nil
}

// ciSource builds the scanner of a manifest ci: source.
func ciSource(m *manifest.Manifest, app string, src manifest.Source, tokens CIOptions) (*civars.Scanner, error) {
	cs, err := src.CISource()
	if err != nil {
		return nil, credscan.UsageError("app %s: %w", app, err)
	}
	o := civars.Options{App: app}
	var paths []string
	switch {
	case cs.Path != "":
		paths, o.Label = []string{m.Resolve(cs.Path)}, cs.Path
	case cs.GitLabProject != "" || cs.GitLabGroup != "":
		url := cs.URL
		if url == "" {
			url = m.CI.GitLabURL
		}
		g := &civars.GitLabOptions{BaseURL: url, Token: tokens.GitLabToken}
		if cs.GitLabProject != "" {
			g.Projects = []string{cs.GitLabProject}
		} else {
			g.Groups = []string{cs.GitLabGroup}
		}
		o.GitLab = g
	default:
		url := cs.URL
		if url == "" {
			url = m.CI.GitHubURL
		}
		g := &civars.GitHubOptions{BaseURL: url, Token: tokens.GitHubToken}
		if cs.GitHubRepo != "" {
			g.Repos = []string{cs.GitHubRepo}
		} else {
			g.Orgs = []string{cs.GitHubOrg}
		}
		o.GitHub = g
	}
	sc, err := civars.New(paths, o)
	if err != nil {
		return nil, credscan.UsageError("app %s: %w", app, err)
	}
	return sc, nil
}

// Run scans the manifest's estate (the apps and kinds o selects), once
// its approvals hold, and finishes the run.
func Run(ctx context.Context, m *manifest.Manifest, o Options) (*Results, error) {
	if o.Action == "" {
		o.Action = "scan estate"
	}
	s, err := NewSession(m, o)
	if err != nil {
		return nil, err
	}
	if err := s.Authorize(ctx, s.Needs()); err != nil {
		return nil, err
	}
	return s.Finish(ctx, s.ScanManifest(ctx))
}
