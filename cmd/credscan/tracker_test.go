//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/internal/golden"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync"
)

// trackerEstate plants three apps in two waves, each with a hardcoded
// ARP password, and a manifest whose tracker is the default file.
func trackerEstate(t *testing.T, trackerYAML string) (manifestPath string, secrets []string) {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "credscan.yaml"), `version: 1
targets:
  - name: ARP
    hosts: ["arp-db.prod.internal"]
apps:
  - name: billing-api
    owner: team-billing
    wave: 1
    sources: [{dir: billing-api}]
  - name: ledger-worker
    owner: team-ledger
    wave: 1
    sources: [{dir: ledger-worker}]
  - name: reports-web
    owner: team-reports
    wave: 2
    sources: [{dir: reports-web}]
audit:
  file: audit.jsonl
`+trackerYAML)
	for _, app := range []string{"billing-api", "ledger-worker", "reports-web"} {
		s := leakcheck.Secret(t)
		secrets = append(secrets, s)
		writeFile(t, filepath.Join(dir, app, ".env"), "DATABASE_URL=postgres://arp_app:"+url.QueryEscape(s)+"@arp-db.prod.internal:5432/arp\n")
	}
	return filepath.Join(dir, "credscan.yaml"), secrets
}

func TestTrackerCLIFileStore(t *testing.T) {
	m, secrets := trackerEstate(t, "")
	leak := func(what, out string) { t.Helper(); leakcheck.AssertNone(t, what, []byte(out), secrets...) }

	// before any scan: every app to do, blocked on its scan
	out, errOut, code := run(t, "status", "-m", m)
	leak("status", out+errOut)
	if code != 0 || !strings.Contains(out, "billing-api") || !strings.Contains(out, "blocked") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	// a scan records each app's inventory
	_, errOut, code = run(t, "scan", "estate", "-m", m, "--quiet")
	leak("scan", errOut)
	if code != exitBlocking {
		t.Fatalf("scan: exit %d\n%s", code, errOut)
	}
	// ticks from the command line, signed by the OS user
	for _, args := range [][]string{
		{"tick", "billing-api", "reads-from-vault", "--note", "Vault Agent"},
		{"tick", "billing-api", "deployed", "--note", "prod", "--change", "CHG-1"},
		{"waive", "billing-api", "vaulted", "--note", "pushed by the DBA team"},
		{"waive", "ledger-worker", "vaulted", "--note", "the DBA team vaulted it"},
	} {
		out, errOut, code := run(t, append(args, "-m", m)...)
		leak(args[0], out+errOut)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// refusals: an automatic step, a deploy without a change, a waiver
	// without a reason, an unknown app or step
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tick", "billing-api", "vaulted", "--note", "x"}, exitRefused, "automatic"},
		{[]string{"tick", "ledger-worker", "deployed", "--note", "x"}, exitUsage, "change"},
		{[]string{"waive", "reports-web", "deployed"}, exitUsage, "reason"},
		{[]string{"tick", "nope", "deployed", "--note", "x"}, exitUsage, "not in"},
		{[]string{"tick", "billing-api", "nope", "--note", "x"}, exitUsage, "unknown step"},
	} {
		out, errOut, code := run(t, append(c.args, "-m", m)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (want %d)\n%s%s", c.args, code, c.code, out, errOut)
		}
	}
	// status: table, markdown, json
	for _, format := range []string{"table", "markdown", "json"} {
		out, errOut, code := run(t, "status", "-m", m, "--format", format)
		leak("status "+format, out+errOut)
		if code != 0 || !strings.Contains(out, "CHG-1") || !strings.Contains(out, "the DBA team vaulted it") {
			t.Errorf("status %s: exit %d\n%s%s", format, code, out, errOut)
		}
	}
	out, _, _ = run(t, "status", "-m", m, "--format", "json", "--owner", "team-billing")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("status --owner json: %v\n%s", err, out)
	}
	// the gate: wave 1 has not reached deployed (ledger-worker)
	out, errOut, code = run(t, "status", "-m", m, "--wave", "1", "--require", "deployed")
	if code != exitRefused || !strings.Contains(errOut, "ledger-worker") || strings.Contains(errOut, "billing-api") {
		t.Errorf("--require deployed --wave 1: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := run(t, "status", "-m", m, "--app", "billing-api", "--require", "deployed"); code != 0 {
		t.Errorf("billing-api reached deployed: exit %d\n%s", code, errOut)
	}
	// the audit log has every tick, signed
	recs, problem, err := audit.VerifyFile(filepath.Join(filepath.Dir(m), "audit.jsonl"))
	if err != nil || problem != nil {
		t.Fatal(err, problem)
	}
	ticks := 0
	for _, r := range recs {
		if strings.HasPrefix(r.Action, "tracker.") {
			ticks++
			if r.Actor.OSUser == "" {
				t.Errorf("unsigned %+v", r)
			}
		}
	}
	if ticks != 4 {
		t.Errorf("%d tracker records in the audit log, want 4", ticks)
	}
}

// Two processes tick the same app at once, many times: the file store's
// lock and check-and-set lose none of the ticks.
func TestTickTwoProcesses(t *testing.T) {
	testenv.Short(t, "builds the binary and runs 24 processes")
	bin := credscanBinary(t)
	m, _ := trackerEstate(t, "")
	var wg sync.WaitGroup
	errs := make(chan string, 24)
	for i := range 12 {
		for _, step := range []string{"reads-from-vault", "verified-on-green"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "tick", "billing-api", step, "--note", fmt.Sprintf("run %d", i), "-m", m)
				cmd.Env = append(os.Environ(), "CREDSCAN_FINGERPRINT_KEY=test-key-0123456789abcdef")
				out, err := cmd.CombinedOutput()
				if err != nil && !strings.Contains(string(out), "already") {
					errs <- fmt.Sprintf("%s %d: %v %s", step, i, err, out)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	out, _, code := run(t, "status", "-m", m, "--format", "json", "--app", "billing-api")
	if code != 0 {
		t.Fatal(out)
	}
	var rows []struct {
		Steps []struct {
			Step  string `json:"step"`
			State string `json:"state"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range rows[0].Steps {
		if (s.Step == "reads-from-vault" || s.Step == "verified-on-green") && s.State != "done" {
			t.Errorf("%s is %s after the ticks", s.Step, s.State)
		}
	}
	recs, problem, err := audit.VerifyFile(filepath.Join(filepath.Dir(m), "audit.jsonl"))
	if err != nil || problem != nil {
		t.Fatalf("the audit log after concurrent ticks: %v %v", err, problem)
	}
	if len(recs) < 2 {
		t.Errorf("%d audit records", len(recs))
	}
}

// The policies the TUI needs, generated from the manifest, match the
// examples shipped in deploy/vault.
func TestVaultPolicyGolden(t *testing.T) {
	ex := filepath.Join("..", "..", "examples", "estate", "credscan.yaml")
	for _, c := range []struct {
		file string
		args []string
	}{
		{"dev-lead.hcl", []string{"vault", "policy", "dev-lead", "-m", ex, "--owner", "team-billing"}},
		{"viewer.hcl", []string{"vault", "policy", "viewer", "-m", ex}},
	} {
		out, errOut, code := run(t, c.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", c.args, code, errOut)
		}
		golden.Check(t, filepath.Join("..", "..", "..", "deploy", "vault", c.file), []byte(out))
	}
	if _, errOut, code := run(t, "vault", "policy", "dev-lead", "-m", ex, "--owner", "nobody"); code != exitUsage {
		t.Errorf("a dev lead of no app: exit %d %s", code, errOut)
	}
}

// With the tracker in a real Vault, under the generated policies and
// real tokens: a dev lead ticks their own app and is refused another
// team's; a viewer reads status and ticks nothing; capabilities-self
// (what makes the TUI read-only) agrees; nobody reads a credential.
func TestTrackerVaultPolicies(t *testing.T) {
	m, secrets := trackerEstate(t, "tracker:\n  vault: {}\n")
	v := pushAsScanner(t, m)
	for _, p := range []struct {
		name string
		args []string
	}{
		{"credscan-lead-billing", []string{"vault", "policy", "dev-lead", "-m", m, "--owner", "team-billing"}},
		{"credscan-viewer", []string{"vault", "policy", "viewer", "-m", m}},
	} {
		hcl, errOut, code := run(t, p.args...)
		if code != 0 {
			t.Fatalf("%v: %s", p.args, errOut)
		}
		v.Policy(p.name, hcl)
	}
	lead, viewer := v.Token("dev-lead-carol", "credscan-lead-billing"), v.Token("viewer-vic", "credscan-viewer")
	as := func(tok string, args ...string) (string, string, int) {
		t.Helper()
		t.Setenv("VAULT_TOKEN", tok)
		out, errOut, code := run(t, append(args, "-m", m)...)
		leakcheck.AssertNone(t, strings.Join(args, " "), []byte(out+errOut), secrets...)
		return out, errOut, code
	}
	if out, errOut, code := as(lead, "tick", "billing-api", "reads-from-vault", "--note", "agent"); code != 0 || !strings.Contains(out, "dev-lead-carol") {
		t.Fatalf("the lead ticks their app: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := as(lead, "tick", "ledger-worker", "reads-from-vault", "--note", "not mine"); code != exitUsage || !strings.Contains(errOut, "denied") {
		t.Errorf("the lead ticked another team's app: exit %d %s", code, errOut)
	}
	if out, errOut, code := as(viewer, "status"); code != 0 || !strings.Contains(out, "dev-lead-carol") || !strings.Contains(out, "scan of") {
		t.Errorf("the viewer's status: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := as(viewer, "tick", "billing-api", "deployed", "--note", "x", "--change", "C"); code != exitUsage {
		t.Errorf("the viewer ticked: %s", errOut)
	}
	ctx := context.Background()
	for _, c := range []struct {
		tok, app string
		want     bool
	}{{lead, "billing-api", true}, {lead, "ledger-worker", false}, {viewer, "billing-api", false}} {
		got, err := vaultsync.CanUpdate(ctx, v.Client(c.tok), "secret/data/"+tracker.NewKVStore(nil, "").Path(c.app))
		if err != nil || got != c.want {
			t.Errorf("CanUpdate(%s) = %v, %v; want %v", c.app, got, err, c.want)
		}
	}
	// nobody under these policies reads a credential
	legacy, err := v.Client(v.RootToken).Logical().List("secret/metadata/arp/legacy/arp_app")
	if err != nil || legacy == nil {
		t.Fatalf("no legacy credential pushed: %v", err)
	}
	for _, tok := range []string{lead, viewer} {
		if s, err := v.Client(tok).Logical().List("secret/metadata/arp/legacy/arp_app"); err == nil && s != nil {
			t.Errorf("listed legacy credentials: %v", s.Data)
		}
		for _, k := range legacy.Data["keys"].([]any) {
			if s, err := v.Client(tok).Logical().Read("secret/data/arp/legacy/arp_app/" + k.(string)); err == nil && s != nil {
				t.Errorf("read a legacy credential")
			}
		}
	}
}

// pushAsScanner starts Vault (with an audit device) and pushes the
// manifest's estate with a token under deploy/vault/scanner.hcl, which
// also records each app's inventory in the tracker.
func pushAsScanner(t *testing.T, m string) *testenv.Vault {
	t.Helper()
	v := testenv.StartVault(t)
	t.Setenv("VAULT_ADDR", v.Addr)
	v.EnableFileAudit("file")
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "vault", "scanner.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	v.Policy("credscan-scanner", string(b))
	t.Setenv("VAULT_TOKEN", v.Token("scanner-sam", "credscan-scanner"))
	if _, errOut, code := run(t, "vault", "push", "-m", m, "--quiet"); code != exitBlocking {
		t.Fatalf("push: exit %d %s", code, errOut)
	}
	return v
}
