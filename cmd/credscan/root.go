package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/atomicfile"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy"
	"github.com/credscan/credscan/policy/approval"
	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/scanners/engine"
	gitsrc "github.com/credscan/credscan/scanners/git"
	imagesrc "github.com/credscan/credscan/scanners/image"
	"github.com/credscan/credscan/scanners/rules"
	"github.com/credscan/credscan/sweep"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync"
	"github.com/credscan/credscan/vaultsync/kv"
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
	apps           []string
	quiet          bool
	showSuppressed bool
	sweep          bool
	knownFromVault []string
	shard          string
	cacheDir       string
	noCache        bool
	reportOnly     bool
	cacheMaxMB     int
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return credscan.UsageError("%w", err) })
	scan := &cobra.Command{Use: "scan", Short: "Scan sources for credentials"}
	scan.AddCommand(newScanDirCmd(), newScanGitCmd(), newScanImageCmd(), newScanCICmd(), newScanEstateCmd())
	root.AddCommand(scan, newCICmd(), newBaselineCmd(), newVaultCmd(), newApproveCmd(), newAuditCmd(), newVersionCmd(), newRulesCmd(),
		newMergeCmd(), newStatusCmd(), newTickCmd(tracker.Tick), newTickCmd(tracker.Untick), newTickCmd(tracker.Waive), newTUICmd(), newRotateCmd())
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
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress line on a terminal")
	fl.BoolVar(&f.sweep, "sweep", false, "after the rules, read every source again and search every byte (binaries too) for each database password found, plain and encoded (on by default for scan estate)")
	fl.StringSliceVar(&f.knownFromVault, "known-from-vault", nil, "Vault KV paths whose passwords (every readable version) are searched for in every byte as the sources are read (a trailing / or /* reads everything under it; repeatable)")
	fl.BoolVar(&f.showSuppressed, "show-suppressed", false, "also list the findings inline markers suppressed (credscan:allow, gitleaks:allow, trufflehog:ignore, pragma: allowlist secret, #nosec); they are always counted")
	fl.StringVar(&f.cacheDir, "cache", "", "scan cache directory: content found clean before, under the same rules and version, is not read again (default: $CREDSCAN_CACHE, else credscan/ under the user cache directory; CREDSCAN_CACHE=off disables it)")
	fl.BoolVar(&f.reportOnly, "report-only", false, "exit 0 once the report is written, even with blocking findings or unreadable items (a shard of a split scan: credscan merge gives the run's exit code)")
	fl.IntVar(&f.cacheMaxMB, "cache-max-mb", 64, "bound of the scan cache file (least recently used entries go first)")
	fl.BoolVar(&f.noCache, "no-cache", false, "read everything; neither use nor fill the scan cache")
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

// scanRun is one scan command: an estate session and what rendering needs.
type scanRun struct {
	*estate.Session
	f            *scanFlags
	m            *manifest.Manifest
	log          *slog.Logger
	line         *liveLine // stderr, with the progress line
	stopProgress func()    // clears the progress line
}

// newRun maps the flags to the runner's options and starts a session;
// Vault is reached only when an approval, a push or the audit mirror
// needs it.
func newRun(cmd *cobra.Command, f *scanFlags, m *manifest.Manifest, action string) (*scanRun, error) {
	line := &liveLine{w: cmd.ErrOrStderr()}
	log, err := newLogger(f.logLevel, line)
	if err != nil {
		return nil, err
	}
	if !validFormat(f.format) {
		return nil, credscan.UsageError("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))
	}
	if f.workers < 0 {
		return nil, credscan.UsageError("--workers must not be negative")
	}
	ctx := cmd.Context()
	o := estate.Options{
		Apps: f.apps, Rules: engine.RuleSet(f.rules), GitleaksConfig: f.gitleaksConfig, MaxDecodeDepth: f.maxDecodeDepth,
		Workers: f.workers, KeyFile: f.keyFile, Baseline: f.baseline, Action: action, Approval: f.approval,
		CI:     estate.CIOptions{GitLabToken: os.Getenv("GITLAB_TOKEN"), GitHubToken: os.Getenv("GITHUB_TOKEN")},
		Logger: log, Version: version, Sweep: f.sweep,
	}
	o.CacheDir = cacheDir(f)
	if f.cacheMaxMB < 1 {
		return nil, credscan.UsageError("--cache-max-mb must be at least 1")
	}
	o.CacheMaxBytes = int64(f.cacheMaxMB) << 20
	if f.shard != "" {
		if o.Shard, err = estate.ParseShard(f.shard); err != nil {
			return nil, err
		}
		if !cmd.Flags().Changed("sweep") {
			// its second pass needs every shard's findings (with one
			// shard too, so that every N merges to the same report)
			o.Sweep = false
		}
	}
	gitEnv(&o.Git)
	v := &f.vault
	if len(f.knownFromVault) > 0 {
		known, err := knownFromVault(ctx, v, m, log, f.knownFromVault)
		if err != nil {
			return nil, err
		}
		o.Known = known
	}
	if f.approval != "" || f.push {
		if _, err := v.connect(ctx, log); err != nil {
			return nil, err
		}
		st := v.store(m, log, f.dryRun)
		if f.approval != "" {
			o.Approvals = st
			if v.identityErr != nil {
				log.Warn("who runs cannot be told from Vault", "error", v.identityErr.Error())
			} else {
				o.Identity = v.identity.ID()
			}
		}
		if f.push {
			o.Push = &estate.Push{Store: st, AllowNoAudit: f.allowNoAudit,
				CheckAudit: func(ctx context.Context) (vaultsync.DeviceCheck, error) {
					return vaultsync.CheckAuditDevices(ctx, v.client)
				}}
		}
	}
	if o.Recorder, err = v.recorder(ctx, m, log); err != nil {
		return nil, err
	}
	if m != nil && len(m.Apps) > 0 {
		// a manifest's scan records each app's evidence in the tracker
		if o.Tracker, err = openTracker(ctx, m, v, log); err != nil {
			log.Warn("the migration tracker cannot be reached: scans are not recorded in it", "error", err.Error())
			o.Tracker = nil
		}
	}
	s, err := estate.NewSession(m, o)
	if err != nil {
		return nil, err
	}
	return &scanRun{Session: s, f: f, m: m, log: log, line: line, stopProgress: func() {}}, nil
}

// cacheDir is where the scan cache lives: --cache, else $CREDSCAN_CACHE,
// else under the user cache directory; "" when it is off.
func cacheDir(f *scanFlags) string {
	if f.noCache {
		return ""
	}
	if f.cacheDir != "" {
		return f.cacheDir
	}
	switch env := os.Getenv("CREDSCAN_CACHE"); env {
	case "off", "0", "false", "no":
		return ""
	case "":
	default:
		return env
	}
	d, err := cache.DefaultDir()
	if err != nil {
		return "" // no user cache directory: no cache
	}
	return d
}

// outcome is the error that decides the exit code: with --report-only,
// blocking findings and unreadable items are in the report written, and
// exit 0.
func outcome(err error, reportOnly bool) error {
	if reportOnly && (errors.Is(err, estate.ErrBlocking) || errors.Is(err, estate.ErrPartial)) {
		return nil
	}
	return err
}

// scanning starts the progress line (on a terminal, without --quiet),
// once the run may scan.
func (r *scanRun) scanning(cmd *cobra.Command) {
	if progressShown(cmd.ErrOrStderr(), r.f.quiet) {
		r.stopProgress = startProgress(r.line, r.Session)
	}
}

// newAdHocRun starts a run of sources named on the command line (a
// manifest, when -m names one, gives targets, policy and approvals): when
// the manifest requires approvals for kind, the run needs one covering
// all apps ("*").
func newAdHocRun(cmd *cobra.Command, f *scanFlags, kind string, args []string) (*scanRun, error) {
	m, err := optionalManifest(f.manifest)
	if err != nil {
		return nil, err
	}
	r, err := newRun(cmd, f, m, "scan "+cmd.Name())
	if err != nil {
		return nil, err
	}
	var needs []approval.Need
	for _, a := range args {
		a = gitsrc.RedactURL(a) // a repository URL may carry a token
		r.AddScope(kind + " " + a)
		if m != nil && slices.Contains(m.Approvals.Required, kind) {
			needs = append(needs, approval.Need{App: "*", Kind: kind, Source: a})
		}
	}
	if err := r.Authorize(cmd.Context(), needs); err != nil {
		return nil, err
	}
	r.scanning(cmd)
	return r, nil
}

func validFormat(s string) bool {
	return slices.Contains(report.Formats, s) || s == "md"
}

// finish ends the run, writes the report (and what a push did) and returns
// the error that decides the exit code.
func (r *scanRun) finish(cmd *cobra.Command, scanErr error) error {
	r.stopProgress()
	res, err := r.Finish(cmd.Context(), scanErr)
	if err != nil {
		return err
	}
	rep := res.Report("credscan", version)
	if r.f.showSuppressed {
		rep.Suppressed = res.SuppressedFindings
	}
	if err := r.writeReport(cmd, rep); err != nil {
		return err
	}
	printPush(cmd.ErrOrStderr(), r.f, res)
	return outcome(res.Err(), r.f.reportOnly)
}

// writeReport writes rep in --format to --output, else to stdout (in
// colour on a terminal). The report is rendered whole before anything is
// written, so a failure leaves no half report; a format that cannot mark
// an interrupted scan as such is not written at all.
func (r *scanRun) writeReport(cmd *cobra.Command, rep *report.Report) error {
	out := cmd.OutOrStdout()
	if fh, ok := out.(*os.File); ok && r.f.output == "" && term.IsTerminal(int(fh.Fd())) && os.Getenv("NO_COLOR") == "" {
		rep.Color = true
	}
	var buf bytes.Buffer
	err := report.Write(&buf, r.f.format, rep)
	if errors.Is(err, report.ErrIncompleteCSV) {
		fmt.Fprintln(cmd.ErrOrStderr(), "credscan:", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if r.f.output == "" {
		_, err = out.Write(buf.Bytes())
		return err
	}
	// whole or not at all (a reader such as credscan merge --wait never
	// sees half a report); a device or a pipe is written into
	if err := atomicfile.Write(r.f.output, buf.Bytes()); err != nil {
		return credscan.UsageError("writing --output: %w", err)
	}
	return nil
}

// printPush lists what a push did to each entry (or would, in a dry run).
func printPush(w io.Writer, f *scanFlags, res *estate.Results) {
	if res.Pushed == nil {
		return
	}
	counts := map[vaultsync.Action]int{}
	for _, o := range res.Pushed {
		counts[o.Action]++
	}
	title := "VAULT PUSH"
	if res.DryRun {
		title = "VAULT PUSH PLAN (dry run: nothing written)"
	}
	fmt.Fprintf(w, "\n%s to %s, mount %s\n", title, report.Visible(f.vault.client.Address()), report.Visible(f.vault.layout(nil).Mount))
	outs := slices.Clone(res.Pushed)
	slices.SortStableFunc(outs, func(a, b vaultsync.Outcome) int { return strings.Compare(a.Path, b.Path) })
	for _, o := range outs {
		line := fmt.Sprintf("  %-10s %-60s %s", o.Action, o.Path, o.Label)
		if o.Version > 0 {
			line += fmt.Sprintf(" (v%d)", o.Version)
		}
		fmt.Fprintln(w, report.Visible(line))
	}
	fmt.Fprintf(w, "  %d new, %d changed, %d unchanged, %d failed\n", counts[vaultsync.New], counts[vaultsync.Changed], counts[vaultsync.Unchanged], counts[vaultsync.Failed])
}

func newScanDirCmd() *cobra.Command {
	f := &scanFlags{}
	c := &cobra.Command{
		Use:   "dir PATH...",
		Short: "Scan directories and files",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := newAdHocRun(cmd, f, "dir", args)
			if err != nil {
				return err
			}
			return r.finish(cmd, r.ScanDirs(cmd.Context(), args, "", "", false))
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
			return runEstate(cmd, f, "scan estate")
		},
	}
	addScanFlags(c, f, true)
	c.Flags().StringSliceVar(&f.apps, "app", nil, "scan only these apps of the manifest (repeatable)")
	c.Flags().StringVar(&f.shard, "shard", "", "scan shard INDEX/TOTAL of the manifest's apps (INDEX from 0; sorted by name, dealt round robin); merge the shards' JSON reports with credscan merge. --sweep is off in a shard (use --known-from-vault)")
	c.Flags().Lookup("sweep").DefValue = "true"
	f.sweep = true
	return c
}

// knownFromVault reads the passwords at paths (every readable version)
// through the KV seam, for the sweep. It logs how many, never a value.
func knownFromVault(ctx context.Context, v *vaultFlags, m *manifest.Manifest, log *slog.Logger, paths []string) ([]engine.Known, error) {
	if _, err := v.connect(ctx, log); err != nil {
		return nil, err
	}
	learned, err := sweep.FromKV(ctx, kv.NewVault(v.client, v.layout(m).Mount), paths)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Known, 0, len(learned))
	for _, l := range learned {
		k := engine.Known{Secret: l.Secret}
		if l.User != "" {
			k.DB = &credscan.DBIdentity{User: l.User}
		}
		out = append(out, k)
	}
	log.Info("known secrets read from Vault", "paths", len(paths), "passwords", len(out))
	return out, nil
}

// runEstate scans the manifest's estate, once its approvals hold.
func runEstate(cmd *cobra.Command, f *scanFlags, action string) error {
	m, err := manifest.Load(f.manifest)
	if err != nil {
		return err
	}
	r, err := newRun(cmd, f, m, action)
	if err != nil {
		return err
	}
	if err := r.Authorize(cmd.Context(), r.Needs()); err != nil {
		return err
	}
	r.scanning(cmd)
	return r.finish(cmd, r.ScanManifest(cmd.Context()))
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
			r, err := newAdHocRun(cmd, f, "image", args)
			if err != nil {
				return err
			}
			if passwordStdin {
				if user == "" {
					return credscan.UsageError("--password-stdin needs --username")
				}
				pw, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<16))
				if err != nil {
					return credscan.UsageError("reading the password from stdin: %w", err)
				}
				o.Auth = &authn.Basic{Username: user, Password: strings.TrimRight(string(pw), "\r\n")}
			}
			o.Workers, o.Logger = r.Workers(), r.log
			src, err := imagesrc.New(args, o)
			if err != nil {
				return err
			}
			return r.finish(cmd, r.ScanSource(cmd.Context(), src))
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
			r, err := newAdHocRun(cmd, f, "git", args)
			if err != nil {
				return err
			}
			if !allRefs && o.Branch == "" && o.Range == "" {
				o.Refs = []string{"HEAD"}
			}
			gitEnv(&o)
			for _, repo := range args {
				oo := o
				oo.Label = repo
				if err := r.ScanGit(cmd.Context(), repo, oo); err != nil {
					return r.finish(cmd, err)
				}
			}
			return r.finish(cmd, nil)
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
			r, err := newRun(cmd, f, m, "baseline create")
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if err := r.Authorize(cmd.Context(), r.Needs()); err != nil {
					return err
				}
			}
			r.scanning(cmd)
			var scanErr error
			if len(args) > 0 {
				scanErr = r.ScanDirs(cmd.Context(), args, "", "", false)
			} else {
				scanErr = r.ScanManifest(cmd.Context())
			}
			r.stopProgress()
			if cmd.Context().Err() != nil {
				return estate.ErrInterrupted // a partial baseline is not written
			}
			res, err := r.Finish(cmd.Context(), scanErr)
			if err != nil {
				return err
			}
			if err := policy.WriteBaseline(out, policy.NewBaseline(res.Findings, time.Now())); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "baseline %s: %d finding(s)\n", out, len(res.Findings))
			if res.Stats.Errors > 0 {
				return estate.ErrPartial
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

// optionalManifest loads the manifest when a path is given, else returns nil.
func optionalManifest(path string) (*manifest.Manifest, error) {
	if path == "" {
		return nil, nil
	}
	return manifest.Load(path)
}

// dryRunKV wraps k in a dry run when asked.
func dryRunKV(k kv.KV, dry bool) kv.KV {
	if dry {
		return kv.NewDryRun(k)
	}
	return k
}
