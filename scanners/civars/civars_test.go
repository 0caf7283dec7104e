package civars

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// plant copies testdata/pipelines/<name> to a temporary directory with
// @SECRET@ (and @SECRET_URL@, its percent-encoded form) replaced by a
// random secret, and returns the directory and the secret.
func plant(t *testing.T, name string) (string, string) {
	t.Helper()
	secret := leakcheck.Secret(t)
	src := filepath.Join("testdata", "pipelines", name)
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "@SECRET_URL@", url.QueryEscape(secret))
		s = strings.ReplaceAll(s, "@SECRET@", secret)
		return os.WriteFile(filepath.Join(dst, rel), []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst, secret
}

// scan runs the scanner through an engine and settles the results as a
// scan command does.
func scan(t *testing.T, sc *Scanner) *engine.Results {
	t.Helper()
	res := engine.NewResults()
	if err := scantest.Engine(t, "").Scan(context.Background(), sc, res); err != nil {
		t.Fatal(err)
	}
	res.Findings = sc.Attribute(res.Findings)
	res.References = sc.AttributeRefs(res.References)
	res.AddCISecrets(sc.Secrets())
	res.Finish()
	return res
}

// where renders a finding's place as "path:line job/step/variable".
func where(o credscan.Origin) string {
	return fmt.Sprintf("%s:%d %s/%s/%s", o.Path, o.Line, o.Job, o.Step, o.Variable)
}

func TestPipelines(t *testing.T) {
	cases := []struct {
		name string
		sys  System
		// findings that hold the planted secret, by place
		found []string
		// secret names referenced, as "name store path:line"
		refs []string
	}{
		{"github", GitHubActions,
			[]string{
				".github/workflows/deploy.yml:4 //DATABASE_URL",
				".github/workflows/deploy.yml:13 migrate/service postgres/POSTGRES_PASSWORD",
				".github/workflows/deploy.yml:23 migrate/Run migrations/",
				".github/workflows/deploy.yml:26 migrate/acme/flyway-action@v1/db-password",
			},
			[]string{
				"API_TOKEN secrets .github/workflows/deploy.yml:5",
				"ARP_DB_PASSWORD secrets .github/workflows/deploy.yml:15",
				"ARP_DB_PASSWORD secrets .github/workflows/deploy.yml:20",
				"ARP_DB_USER vars .github/workflows/deploy.yml:27",
			}},
		{"gitlab", GitLabCI,
			[]string{
				".gitlab-ci.yml:4 //PGPASSWORD",
				".gitlab-ci.yml:13 migrate//DB_PASSWORD",
				".gitlab-ci.yml:16 migrate//",
				"ci/jobs.yml:6 backup//",
			},
			[]string{
				"ARP_BACKUP_PASSWORD variables ci/jobs.yml:4",
				"ARP_DB_PASSWORD variables .gitlab-ci.yml:17",
			}},
		{"jenkins", Jenkins,
			[]string{
				"Jenkinsfile:4 //DB_PASSWORD",
				"Jenkinsfile:10 Migrate//PGPASSWORD",
				"Jenkinsfile:17 Migrate//",
			},
			[]string{
				"arp-db credentials Jenkinsfile:5",
				"arp-db-admin credentials Jenkinsfile:13",
			}},
		{"circleci", CircleCI,
			[]string{
				".circleci/config.yml:10 test//POSTGRES_PASSWORD",
				".circleci/config.yml:15 test/Migrate/",
			},
			[]string{
				"ARP_DATABASE_URL variables .circleci/config.yml:7",
				"arp-db-secrets context .circleci/config.yml:20",
			}},
		{"azure", AzurePipelines,
			[]string{
				"azure-pipelines.yml:5 //dbPassword",
				"azure-pipelines.yml:16 deploy/migrate/Smoke test/",
			},
			[]string{
				"arp-db-secrets variable group azure-pipelines.yml:3",
				"arpDbPassword variables azure-pipelines.yml:14",
			}},
		{"bitbucket", Bitbucket,
			[]string{
				"bitbucket-pipelines.yml:7 service postgres//POSTGRES_PASSWORD",
				"bitbucket-pipelines.yml:15 default/Migrate//",
				"bitbucket-pipelines.yml:18 default/Migrate//DB_PASSWORD",
			},
			[]string{
				"ARP_DB_PASSWORD variables bitbucket-pipelines.yml:14",
			}},
		{"travis", Travis,
			[]string{
				".travis.yml:5 //PGPASSWORD",
			},
			[]string{
				"(encrypted value) encrypted .travis.yml:6",
				"ARP_DATABASE_URL variables .travis.yml:9",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, secret := plant(t, c.name)
			sc, err := New([]string{dir}, Options{App: "billing-api", Label: c.name})
			if err != nil {
				t.Fatal(err)
			}
			res := scan(t, sc)
			for _, e := range res.Errors {
				t.Errorf("error: %v", e)
			}
			var got []string
			credscan.SortFindings(res.Findings)
			for _, f := range res.Findings {
				if f.Secret.Reveal() != secret {
					continue
				}
				if f.Origin.CI != string(c.sys) || f.Origin.Kind != credscan.KindCIVars || f.Origin.App != "billing-api" {
					t.Errorf("%s: origin %+v: want CI %s, app billing-api", where(f.Origin), f.Origin, c.sys)
				}
				got = append(got, where(f.Origin))
			}
			sameLines(t, "findings", got, c.found)
			var refs []string
			for _, s := range res.CISecrets {
				refs = append(refs, fmt.Sprintf("%s %s %s:%d", s.Name, s.Store, s.Origin.Path, s.Origin.Line))
			}
			sort.Strings(refs)
			sameLines(t, "referenced secrets", refs, c.refs)
			if res.Stats.Referenced["billing-api"] < len(c.refs) {
				t.Errorf("referenced count %d, want at least %d", res.Stats.Referenced["billing-api"], len(c.refs))
			}
			for _, f := range res.Findings {
				leakcheck.AssertNone(t, "redacted line "+where(f.Origin), []byte(f.Redacted), secret)
			}
		})
	}
}

func TestDetectSystem(t *testing.T) {
	for p, want := range map[string]System{
		".github/workflows/ci.yml":          GitHubActions,
		"svc/.github/workflows/deploy.yaml": GitHubActions,
		".gitlab-ci.yml":                    GitLabCI,
		"Jenkinsfile":                       Jenkins,
		"jenkins/release.Jenkinsfile":       Jenkins,
		".circleci/config.yml":              CircleCI,
		"azure-pipelines.yml":               AzurePipelines,
		".azure-pipelines/release.yml":      AzurePipelines,
		"bitbucket-pipelines.yml":           Bitbucket,
		".travis.yml":                       Travis,
		"config.yml":                        "",
		".github/dependabot.yml":            "",
		"docs/Jenkinsfile.md":               "",
	} {
		if got := DetectSystem(p); got != want {
			t.Errorf("DetectSystem(%q) = %q, want %q", p, got, want)
		}
	}
}

// A malformed pipeline is named in the errors; its text is still scanned
// line by line, and the other files are scanned whole.
func TestMalformedPipeline(t *testing.T) {
	dir := t.TempDir()
	secret := leakcheck.Secret(t)
	bad := "variables:\n  PGPASSWORD: '" + secret + "'\n  broken: [unclosed\njob:\n  script: x\n"
	if err := os.WriteFile(filepath.Join(dir, ".gitlab-ci.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := "jobs:\n  a:\n    env:\n      DB_PASSWORD: '" + secret + "'\n"
	if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", "a.yml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := New([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := scan(t, sc)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), ".gitlab-ci.yml: malformed pipeline YAML: yaml: line") {
		t.Fatalf("errors: %v", res.Errors)
	}
	leakcheck.AssertNone(t, "error", []byte(res.Errors[0].Error()), secret)
	paths := map[string]bool{}
	for _, f := range res.Findings {
		paths[where(f.Origin)] = true
	}
	for _, p := range []string{".gitlab-ci.yml:2 //", ".github/workflows/a.yml:4 a//DB_PASSWORD"} {
		if !paths[p] {
			t.Errorf("missing %s; have %v", p, paths)
		}
	}
}

// A pipeline nested deeper than the walk goes is an error naming the
// limit, in memory linear in its size (each level copied its path: 9,000
// levels took gigabytes), and the rest is scanned.
func TestDeepPipelineBounded(t *testing.T) {
	doc := "variables:\n  PGHOST: arp-db.prod.internal\nx: " + strings.Repeat("{a: ", 9000) + "1" + strings.Repeat("}", 9000) + "\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(GitLabCI, []byte(doc))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "nesting deeper than") {
		t.Errorf("error %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("%d KB pipeline: %d MB allocated", len(doc)>>10, alloc>>20)
	}
}
