package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"

	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
)

// run executes credscan in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	code := exitCode(err)
	if err != nil && printsError(code) {
		errb.WriteString("credscan: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// plantEstate writes an estate whose files hold random secrets in many formats.
func plantEstate(t *testing.T) (dir string, secrets []string) {
	t.Helper()
	dir = t.TempDir()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	s := func() string { x := leakcheck.Secret(t); secrets = append(secrets, x); return x }
	esc := func(x string) string { return strings.NewReplacer("@", "%40", "#", "%23").Replace(x) }
	// a GitLab whose project CI/CD variables hold application.yml's password
	var appSecret string
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Private-Token") != "glpat-test-token-0123456789" || r.URL.EscapedPath() != "/api/v4/projects/acme%2Fapi/variables" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"variable_type":"env_var","key":"DB_PASSWORD","value":%q,"protected":true,"masked":true,"hidden":false,"raw":false,"environment_scope":"*","description":null}]`, appSecret)
	}))
	t.Cleanup(gl.Close)
	t.Setenv("GITLAB_TOKEN", "glpat-test-token-0123456789")
	writeFile(t, filepath.Join(dir, "credscan.yaml"), `version: 1
targets:
  - name: ARP
    hosts: ["arp-db.prod.internal"]
    databases: [arp]
ci:
  gitlab_url: `+gl.URL+`/api/v4
apps:
  - name: api
    sources:
      - dir: api
      - git: repo
      - image: oci:images/api
      - ci: pipelines
      - ci: {gitlab_project: acme/api}
`)
	a := filepath.Join(dir, "api")
	writeFile(t, filepath.Join(a, ".env"), "DATABASE_URL=postgres://arp_app:"+esc(s())+"@arp-db.prod.internal:5432/arp\n")
	appSecret = s()
	writeFile(t, filepath.Join(a, "application.yml"), "spring:\n  datasource:\n    url: jdbc:postgresql://arp-db.prod.internal/arp\n    username: arp_app\n    password: '"+appSecret+"'\n")
	writeFile(t, filepath.Join(dir, "pipelines", ".gitlab-ci.yml"), "variables:\n  PGHOST: arp-db.prod.internal\n  PGUSER: arp_app\n  PGPASSWORD: '"+s()+"'\nmigrate:\n  script:\n    - psql -c 'select 1' $ARP_DB_URL\n    - PGPASSWORD=\"$ARP_DB_PASSWORD\" psql arp\n")
	writeFile(t, filepath.Join(a, "run.sh"), "export PGHOST=arp-db.prod.internal\nexport PGUSER=arp_app\nexport PGPASSWORD='"+s()+"'\n")
	writeFile(t, filepath.Join(a, "secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: arp-db\ndata:\n  password: "+b64(s())+"\n")
	writeFile(t, filepath.Join(a, "Cfg.java"), `String u = "jdbc:postgresql://arp-db.prod.internal/arp?user=arp_app&password=`+esc(s())+`";`+"\n")
	writeFile(t, filepath.Join(a, "aws.txt"), "aws_secret_access_key = "+"wJalrXUtnFEMI/K7MDENG/bPxRfiCY"+strings.ToUpper(s()[2:8])+"\n")
	// a git repository whose history holds a secret deleted since
	r := newCIRepo(t, map[string]string{"deploy/db.env": "DATABASE_URL=postgres://arp_app:" + esc(s()) + "@arp-db.prod.internal:5432/arp\n"})
	r.Write(map[string]string{"deploy/db.env": "DATABASE_URL=${DATABASE_URL}\n"})
	r.Commit("Dev", nil)
	if err := os.Rename(r.Dir, filepath.Join(dir, "repo")); err != nil {
		t.Fatal(err)
	}
	// an image whose config and (deleted) layer file hold secrets
	writeImage(t, filepath.Join(dir, "images", "api"), "PGPASSWORD="+esc(s()), "arp-db.prod.internal:5432:arp:arp_app:"+s()+"\n")
	return dir, secrets
}

func b64(s string) string { return leakcheck.Forms(s)[3] }

func TestNoSecretInAnyOutput(t *testing.T) {
	dir, secrets := plantEstate(t)
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		for _, level := range []string{"debug", "info", "warn", "error"} {
			outFile := filepath.Join(t.TempDir(), "report."+format)
			stdout, stderr, code := run(t, "scan", "estate", "-m", filepath.Join(dir, "credscan.yaml"), "--format", format, "--log-level", level, "--output", outFile)
			if code != exitBlocking {
				t.Fatalf("%s/%s: exit %d, want %d; stderr: %s", format, level, code, exitBlocking, stderr)
			}
			file, err := os.ReadFile(outFile)
			if err != nil {
				t.Fatal(err)
			}
			if len(file) == 0 {
				t.Fatalf("%s: empty report", format)
			}
			leakcheck.AssertNone(t, format+"/"+level+" stdout", []byte(stdout), secrets...)
			leakcheck.AssertNone(t, format+"/"+level+" stderr", []byte(stderr), secrets...)
			leakcheck.AssertNone(t, format+"/"+level+" report", file, secrets...)
		}
		// and to stdout
		stdout, stderr, _ := run(t, "scan", "dir", filepath.Join(dir, "api"), "--format", format, "--log-level", "debug")
		leakcheck.AssertNone(t, format+" stdout", []byte(stdout), secrets...)
		leakcheck.AssertNone(t, format+" stderr", []byte(stderr), secrets...)
	}
	// credscan's own audit log
	auditLog, err := os.ReadFile(os.Getenv("CREDSCAN_AUDIT_LOG"))
	if err != nil || len(auditLog) == 0 {
		t.Fatalf("no audit log: %v", err)
	}
	leakcheck.AssertNone(t, "audit log", auditLog, secrets...)
	// baseline file
	bl := filepath.Join(t.TempDir(), "baseline.json")
	stdout, stderr, _ := run(t, "baseline", "create", filepath.Join(dir, "api"), "--baseline-file", bl)
	b, _ := os.ReadFile(bl)
	leakcheck.AssertNone(t, "baseline", b, secrets...)
	leakcheck.AssertNone(t, "baseline stdout", []byte(stdout+stderr), secrets...)
}

func TestEstateReportFindsEveryPlantedSecret(t *testing.T) {
	dir, _ := plantEstate(t)
	stdout, stderr, code := run(t, "scan", "estate", "-m", filepath.Join(dir, "credscan.yaml"), "--format", "json", "--rules", "db")
	if code != exitBlocking {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var rep struct {
		Findings []struct {
			RuleID string `json:"rule_id"`
			Target string `json:"target"`
			App    string `json:"app"`
			Origin struct {
				Path string `json:"path"`
				Line int    `json:"line"`
			} `json:"origin"`
			DB *struct {
				User string `json:"user"`
				Host string `json:"host"`
			} `json:"db"`
		} `json:"findings"`
		Credentials []struct {
			Target    string `json:"target"`
			User      string `json:"user"`
			Locations []struct {
				Path string `json:"path"`
			} `json:"locations"`
		} `json:"credentials"`
		CISecrets []struct {
			Name string `json:"name"`
		} `json:"ci_secrets"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{".env": 1, "application.yml": 5, "run.sh": 3, "secret.yaml": 6, "Cfg.java": 1, "deploy/db.env": 1, "config/Env.env": 3, "root/.pgpass": 1,
		".gitlab-ci.yml": 4, "variables/DB_PASSWORD": 0}
	got := map[string]int{}
	for _, f := range rep.Findings {
		got[f.Origin.Path] = f.Origin.Line
		if f.App != "api" {
			t.Errorf("%s: app %q", f.Origin.Path, f.App)
		}
		if f.Origin.Path != "secret.yaml" && f.Origin.Path != "variables/DB_PASSWORD" && f.Target != "ARP" {
			t.Errorf("%s: target %q, want ARP", f.Origin.Path, f.Target)
		}
	}
	for p, line := range want {
		if l, ok := got[p]; !ok || l != line {
			t.Errorf("%s: line %d (found %v), want %d", p, l, ok, line)
		}
	}
	// the GitLab variable holds application.yml's password: one credential
	joined := false
	for _, c := range rep.Credentials {
		paths := map[string]bool{}
		for _, l := range c.Locations {
			paths[l.Path] = true
		}
		if paths["variables/DB_PASSWORD"] {
			joined = c.Target == "ARP" && c.User == "arp_app" && paths["application.yml"]
		}
	}
	if !joined {
		t.Errorf("the GitLab variable's credential is not application.yml's (ARP, arp_app)")
	}
	if len(rep.CISecrets) == 0 {
		t.Errorf("no CI secret names listed")
	}
}

func TestExitCodes(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	clean := t.TempDir()
	writeFile(t, filepath.Join(clean, "a.yml"), "db:\n  password: ${DB_PASSWORD}\n")
	if _, _, code := run(t, "scan", "dir", clean); code != exitOK {
		t.Errorf("clean dir: exit %d", code)
	}
	if _, _, code := run(t, "scan", "dir", clean, "--format", "xml"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if _, _, code := run(t, "scan", "dir", filepath.Join(clean, "missing")); code != exitUsage {
		t.Errorf("missing dir: exit %d", code)
	}
	if _, _, code := run(t, "scan", "estate"); code != exitUsage {
		t.Errorf("no manifest: exit %d", code)
	}
	bad := filepath.Join(t.TempDir(), "credscan.yaml")
	writeFile(t, bad, "version: 1\napps:\n  - name: a\n    colour: red\n")
	_, stderr, code := run(t, "scan", "estate", "-m", bad)
	if code != exitUsage || !strings.Contains(stderr, "line 4") {
		t.Errorf("unknown key: exit %d, stderr %q", code, stderr)
	}
	// a gitleaks configuration with an expression that does not compile
	// (gitleaks' loader panics on it)
	badRules := filepath.Join(t.TempDir(), "gitleaks.toml")
	writeFile(t, badRules, "[[rules]]\nid = \"y\"\nregex = '''x-[a-z'''\nkeywords = [\"x-\"]\n")
	if _, stderr, code := run(t, "scan", "dir", clean, "--gitleaks-config", badRules); code != exitUsage || !strings.Contains(stderr, "missing closing ]") {
		t.Errorf("broken gitleaks config: exit %d, stderr %q", code, stderr)
	}
	// an item that cannot be read, for root too: /proc/self/mem is a
	// regular file whose first bytes give EIO
	if _, err := os.Stat("/proc/self/mem"); err == nil {
		stdout, stderr, code := run(t, "scan", "dir", clean, "/proc/self/mem", "--format", "json")
		if code != exitPartial || !strings.Contains(stdout, "input/output error") || !strings.Contains(stdout, `"items"`) {
			t.Errorf("unreadable file: exit %d, stderr %q", code, stderr)
		}
	}
	if os.Geteuid() != 0 {
		locked := filepath.Join(clean, "locked")
		writeFile(t, filepath.Join(locked, "x.env"), "PGPASSWORD=Zz9yy8xx7\n")
		_ = os.Chmod(locked, 0)
		defer os.Chmod(locked, 0o755)
		_, stderr, code := run(t, "scan", "dir", clean)
		if code != exitPartial || !strings.Contains(stderr, "locked") {
			t.Errorf("unreadable dir: exit %d, stderr %q", code, stderr)
		}
	}
	// inline allow and baseline
	d := t.TempDir()
	writeFile(t, filepath.Join(d, ".env"), "PGPASSWORD=Qq1ww2ee3rr # credscan:allow\n")
	if _, _, code := run(t, "scan", "dir", d); code != exitOK {
		t.Errorf("inline allow: exit %d", code)
	}
	writeFile(t, filepath.Join(d, "b.env"), "PGPASSWORD=Tt5yy6uu7ii\n")
	bl := filepath.Join(t.TempDir(), "bl.json")
	if _, _, code := run(t, "baseline", "create", d, "--baseline-file", bl); code != exitOK {
		t.Fatalf("baseline create: exit %d", code)
	}
	if _, _, code := run(t, "scan", "dir", d, "--baseline", bl); code != exitOK {
		t.Errorf("baselined: exit %d", code)
	}
	writeFile(t, filepath.Join(d, "c.env"), "PGPASSWORD=Nn8mm9bb0vv\n")
	if _, _, code := run(t, "scan", "dir", d, "--baseline", bl); code != exitBlocking {
		t.Errorf("new finding over baseline: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.Contains(out, "credscan dev") {
		t.Errorf("version: %q %d", out, code)
	}
}

// writeImage writes an OCI layout of an image with env in its config and
// pgpass at /root/.pgpass in a layer that the next layer deletes.
func writeImage(t *testing.T, dir, env, pgpass string) {
	t.Helper()
	layer := func(name string, data []byte) v1.Layer { return scantest.TarLayer(t, map[string][]byte{name: data}) }
	img, err := mutate.AppendLayers(empty.Image, layer("root/.pgpass", []byte(pgpass)), layer("root/.wh..pgpass", nil))
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Env = []string{"PGHOST=arp-db.prod.internal", "PGUSER=arp_app", env}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
}

// TestGitURLTokenNeverPrinted clones a URL that carries a token in its
// user information; the clone fails, and neither the error nor the report
// may repeat the token.
func TestGitURLTokenNeverPrinted(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	token := leakcheck.Secret(t)
	for _, format := range []string{"table", "json"} {
		stdout, stderr, code := run(t, "scan", "git", "https://ci:"+url.QueryEscape(token)+"@127.0.0.1:1/org/app.git", "--format", format, "--log-level", "debug")
		if code == exitOK || code == exitBlocking {
			t.Errorf("%s: exit %d for a clone that cannot succeed", format, code)
		}
		leakcheck.AssertNone(t, format+" stdout", []byte(stdout), token)
		leakcheck.AssertNone(t, format+" stderr", []byte(stderr), token)
	}
	auditLog, _ := os.ReadFile(os.Getenv("CREDSCAN_AUDIT_LOG"))
	if !strings.Contains(string(auditLog), "git https://127.0.0.1:1/org/app.git") {
		t.Errorf("the scan is not in the audit log")
	}
	leakcheck.AssertNone(t, "audit log", auditLog, token)
}

// TestMain keeps the tests' audit records out of the user's state
// directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "credscan-audit")
	if err != nil {
		panic(err)
	}
	os.Setenv("CREDSCAN_AUDIT_LOG", filepath.Join(dir, "audit.jsonl"))
	os.Setenv("CREDSCAN_CACHE", "off") // every test reads everything; the cache's own tests name a directory
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// A manifest that requires approvals for a kind refuses command-line scans
// of that kind without one, naming what is missing, and logs the refusal.
func TestCommandLineScanNeedsApproval(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	writeFile(t, filepath.Join(dir, "credscan.yaml"), "version: 1\napprovals:\n  required: [image, git]\n")
	_, stderr, code := run(t, "scan", "image", "registry.example.com/billing-api:1.4", "-m", filepath.Join(dir, "credscan.yaml"))
	if code != exitRefused || !strings.Contains(stderr, "need an approval") || !strings.Contains(stderr, "* image registry.example.com/billing-api:1.4") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	auditLog, _ := os.ReadFile(os.Getenv("CREDSCAN_AUDIT_LOG"))
	if !strings.Contains(string(auditLog), `"result":"refused"`) {
		t.Errorf("the refusal is not in the audit log")
	}
	// dir scans need none
	writeFile(t, filepath.Join(dir, "app", "a.txt"), "hello\n")
	if _, stderr, code := run(t, "scan", "dir", filepath.Join(dir, "app"), "-m", filepath.Join(dir, "credscan.yaml")); code != exitOK {
		t.Errorf("dir scan: exit %d %s", code, stderr)
	}
}

// A manifest source that does not exist is an unreadable item (exit 3):
// the other sources are scanned. (A missing directory stopped the whole
// estate scan.)
func TestMissingEstateSourceIsAnItemError(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "credscan.yaml"), "version: 1\napps:\n  - name: a\n    sources:\n      - dir: missing\n      - git: missing-repo\n      - image: oci:missing-oci\n      - dir: ok\n")
	writeFile(t, filepath.Join(dir, "ok", "README.md"), "nothing here\n")
	stdout, stderr, code := run(t, "scan", "estate", "-m", filepath.Join(dir, "credscan.yaml"), "--format", "json")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d: %s", code, exitPartial, stderr)
	}
	var rep struct {
		Errors []struct {
			Origin struct{ Target string }
		}
		Stats struct{ Items int }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 3 || rep.Stats.Items != 1 {
		t.Errorf("%d errors (want 3), %d items (want the README)", len(rep.Errors), rep.Stats.Items)
	}
}

// Vault that cannot be reached exits with the unavailable code and says
// so, not as a permission or usage problem.
func TestVaultUnreachableExitCode(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	t.Setenv("VAULT_ADDR", addr)
	t.Setenv("VAULT_TOKEN", "hvs.not-a-real-token")
	_, stderr, code := run(t, "vault", "audit", "check")
	if code != exitUnavailable || !strings.Contains(stderr, "cannot reach Vault at "+addr) || strings.Contains(stderr, "usage") || strings.Contains(stderr, "sudo") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	leakcheck.AssertNone(t, "stderr", []byte(stderr), "hvs.not-a-real-token")
}
