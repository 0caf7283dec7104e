package civars

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/credscan/credscan"
)

// GitLabOptions say which GitLab CI/CD variable stores to read.
type GitLabOptions struct {
	BaseURL  string   // API base URL of a self-managed GitLab (default https://gitlab.com)
	Token    string   // a token with read_api and the Maintainer role (never printed)
	Projects []string // IDs or full paths (group/billing-api)
	Groups   []string // IDs or full paths
	// HTTPClient replaces the default transport (tests, proxies).
	HTTPClient *http.Client
	// RetryMax bounds retries of 429 and 5xx answers (default 5).
	RetryMax int
}

// storeVar is one variable of a store, whatever the store.
type storeVar struct {
	Key, Value, Scope string
	File              bool
	Flags             []string
	Updated           string
	Hidden            bool // the store holds a value it does not return
}

func (s *Scanner) gitlabClient(ctx context.Context) (*gitlab.Client, error) {
	o := s.o.GitLab
	if o.BaseURL != "" {
		if _, err := url.Parse(o.BaseURL); err != nil {
			// (the parse error would repeat the URL, user information included)
			return nil, credscan.UsageError("GitLab base URL %q is not a valid URL", credscan.RedactURL(o.BaseURL))
		}
	}
	retryMax := o.RetryMax
	if retryMax == 0 {
		retryMax = 5
	}
	opts := []gitlab.ClientOptionFunc{
		gitlab.WithCustomRetryMax(retryMax),
		gitlab.WithCustomBackoff(func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
			d := retryablehttp.DefaultBackoff(min, max, attempt, resp)
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				s.o.Logger.Warn("GitLab rate limit (429): backing off", "wait", d.Round(time.Millisecond).String(), "attempt", attempt+1)
			} else if resp != nil {
				s.o.Logger.Warn("GitLab answered with an error: retrying", "status", resp.StatusCode, "wait", d.Round(time.Millisecond).String())
			}
			return d
		}),
		gitlab.WithRequestOptions(gitlab.WithContext(ctx)),
		// its URL warnings quote the URL whole, user information included
		gitlab.WithURLWarningLogger(slog.New(slog.DiscardHandler)),
	}
	if o.BaseURL != "" {
		opts = append(opts, gitlab.WithBaseURL(o.BaseURL))
	}
	if o.HTTPClient != nil {
		opts = append(opts, gitlab.WithHTTPClient(o.HTTPClient))
	}
	c, err := gitlab.NewClient(o.Token, opts...)
	if err != nil {
		return nil, credscan.UsageError("GitLab client: %s", redactToken(err.Error(), o.Token))
	}
	return c, nil
}

// gitlab reads the project and group variables and yields them.
func (s *Scanner) gitlab(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	o := s.o.GitLab
	if o.Token == "" {
		return credscan.UsageError("GitLab variable stores need a token: set GITLAB_TOKEN (read_api scope, Maintainer role)")
	}
	c, err := s.gitlabClient(ctx)
	if err != nil {
		return err
	}
	host := "gitlab"
	type source struct {
		kind, id string
		list     func(page int64) ([]storeVar, *gitlab.Response, error)
	}
	var srcs []source
	for _, p := range o.Projects {
		srcs = append(srcs, source{"project", p, func(page int64) ([]storeVar, *gitlab.Response, error) {
			vs, resp, err := c.ProjectVariables.ListVariables(p, &gitlab.ListProjectVariablesOptions{ListOptions: gitlab.ListOptions{Page: page, PerPage: 100}}, gitlab.WithContext(ctx))
			return storeVars(vs), resp, err
		}})
	}
	for _, g := range o.Groups {
		srcs = append(srcs, source{"group", g, func(page int64) ([]storeVar, *gitlab.Response, error) {
			vs, resp, err := c.GroupVariables.ListVariables(g, &gitlab.ListGroupVariablesOptions{ListOptions: gitlab.ListOptions{Page: page, PerPage: 100}}, gitlab.WithContext(ctx))
			pvs := make([]*gitlab.ProjectVariable, len(vs))
			for i, v := range vs {
				pv := gitlab.ProjectVariable(*v) // the same fields
				pvs[i] = &pv
			}
			return storeVars(pvs), resp, err
		}})
	}
	for _, src := range srcs {
		target := host + ":" + src.kind + ":" + src.id
		origin := credscan.Origin{Kind: credscan.KindCIVars, App: s.o.App, Target: target, Path: "variables", CI: string(GitLabStore)}
		var all []storeVar
		var page int64 = 1
		var failed error
		for page > 0 {
			vs, resp, err := src.list(page)
			if err != nil {
				failed = gitlabError(err, src.kind, src.id, o.Token)
				break
			}
			all = append(all, vs...)
			page = 0
			if resp != nil {
				page = resp.NextPage
			}
		}
		if failed != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: origin, Err: failed}); err != nil {
				return err
			}
			continue
		}
		s.o.Logger.Info("GitLab variables read", "store", target, "variables", len(all))
		if err := s.yieldStore(origin, all, yield); err != nil {
			return err
		}
	}
	return nil
}

// storeVars converts GitLab variables (a group's have the same fields).
func storeVars(vs []*gitlab.ProjectVariable) []storeVar {
	out := make([]storeVar, 0, len(vs))
	for _, v := range vs {
		sv := storeVar{Key: v.Key, Value: v.Value, Scope: v.EnvironmentScope, File: v.VariableType == gitlab.FileVariableType, Hidden: v.Hidden}
		for _, f := range []struct {
			on   bool
			name string
		}{{v.Protected, "protected"}, {v.Masked, "masked"}, {v.Hidden, "hidden"}, {v.Raw, "raw"}, {sv.File, "file"}} {
			if f.on {
				sv.Flags = append(sv.Flags, f.name)
			}
		}
		if sv.Scope == "" {
			sv.Scope = "*"
		}
		out = append(out, sv)
	}
	return out
}

// gitlabError turns an API error into a message naming the store and the
// permission needed; it never holds the token or a response body.
func gitlabError(err error, kind, id, token string) error {
	if errors.Is(err, gitlab.ErrNotFound) {
		return fmt.Errorf("GitLab %s %s not found (404), or not visible to this token", kind, id)
	}
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("GitLab rejected the token (401) reading %s %s's CI/CD variables: check GITLAB_TOKEN (expired or revoked?)", kind, id)
		case http.StatusForbidden:
			return fmt.Errorf("GitLab refused (403) the CI/CD variables of %s %s: the token needs the read_api scope and the Maintainer role (Owner for a group)", kind, id)
		case http.StatusNotFound:
			return fmt.Errorf("GitLab %s %s not found (404), or not visible to this token", kind, id)
		case http.StatusTooManyRequests:
			return fmt.Errorf("GitLab rate limit (429) reading %s %s: still limited after retries; run again later", kind, id)
		}
		return fmt.Errorf("GitLab answered %d reading %s %s's CI/CD variables", er.Response.StatusCode, kind, id)
	}
	return fmt.Errorf("reading %s %s's CI/CD variables from GitLab: %s", kind, id, redactToken(err.Error(), token))
}

func redactToken(msg, token string) string {
	if len(token) >= 4 {
		msg = strings.ReplaceAll(msg, token, "****")
	}
	return msg
}

// yieldStore yields a store's variables: per scope, the env-type ones as
// one derived shell chunk (so PGHOST, PGUSER and PGPASSWORD of a scope
// assemble), each file-type one as a file of its own; every variable is
// listed in the inventory of CI secrets by name.
func (s *Scanner) yieldStore(origin credscan.Origin, vars []storeVar, yield func(credscan.Chunk, error) error) error {
	byScope := map[string][]Item{}
	var scopes []string
	for _, v := range vars {
		so := origin
		so.Path = "variables/" + v.Key
		so.Job = scopeName(v.Scope)
		so.Variable = v.Key
		s.mu.Lock()
		s.secrets = append(s.secrets, credscan.CISecret{Origin: so, Name: v.Key, Store: "variables", Use: "stored", Scope: v.Scope, Updated: v.Updated, Flags: v.Flags})
		s.mu.Unlock()
		if v.Hidden && v.Value == "" {
			continue // the store does not return the value
		}
		if v.File {
			fo := so
			fo.Job = ""
			if err := yield(credscan.Chunk{Origin: fo, Data: []byte(v.Value), StartLine: 1, Whole: true}, nil); err != nil {
				return err
			}
			continue
		}
		if _, ok := byScope[v.Scope]; !ok {
			scopes = append(scopes, v.Scope)
		}
		l := Loc{Job: scopeName(v.Scope), Variable: v.Key}
		lines := strings.Split(v.Value, "\n")
		for i, line := range lines {
			text := line
			if i == 0 {
				text = shellName(v.Key) + "=" + shellQuote(line)
			}
			byScope[v.Scope] = append(byScope[v.Scope], Item{Loc: l, Text: text})
		}
	}
	sort.Strings(scopes)
	groups := make([][]Item, 0, len(scopes))
	for _, sc := range scopes {
		g := byScope[sc]
		if sc != "*" {
			g = append(append([]Item(nil), byScope["*"]...), g...) // a scope also sees the variables of all scopes
		}
		groups = append(groups, g)
	}
	return s.yieldGroups(origin, groups, yield)
}

func scopeName(scope string) string {
	if scope == "" || scope == "*" {
		return "all environments"
	}
	return "environment " + scope
}
