package civars

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/scanners/engine"
)

// route is one documented API answer: a status, headers and a fixture
// body from testdata/api. times > 0 serves it that many times, then falls
// through to the next route for the same request.
type route struct {
	status  int
	headers map[string]string
	file    string
	times   int
}

// apiServer serves routes keyed by "METHOD escaped-path?query", checks the
// token header, and plants the secret in the bodies.
type apiServer struct {
	t       *testing.T
	secret  string
	header  string // the header that carries the token
	token   string
	mu      sync.Mutex
	routes  map[string][]*route
	missing []string
	served  map[string]int
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.EscapedPath()
	if q := r.URL.Query().Get("page"); q != "" && q != "1" {
		key += "?page=" + q
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.served[key]++
	if got := r.Header.Get(a.header); !strings.Contains(got, a.token) {
		a.write(w, &route{status: 401})
		return
	}
	rs := a.routes[key]
	for _, rt := range rs {
		if rt.times >= 0 {
			if rt.times > 0 {
				rt.times--
				if rt.times == 0 {
					rt.times = -1
				}
			}
			a.write(w, rt)
			return
		}
	}
	a.missing = append(a.missing, key)
	w.WriteHeader(http.StatusNotFound)
}

func (a *apiServer) write(w http.ResponseWriter, rt *route) {
	if rt.status == 401 { // the fixture of each service's 401
		if a.header == "Private-Token" {
			rt = &route{status: 401, file: "gitlab/error_401.json"}
		} else {
			rt = &route{status: 401, file: "github/error_401.json"}
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "api", rt.file))
	if err != nil {
		a.t.Errorf("fixture: %v", err)
	}
	s := strings.ReplaceAll(string(b), "@SECRET_URL@", url.QueryEscape(a.secret))
	s = strings.ReplaceAll(s, "@SECRET@", a.secret)
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rt.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rt.status)
	_, _ = w.Write([]byte(s))
}

func newAPI(t *testing.T, header, token string, routes map[string][]*route) (*apiServer, *httptest.Server, string) {
	secret := leakcheck.Secret(t)
	a := &apiServer{t: t, secret: secret, header: header, token: token, routes: routes, served: map[string]int{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if len(a.missing) > 0 {
			t.Errorf("requests with no fixture: %v", a.missing)
		}
	})
	return a, srv, secret
}

func ok(file string) []*route { return []*route{{status: 200, file: file}} }

// gitlabPage is the documented pagination header set.
func gitlabPage(page, next, total int) map[string]string {
	h := map[string]string{"X-Page": fmt.Sprint(page), "X-Per-Page": "100", "X-Total": fmt.Sprint(total), "X-Total-Pages": "2"}
	if next > 0 {
		h["X-Next-Page"] = fmt.Sprint(next)
	} else {
		h["X-Next-Page"] = ""
	}
	return h
}

// storeRun scans the stores of o and returns the results, the log and
// the errors.
func storeRun(t *testing.T, o Options) (*engine.Results, string, []string) {
	t.Helper()
	var logBuf bytes.Buffer
	var mu sync.Mutex
	o.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.App = "billing-api"
	sc, err := New(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	res := scan(t, sc)
	var errs []string
	for _, e := range res.Errors {
		errs = append(errs, e.Error())
	}
	sort.Strings(errs)
	return res, logBuf.String(), errs
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestGitLabStores(t *testing.T) {
	const token = "glpat-Tk4f9c2e7a1b3d5f6a8c0e"
	proj := "GET /api/v4/projects/acme%2Fbilling-api/variables"
	routes := map[string][]*route{
		proj:             {{status: 200, file: "gitlab/project_variables_page1.json", headers: gitlabPage(1, 2, 6)}},
		proj + "?page=2": {{status: 200, file: "gitlab/project_variables_page2.json", headers: gitlabPage(2, 0, 6)}},
		"GET /api/v4/projects/acme%2Fforbidden/variables": {{status: 403, file: "gitlab/error_403.json"}},
		"GET /api/v4/projects/acme%2Fmissing/variables":   {{status: 404, file: "gitlab/error_404.json"}},
		"GET /api/v4/groups/acme/variables": {
			{status: 429, file: "gitlab/error_429.json", times: 1, headers: map[string]string{"Retry-After": "1", "RateLimit-Limit": "600", "RateLimit-Remaining": "0"}},
			{status: 200, file: "gitlab/group_variables.json"},
		},
	}
	_, srv, secret := newAPI(t, "Private-Token", token, routes)
	res, logs, errs := storeRun(t, Options{GitLab: &GitLabOptions{BaseURL: srv.URL + "/api/v4", Token: token,
		Projects: []string{"acme/billing-api", "acme/forbidden", "acme/missing"}, Groups: []string{"acme"}}})
	wantErrs := []string{
		"gitlab:project:acme/forbidden:variables: GitLab refused (403) the CI/CD variables of project acme/forbidden: the token needs the read_api scope and the Maintainer role (Owner for a group)",
		"gitlab:project:acme/missing:variables: GitLab project acme/missing not found (404), or not visible to this token",
	}
	sameLines(t, "errors", errs, wantErrs)
	if !strings.Contains(logs, "GitLab rate limit (429): backing off") {
		t.Errorf("the 429 back-off was not said in the log")
	}
	got := storeFindings(res, secret)
	want := []string{
		"gitlab gitlab:group:acme variables/ARP_DB_PASSWORD/all environments ",
		"gitlab gitlab:project:acme/billing-api variables/DB_ENV_FILE/ arp_app@arp-db.prod.internal:5432/arp",
		"gitlab gitlab:project:acme/billing-api variables/PGPASSWORD/environment production arp_app@arp-db.prod.internal",
	}
	sameLines(t, "findings", got, want)
	var stored []string
	for _, s := range res.CISecrets {
		stored = append(stored, fmt.Sprintf("%s %s %s %v", s.Origin.Target, s.Name, s.Scope, s.Flags))
	}
	wantStored := []string{
		"gitlab:group:acme ARP_DB_PASSWORD * [protected masked]",
		"gitlab:project:acme/billing-api ARP_VAULT_TOKEN * [protected masked hidden]",
		"gitlab:project:acme/billing-api DB_ENV_FILE production [protected raw file]",
		"gitlab:project:acme/billing-api DB_PASSWORD staging []",
		"gitlab:project:acme/billing-api PGHOST * []",
		"gitlab:project:acme/billing-api PGPASSWORD production [protected masked raw]",
		"gitlab:project:acme/billing-api PGUSER * []",
	}
	sameLines(t, "inventory", stored, wantStored)
	if res.Stats.Referenced["billing-api"] < 1 {
		t.Errorf("DB_PASSWORD=$ARP_DB_PASSWORD is not counted as referenced")
	}
	everything := allOutput(res, logs, errs)
	leakcheck.AssertNone(t, "GitLab store output", []byte(everything), secret, token)
}

func TestGitHubStores(t *testing.T) {
	const token = "ghp_Tk4f9c2e7a1b3d5f6a8c0e1f2a3b4c5d6e7f"
	a, srv, secret := newAPI(t, "Authorization", token, nil)
	base := "/api/v3"
	repo := base + "/repos/acme/billing-api"
	next := fmt.Sprintf(`<%s%s/actions/variables?page=2&per_page=30>; rel="next", <%s%s/actions/variables?page=2&per_page=30>; rel="last"`, srv.URL, repo, srv.URL, repo)
	a.routes = map[string][]*route{
		"GET " + repo + "/actions/variables":                                    {{status: 200, file: "github/repo_variables_page1.json", headers: map[string]string{"Link": next}}},
		"GET " + repo + "/actions/variables?page=2":                             ok("github/repo_variables_page2.json"),
		"GET " + repo + "/actions/secrets":                                      ok("github/repo_secrets.json"),
		"GET " + repo + "/environments":                                         ok("github/environments.json"),
		"GET " + repo:                                                           ok("github/repo.json"),
		"GET " + repo + "/environments/production/variables":                    ok("github/env_variables.json"),
		"GET " + base + "/repositories/1296269/environments/production/secrets": ok("github/env_secrets.json"),
		"GET " + base + "/repos/acme/private/actions/variables":                 {{status: 404, file: "github/error_404.json"}},
		"GET " + base + "/repos/acme/limited/actions/variables":                 {{status: 403, file: "github/error_403.json"}},
		"GET " + base + "/orgs/acme/actions/variables": {
			{status: 403, file: "github/error_secondary_rate_limit.json", times: 1, headers: map[string]string{"Retry-After": "1"}},
			{status: 200, file: "github/org_variables.json"},
		},
		"GET " + base + "/orgs/acme/actions/secrets": {
			{status: 403, file: "github/error_primary_rate_limit.json", times: 1, headers: map[string]string{
				"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
				"X-RateLimit-Reset": fmt.Sprint(time.Now().Add(time.Second).Unix()), "X-RateLimit-Resource": "core"}},
			{status: 200, file: "github/org_secrets.json"},
		},
	}
	res, logs, errs := storeRun(t, Options{GitHub: &GitHubOptions{BaseURL: srv.URL + base + "/", Token: token,
		Repos: []string{"acme/billing-api", "acme/private", "acme/limited"}, Orgs: []string{"acme"}}})
	wantErrs := []string{
		`github:repo:acme/limited:variables: GitHub refused (403) the repo variables of repository acme/limited: the token needs the "Variables" repository permission (read), or the repo scope for a classic token`,
		`github:repo:acme/private:variables: GitHub found no repo variables for repository acme/private (404): it does not exist, or the token cannot see it (the token needs the "Variables" repository permission (read), or the repo scope for a classic token)`,
	}
	sameLines(t, "errors", errs, wantErrs)
	if !strings.Contains(logs, "GitHub secondary rate limit: backing off") {
		t.Errorf("the secondary rate limit back-off was not said in the log")
	}
	if !strings.Contains(logs, "GitHub rate limit reached: waiting for the reset") {
		t.Errorf("the primary rate limit wait was not said in the log")
	}
	got := storeFindings(res, secret)
	want := []string{
		"github github:org:acme variables/ARP_REPORTING_DSN/all environments arp_report@arp-db.prod.internal:5432/arp",
		"github github:repo:acme/billing-api variables/ARP_DB_PASSWORD/all environments arp_app@arp-db.prod.internal",
		"github github:repo:acme/billing-api variables/DATABASE_URL/environment production arp_app@arp-db.prod.internal:5432/arp",
	}
	sameLines(t, "findings", got, want)
	var stored []string
	for _, s := range res.CISecrets {
		if s.Store == "secrets" {
			stored = append(stored, fmt.Sprintf("%s %s %s %s %v", s.Origin.Target, s.Name, s.Scope, s.Updated, s.Flags))
		}
	}
	wantStored := []string{
		"github:org:acme ARP_ADMIN_PASSWORD organization 2020-01-10T14:59:22Z [visibility:private]",
		"github:repo:acme/billing-api ARP_DB_PASSWORD environment:production 2025-01-10T12:59:22Z []",
		"github:repo:acme/billing-api ARP_DB_PASSWORD repository 2025-02-14T16:30:00Z []",
		"github:repo:acme/billing-api NPM_TOKEN repository 2024-11-03T10:01:02Z []",
	}
	sameLines(t, "secrets inventory", stored, wantStored)
	everything := allOutput(res, logs, errs)
	leakcheck.AssertNone(t, "GitHub store output", []byte(everything), secret, token)
}

// A bad token gets each service's 401 message, names the store, never
// holds the token, and the other stores are still read.
func TestStoresBadToken(t *testing.T) {
	const good, bad = "glpat-Good0123456789abcdef", "glpat-Bad9876543210fedcba"
	_, gl, _ := newAPI(t, "Private-Token", good, map[string][]*route{})
	_, gh, _ := newAPI(t, "Authorization", good, map[string][]*route{})
	_, logs, errs := storeRun(t, Options{
		GitLab: &GitLabOptions{BaseURL: gl.URL + "/api/v4", Token: bad, Projects: []string{"acme/a", "acme/b"}},
		GitHub: &GitHubOptions{BaseURL: gh.URL + "/api/v3/", Token: bad, Repos: []string{"acme/a"}},
	})
	want := []string{
		"github:repo:acme/a:variables: GitHub rejected the token (401) reading the repo variables of repository acme/a: check GITHUB_TOKEN (expired or revoked?)",
		"gitlab:project:acme/a:variables: GitLab rejected the token (401) reading project acme/a's CI/CD variables: check GITLAB_TOKEN (expired or revoked?)",
		"gitlab:project:acme/b:variables: GitLab rejected the token (401) reading project acme/b's CI/CD variables: check GITLAB_TOKEN (expired or revoked?)",
	}
	sameLines(t, "errors", errs, want)
	leakcheck.AssertNone(t, "errors and log", []byte(logs+strings.Join(errs, "\n")), bad, good)
}

// sameLines fails t when got and want differ, showing both (they hold no
// secret: places and names only).
func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// storeFindings renders the findings of secret as "ci target path/job identity".
func storeFindings(res *engine.Results, secret string) []string {
	var got []string
	credscan.SortFindings(res.Findings)
	for _, f := range res.Findings {
		if f.Secret.Reveal() == secret {
			got = append(got, fmt.Sprintf("%s %s %s/%s %s", f.Origin.CI, f.Origin.Target, f.Origin.Path, f.Origin.Job, f.DB.String()))
		}
	}
	return got
}

// allOutput is everything a store scan printed or reported.
func allOutput(res *engine.Results, logs string, errs []string) string {
	everything := logs + strings.Join(errs, "\n") + fmt.Sprint(res.CISecrets)
	for _, f := range res.Findings {
		everything += f.Redacted + f.Origin.String()
	}
	return everything
}

// A pipeline's $ARP_DB_PASSWORD is linked to the store variable of the
// same app that holds it, with its flags; a name no scanned store holds
// is said so.
func TestLinkReferencesToStores(t *testing.T) {
	o := func(target string) credscan.Origin {
		return credscan.Origin{Kind: credscan.KindCIVars, App: "billing-api", Target: target}
	}
	in := []credscan.CISecret{
		{Origin: o("."), Name: "ARP_DB_PASSWORD", Use: "referenced"},
		{Origin: o("."), Name: "OTHER_TOKEN", Use: "referenced"},
		{Origin: o("gitlab:project:acme/billing-api"), Name: "ARP_DB_PASSWORD", Use: "stored", Flags: []string{"protected", "masked"}},
	}
	out := Link(in)
	sameLines(t, "flags", []string{fmt.Sprint(out[0].Flags), fmt.Sprint(out[1].Flags), fmt.Sprint(out[2].Flags)}, []string{
		"[in-store:gitlab:project:acme/billing-api protected masked]", "[not-in-scanned-stores]", "[protected masked]"})
}
