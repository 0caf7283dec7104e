package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan/internal/gittest"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
)

// newCIRepo commits base on main and checks out a feature branch made
// from it.
func newCIRepo(t *testing.T, base map[string]string) *gittest.Repo {
	t.Helper()
	r := gittest.New(t)
	r.Commit("Dev", base)
	r.Branch("main")
	r.Checkout("feature", true)
	return r
}

const dbEnvBase = "# database\nDB_HOST=arp-db.prod.internal\n"

func TestCIBlocksAnAddedDSN(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	pw := leakcheck.Secret(t)
	r := newCIRepo(t, map[string]string{"config/db.env": dbEnvBase, "README.md": "app\n"})
	r.Write(map[string]string{"config/db.env": dbEnvBase + "DATABASE_URL=postgres://app:" + url.QueryEscape(pw) + "@arp-db.prod.internal:5432/arp\n"})
	r.Commit("Dev", nil)

	out := t.TempDir()
	summary := filepath.Join(out, "summary.md")
	sarif := filepath.Join(out, "credscan.sarif")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--base", "main", "--sarif-file", sarif)
	if code != exitBlocking {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitBlocking, stdout, stderr)
	}
	if !strings.Contains(stdout, "::error file=config/db.env,line=3,title=credscan%3A postgres-uri::") {
		t.Errorf("no annotation at config/db.env:3 in:\n%s", stdout)
	}
	files := map[string][]byte{"stdout": []byte(stdout), "stderr": []byte(stderr)}
	for _, p := range []string{summary, sarif} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s not written: %v", filepath.Base(p), err)
		}
		files[filepath.Base(p)] = b
	}
	if !strings.Contains(string(files["summary.md"]), "1 blocking") {
		t.Errorf("job summary:\n%s", files["summary.md"])
	}
	var doc struct {
		Runs []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(files["credscan.sarif"], &doc); err != nil || len(doc.Runs[0].Results) != 1 {
		t.Errorf("SARIF: %v, %s", err, files["credscan.sarif"])
	}
	for name, b := range files {
		leakcheck.AssertNone(t, name, b, pw)
	}
}

func TestCIAllowsReferencesAndDeletions(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITLAB_CI", "")
	old := leakcheck.Secret(t)
	oldDSN := "DATABASE_URL=postgres://app:" + url.QueryEscape(old) + "@arp-db.prod.internal:5432/arp\n"

	// a reference to a secret store is the good end state
	r := newCIRepo(t, map[string]string{"config/db.env": dbEnvBase})
	r.Write(map[string]string{"config/db.env": dbEnvBase + "DATABASE_URL=postgres://app:${DB_PASSWORD}@arp-db.prod.internal:5432/arp\n"})
	r.Commit("Dev", nil)
	if stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--base", "main"); code != exitOK {
		t.Errorf("reference: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// deleting a secret the base holds adds nothing
	r = newCIRepo(t, map[string]string{"config/db.env": dbEnvBase + oldDSN})
	r.Write(map[string]string{"config/db.env": dbEnvBase})
	r.Commit("Dev", nil)
	if stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--base", "main"); code != exitOK {
		t.Errorf("deletion: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// an unrelated edit to a file that still holds an old secret adds nothing
	r = newCIRepo(t, map[string]string{"config/db.env": dbEnvBase + oldDSN})
	r.Write(map[string]string{"config/db.env": "# edited\n" + dbEnvBase + oldDSN})
	r.Commit("Dev", nil)
	stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--base", "main", "--format", "json")
	if code != exitOK {
		t.Errorf("edit around an old secret: exit %d\n%s\n%s", code, stdout, stderr)
	}
	leakcheck.AssertNone(t, "stdout", []byte(stdout), old)
}

func TestCIStagedAndGitLab(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	t.Setenv("GITHUB_ACTIONS", "")
	pw := leakcheck.Secret(t)
	r := newCIRepo(t, map[string]string{"README.md": "app\n"})
	r.Write(map[string]string{"deploy/run.sh": "#!/bin/sh\nexport PGHOST=arp-db.prod.internal PGUSER=arp_app\nexport PGPASSWORD='" + pw + "'\npsql -c 'select 1'\n"})

	t.Setenv("GITLAB_CI", "true")
	gl := filepath.Join(t.TempDir(), "gl-code-quality-report.json")
	stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--staged", "--gitlab-report", gl)
	if code != exitBlocking {
		t.Fatalf("staged secret: exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(gl)
	if err != nil {
		t.Fatal(err)
	}
	var issues []struct {
		CheckName string `json:"check_name"`
		Severity  string `json:"severity"`
		Location  struct {
			Path  string `json:"path"`
			Lines struct {
				Begin int `json:"begin"`
			} `json:"lines"`
		} `json:"location"`
	}
	if err := json.Unmarshal(b, &issues); err != nil {
		t.Fatal(err)
	}
	if len(issues) != 1 || issues[0].Location.Path != "deploy/run.sh" || issues[0].Location.Lines.Begin != 3 || issues[0].Severity != "blocker" {
		t.Errorf("code quality report: %s", b)
	}
	leakcheck.AssertNone(t, "gitlab report", b, pw)
	leakcheck.AssertNone(t, "stdout", []byte(stdout+stderr), pw)
}

// The merge gate blocks every DSN a change adds in a file of megabyte
// lines larger than what is read whole: at random places and across every
// chunk boundary, each once, at its line and column.
func TestCIGateLongLines(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITLAB_CI", "")
	data, planted := scantest.BigLongLineFile(t, 9)
	r := newCIRepo(t, map[string]string{"README.md": "app\n"})
	r.Write(map[string]string{"dump.sql": string(data)})
	r.Commit("Dev", nil)
	stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--base", "main", "--format", "json", "--rules", "db")
	if code != exitBlocking {
		t.Fatalf("exit %d, want %d\n%s", code, exitBlocking, stderr)
	}
	var rep struct {
		Findings []struct {
			Origin struct {
				Line int `json:"line"`
			} `json:"origin"`
			Column int `json:"column"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[[2]int]int{}
	for _, p := range planted {
		want[[2]int{p.Line, p.Col}]++
	}
	got := map[[2]int]int{}
	for _, f := range rep.Findings {
		got[[2]int{f.Origin.Line, f.Column}]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("line %d col %d: reported %d times, planted %d", k[0], k[1], got[k], n)
		}
	}
	if len(rep.Findings) != len(planted) {
		t.Errorf("%d findings, %d planted", len(rep.Findings), len(planted))
	}
}

// A jar added by the change is opened: the password in its deflated
// properties file blocks the merge, named by member, never printed.
func TestCIBlocksAPasswordInAnAddedJar(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITLAB_CI", "")
	pw := leakcheck.Secret(t)
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "BOOT-INF/classes/application.properties", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "spring.datasource.url=jdbc:postgresql://arp-db.prod.internal:5432/arp\nspring.datasource.username=arp_app\nspring.datasource.password=%s\n", pw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r := newCIRepo(t, map[string]string{"README.md": "app\n"})
	r.Write(map[string]string{"lib/app.jar": jar.String()})
	r.Commit("Dev", nil)
	stdout, stderr, code := run(t, "ci", "--repo", r.Dir, "--base", "main")
	if code != exitBlocking {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitBlocking, stdout, stderr)
	}
	if !strings.Contains(stdout, "lib/app.jar!BOOT-INF/classes/application.properties") {
		t.Errorf("the finding does not name the member:\n%s", stdout)
	}
	leakcheck.AssertNone(t, "stdout", []byte(stdout), pw)
	leakcheck.AssertNone(t, "stderr", []byte(stderr), pw)
}
