package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/credscan/credscan/internal/leakcheck"
)

// ciRepo is a repository with a main branch, checked out on a feature
// branch made from it.
type ciRepo struct {
	t    *testing.T
	dir  string
	wt   *gogit.Worktree
	when time.Time
}

func newCIRepo(t *testing.T, base map[string]string) *ciRepo {
	t.Helper()
	dir := t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	r := &ciRepo{t: t, dir: dir, wt: wt, when: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	r.write(base)
	r.commit("base")
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", head.Hash())); err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&gogit.CheckoutOptions{Branch: "refs/heads/feature", Create: true}); err != nil {
		t.Fatal(err)
	}
	return r
}

// write writes (or, for "", deletes) files and stages them.
func (r *ciRepo) write(files map[string]string) {
	r.t.Helper()
	for p, c := range files {
		if c == "" {
			if _, err := r.wt.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		full := filepath.Join(r.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
		if _, err := r.wt.Add(p); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *ciRepo) commit(msg string) {
	r.t.Helper()
	r.when = r.when.Add(time.Minute)
	sig := &object.Signature{Name: "Dev", Email: "dev@example.com", When: r.when}
	if _, err := r.wt.Commit(msg, &gogit.CommitOptions{Author: sig, Committer: sig}); err != nil {
		r.t.Fatal(err)
	}
}

const dbEnvBase = "# database\nDB_HOST=arp-db.prod.internal\n"

func TestCIBlocksAnAddedDSN(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	pw := leakcheck.Secret(t)
	r := newCIRepo(t, map[string]string{"config/db.env": dbEnvBase, "README.md": "app\n"})
	r.write(map[string]string{"config/db.env": dbEnvBase + "DATABASE_URL=postgres://app:" + url.QueryEscape(pw) + "@arp-db.prod.internal:5432/arp\n"})
	r.commit("add the DSN")

	out := t.TempDir()
	summary := filepath.Join(out, "summary.md")
	sarif := filepath.Join(out, "credscan.sarif")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	stdout, stderr, code := run(t, "ci", "--repo", r.dir, "--base", "main", "--sarif-file", sarif)
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
	r.write(map[string]string{"config/db.env": dbEnvBase + "DATABASE_URL=postgres://app:${DB_PASSWORD}@arp-db.prod.internal:5432/arp\n"})
	r.commit("use a reference")
	if stdout, stderr, code := run(t, "ci", "--repo", r.dir, "--base", "main"); code != exitOK {
		t.Errorf("reference: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// deleting a secret the base holds adds nothing
	r = newCIRepo(t, map[string]string{"config/db.env": dbEnvBase + oldDSN})
	r.write(map[string]string{"config/db.env": dbEnvBase})
	r.commit("remove the DSN")
	if stdout, stderr, code := run(t, "ci", "--repo", r.dir, "--base", "main"); code != exitOK {
		t.Errorf("deletion: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// an unrelated edit to a file that still holds an old secret adds nothing
	r = newCIRepo(t, map[string]string{"config/db.env": dbEnvBase + oldDSN})
	r.write(map[string]string{"config/db.env": "# edited\n" + dbEnvBase + oldDSN})
	r.commit("edit around the DSN")
	stdout, stderr, code := run(t, "ci", "--repo", r.dir, "--base", "main", "--format", "json")
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
	r.write(map[string]string{"deploy/run.sh": "#!/bin/sh\nexport PGHOST=arp-db.prod.internal PGUSER=arp_app\nexport PGPASSWORD='" + strings.ReplaceAll(pw, "'", "") + "'\npsql -c 'select 1'\n"})

	t.Setenv("GITLAB_CI", "true")
	gl := filepath.Join(t.TempDir(), "gl-code-quality-report.json")
	stdout, stderr, code := run(t, "ci", "--repo", r.dir, "--staged", "--gitlab-report", gl)
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
	leakcheck.AssertNone(t, "gitlab report", b, strings.ReplaceAll(pw, "'", ""))
	leakcheck.AssertNone(t, "stdout", []byte(stdout+stderr), strings.ReplaceAll(pw, "'", ""))
}
