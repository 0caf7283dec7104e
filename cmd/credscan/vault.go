package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy"
	"github.com/credscan/credscan/vaultsync"
	"github.com/credscan/credscan/vaultsync/kv"
)

// vaultFlags say how to reach Vault; empty ones take Vault's environment
// (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, the token helper).
type vaultFlags struct {
	addr, namespace, cacert    string
	skipVerify                 bool
	auth, roleID, secretIDFile string
	role, authMount            string
	mount, prefix              string
	timeout                    time.Duration
	auditLog                   string
	client                     *vault.Client
	identity                   *vaultsync.Identity
	identityErr                error
}

func addVaultFlags(fl *pflag.FlagSet, v *vaultFlags) {
	fl.StringVar(&v.addr, "vault-addr", "", "Vault address (default $VAULT_ADDR)")
	fl.StringVar(&v.namespace, "vault-namespace", "", "Vault namespace (default $VAULT_NAMESPACE)")
	fl.StringVar(&v.cacert, "vault-cacert", "", "CA certificate to verify Vault's TLS (default $VAULT_CACERT)")
	fl.BoolVar(&v.skipVerify, "tls-skip-verify", false, "DO NOT verify Vault's TLS certificate (loudly warned; never in production)")
	fl.StringVar(&v.auth, "vault-auth", "token", "how to log in: token ($VAULT_TOKEN or the token helper), approle, kubernetes")
	fl.StringVar(&v.roleID, "vault-role-id", "", "AppRole role ID (--vault-auth approle)")
	fl.StringVar(&v.secretIDFile, "vault-secret-id-file", "", "AppRole secret ID file (default $VAULT_SECRET_ID)")
	fl.StringVar(&v.role, "vault-role", "", "Kubernetes auth role (--vault-auth kubernetes)")
	fl.StringVar(&v.authMount, "vault-auth-mount", "", "auth method mount path, when not the default")
	fl.StringVar(&v.mount, "vault-mount", "", "KV v2 mount (default: the manifest's vault.mount, else secret)")
	fl.StringVar(&v.prefix, "vault-prefix", "", "path prefix inside the mount (default: the manifest's vault.prefix)")
	fl.DurationVar(&v.timeout, "vault-timeout", 15*time.Second, "timeout of one Vault request")
	fl.StringVar(&v.auditLog, "audit-log", "", "credscan's audit log (default: the manifest's audit.file, else $CREDSCAN_AUDIT_LOG, else ~/.local/state/credscan/audit.jsonl)")
}

// connect logs in to Vault once.
func (v *vaultFlags) connect(ctx context.Context, s *session) (*vault.Client, error) {
	if v.client != nil {
		return v.client, nil
	}
	c, err := vaultsync.NewClient(ctx, vaultsync.ClientOptions{Addr: v.addr, Namespace: v.namespace, CACert: v.cacert,
		InsecureSkipVerify: v.skipVerify, Auth: v.auth, RoleID: v.roleID, SecretIDFile: v.secretIDFile, Role: v.role,
		MountPath: v.authMount, Timeout: v.timeout, Logger: s.log})
	if err != nil {
		return nil, err
	}
	v.client = c
	id, err := vaultsync.WhoAmI(ctx, c)
	v.identity, v.identityErr = &id, err
	return c, nil
}

func (v *vaultFlags) layout(m *manifest.Manifest) vaultsync.Layout {
	l := vaultsync.Layout{Mount: v.mount, Prefix: v.prefix}
	if m != nil {
		if l.Mount == "" {
			l.Mount = m.Vault.Mount
		}
		if l.Prefix == "" {
			l.Prefix = m.Vault.Prefix
		}
		l.Migrating = m.Vault.Migrating
	}
	return l
}

func (v *vaultFlags) store(ctx context.Context, s *session) (*vaultsync.Store, error) {
	c, err := v.connect(ctx, s)
	if err != nil {
		return nil, err
	}
	l := v.layout(s.m)
	var k kv.KV = kv.NewVault(c, l.Mount)
	if s.f.dryRun {
		k = kv.NewDryRun(k)
	}
	return vaultsync.NewStore(k, l, s.log), nil
}

// vaultSession is the session of a command that talks to Vault without
// scanning (audit check, approve, audit verify).
func vaultSession(cmd *cobra.Command, vf *vaultFlags, m *manifest.Manifest) (*session, error) {
	log, err := newLogger("warn", cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	return &session{f: &scanFlags{vault: *vf}, log: log, m: m}, nil
}

// auditLogPath is where credscan's own audit trail goes.
func auditLogPath(flag string, m *manifest.Manifest) string {
	switch {
	case flag != "":
		return flag
	case m.AuditFile() != "":
		return m.AuditFile()
	case os.Getenv("CREDSCAN_AUDIT_LOG") != "":
		return os.Getenv("CREDSCAN_AUDIT_LOG")
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "credscan", "audit.jsonl")
}

// record appends an action to credscan's audit log; a log that cannot be
// written is an error, since the trail must not have holes.
func (s *session) record(ctx context.Context, r audit.Record) error {
	v := &s.f.vault
	l := audit.Open(auditLogPath(v.auditLog, s.m))
	if s.m != nil && s.m.Audit.Mirror && v.client == nil {
		if _, err := v.connect(ctx, s); err != nil {
			s.log.Warn("audit mirror: cannot reach Vault; this record is kept locally only", "error", err.Error())
		}
	}
	if s.m != nil && s.m.Audit.Mirror && v.client != nil {
		lay := v.layout(s.m)
		st := vaultsync.NewStore(kv.NewVault(v.client, lay.Mount), lay, s.log)
		l.Mirror = st.MirrorAudit
	}
	r.Actor.OSUser = os.Getenv("USER")
	r.Actor.Host, _ = os.Hostname()
	if v.identity != nil && v.identityErr == nil {
		r.Actor.Vault, r.Actor.Accessor, r.Actor.Entity = v.identity.DisplayName, v.identity.Accessor, v.identity.EntityID
	}
	if _, err := l.Append(ctx, r); err != nil {
		return credscan.UsageError("%v", err)
	}
	return nil
}

// authorize refuses a scan whose sources need an approval it does not
// have, and records the refusal.
func (s *session) authorize(ctx context.Context, needs []policy.Need) error {
	if len(needs) == 0 {
		return nil
	}
	var scope []string
	for _, n := range needs {
		scope = append(scope, n.String())
	}
	refuse := func(err error) error {
		_ = s.record(ctx, audit.Record{Action: "scan", Scope: scope, Approval: s.f.approval, Result: "refused", Detail: err.Error()})
		return credscan.UsageError("%v", err)
	}
	if s.f.approval == "" {
		return refuse(policy.MissingApproval(needs))
	}
	st, err := s.f.vault.store(ctx, s)
	if err != nil {
		return refuse(fmt.Errorf("checking approval %s: %v", s.f.approval, err))
	}
	if s.f.vault.identityErr != nil {
		return refuse(s.f.vault.identityErr)
	}
	a, err := st.ReadApproval(ctx, s.f.approval)
	if err != nil {
		return refuse(err)
	}
	if err := policy.CheckApproval(a, needs, s.f.vault.identity.ID(), time.Now()); err != nil {
		return refuse(err)
	}
	s.log.Info("approved", "approval", a.ID, "by", a.Approver, "ticket", a.Ticket)
	return nil
}

// push writes the scan's database credentials to Vault (or prints the
// plan with --dry-run) after checking that Vault logs access.
func (s *session) push(ctx context.Context, w io.Writer) error {
	st, err := s.f.vault.store(ctx, s)
	if err != nil {
		return err
	}
	chk, err := vaultsync.CheckAuditDevices(ctx, s.f.vault.client)
	if err != nil && !s.f.allowNoAudit {
		return fmt.Errorf("%w; refusing to push without knowing Vault logs access (--allow-no-audit overrides, and is recorded)", err)
	}
	for _, warn := range chk.Warnings {
		s.log.Warn(warn)
	}
	if !chk.OK {
		if !s.f.allowNoAudit {
			_ = s.record(ctx, audit.Record{Action: "vault.push", Approval: s.f.approval, Result: "refused", Detail: "no Vault audit device is enabled"})
			return credscan.UsageError("vault has no audit device enabled: refusing to write secrets nobody's access to is logged (enable one: vault audit enable file file_path=…; or --allow-no-audit, recorded in credscan's audit log)")
		}
		if err := s.record(ctx, audit.Record{Action: "override", Result: "ok", Detail: "--allow-no-audit: pushing to a Vault with no audit device"}); err != nil {
			return err
		}
	}
	entries := vaultsync.Entries(credscan.Group(s.res.Findings), st.Layout(), version)
	outs, perr := st.Push(ctx, entries)
	counts := map[string]int{}
	for _, o := range outs {
		counts[string(o.Action)]++
	}
	title := "VAULT PUSH"
	if s.f.dryRun {
		title = "VAULT PUSH PLAN (dry run: nothing written)"
	}
	fmt.Fprintf(w, "\n%s to %s, mount %s\n", title, s.f.vault.client.Address(), st.Layout().Mount)
	sort.SliceStable(outs, func(i, j int) bool { return outs[i].Path < outs[j].Path })
	for _, o := range outs {
		line := fmt.Sprintf("  %-10s %-60s %s", o.Action, o.Path, o.Label)
		if o.Version > 0 {
			line += fmt.Sprintf(" (v%d)", o.Version)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "  %d new, %d changed, %d unchanged, %d failed\n", counts["new"], counts["changed"], counts["unchanged"], counts["failed"])
	action, result := "vault.push", "ok"
	if s.f.dryRun {
		action = "vault.plan"
	}
	if perr != nil {
		result = "partial"
	}
	var paths []string
	for _, o := range outs {
		paths = append(paths, o.Path)
	}
	if err := s.record(ctx, audit.Record{Action: action, Scope: paths, Approval: s.f.approval, Result: result, Counts: counts}); err != nil {
		return err
	}
	if perr != nil {
		return &vaultFailure{perr}
	}
	return nil
}

// vaultFailure is a push that left credentials unwritten (exit 4).
type vaultFailure struct{ err error }

func (e *vaultFailure) Error() string { return e.err.Error() }
func (e *vaultFailure) Unwrap() error { return e.err }

func newVaultCmd() *cobra.Command {
	v := &cobra.Command{Use: "vault", Short: "Put discovered credentials into Vault; check Vault's audit devices"}
	f := &scanFlags{}
	push := &cobra.Command{
		Use:   "push -m credscan.yaml",
		Short: "Scan the estate and write each database credential to Vault KV v2",
		Long: `Scan every source of the manifest (the plaintext exists only in memory) and
write each database credential to Vault KV v2 with check-and-set:
<migrating>/legacy/<role>/<fp> for the target being migrated (one entry per
distinct password), <target>/<role>/<fp> for the others, and the redacted
occurrences of each app to credscan/findings/<app>. An unchanged secret writes
no new version; a value changed in Vault writes a new version and says so.
--dry-run prints the plan. Refuses when Vault has no audit device.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.manifest == "" {
				return credscan.UsageError("vault push needs --manifest (-m)")
			}
			f.push = true
			return runEstate(cmd, f)
		},
	}
	addScanFlags(push, f, true)
	push.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the plan (paths, new/unchanged/changed), write nothing")
	push.Flags().BoolVar(&f.allowNoAudit, "allow-no-audit", false, "push even when Vault has no audit device (recorded in credscan's audit log)")

	vf := &vaultFlags{}
	auditCmd := &cobra.Command{Use: "audit", Short: "Vault's audit devices"}
	check := &cobra.Command{
		Use:   "check",
		Short: "List Vault's audit devices; fail when there is none, warn when one or a socket",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := vaultSession(cmd, vf, nil)
			if err != nil {
				return err
			}
			c, err := s.f.vault.connect(cmd.Context(), s)
			if err != nil {
				return err
			}
			chk, err := vaultsync.CheckAuditDevices(cmd.Context(), c)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, d := range chk.Devices {
				fmt.Fprintf(out, "%-20s %s\n", d.Path, d.Type)
			}
			for _, w := range chk.Warnings {
				fmt.Fprintf(out, "warning: %s\n", w)
			}
			if !chk.OK {
				return credscan.UsageError("no Vault audit device is enabled")
			}
			return nil
		},
	}
	addVaultFlags(check.Flags(), vf)
	auditCmd.AddCommand(check)
	v.AddCommand(push, auditCmd)
	return v
}

func newApproveCmd() *cobra.Command {
	vf := &vaultFlags{}
	var apps, kinds []string
	var ttl time.Duration
	var ticket, reason, forID, manifestPath string
	c := &cobra.Command{
		Use:   "approve --apps A,B --kinds image,git --ttl 24h --ticket SEC-123 --reason …",
		Short: "Approve scans of some apps' sources (stored in Vault; Vault's ACL decides who may)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(apps) == 0 || len(kinds) == 0 || ticket == "" || reason == "" {
				return credscan.UsageError("approve needs --apps, --kinds, --ticket and --reason")
			}
			for _, k := range kinds {
				if k != "*" && !slices.Contains(manifest.ApprovalKinds, k) {
					return credscan.UsageError("--kinds: unknown %q (want %s)", k, strings.Join(manifest.ApprovalKinds, ", "))
				}
			}
			if ttl <= 0 || ttl > 30*24*time.Hour {
				return credscan.UsageError("--ttl must be between 1s and 720h")
			}
			m, err := optionalManifest(manifestPath)
			if err != nil {
				return err
			}
			s, err := vaultSession(cmd, vf, m)
			if err != nil {
				return err
			}
			st, err := s.f.vault.store(cmd.Context(), s)
			if err != nil {
				return err
			}
			if s.f.vault.identityErr != nil {
				return s.f.vault.identityErr
			}
			me := s.f.vault.identity
			if forID != "" && forID == me.ID() {
				return credscan.UsageError("you cannot approve your own request (--for is your own identity)")
			}
			now := time.Now().UTC()
			a := &policy.Approval{ID: policy.NewApprovalID(), Apps: apps, Kinds: kinds, Ticket: ticket, Reason: reason,
				ApprovedBy: me.ID(), Approver: me.DisplayName, For: forID, Created: now, Expires: now.Add(ttl)}
			rec := audit.Record{Action: "approve", Scope: append(append([]string{}, apps...), kinds...), Approval: a.ID, Detail: ticket + ": " + reason}
			if err := st.WriteApproval(cmd.Context(), a); err != nil {
				rec.Result = "refused"
				_ = s.record(cmd.Context(), rec)
				return err
			}
			rec.Result = "ok"
			if err := s.record(cmd.Context(), rec); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "approval %s: apps %s, kinds %s, until %s (%s)\n", a.ID, strings.Join(apps, ","), strings.Join(kinds, ","),
				a.Expires.Format(time.RFC3339), st.Layout().ApprovalPath(a.ID))
			return nil
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&apps, "apps", nil, "apps the approval covers (* for all)")
	fl.StringSliceVar(&kinds, "kinds", nil, "source kinds it covers: dir, git, image, ci, verify (* for all)")
	fl.DurationVar(&ttl, "ttl", 24*time.Hour, "how long it holds")
	fl.StringVar(&ticket, "ticket", "", "the change or security ticket")
	fl.StringVar(&reason, "reason", "", "why")
	fl.StringVar(&forID, "for", "", "the identity it is for (entity:ID or token:NAME); default anyone but you")
	fl.StringVarP(&manifestPath, "manifest", "m", "", "estate manifest (its vault: layout)")
	addVaultFlags(fl, vf)
	return c
}

func newAuditCmd() *cobra.Command {
	a := &cobra.Command{Use: "audit", Short: "credscan's own audit trail"}
	vf := &vaultFlags{}
	var againstVault bool
	var manifestPath string
	verify := &cobra.Command{
		Use:   "verify [FILE]",
		Short: "Check the audit log's hash chain (and, with --against-vault, its mirror in Vault)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := optionalManifest(manifestPath)
			if err != nil {
				return err
			}
			file := auditLogPath(vf.auditLog, m)
			if len(args) == 1 {
				file = args[0]
			}
			recs, prob, err := audit.VerifyFile(file)
			if err != nil {
				return credscan.UsageError("audit log: %v", err)
			}
			out := cmd.OutOrStdout()
			if prob != nil {
				fmt.Fprintf(out, "%s: TAMPERED at %v\n", file, prob)
				return credscan.Errorf(credscan.CodeIntegrity, "audit log %s does not verify: %v", file, prob)
			}
			if againstVault && len(recs) > 0 {
				s, err := vaultSession(cmd, vf, m)
				if err != nil {
					return err
				}
				st, err := s.f.vault.store(cmd.Context(), s)
				if err != nil {
					return err
				}
				diff, err := st.CompareAudit(cmd.Context(), recs)
				if err != nil {
					return err
				}
				if diff != "" {
					fmt.Fprintf(out, "%s: DIFFERS from its Vault mirror: %s\n", file, diff)
					return credscan.Errorf(credscan.CodeIntegrity, "audit log %s differs from its Vault mirror", file)
				}
			}
			fmt.Fprintf(out, "%s: %d record(s), chain intact\n", file, len(recs))
			return nil
		},
	}
	verify.Flags().BoolVar(&againstVault, "against-vault", false, "also compare with the mirror in Vault KV (credscan/audit/…)")
	verify.Flags().StringVarP(&manifestPath, "manifest", "m", "", "estate manifest (its audit file and vault layout)")
	addVaultFlags(verify.Flags(), vf)
	a.AddCommand(verify)
	return a
}
