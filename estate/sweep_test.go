package estate_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

const sweptSecret = "hT8k#q2Zx9RvL4mW"

// sweepEstate writes an estate whose ARP password is found by the rules
// in one app and hidden, where no rule looks, in another: a compiled
// class, a minified bundle holding it base64-encoded at an odd
// alignment, a log line with it JSON-escaped.
func sweepEstate(t *testing.T, vaultOnly string) *manifest.Manifest {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	write := func(p string, data []byte) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("api/.env", []byte("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD="+sweptSecret+"\n"))
	class := append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d\x01\x00\x10"), sweptSecret...)
	class = append(class, 0, 1, 2, 3)
	if vaultOnly != "" {
		class = append(class, append([]byte{0, 0x10}, vaultOnly...)...)
	}
	write("legacy/lib/Config.class", class)
	blob := base64.StdEncoding.EncodeToString([]byte("xy{\"u\":\"arp_app\",\"p\":\"" + sweptSecret + "\"}"))
	write("legacy/static/app.min.js", []byte("var a=atob(\""+blob+"\");function f(){return a}\n"))
	write("legacy/logs/app.log", []byte(`{"level":"debug","msg":"connecting","cfg":"{\"pw\":\"`+strings.ReplaceAll(sweptSecret, "#", `\u0023`)+`\"}"}`+"\n"))
	if err := os.WriteFile(filepath.Join(root, "credscan.yaml"), []byte(`version: 1
targets:
  - name: ARP
    hosts: ["arp-db.prod.internal"]
    users: [arp_app]
apps:
  - name: api
    sources: [{dir: api}]
  - name: legacy
    sources: [{dir: legacy}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(root, "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSweepFindsEveryCopy(t *testing.T) {
	m := sweepEstate(t, "")
	res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Sweep: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range res.Findings {
		if f.RuleID == rules.KnownSecret {
			got[f.Origin.Path] = f.Tags
		}
	}
	for path, tag := range map[string]string{"lib/Config.class": "encoding:plain", "static/app.min.js": "encoding:base64", "logs/app.log": "encoding:json-escape"} {
		if !slices.Contains(got[path], tag) {
			t.Errorf("%s: want a known-secret copy tagged %s (got %v)", path, tag, got[path])
		}
	}
	creds := credscan.Group(res.Findings)
	if len(creds) != 1 || creds[0].Target != "ARP" || creds[0].User != "arp_app" || len(creds[0].Findings) != 4 {
		t.Fatalf("%d credentials, want the four copies as one ARP arp_app credential", len(creds))
	}
	// no output holds the secret, nor any form the sweep matched
	forms := []string{sweptSecret, base64.StdEncoding.EncodeToString([]byte(sweptSecret))[:12], strings.ReplaceAll(sweptSecret, "#", `\u0023`)}
	for _, format := range report.Formats {
		var b bytes.Buffer
		rep := res.Report("credscan", "test")
		rep.Suppressed = res.SuppressedFindings
		if err := report.Write(&b, format, rep); err != nil {
			t.Fatal(err)
		}
		for _, s := range forms {
			if bytes.Contains(b.Bytes(), []byte(s)) {
				t.Fatalf("%s report holds a form of the secret", format)
			}
		}
	}

	off, err := estate.Run(context.Background(), m, estate.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range off.Findings {
		if f.RuleID == rules.KnownSecret {
			t.Fatalf("known-secret finding without --sweep")
		}
	}
	if off.Stats.Bytes != res.Stats.Bytes || off.Stats.Items != res.Stats.Items {
		t.Errorf("the sweep counted bytes or items again: %d/%d vs %d/%d", res.Stats.Items, res.Stats.Bytes, off.Stats.Items, off.Stats.Bytes)
	}
}

// A password known from Vault and found by no rule is swept for in the
// rules' pass, without --sweep's second one; one shorter than
// sweep.MinLen is not, and the run says so.
func TestSweepKnownFromOutside(t *testing.T) {
	const legacy = "Lg7!pQ2w#Vx"
	m := sweepEstate(t, legacy)
	// no second pass: what Vault supplies is searched for as the sources
	// are read
	res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2,
		Known: []engine.Known{{Secret: legacy, DB: &credscan.DBIdentity{User: "arp_legacy"}}, {Secret: "abc12"}}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.Findings {
		if f.RuleID == rules.KnownSecret && f.User() == "arp_legacy" && f.Origin.Path == "lib/Config.class" {
			found = true
		}
	}
	if !found {
		t.Fatal("the Vault-known password in the class file was not found")
	}
	said := false
	for _, p := range res.Stats.Problems {
		if strings.Contains(p, "shorter than 6") {
			said = true
		}
		if strings.Contains(p, "abc12") {
			t.Fatal("a problem names the short secret")
		}
	}
	if !said {
		t.Fatalf("the short secret was skipped silently: %v", res.Stats.Problems)
	}
}

// --sweep's second pass reads a git history again: a copy of the password
// the rules found in a config file, in a binary a past commit held and a
// later one deleted, is found and attributed to that commit.
func TestSweepReadsGitHistoryAgain(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@x", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	write := func(p string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib/client.so", append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00"), append([]byte(sweptSecret), 0, 0)...))
	git("add", ".")
	git("commit", "-q", "-m", "vendor the client")
	git("rm", "-q", "lib/client.so")
	write("config/.env", []byte("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD="+sweptSecret+"\n"))
	git("add", ".")
	git("commit", "-q", "-m", "config")
	if err := os.WriteFile(filepath.Join(root, "credscan.yaml"), []byte("version: 1\ntargets:\n  - name: ARP\n    hosts: [\"arp-db.prod.internal\"]\napps:\n  - name: api\n    sources: [{git: repo}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(root, "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Sweep: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.RuleID == rules.KnownSecret && f.Origin.Path == "lib/client.so" && f.Origin.Commit != "" {
			if f.Target != "ARP" || f.User() != "arp_app" {
				t.Fatalf("the copy is not the ARP arp_app credential's: %q %q", f.Target, f.User())
			}
			return
		}
	}
	t.Fatalf("the deleted binary's copy was not found in history: %d findings", len(res.Findings))
}
