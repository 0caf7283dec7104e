//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/testenv"
)

// vaultEstate plants an estate of one app and points credscan at a real
// Vault server with the root token.
func vaultEstate(t *testing.T, extra string) (*testenv.Vault, string, []string) {
	t.Helper()
	v := testenv.StartVault(t)
	t.Setenv("VAULT_ADDR", v.Addr)
	t.Setenv("VAULT_TOKEN", v.RootToken)
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	s1, s2 := leakcheck.Secret(t), leakcheck.Secret(t)
	writeFile(t, filepath.Join(dir, "credscan.yaml"), `version: 1
targets:
  - name: ARP
    hosts: ["arp-db.prod.internal"]
apps:
  - name: billing-api
    sources:
      - dir: billing-api
audit:
  file: audit.jsonl
  mirror: true
`+extra)
	writeFile(t, filepath.Join(dir, "billing-api", "application.yml"), "spring:\n  datasource:\n    url: jdbc:postgresql://arp-db.prod.internal:5432/arp\n    username: arp_app\n    password: '"+s1+"'\n")
	writeFile(t, filepath.Join(dir, "billing-api", "run.sh"), "export PGHOST=arp-db.prod.internal\nexport PGUSER=arp_backup\nexport PGPASSWORD='"+s2+"'\n")
	return v, dir, []string{s1, s2}
}

func TestVaultPushCLI(t *testing.T) {
	v, dir, secrets := vaultEstate(t, "")
	m := filepath.Join(dir, "credscan.yaml")
	leak := func(what, out string) { leakcheck.AssertNone(t, what, []byte(out), secrets...) }

	// no audit device: refused
	out, errOut, code := run(t, "vault", "push", "-m", m)
	leak("refused push", out+errOut)
	if code != exitRefused || !strings.Contains(errOut, "no audit device") {
		t.Fatalf("push without an audit device: exit %d, %s", code, errOut)
	}
	// vault audit check fails the same way, then passes with a device
	if _, errOut, code := run(t, "vault", "audit", "check"); code != exitRefused || !strings.Contains(errOut, "no Vault audit device") {
		t.Errorf("audit check without a device: exit %d, %s", code, errOut)
	}
	auditLog := v.EnableFileAudit("file")
	out, _, code = run(t, "vault", "audit", "check")
	if code != 0 || !strings.Contains(out, "file/") || !strings.Contains(out, "only one audit device") {
		t.Errorf("audit check: exit %d\n%s", code, out)
	}

	// the plan writes nothing
	out, errOut, code = run(t, "vault", "push", "-m", m, "--dry-run", "--log-level", "debug")
	leak("plan", out+errOut)
	if code != exitBlocking || !strings.Contains(errOut, "VAULT PUSH PLAN") || strings.Count(errOut, "  new ") != 3 {
		t.Fatalf("dry run: exit %d\n%s", code, errOut)
	}
	// the push writes the two credentials and the findings of the app
	out, errOut, code = run(t, "vault", "push", "-m", m, "--log-level", "debug", "--format", "json")
	leak("push", out+errOut)
	if code != exitBlocking {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	for _, p := range []string{`new +arp/legacy/arp_app/[0-9a-f]{12}`, `new +arp/legacy/arp_backup/[0-9a-f]{12}`, `new +credscan/findings/billing-api`} {
		if !regexp.MustCompile(p).MatchString(errOut) {
			t.Errorf("push output lacks %s:\n%s", p, errOut)
		}
	}
	// a second push changes nothing
	_, errOut, _ = run(t, "vault", "push", "-m", m)
	if !strings.Contains(errOut, "0 new, 0 changed, 3 unchanged, 0 failed") {
		t.Errorf("re-push:\n%s", errOut)
	}
	// the secrets are in Vault, and nowhere in its audit log or credscan's
	kv := v.Client("").KVv2("secret")
	list, err := v.Client("").Logical().List("secret/metadata/arp/legacy/arp_app")
	if err != nil || list == nil {
		t.Fatalf("listing: %v", err)
	}
	key := list.Data["keys"].([]any)[0].(string)
	sec, err := kv.Get(context.Background(), "arp/legacy/arp_app/"+key)
	if err != nil || sec.Data["password"] != secrets[0] {
		t.Errorf("arp/legacy/arp_app holds another value (%v)", err)
	}
	raw, _ := os.ReadFile(auditLog)
	leak("Vault audit log", string(raw))
	own, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	leak("credscan audit log", string(own))
	for _, action := range []string{`"action":"vault.plan"`, `"action":"vault.push"`, `"action":"scan push"`} {
		if !strings.Contains(string(own), action) {
			t.Errorf("credscan's audit log has no %s", action)
		}
	}
	// the audit log verifies, also against its Vault mirror
	out, _, code = run(t, "audit", "verify", "-m", m, "--against-vault")
	if code != 0 || !strings.Contains(out, "chain intact") {
		t.Errorf("audit verify: exit %d %s", code, out)
	}
	// an edited line is found
	edited := strings.Replace(string(own), `"result":"refused"`, `"result":"ok"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "audit.jsonl"), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "audit", "verify", "-m", m)
	if code != exitIntegrity || !strings.Contains(out, "TAMPERED at line 1") {
		t.Errorf("edited audit log: exit %d %s", code, out)
	}
	// a deleted tail is found against the mirror
	lines := strings.SplitAfter(strings.TrimSpace(string(own)), "\n")
	if err := os.WriteFile(filepath.Join(dir, "audit.jsonl"), []byte(strings.Join(lines[:len(lines)-1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "audit", "verify", "-m", m, "--against-vault")
	if code != exitIntegrity || !strings.Contains(out, "tail was deleted") {
		t.Errorf("truncated audit log: exit %d %s", code, out)
	}
}

// --allow-no-audit pushes and is recorded.
func TestVaultPushAllowNoAudit(t *testing.T) {
	_, dir, secrets := vaultEstate(t, "")
	m := filepath.Join(dir, "credscan.yaml")
	out, errOut, code := run(t, "vault", "push", "-m", m, "--allow-no-audit")
	leakcheck.AssertNone(t, "output", []byte(out+errOut), secrets...)
	if code != exitBlocking || !strings.Contains(errOut, "3 new") {
		t.Fatalf("push --allow-no-audit: exit %d\n%s", code, errOut)
	}
	own, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if !strings.Contains(string(own), `"action":"override"`) || !strings.Contains(string(own), "--allow-no-audit") {
		t.Errorf("the override is not in credscan's audit log")
	}
}

// Sources marked approval: required need an approval granted by another
// identity.
func TestScanApprovals(t *testing.T) {
	v, dir, _ := vaultEstate(t, "approvals:\n  required: [dir]\n")
	m := filepath.Join(dir, "credscan.yaml")
	v.EnableFileAudit("file")
	for _, name := range []string{"scanner", "approver"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "vault", name+".hcl"))
		if err != nil {
			t.Fatal(err)
		}
		v.Policy("credscan-"+name, string(b))
	}
	scanner, approver := v.Token("alice", "credscan-scanner"), v.Token("bob", "credscan-approver")

	t.Setenv("VAULT_TOKEN", scanner)
	_, errOut, code := run(t, "scan", "estate", "-m", m)
	if code != exitRefused || !strings.Contains(errOut, "need an approval") || !strings.Contains(errOut, "billing-api dir billing-api") {
		t.Fatalf("scan without approval: exit %d %s", code, errOut)
	}
	// a scanner cannot approve
	_, errOut, code = run(t, "approve", "-m", m, "--apps", "billing-api", "--kinds", "dir", "--ticket", "SEC-1", "--reason", "test")
	if code == 0 || !strings.Contains(errOut, "403") {
		t.Fatalf("scanner approved: exit %d %s", code, errOut)
	}
	// the approver approves
	t.Setenv("VAULT_TOKEN", approver)
	out, errOut, code := run(t, "approve", "-m", m, "--apps", "billing-api", "--kinds", "dir", "--ticket", "SEC-1", "--reason", "test", "--ttl", "1h")
	if code != 0 {
		t.Fatalf("approve: exit %d %s", code, errOut)
	}
	id := regexp.MustCompile(`apr-[0-9a-f]+`).FindString(out)
	// the approver cannot use their own approval
	_, errOut, code = run(t, "scan", "estate", "-m", m, "--approval", id)
	if code != exitRefused || !strings.Contains(errOut, "different identity") {
		t.Errorf("approver's own scan: exit %d %s", code, errOut)
	}
	// the scanner can
	t.Setenv("VAULT_TOKEN", scanner)
	_, errOut, code = run(t, "scan", "estate", "-m", m, "--approval", id)
	if code != exitBlocking {
		t.Errorf("approved scan: exit %d %s", code, errOut)
	}
	// an unknown approval is refused
	_, errOut, code = run(t, "scan", "estate", "-m", m, "--approval", "apr-000000")
	if code != exitUsage || !strings.Contains(errOut, "does not exist") {
		t.Errorf("unknown approval: exit %d %s", code, errOut)
	}
	own, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	for _, s := range []string{`"action":"approve"`, `"result":"refused"`, `"approval":"` + id + `"`, `"vault":"token-alice"`} {
		if !strings.Contains(string(own), s) {
			t.Errorf("credscan's audit log lacks %s", s)
		}
	}
}

// A push Vault refuses entry by entry (a token that may not write) leaves
// them unwritten, listed, with exit 4, through the real binary.
func TestExitCodeVaultLeftEntries(t *testing.T) {
	v, dir, secrets := vaultEstate(t, "")
	v.EnableFileAudit("file")
	v.Policy("reader", `path "secret/*" { capabilities = ["read", "list"] }
path "secret/data/credscan/audit/*" { capabilities = ["create"] }
path "sys/audit" { capabilities = ["read", "sudo"] }
path "auth/token/lookup-self" { capabilities = ["read"] }`)
	t.Setenv("VAULT_TOKEN", v.Token("reader-dan", "reader"))
	code, stdout, stderr := runBinary(t, "vault", "push", "-m", filepath.Join(dir, "credscan.yaml"), "--format", "json")
	if code != exitVault || !strings.Contains(stderr, "NOT written to Vault") || !strings.Contains(stderr, "permission denied") {
		t.Errorf("exit %d, want %d\n%s", code, exitVault, stderr)
	}
	leakcheck.AssertNone(t, "output", []byte(stdout+stderr), secrets...)
}
