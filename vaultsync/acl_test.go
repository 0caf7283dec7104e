//go:build linux

package vaultsync

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/policy/approval"
)

// The example policies under deploy/vault, loaded into a real Vault, with
// real tokens: a scanner cannot write an approval; a dev lead cannot read
// arp/legacy/*; an approver reads no credential; nobody can approve their
// own request.
func TestDeployPolicies(t *testing.T) {
	v := testenv.StartVault(t)
	ctx := context.Background()
	v.EnableFileAudit("file")
	for _, name := range []string{"scanner", "approver", "dev-lead"} {
		b, err := os.ReadFile(filepath.Join("..", "deploy", "vault", name+".hcl"))
		if err != nil {
			t.Fatal(err)
		}
		v.Policy("credscan-"+name, string(b))
	}
	scannerTok := v.Token("scanner-alice", "credscan-scanner")
	approverTok := v.Token("approver-bob", "credscan-approver")
	devTok := v.Token("dev-lead-carol", "credscan-dev-lead")
	scanner, approver, dev := newStore(t, v, scannerTok), newStore(t, v, approverTok), newStore(t, v, devTok)
	scanner.Retries, approver.Retries, dev.Retries = 1, 1, 1

	// the scanner pushes (and may check the audit devices)
	if _, err := CheckAuditDevices(ctx, v.Client(scannerTok)); err != nil {
		t.Fatalf("scanner cannot check audit devices: %v", err)
	}
	cs, _ := creds(t, "ARP", 2)
	entries := Entries(cs, Layout{}, "test")
	if _, err := scanner.Push(ctx, entries); err != nil {
		t.Fatalf("scanner push: %v", err)
	}
	idOf := func(tok string) string {
		id, err := WhoAmI(ctx, v.Client(tok))
		if err != nil {
			t.Fatal(err)
		}
		return id.ID()
	}
	scannerID, approverID := idOf(scannerTok), idOf(approverTok)
	if scannerID == approverID {
		t.Fatalf("two tokens share identity %s", scannerID)
	}
	now := time.Now()
	a := &approval.Approval{ID: approval.NewApprovalID(), Apps: []string{"billing-api"}, Kinds: []string{"image", "git"},
		Ticket: "SEC-123", Reason: "test", ApprovedBy: scannerID, Created: now, Expires: now.Add(time.Hour)}

	// a scanner cannot write an approval, not even for itself
	if err := scanner.WriteApproval(ctx, a); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("scanner wrote an approval: %v", err)
	}
	// the approver can; the scanner can then read it and it covers the scan
	a.ID, a.ApprovedBy = approval.NewApprovalID(), approverID
	if err := approver.WriteApproval(ctx, a); err != nil {
		t.Fatalf("approver: %v", err)
	}
	got, err := scanner.ReadApproval(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	needs := []approval.Need{{App: "billing-api", Kind: "image", Source: "registry/billing-api:1"}}
	if err := approval.CheckApproval(got, needs, scannerID, time.Now()); err != nil {
		t.Errorf("a valid approval refused: %v", err)
	}
	// the approver's own scan under it is refused: nobody approves their own request
	if err := approval.CheckApproval(got, needs, approverID, time.Now()); err == nil || !strings.Contains(err.Error(), "different identity") {
		t.Errorf("an approver's own scan passed its approval: %v", err)
	}
	// an approval is never overwritten (create only, and CAS 0)
	if err := approver.WriteApproval(ctx, a); err == nil {
		t.Errorf("an approval was overwritten")
	}
	// a dev lead cannot read legacy credentials, nor can an approver
	for name, st := range map[string]*Store{"dev lead": dev, "approver": approver} {
		if _, err := st.KV().Get(ctx, entries[0].Path); credscan.CodeOf(err) != credscan.CodeUnauthorized {
			t.Errorf("%s read %s: %v", name, entries[0].Path, err)
		}
	}
	// a dev lead reads the redacted findings
	if _, err := dev.KV().Get(ctx, "credscan/findings/billing-api"); err != nil {
		t.Errorf("dev lead cannot read findings: %v", err)
	}
	// nor may a dev lead approve
	a.ID = approval.NewApprovalID()
	if err := dev.WriteApproval(ctx, a); err == nil {
		t.Errorf("dev lead wrote an approval")
	}
}

// Logging in: AppRole (role ID and a secret ID from the environment or a
// file) and the Vault CLI's token helper (~/.vault-token) when VAULT_TOKEN
// is unset.
func TestLogins(t *testing.T) {
	v := testenv.StartVault(t)
	ctx := context.Background()
	root := v.Client("")
	if err := root.Sys().EnableAuthWithOptions("approle", &vault.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	v.Policy("credscan-scanner", mustRead(t, filepath.Join("..", "deploy", "vault", "scanner.hcl")))
	if _, err := root.Logical().Write("auth/approle/role/credscan-scanner", map[string]any{"token_policies": "credscan-scanner"}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/approle/role/credscan-scanner/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/approle/role/credscan-scanner/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("VAULT_ADDR", v.Addr)
	t.Setenv("VAULT_TOKEN", "")
	t.Setenv("VAULT_SECRET_ID", sid.Data["secret_id"].(string))
	c, err := NewClient(ctx, ClientOptions{Auth: "approle", RoleID: rid.Data["role_id"].(string)})
	if err != nil {
		t.Fatalf("AppRole login: %v", err)
	}
	id, err := WhoAmI(ctx, c)
	if err != nil || !strings.HasPrefix(id.DisplayName, "approle") || !contains(id.Policies, "credscan-scanner") {
		t.Fatalf("AppRole identity %+v, %v", id, err)
	}
	// a wrong secret ID fails without printing it
	bad := "00000000-0000-0000-0000-000000000000"
	f := filepath.Join(t.TempDir(), "sid")
	if err := os.WriteFile(f, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(ctx, ClientOptions{Auth: "approle", RoleID: rid.Data["role_id"].(string), SecretIDFile: f}); err == nil || strings.Contains(err.Error(), bad) {
		t.Errorf("a bad secret ID: %v", err)
	}
	// the token helper: `vault login` leaves the token in ~/.vault-token
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("VAULT_CONFIG_PATH", filepath.Join(home, "none.hcl"))
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(v.RootToken), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = NewClient(ctx, ClientOptions{})
	if err != nil {
		t.Fatalf("token helper: %v", err)
	}
	if id, err := WhoAmI(ctx, c); err != nil || !contains(id.Policies, "root") {
		t.Errorf("token helper identity %+v, %v", id, err)
	}
	// no token at all: a clear error
	os.Remove(filepath.Join(home, ".vault-token"))
	if _, err := NewClient(ctx, ClientOptions{}); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("no token: %v", err)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TLS: VAULT_CACERT verifies the server; without it the connection is
// refused; --tls-skip-verify connects, with a loud warning.
func TestTLS(t *testing.T) {
	v := testenv.StartVaultTLS(t)
	ctx := context.Background()
	t.Setenv("VAULT_TOKEN", v.RootToken)
	t.Setenv("VAULT_CACERT", "")
	t.Setenv("VAULT_ADDR", v.Addr)
	c, err := NewClient(ctx, ClientOptions{CACert: v.CACert})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WhoAmI(ctx, c); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	c, err = NewClient(ctx, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WhoAmI(ctx, c); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
	var logBuf strings.Builder
	c, err = NewClient(ctx, ClientOptions{InsecureSkipVerify: true, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WhoAmI(ctx, c); err != nil {
		t.Errorf("skip verify: %v", err)
	}
	if !strings.Contains(logBuf.String(), "TLS VERIFICATION OF VAULT IS OFF") {
		t.Errorf("skipping verification was not said loudly")
	}
}
