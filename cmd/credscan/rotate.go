package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/vaultsync/kv"
)

type rotateFlags struct {
	trackerFlags
	role, approval, format string
	dryRun                 bool
}

func addRotateFlags(c *cobra.Command, f *rotateFlags, approval bool) {
	addTrackerFlags(c, &f.trackerFlags)
	fl := c.Flags()
	fl.StringVar(&f.role, "role", "", "the database role (required)")
	fl.StringVar(&f.format, "format", "table", "output: table or json")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check the gates and say what would be done; change nothing")
	if approval {
		fl.StringVar(&f.approval, "approval", "", "approval ID (credscan approve) of this stage's kind for the role")
	}
}

// options opens Vault, the audit log and the tracker: a rotator's
// options on the manifest.
func (f *rotateFlags) options(cmd *cobra.Command) (*manifest.Manifest, rotation.Options, error) {
	m, err := manifest.Load(f.manifest)
	if err != nil {
		return nil, rotation.Options{}, err
	}
	ctx, log := cmd.Context(), vaultLogger(cmd)
	c, err := f.vault.connect(ctx, log)
	if err != nil {
		return nil, rotation.Options{}, err
	}
	rec, err := f.vault.recorder(ctx, m, log)
	if err != nil {
		return nil, rotation.Options{}, err
	}
	tr, err := openTracker(ctx, m, &f.vault, log)
	if err != nil {
		return nil, rotation.Options{}, err
	}
	l := f.vault.layout(m)
	o := rotation.Options{KV: kv.NewVault(c, l.KVMount()), Layout: l, Recorder: rec, Tracker: tr, Approval: f.approval,
		DryRun: f.dryRun, Logger: log, Out: cmd.ErrOrStderr()}
	if f.vault.identity != nil {
		o.Requester = f.vault.identity.ID()
	}
	if at := os.Getenv("CREDSCAN_TEST_KILL_AT"); at != "" {
		// the crash tests' hook: die without cleanup at a step boundary
		o.Hook = func(step string) {
			if step == at {
				killSelf()
			}
		}
	}
	return m, o, nil
}

// rotator is the role's rotator, with extra options.
func (f *rotateFlags) rotator(cmd *cobra.Command, extra func(*manifest.Manifest, *rotation.Options)) (*rotation.Rotator, error) {
	if f.role == "" {
		return nil, credscan.UsageError("--role is required")
	}
	m, o, err := f.options(cmd)
	if err != nil {
		return nil, err
	}
	if extra != nil {
		extra(m, &o)
	}
	return rotation.New(m, f.role, o)
}

// show prints a stage's result and passes its error on.
func (f *rotateFlags) show(cmd *cobra.Command, res *rotation.Result, err error) error {
	if res != nil {
		if werr := res.Write(cmd.OutOrStdout(), f.format); werr != nil {
			return werr
		}
	}
	return err
}

func newRotateCmd() *cobra.Command {
	root := &cobra.Command{Use: "rotate", Short: "The staged rotation and cutover of a database role: verify, provision-green, pointer, cutover, rollback, revoke-legacy, password",
		Long: `Move a role of the migrated target (the manifest's rotation: section) from blue to
green in stages, each with its gates, its action, its evidence and its inverse:

  verify            which discovered password is live (one login per password per manifest host)
  provision-green   the role on green with a new password that exists only in Vault
  pointer           <target>/current/<role>: what pointer-reading apps connect with
  cutover           switch the broker (PgBouncer) and the pointer to green in one step
  rollback          the same back to blue, with an incident timeline
  revoke-legacy     NOLOGIN on blue, only when no evidence shows the legacy role in use
  password          routine rotations after the migration (alternating users)

plan prints every stage; status shows where each role is; resume brings an
interrupted stage to a consistent state. Every stage refuses to start when Vault
has no audit device, is recorded in credscan's audit log, and has --dry-run.`}
	stage := func(use, short string, approval bool, run func(context.Context, *rotation.Rotator) (*rotation.Result, error)) *cobra.Command {
		f := &rotateFlags{}
		c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.rotator(cmd, nil)
			if err != nil {
				return err
			}
			res, err := run(cmd.Context(), r)
			return f.show(cmd, res, err)
		}}
		addRotateFlags(c, f, approval)
		return c
	}
	root.AddCommand(
		stage("verify --role R --approval ID", "Try each discovered password of the role once against the target's hosts; record live/dead", true,
			func(ctx context.Context, r *rotation.Rotator) (*rotation.Result, error) { return r.Verify(ctx) }),
		stage("provision-green --role R", "Create the role on green with blue's attributes and a new password that lives only in Vault", false,
			func(ctx context.Context, r *rotation.Rotator) (*rotation.Result, error) { return r.ProvisionGreen(ctx) }),
		stage("pointer --role R", "Write <target>/current/<role> pointing at blue (check-and-set)", false,
			func(ctx context.Context, r *rotation.Rotator) (*rotation.Result, error) { return r.Pointer(ctx) }),
		stage("resume --role R", "Bring an interrupted stage of the role to a consistent state", false,
			func(ctx context.Context, r *rotation.Rotator) (*rotation.Result, error) { return r.Resume(ctx) }),
		newCutoverCmd(), newRollbackCmd(), newRevokeCmd(), newRotatePasswordCmd(), newRotatePlanCmd(), newRotateStatusCmd(),
	)
	return root
}

func newCutoverCmd() *cobra.Command {
	f := &rotateFlags{}
	var waive []string
	c := &cobra.Command{
		Use:   "cutover --role R --approval ID [--waive APP=REASON]",
		Short: "Switch the broker and the pointer from blue to green (PAUSE, swap, RELOAD, RESUME; check-and-set)",
		Long: `Check the gates (approval, green login, every app of the role behind the broker or
reading the pointer with reads-from-vault reached, readiness, the broker), then
switch: PAUSE the database at the broker, confirm blue drained, swap the
databases file to green, RELOAD, RESUME, and point <target>/current/<role> at
green. A failure before the pointer moves puts the broker back on blue and
resumes it. Timings of each step are printed and recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := map[string]string{}
			for _, x := range waive {
				app, reason, ok := strings.Cut(x, "=")
				if !ok || strings.TrimSpace(reason) == "" {
					return credscan.UsageError("--waive %q: want APP=REASON", x)
				}
				w[app] = reason
			}
			r, err := f.rotator(cmd, func(_ *manifest.Manifest, o *rotation.Options) { o.Waive = w })
			if err != nil {
				return err
			}
			res, err := r.Cutover(cmd.Context())
			return f.show(cmd, res, err)
		},
	}
	addRotateFlags(c, f, true)
	c.Flags().StringArrayVar(&waive, "waive", nil, "let an app that neither uses the broker nor reads the pointer pass: APP=REASON (recorded)")
	return c
}

func newRollbackCmd() *cobra.Command {
	f := &rotateFlags{}
	var reason string
	c := &cobra.Command{
		Use:   "rollback --role R --reason TEXT",
		Short: "Switch back to blue (the legacy login enabled again if revoked) and print the incident timeline",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.rotator(cmd, nil)
			if err != nil {
				return err
			}
			res, err := r.Rollback(cmd.Context(), reason)
			return f.show(cmd, res, err)
		},
	}
	addRotateFlags(c, f, false)
	c.Flags().StringVar(&reason, "reason", "", "why (required: it goes to the incident timeline)")
	return c
}

func newRevokeCmd() *cobra.Command {
	f := &rotateFlags{}
	var window time.Duration
	var terminate bool
	c := &cobra.Command{
		Use:   "revoke-legacy --role R --approval ID [--window D] [--terminate-sessions]",
		Short: "NOLOGIN on blue, refused while any evidence shows the legacy role in use (naming each client)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.rotator(cmd, func(m *manifest.Manifest, o *rotation.Options) {
				o.Window, o.TerminateSessions = window, terminate
				o.Scan = func(ctx context.Context) ([]*credscan.Finding, error) {
					res, err := estate.Run(ctx, m, estate.Options{Logger: o.Logger})
					if err != nil && !errors.Is(err, estate.ErrBlocking) && !errors.Is(err, estate.ErrPartial) {
						return nil, err
					}
					return res.Findings, nil
				}
			})
			if err != nil {
				return err
			}
			res, err := r.RevokeLegacy(cmd.Context())
			return f.show(cmd, res, err)
		},
	}
	addRotateFlags(c, f, true)
	c.Flags().DurationVar(&window, "window", 0, "how long after the cutover the logs must be clean (default: the manifest's revoke_window, else 24h)")
	c.Flags().BoolVar(&terminate, "terminate-sessions", false, "also end blue's open sessions of the role")
	return c
}

func newRotatePasswordCmd() *cobra.Command {
	f := &rotateFlags{}
	var strategy string
	c := &cobra.Command{
		Use:   "password --role R --approval ID [--strategy alternating|single]",
		Short: "Rotate the role's green password after the migration (alternating users: zero failed logins)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.rotator(cmd, nil)
			if err != nil {
				return err
			}
			res, err := r.RotatePassword(cmd.Context(), strategy)
			return f.show(cmd, res, err)
		},
	}
	addRotateFlags(c, f, true)
	c.Flags().StringVar(&strategy, "strategy", rotation.Alternating, "alternating (a <role>_b clone; rotate the idle one) or single (in place: clients holding the old password fail)")
	return c
}

func newRotatePlanCmd() *cobra.Command {
	f := &rotateFlags{}
	c := &cobra.Command{
		Use:   "plan --role R [--format table|json|markdown]",
		Short: "Print every stage of the role's rotation: where it stands, its gates, what it does, its inverse",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.rotator(cmd, nil)
			if err != nil {
				return err
			}
			p, err := r.Plan(cmd.Context())
			if err != nil {
				return err
			}
			return p.Write(cmd.OutOrStdout(), f.format)
		},
	}
	addRotateFlags(c, f, false)
	return c
}

func newRotateStatusCmd() *cobra.Command {
	f := &rotateFlags{}
	c := &cobra.Command{
		Use:   "status [--role R]",
		Short: "Where each role's rotation is: the live side, the stages done, what is in progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, o, err := f.options(cmd)
			if err != nil {
				return err
			}
			roles := []string{f.role}
			if f.role == "" {
				if roles, err = rotation.Roles(cmd.Context(), o.KV, o.Layout); err != nil {
					return err
				}
			}
			sort.Strings(roles)
			if len(roles) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no rotation has started (credscan rotate verify --role R)")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%-20s %-6s %-40s %s\n", "ROLE", "LIVE", "STAGES DONE", "IN PROGRESS")
			for _, role := range roles {
				rr, err := rotation.New(m, role, o)
				if err != nil {
					return err
				}
				p, err := rr.Plan(cmd.Context())
				if err != nil {
					return err
				}
				var done []string
				for _, s := range p.Stages {
					if strings.HasPrefix(s.Status, "done") {
						done = append(done, s.Stage)
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-20s %-6s %-40s %s\n", role, p.Live, strings.Join(done, ","), orDash(p.InProgress))
			}
			return nil
		},
	}
	addRotateFlags(c, f, false)
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
