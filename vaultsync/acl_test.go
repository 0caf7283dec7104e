package vaultsync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/policy"
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
	if _, err := scanner.Push(ctx, entries, false); err != nil {
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
	a := &policy.Approval{ID: policy.NewApprovalID(), Apps: []string{"billing-api"}, Kinds: []string{"image", "git"},
		Ticket: "SEC-123", Reason: "test", ApprovedBy: scannerID, Created: now, Expires: now.Add(time.Hour)}

	// a scanner cannot write an approval, not even for itself
	if err := scanner.WriteApproval(ctx, a); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("scanner wrote an approval: %v", err)
	}
	// the approver can; the scanner can then read it and it covers the scan
	a.ID, a.ApprovedBy = policy.NewApprovalID(), approverID
	if err := approver.WriteApproval(ctx, a); err != nil {
		t.Fatalf("approver: %v", err)
	}
	got, err := scanner.ReadApproval(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	needs := []policy.Need{{App: "billing-api", Kind: "image", Source: "registry/billing-api:1"}}
	if err := policy.CheckApproval(got, needs, scannerID, time.Now()); err != nil {
		t.Errorf("a valid approval refused: %v", err)
	}
	// the approver's own scan under it is refused: nobody approves their own request
	if err := policy.CheckApproval(got, needs, approverID, time.Now()); err == nil || !strings.Contains(err.Error(), "different identity") {
		t.Errorf("an approver's own scan passed its approval: %v", err)
	}
	// an approval is never overwritten (create only, and CAS 0)
	if err := approver.WriteApproval(ctx, a); err == nil {
		t.Errorf("an approval was overwritten")
	}
	// a dev lead cannot read legacy credentials, nor can an approver
	for name, st := range map[string]*Store{"dev lead": dev, "approver": approver} {
		if _, err := st.c.KVv2("secret").Get(ctx, entries[0].Path); err == nil || statusOf(err) != 403 {
			t.Errorf("%s read %s: %v", name, entries[0].Path, err)
		}
	}
	// a dev lead reads the redacted findings
	if _, err := dev.c.KVv2("secret").Get(ctx, "credscan/findings/billing-api"); err != nil {
		t.Errorf("dev lead cannot read findings: %v", err)
	}
	// nor may a dev lead approve
	a.ID = policy.NewApprovalID()
	if err := dev.WriteApproval(ctx, a); err == nil {
		t.Errorf("dev lead wrote an approval")
	}
}
