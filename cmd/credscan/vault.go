package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy/approval"
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

// connect logs in to Vault once, and reads who the token belongs to.
func (v *vaultFlags) connect(ctx context.Context, log *slog.Logger) (*vault.Client, error) {
	if v.client != nil {
		return v.client, nil
	}
	c, err := vaultsync.NewClient(ctx, vaultsync.ClientOptions{Addr: v.addr, Namespace: v.namespace, CACert: v.cacert,
		InsecureSkipVerify: v.skipVerify, Auth: v.auth, RoleID: v.roleID, SecretIDFile: v.secretIDFile, Role: v.role,
		MountPath: v.authMount, Timeout: v.timeout, Logger: log})
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

// store is the credential store over the connected client (a dry run
// when asked).
func (v *vaultFlags) store(m *manifest.Manifest, log *slog.Logger, dry bool) *vaultsync.Store {
	l := v.layout(m)
	return vaultsync.NewStore(dryRunKV(kv.NewVault(v.client, l.Mount), dry), l, log)
}

// connectedStore connects and returns the store.
func (v *vaultFlags) connectedStore(ctx context.Context, m *manifest.Manifest, log *slog.Logger) (*vaultsync.Store, error) {
	if _, err := v.connect(ctx, log); err != nil {
		return nil, err
	}
	return v.store(m, log, false), nil
}

// recorder is the command's audit recorder: the log the flags or the
// manifest name, mirrored to Vault when the manifest asks (Vault is
// reached then; if it cannot be, records are kept locally and a warning
// says so), as the Vault identity when one is known, else as the OS user.
func (v *vaultFlags) recorder(ctx context.Context, m *manifest.Manifest, log *slog.Logger) (*audit.Recorder, error) {
	l := audit.Open(audit.DefaultPath(v.auditLog, m.AuditFile()))
	if m != nil && m.Audit.Mirror {
		if _, err := v.connect(ctx, log); err != nil {
			log.Warn("audit mirror: cannot reach Vault; records are kept locally only", "error", err.Error())
		} else {
			l.Mirror = v.store(m, log, false).MirrorAudit
		}
	}
	actor := audit.LocalActor()
	if v.identity != nil && v.identityErr == nil {
		actor.Vault, actor.Accessor, actor.Entity = v.identity.DisplayName, v.identity.Accessor, v.identity.EntityID
	}
	return audit.NewRecorder(l, actor), nil
}

// vaultCommand is what a command that talks to Vault without scanning
// (audit check, approve, audit verify) needs: a logger and the flags.
func vaultLogger(cmd *cobra.Command) *slog.Logger {
	log, _ := newLogger("warn", cmd.ErrOrStderr())
	return log
}

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
			return runEstate(cmd, f, "scan "+cmd.Name())
		},
	}
	addScanFlags(push, f, true)
	push.Flags().StringVar(&f.shard, "shard", "", "scan and push shard INDEX/TOTAL of the manifest's apps (see scan estate --shard): each shard pushes the credentials of its apps")
	push.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the plan (paths, new/unchanged/changed), write nothing")
	push.Flags().BoolVar(&f.allowNoAudit, "allow-no-audit", false, "push even when Vault has no audit device (recorded in credscan's audit log)")

	vf := &vaultFlags{}
	auditCmd := &cobra.Command{Use: "audit", Short: "Vault's audit devices"}
	check := &cobra.Command{
		Use:   "check",
		Short: "List Vault's audit devices; fail when there is none, warn when one or a socket",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := vf.connect(cmd.Context(), vaultLogger(cmd))
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
				return credscan.Errorf(credscan.CodeRefused, "no Vault audit device is enabled")
			}
			return nil
		},
	}
	addVaultFlags(check.Flags(), vf)
	auditCmd.AddCommand(check)
	v.AddCommand(push, auditCmd, newVaultPolicyCmd())
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
			m, err := optionalManifest(manifestPath)
			if err != nil {
				return err
			}
			req := approval.Request{Apps: apps, Kinds: kinds, TTL: ttl, Ticket: ticket, Reason: reason, For: forID}
			if _, err := approval.Grant(req, "check", "check", time.Now()); err != nil && credscan.CodeOf(err) == credscan.CodeInvalid {
				return err // before Vault is reached
			}
			log := vaultLogger(cmd)
			st, err := vf.connectedStore(cmd.Context(), m, log)
			if err != nil {
				return err
			}
			if vf.identityErr != nil {
				return vf.identityErr
			}
			recorder, err := vf.recorder(cmd.Context(), m, log)
			if err != nil {
				return err
			}
			a, err := approval.Grant(req, vf.identity.ID(), vf.identity.DisplayName, time.Now())
			if err != nil {
				return err
			}
			rec := audit.Record{Action: "approve", Scope: append(append([]string{}, apps...), kinds...), Approval: a.ID, Detail: ticket + ": " + reason}
			if err := st.WriteApproval(cmd.Context(), a); err != nil {
				rec.Result = "refused"
				_, _ = recorder.Record(cmd.Context(), rec)
				return err
			}
			rec.Result = "ok"
			if _, err := recorder.Record(cmd.Context(), rec); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "approval %s: apps %s, kinds %s, until %s (%s)\n", a.ID, strings.Join(apps, ","), strings.Join(kinds, ","),
				a.Expires.Format(time.RFC3339), st.Layout().ApprovalPath(a.ID))
			return nil
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&apps, "apps", nil, "apps the approval covers (* for all); for verify and rotate, the database roles")
	fl.StringSliceVar(&kinds, "kinds", nil, "what it covers: source kinds dir, git, image, ci; verify and rotate for credscan rotate (* for all)")
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
			file := audit.DefaultPath(vf.auditLog, m.AuditFile())
			if len(args) == 1 {
				file = args[0]
			}
			recs, prob, err := audit.VerifyFile(file)
			if err != nil {
				return credscan.E(credscan.CodeInvalid, "audit log", err)
			}
			out := cmd.OutOrStdout()
			if prob != nil {
				fmt.Fprintf(out, "%s: TAMPERED at %v\n", file, prob)
				return credscan.Errorf(credscan.CodeIntegrity, "audit log %s does not verify: %v", file, prob)
			}
			if againstVault && len(recs) > 0 {
				st, err := vf.connectedStore(cmd.Context(), m, vaultLogger(cmd))
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
