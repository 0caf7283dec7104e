package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy"
	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/civars"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
	gitsrc "github.com/credscan/credscan/scanners/git"
	imagesrc "github.com/credscan/credscan/scanners/image"
	"github.com/credscan/credscan/scanners/rules"
)

// scanFlags are shared by every scan command.
type scanFlags struct {
	format         string
	output         string
	rules          string
	gitleaksConfig string
	baseline       string
	manifest       string
	logLevel       string
	workers        int
	maxDecodeDepth int
	keyFile        string
	// Vault: push after the scan, approvals, audit log
	push         bool
	dryRun       bool
	allowNoAudit bool
	approval     string
	vault        vaultFlags
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "credscan",
		Short:         "Find hardcoded database credentials across an estate",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `credscan finds every copy of every database credential hardcoded in an estate's
directories, config files, git history, container images and CI variables, with
exact provenance, grouped per database role, and pushes them into Vault. It
never prints a secret.

Exit codes: 0 nothing blocking, 1 blocking findings, 2 usage or configuration
error, 3 the scan finished but some items could not be read, 4 a Vault push
left credentials unwritten (they are listed), 5 a service (Vault, a registry,
a git server) could not be reached, 6 refused by a safety gate or a conflict,
7 integrity failure (a tampered audit log), 130 interrupted.`,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return credscan.UsageError("%v", err) })
	scan := &cobra.Command{Use: "scan", Short: "Scan sources for credentials"}
	scan.AddCommand(newScanDirCmd(), newScanGitCmd(), newScanImageCmd(), newScanCICmd(), newScanEstateCmd())
	root.AddCommand(scan, newCICmd(), newBaselineCmd(), newVaultCmd(), newApproveCmd(), newAuditCmd(), newVersionCmd(), newRulesCmd())
	return root
}

func addScanFlags(c *cobra.Command, f *scanFlags, withManifest bool) {
	fl := c.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.Formats, "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file (default stdout)")
	fl.StringVar(&f.rules, "rules", "all", "rule set: all (gitleaks defaults + DB pack) | db | gitleaks")
	fl.StringVar(&f.gitleaksConfig, "gitleaks-config", "", "gitleaks TOML config to use instead of its default rules")
	fl.StringVar(&f.baseline, "baseline", "", "baseline file: findings listed there are not reported")
	if withManifest {
		fl.StringVarP(&f.manifest, "manifest", "m", "", "estate manifest (credscan.yaml): targets, allowlist, policy")
	}
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level on stderr: debug|info|warn|error")
	fl.IntVar(&f.workers, "workers", 0, "files scanned at once (default: one per CPU)")
	fl.IntVar(&f.maxDecodeDepth, "max-decode-depth", 5, "gitleaks decoding passes (base64, hex, percent) on candidate lines")
	fl.StringVar(&f.keyFile, "fingerprint-key-file", "", "fingerprint key file (default: the manifest's, else the user config dir); $"+credscan.FingerprintKeyEnv+" wins")
	fl.BoolVar(&f.push, "push", false, "write the database credentials found to Vault KV v2 (see credscan vault push)")
	fl.StringVar(&f.approval, "approval", "", "approval ID (credscan approve) for sources the manifest marks approval: required")
	addVaultFlags(fl, &f.vault)
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, credscan.UsageError("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// session is what a scan command assembles before it scans.
type session struct {
	f      *scanFlags
	log    *slog.Logger
	m      *manifest.Manifest
	engine *engine.Engine
	pol    *policy.Policy
	res    *engine.Results
	// post rewrites findings once every source is scanned (git
	// attribution of blobs to commits)
	post []func([]*credscan.Finding) []*credscan.Finding
	// ci are the CI sources scanned: their references are mapped back
	// and their secret names listed once every source is scanned
	ci []*civars.Scanner
	// scope names what the scan covers, for the audit log
	scope []string
}

// settle applies the post-processing and de-duplicates the results.
func (s *session) settle() {
	for _, p := range s.post {
		s.res.Findings = p(s.res.Findings)
	}
	for _, c := range s.ci {
		s.res.References = c.AttributeRefs(s.res.References)
		s.res.AddCISecrets(c.Secrets())
	}
	s.res.CISecrets = civars.Link(s.res.CISecrets)
	s.res.Finish()
}

func newSession(f *scanFlags, m *manifest.Manifest, stderr io.Writer) (*session, error) {
	log, err := newLogger(f.logLevel, stderr)
	if err != nil {
		return nil, err
	}
	if !validFormat(f.format) {
		return nil, credscan.UsageError("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))
	}
	if f.workers < 0 {
		return nil, credscan.UsageError("--workers must not be negative")
	}
	keyFile := f.keyFile
	if keyFile == "" {
		keyFile = m.KeyFile()
	}
	key, created, err := credscan.LoadFingerprintKey(keyFile)
	if err != nil {
		return nil, credscan.UsageError("%v", err)
	}
	if created {
		log.Info("created fingerprint key", "file", keyFile)
	}
	fp, err := credscan.NewFingerprinter(key)
	if err != nil {
		return nil, credscan.UsageError("%v", err)
	}
	eng, err := engine.New(engine.Options{
		Rules: engine.RuleSet(f.rules), GitleaksConfig: f.gitleaksConfig, MaxDecodeDepth: f.maxDecodeDepth,
		Fingerprinter: fp, ContextWords: m.TargetNames(), Classify: m.Classify, Workers: f.workers, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	pol, err := policy.New(m, f.baseline)
	if err != nil {
		return nil, err
	}
	return &session{f: f, log: log, m: m, engine: eng, pol: pol, res: engine.NewResults()}, nil
}

func validFormat(s string) bool {
	for _, f := range report.Formats {
		if f == s {
			return true
		}
	}
	return s == "md"
}

// finish applies the policy, writes the report and returns the error that
// decides the exit code.
func (s *session) finish(cmd *cobra.Command, scanErr error) error {
	rep, err := s.conclude(cmd, scanErr)
	if err != nil {
		return err
	}
	if err := s.writeReport(cmd, rep); err != nil {
		return err
	}
	interrupted := rep.Incomplete != ""
	if s.f.push && !interrupted {
		if err := s.push(cmd.Context(), cmd.ErrOrStderr()); err != nil {
			return err
		}
	} else if s.f.push {
		fmt.Fprintln(cmd.ErrOrStderr(), "credscan: the scan was interrupted: nothing was pushed to Vault")
	}
	verdict := s.verdict(cmd)
	result := "ok"
	switch {
	case errors.Is(verdict, errInterrupted):
		result = "interrupted"
	case errors.Is(verdict, errBlocking):
		result = "blocked"
	case errors.Is(verdict, errPartial):
		result = "partial"
	}
	// the record of an interrupted scan is written all the same
	if err := s.record(context.WithoutCancel(cmd.Context()), audit.Record{Action: "scan " + cmd.Name(), Scope: s.scope, Approval: s.f.approval, Result: result,
		Counts: map[string]int{"items": int(s.res.Stats.Items), "findings": s.res.Stats.Findings, "credentials": s.res.Stats.Credentials,
			"blocking": s.res.Stats.Blocking, "errors": s.res.Stats.Errors}}); err != nil {
		return err
	}
	return verdict
}

// writeReport writes rep in --format to --output, else to stdout (in
// colour on a terminal). The report is rendered whole before anything is
// written, so a failure leaves no half report; a format that cannot mark
// an interrupted scan as such is not written at all.
func (s *session) writeReport(cmd *cobra.Command, rep *report.Report) error {
	out := cmd.OutOrStdout()
	if fh, ok := out.(*os.File); ok && s.f.output == "" && term.IsTerminal(int(fh.Fd())) && os.Getenv("NO_COLOR") == "" {
		rep.Color = true
	}
	var buf bytes.Buffer
	err := report.Write(&buf, s.f.format, rep)
	if errors.Is(err, report.ErrIncompleteCSV) {
		fmt.Fprintln(cmd.ErrOrStderr(), "credscan:", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if s.f.output == "" {
		_, err = out.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(s.f.output, buf.Bytes(), 0o600); err != nil {
		return credscan.UsageError("writing --output: %v", err)
	}
	return nil
}

// conclude settles the results, applies the policy and builds the report.
func (s *session) conclude(cmd *cobra.Command, scanErr error) (*report.Report, error) {
	if scanErr != nil && cmd.Context().Err() == nil {
		return nil, fmt.Errorf("scan stopped: %w", scanErr)
	}
	s.settle()
	s.pol.Apply(s.res)
	rep := &report.Report{Tool: "credscan", Version: version, Findings: s.res.Findings, References: s.res.References, CISecrets: s.res.CISecrets,
		Errors: s.res.Errors, Stats: s.res.Stats, Rules: s.engine.RuleDescriptions(), RuleHelp: ruleHelp()}
	if cmd.Context().Err() != nil {
		rep.Incomplete = "interrupted"
	}
	return rep, nil
}

// verdict logs the totals and returns the error that decides the exit code.
func (s *session) verdict(cmd *cobra.Command) error {
	s.log.Info("scan finished", "items", s.res.Stats.Items, "bytes", s.res.Stats.Bytes, "findings", s.res.Stats.Findings,
		"credentials", s.res.Stats.Credentials, "blocking", s.res.Stats.Blocking, "errors", s.res.Stats.Errors)
	if cmd.Context().Err() != nil {
		return errInterrupted
	}
	switch {
	case s.res.Stats.Blocking > 0:
		return errBlocking
	case s.res.Stats.Errors > 0:
		return errPartial
	}
	return nil
}

func ruleHelp() map[string]string {
	out := map[string]string{}
	for _, r := range rules.All {
		out[r.ID] = r.Help
	}
	return out
}

func newScanDirCmd() *cobra.Command {
	f := &scanFlags{}
	c := &cobra.Command{
		Use:   "dir PATH...",
		Short: "Scan directories and files",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := optionalSession(cmd, f, "dir", args)
			if err != nil {
				return err
			}
			src, err := dir.New(args, dir.WithWorkers(s.engine.Workers()))
			if err != nil {
				return err
			}
			return s.finish(cmd, s.engine.Scan(cmd.Context(), src, s.res))
		},
	}
	addScanFlags(c, f, true)
	return c
}

func newScanEstateCmd() *cobra.Command {
	f := &scanFlags{}
	c := &cobra.Command{
		Use:   "estate -m credscan.yaml",
		Short: "Scan every source of every app in an estate manifest",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.manifest == "" {
				return credscan.UsageError("scan estate needs --manifest (-m)")
			}
			return runEstate(cmd, f)
		},
	}
	addScanFlags(c, f, true)
	return c
}

// runEstate scans the manifest's estate, once its approvals hold.
func runEstate(cmd *cobra.Command, f *scanFlags) error {
	m, err := manifest.Load(f.manifest)
	if err != nil {
		return err
	}
	s, err := newSession(f, m, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	for _, a := range m.Apps {
		for _, src := range a.Sources {
			s.scope = append(s.scope, a.Name+" "+policy.KindName(string(src.Kind()))+" "+src.Spec())
		}
	}
	if err := s.authorize(cmd.Context(), policy.Needs(m)); err != nil {
		return err
	}
	return s.finish(cmd, scanEstate(cmd.Context(), s))
}

// estateSources builds one Source per manifest source (git sources are
// opened, and so cloned, when scanned).
func estateSources(m *manifest.Manifest, workers int) ([]scanners.Source, error) {
	var out []scanners.Source
	var images []imagesrc.Ref // one image source for all apps: shared layers are read once
	for _, app := range m.Apps {
		for _, src := range app.Sources {
			switch src.Kind() {
			case credscan.KindGit:
				spec := src.Git
				if !strings.Contains(spec, "://") && !strings.Contains(spec, "@") {
					spec = m.Resolve(spec)
				}
				o := gitsrc.Options{App: app.Name, Label: src.Git, Workers: workers}
				if src.Ref != "" {
					o.Refs = []string{src.Ref}
				}
				out = append(out, &lazyGit{spec: spec, o: o})
			case credscan.KindImage:
				ref := src.Image
				for _, local := range []string{"oci:", "docker-archive:", "oci-archive:"} {
					if rest, ok := strings.CutPrefix(ref, local); ok {
						ref = local + m.Resolve(rest)
					}
				}
				images = append(images, imagesrc.Ref{Ref: ref, Label: src.Image, App: app.Name})
			case credscan.KindDir:
				d, err := dir.New([]string{m.Resolve(src.Dir)}, dir.WithApp(app.Name), dir.WithWorkers(workers), dir.WithMissingRoots())
				if err != nil {
					return nil, credscan.UsageError("app %s: %v", app.Name, err)
				}
				out = append(out, &relSource{Source: d, root: m.Resolve(src.Dir), label: src.Dir})
			case credscan.KindCIVars:
				sc, err := ciSource(m, app.Name, src)
				if err != nil {
					return nil, err
				}
				out = append(out, sc)
			default:
				return nil, credscan.UsageError("app %s: unknown source kind", app.Name)
			}
		}
	}
	if len(images) > 0 {
		img, err := imagesrc.NewRefs(images, imagesrc.Options{Workers: workers})
		if err != nil {
			return nil, credscan.UsageError("%v", err)
		}
		out = append(out, img)
	}
	return out, nil
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

func scanEstate(ctx context.Context, s *session) error {
	srcs, err := estateSources(s.m, s.engine.Workers())
	if err != nil {
		return err
	}
	for _, src := range srcs {
		if g, ok := src.(*lazyGit); ok {
			g.o.Logger = s.log
			if err := s.scanGit(ctx, g.spec, g.o); err != nil {
				return err
			}
			continue
		}
		if img, ok := src.(*imagesrc.Scanner); ok {
			s.post = append(s.post, img.Attribute)
		}
		if c, ok := src.(*civars.Scanner); ok {
			c.SetLogger(s.log)
			s.addCI(c)
		}
		if err := s.engine.Scan(ctx, src, s.res); err != nil {
			return err
		}
	}
	return nil
}

// lazyGit is a manifest's git source, opened when its turn comes.
type lazyGit struct {
	spec string
	o    gitsrc.Options
}

func (g *lazyGit) Chunks(context.Context, func(credscan.Chunk, error) error) error {
	return errors.New("git sources are scanned through session.scanGit")
}

// scanGit opens (or clones) a repository, scans its history and arranges
// for its findings to be attributed to commits. A repository that cannot
// be opened is an item error: the other sources are still scanned.
func (s *session) scanGit(ctx context.Context, spec string, o gitsrc.Options) error {
	o.Label = gitsrc.RedactURL(o.Label) // a URL may carry a token
	gitEnv(&o)
	g, err := gitsrc.Open(ctx, spec, o)
	if err != nil {
		s.res.AddError(&credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindGit, App: o.App, Target: o.Label}, Err: err})
		return nil
	}
	defer g.Close()
	if err := s.engine.Scan(ctx, g, s.res); err != nil {
		return err // a bad revision (exit 2) or an interruption
	}
	for _, w := range g.Warnings {
		s.res.AddProblem(w)
	}
	s.log.Info("git history scanned", "repo", o.Label, "commits", g.Commits, "submodules", len(g.Submodules))
	s.post = append(s.post, g.Attribute)
	return nil
}

func newScanImageCmd() *cobra.Command {
	f := &scanFlags{}
	var o imagesrc.Options
	var user string
	var passwordStdin bool
	c := &cobra.Command{
		Use:   "image REF...",
		Short: "Scan container images: config, every layer, archives inside layers",
		Long: `Scan container images without a Docker daemon. REF is a registry reference
(registry.example.com/billing-api:1.4 or @sha256:…), oci:DIR, docker-archive:FILE
or oci-archive:FILE. The image config (Env, Cmd, Entrypoint, Labels, history)
and every layer on its own are scanned, so a file deleted by a later layer is
still found (and reported as such); jar, war, ear, zip and tar archives inside
layers are opened. Registry credentials come from the Docker config and
credential helpers, or --username with --password-stdin.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := optionalSession(cmd, f, "image", args)
			if err != nil {
				return err
			}
			if passwordStdin {
				if user == "" {
					return credscan.UsageError("--password-stdin needs --username")
				}
				pw, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<16))
				if err != nil {
					return credscan.UsageError("reading the password from stdin: %v", err)
				}
				o.Auth = &authn.Basic{Username: user, Password: strings.TrimRight(string(pw), "\r\n")}
			}
			o.Workers, o.Logger = s.engine.Workers(), s.log
			src, err := imagesrc.New(args, o)
			if err != nil {
				return err
			}
			s.post = append(s.post, src.Attribute)
			return s.finish(cmd, s.engine.Scan(cmd.Context(), src, s.res))
		},
	}
	addScanFlags(c, f, true)
	fl := c.Flags()
	fl.StringVar(&o.Platform, "platform", "", "scan only this platform of a multi-platform image (e.g. linux/amd64)")
	fl.BoolVar(&o.Insecure, "insecure", false, "plain HTTP, for a registry on loopback only")
	fl.StringVar(&user, "username", "", "registry user name (with --password-stdin)")
	fl.BoolVar(&passwordStdin, "password-stdin", false, "read the registry password from stdin")
	return c
}

func newScanGitCmd() *cobra.Command {
	f := &scanFlags{}
	var o gitsrc.Options
	allRefs := true
	c := &cobra.Command{
		Use:   "git REPO...",
		Short: "Scan the full history of git repositories (paths or URLs)",
		Long: `Scan every blob reachable from all branches and tags (or --branch, --since,
--range) once, and report each secret with the commit that introduced it
(SHA, author, date) and whether it is still at the default branch's tip.

Clones of URLs authenticate with $CREDSCAN_GIT_TOKEN (else $GITHUB_TOKEN,
$GITLAB_TOKEN, $GIT_TOKEN) over HTTPS, and with $CREDSCAN_GIT_SSH_KEY, the SSH
agent or ~/.ssh keys over SSH.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := optionalSession(cmd, f, "git", args)
			if err != nil {
				return err
			}
			if !allRefs && o.Branch == "" && o.Range == "" {
				o.Refs = []string{"HEAD"}
			}
			for _, repo := range args {
				oo := o
				oo.Label, oo.Workers, oo.Logger = repo, s.engine.Workers(), s.log
				if err := s.scanGit(cmd.Context(), repo, oo); err != nil {
					return s.finish(cmd, err)
				}
			}
			return s.finish(cmd, nil)
		},
	}
	addScanFlags(c, f, true)
	fl := c.Flags()
	fl.StringVar(&o.Branch, "branch", "", "scan only the history this branch reaches")
	fl.StringVar(&o.Since, "since", "", "leave out the history this revision reaches")
	fl.StringVar(&o.Range, "range", "", "scan the commits of A..B (what B reaches and A does not)")
	fl.BoolVar(&allRefs, "all-refs", true, "scan what every branch and tag reaches (false: HEAD only)")
	return c
}

func newBaselineCmd() *cobra.Command {
	b := &cobra.Command{Use: "baseline", Short: "Manage the baseline of known findings"}
	f := &scanFlags{}
	var out string
	create := &cobra.Command{
		Use:   "create [PATH...]",
		Short: "Scan PATHs (or the manifest's estate) and write every finding to a baseline file",
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := optionalManifest(f.manifest)
			if err != nil {
				return err
			}
			if len(args) == 0 && m == nil {
				return credscan.UsageError("baseline create needs PATHs or --manifest")
			}
			s, err := newSession(f, m, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var scanErr error
			if len(args) > 0 {
				src, err := dir.New(args, dir.WithWorkers(s.engine.Workers()))
				if err != nil {
					return err
				}
				scanErr = s.engine.Scan(cmd.Context(), src, s.res)
			} else {
				scanErr = scanEstate(cmd.Context(), s)
			}
			if scanErr != nil {
				return fmt.Errorf("scan stopped: %w", scanErr)
			}
			s.settle()
			if err := policy.WriteBaseline(out, policy.NewBaseline(s.res.Findings, time.Now())); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "baseline %s: %d finding(s)\n", out, len(s.res.Findings))
			if s.res.Stats.Errors > 0 {
				return errPartial
			}
			return nil
		},
	}
	addScanFlags(create, f, true)
	create.Flags().StringVar(&out, "baseline-file", "credscan-baseline.json", "baseline file to write")
	b.AddCommand(create)
	return b
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and build date",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "credscan %s (commit %s, built %s)\n", version, commit, date)
		},
	}
}

func newRulesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the DB rule pack",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			for _, r := range rules.All {
				fmt.Fprintf(cmd.OutOrStdout(), "%-28s %s\n", r.ID, r.Description)
			}
		},
	}
}

// optionalSession starts a session with the manifest -m names, if any,
// for a scan of kind over args; when the manifest requires an approval for
// that kind, the session starts only under one covering all apps ("*").
func optionalSession(cmd *cobra.Command, f *scanFlags, kind string, args []string) (*session, error) {
	m, err := optionalManifest(f.manifest)
	if err != nil {
		return nil, err
	}
	s, err := newSession(f, m, cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	var needs []policy.Need
	for _, a := range args {
		a = gitsrc.RedactURL(a) // a repository URL may carry a token
		s.scope = append(s.scope, kind+" "+a)
		if m != nil && slices.Contains(m.Approvals.Required, kind) {
			needs = append(needs, policy.Need{App: "*", Kind: kind, Source: a})
		}
	}
	return s, s.authorize(cmd.Context(), needs)
}

// optionalManifest loads the manifest when a path is given, else returns nil.
func optionalManifest(path string) (*manifest.Manifest, error) {
	if path == "" {
		return nil, nil
	}
	return manifest.Load(path)
}
