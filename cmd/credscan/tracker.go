package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/tui"
	"github.com/credscan/credscan/vaultsync"
	"github.com/credscan/credscan/vaultsync/kv"
)

// trackerFlags select the manifest and, for Vault stores, how to reach
// Vault.
type trackerFlags struct {
	manifest string
	vault    vaultFlags
}

func addTrackerFlags(c *cobra.Command, f *trackerFlags) {
	fl := c.Flags()
	fl.StringVarP(&f.manifest, "manifest", "m", "credscan.yaml", "estate manifest: its apps, owners, waves and tracker store")
	addVaultFlags(fl, &f.vault)
}

// openTracker is the manifest's tracker (its file, or Vault when the
// manifest says so), recording as the Vault identity when Vault is
// reached, else as the OS user.
func openTracker(ctx context.Context, m *manifest.Manifest, v *vaultFlags, log *slog.Logger) (*tracker.Tracker, error) {
	var store tracker.Store
	if m.Tracker.Vault != nil {
		if _, err := v.connect(ctx, log); err != nil {
			return nil, err
		}
		mount, prefix := trackerPlace(m, v)
		store = tracker.NewKVStore(kv.NewVault(v.client, mount), prefix)
	} else {
		store = tracker.NewFileStore(m.TrackerFile())
	}
	rec, err := v.recorder(ctx, m, log)
	if err != nil {
		return nil, err
	}
	return tracker.New(store, rec), nil
}

// trackerPlace is the tracker's mount and prefix in Vault: the
// manifest's tracker.vault, else where the push writes.
func trackerPlace(m *manifest.Manifest, v *vaultFlags) (mount, prefix string) {
	l := v.layout(m)
	mount, prefix = l.KVMount(), l.Prefix
	if tv := m.Tracker.Vault; tv != nil {
		if tv.Mount != "" {
			mount = tv.Mount
		}
		if tv.Prefix != "" {
			prefix = tv.Prefix
		}
	}
	return mount, prefix
}

// rowsOf loads the states of the manifest's apps that pass keep.
func rowsOf(ctx context.Context, m *manifest.Manifest, tr *tracker.Tracker, keep func(manifest.App) bool) ([]tracker.Row, error) {
	var rows []tracker.Row
	for _, a := range m.Apps {
		if !keep(a) {
			continue
		}
		st, err := tr.Load(ctx, a.Name)
		if err != nil {
			return nil, err
		}
		rows = append(rows, tracker.Row{App: a.Name, Owner: a.Owner, Wave: a.Wave, State: st})
	}
	return rows, nil
}

func newStatusCmd() *cobra.Command {
	f := &trackerFlags{}
	var wave int
	var owner, app, format, require string
	c := &cobra.Command{
		Use:   "status -m credscan.yaml [--wave N] [--owner TEAM] [--format table|json|markdown]",
		Short: "Each app's migration steps, per wave, and who did them",
		Long: `Print each app's migration checklist from the tracker: per wave and app, each
step's state (x done, w waived, ! contested, . to do), who ticked it, when and
why. --require STEP is a gate: it exits 6 (refused), naming the apps (of --wave,
else all) that have not reached STEP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := manifest.Load(f.manifest)
			if err != nil {
				return err
			}
			if !slices.Contains(tracker.StatusFormats, format) && format != "md" {
				return credscan.UsageError("--format %q: want one of %s", format, strings.Join(tracker.StatusFormats, ", "))
			}
			var step tracker.Step
			if require != "" {
				if step, err = tracker.ParseStep(require); err != nil {
					return credscan.UsageError("--require: %w", err)
				}
			}
			tr, err := openTracker(cmd.Context(), m, &f.vault, vaultLogger(cmd))
			if err != nil {
				return err
			}
			rows, err := rowsOf(cmd.Context(), m, tr, func(a manifest.App) bool {
				return (!cmd.Flags().Changed("wave") || a.Wave == wave) && (owner == "" || a.Owner == owner) && (app == "" || a.Name == app)
			})
			if err != nil {
				return err
			}
			if err := tracker.WriteStatus(cmd.OutOrStdout(), format, rows); err != nil {
				return err
			}
			if step == "" {
				return nil
			}
			var behind []string
			for _, r := range rows {
				if !r.State.Reached(step) {
					behind = append(behind, fmt.Sprintf("%s (at %s)", r.App, r.State.Current()))
				}
			}
			if len(behind) > 0 {
				return credscan.Errorf(credscan.CodeRefused, "%d app(s) have not reached %s: %s", len(behind), step, strings.Join(behind, ", "))
			}
			return nil
		},
	}
	addTrackerFlags(c, f)
	fl := c.Flags()
	fl.IntVar(&wave, "wave", 0, "only this wave")
	fl.StringVar(&owner, "owner", "", "only this owner's apps")
	fl.StringVar(&app, "app", "", "only this app")
	fl.StringVarP(&format, "format", "f", "table", "output format: "+strings.Join(tracker.StatusFormats, "|"))
	fl.StringVar(&require, "require", "", "exit 6 unless every app shown has reached this step")
	return c
}

// newTickCmd is tick, untick or waive.
func newTickCmd(kind tracker.EventKind) *cobra.Command {
	f := &trackerFlags{}
	var note, change string
	use := map[tracker.EventKind]string{
		tracker.Tick:   "tick APP STEP --note … [--change REF]",
		tracker.Untick: "untick APP STEP --note …",
		tracker.Waive:  "waive APP STEP --note REASON",
	}[kind]
	short := map[tracker.EventKind]string{
		tracker.Tick:   "Tick a step of an app's checklist (signed, recorded in the audit log)",
		tracker.Untick: "Untick a step of an app's checklist (signed, recorded in the audit log)",
		tracker.Waive:  "Waive a step of an app's checklist with a reason: it shows as waived, not done",
	}[kind]
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := manifest.Load(f.manifest)
			if err != nil {
				return err
			}
			app := args[0]
			if _, ok := m.App(app); !ok {
				return credscan.Errorf(credscan.CodeNotFound, "app %q is not in %s", app, f.manifest)
			}
			step, err := tracker.ParseStep(args[1])
			if err != nil {
				return credscan.UsageError("%w", err)
			}
			tr, err := openTracker(cmd.Context(), m, &f.vault, vaultLogger(cmd))
			if err != nil {
				return err
			}
			var res tracker.Result
			switch kind {
			case tracker.Tick:
				res, err = tr.Tick(cmd.Context(), app, step, note, change)
			case tracker.Untick:
				res, err = tr.Untick(cmd.Context(), app, step, note)
			default:
				res, err = tr.WaiveStep(cmd.Context(), app, step, note)
			}
			if err != nil {
				return err
			}
			if res.Retried {
				fmt.Fprintln(cmd.ErrOrStderr(), "credscan: someone else changed this app meanwhile; reloaded and applied again")
			}
			d, t := res.State.Progress()
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s by %s (%d/%d steps, version %d in %s)\n", app, step, kind, tracker.Event{Actor: tr.Actor()}.Who(), d, t, res.Version, tr.Store().Where())
			return nil
		},
	}
	addTrackerFlags(c, f)
	c.Flags().StringVar(&note, "note", "", "why (required for a waiver)")
	if kind == tracker.Tick {
		c.Flags().StringVar(&change, "change", "", "the change reference (deployed needs one)")
	}
	return c
}

func newTUICmd() *cobra.Command {
	f := &trackerFlags{}
	var owner, app string
	var readOnly bool
	c := &cobra.Command{
		Use:   "tui -m credscan.yaml [--owner TEAM] [--app NAME] [--read-only]",
		Short: "The dev leads' terminal UI: every app's steps, who ticked what and when",
		Long: `Browse the migration tracker: apps by wave with their progress and what needs
attention, an app's checklist with who ticked each step, when and why, its
hardcoded occurrences (redacted) and CI secret names, and its history. Tick a
step with space (a note is asked for); automatic steps say where their evidence
comes from. With the tracker in Vault, an app the token may not update is
read-only; --read-only makes every app so. Keys: ? for help.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := manifest.Load(f.manifest)
			if err != nil {
				return err
			}
			log := slog.New(slog.DiscardHandler) // the screen is the TUI's
			tr, err := openTracker(cmd.Context(), m, &f.vault, log)
			if err != nil {
				return err
			}
			o := tui.Options{Manifest: m, Tracker: tr, Owner: owner, App: app, ReadOnly: readOnly, Color: tui.ColorFromEnv()}
			if ks, ok := tr.Store().(*tracker.KVStore); ok && f.vault.client != nil {
				c := f.vault.client
				mount, _ := trackerPlace(m, &f.vault)
				o.CanWrite = func(ctx context.Context, app string) (bool, error) {
					return vaultsync.CanUpdate(ctx, c, mount+"/data/"+ks.Path(app))
				}
			}
			return tui.Run(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	addTrackerFlags(c, f)
	fl := c.Flags()
	fl.StringVar(&owner, "owner", "", "show this owner's apps")
	fl.StringVar(&app, "app", "", "show this app")
	fl.BoolVar(&readOnly, "read-only", false, "no ticking")
	return c
}

func newVaultPolicyCmd() *cobra.Command {
	f := &trackerFlags{}
	var owner string
	var apps []string
	c := &cobra.Command{
		Use:   "policy dev-lead|viewer -m credscan.yaml [--owner TEAM | --app NAME...]",
		Short: "Print the Vault ACL policy of a dev lead (ticks their apps) or a viewer (reads only)",
		Long: `Print, as HCL for 'vault policy write', the policy the TUI and credscan
tick need in Vault: both read every app's checklist (credscan/apps/*) and the
redacted findings; a dev lead may also write the checklists of the apps of
--owner (from the manifest's apps:) or of each --app, and nothing else; the
migrated target's credentials are denied. Paths follow the manifest's
tracker.vault (or vault) mount and prefix.

  credscan vault policy dev-lead -m credscan.yaml --owner team-billing | vault policy write credscan-lead-team-billing -
  credscan vault policy viewer -m credscan.yaml | vault policy write credscan-viewer -`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"dev-lead", "viewer"},
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := manifest.Load(f.manifest)
			if err != nil {
				return err
			}
			p := tracker.Policy{Name: args[0]}
			switch args[0] {
			case "viewer":
				if owner != "" || len(apps) > 0 {
					return credscan.UsageError("a viewer ticks nothing: no --owner or --app")
				}
			case "dev-lead":
				for _, a := range m.Apps {
					if owner != "" && a.Owner == owner {
						p.Apps = append(p.Apps, a.Name)
					}
				}
				for _, name := range apps {
					if _, ok := m.App(name); !ok {
						return credscan.UsageError("no app %q in the manifest", name)
					}
					p.Apps = append(p.Apps, name)
				}
				if len(p.Apps) == 0 {
					return credscan.UsageError("a dev lead needs --owner with apps in the manifest, or --app")
				}
				p.Name = "dev-lead " + strings.Join(append([]string{owner}, apps...), " ")
			default:
				return credscan.UsageError("unknown policy %q (dev-lead or viewer)", args[0])
			}
			mount, prefix := trackerPlace(m, &f.vault)
			l := f.vault.layout(m)
			p.Mount, p.Store, p.FindingsDir = mount, tracker.NewKVStore(nil, prefix), l.FindingsDir()
			migrating := m.Vault.Migrating
			if migrating == "" {
				migrating = "ARP"
			}
			p.Deny = []string{l.TargetDir(migrating)}
			hcl, err := p.HCL()
			if err != nil {
				return credscan.UsageError("%v", err)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), hcl)
			return err
		},
	}
	c.Flags().StringVarP(&f.manifest, "manifest", "m", "credscan.yaml", "estate manifest: its apps, owners and the tracker's place")
	c.Flags().StringVar(&f.vault.mount, "vault-mount", "", "KV v2 mount (default: the manifest's tracker.vault or vault mount, else secret)")
	c.Flags().StringVar(&f.vault.prefix, "vault-prefix", "", "path prefix inside the mount (default: the manifest's)")
	c.Flags().StringVar(&owner, "owner", "", "the dev lead's team: the apps it owns in the manifest")
	c.Flags().StringSliceVar(&apps, "app", nil, "an app the dev lead ticks (repeatable)")
	return c
}
