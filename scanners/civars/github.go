package civars

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v75/github"

	"github.com/credscan/credscan"
)

// GitHubOptions say which GitHub Actions variable stores to read.
type GitHubOptions struct {
	BaseURL string   // API base URL of GitHub Enterprise Server (https://ghe.example.com/api/v3/); default api.github.com
	Token   string   // never printed
	Repos   []string // OWNER/NAME: repository and environment variables and secrets
	Orgs    []string // organization variables and secrets
	// HTTPClient replaces the default transport (tests, proxies).
	HTTPClient *http.Client
	// MaxWait is the longest credscan waits for a rate limit to reset
	// (default 15 minutes); a longer wait fails that store.
	MaxWait time.Duration
	// Retries bounds retries of one request after rate limits (default 5).
	Retries int
}

func (s *Scanner) githubClient() (*github.Client, error) {
	o := s.o.GitHub
	c := github.NewClient(o.HTTPClient).WithAuthToken(o.Token)
	if o.BaseURL != "" {
		var err error
		c, err = c.WithEnterpriseURLs(o.BaseURL, o.BaseURL)
		if err != nil {
			// (the parse error would repeat the URL, user information included)
			return nil, credscan.UsageError("GitHub base URL %q is not a valid URL", credscan.RedactURL(o.BaseURL))
		}
	}
	return c, nil
}

// github reads the Actions variables (values) and secrets (names only) of
// the repositories, their environments and the organizations.
func (s *Scanner) github(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	o := s.o.GitHub
	if o.Token == "" {
		return credscan.UsageError("GitHub variable stores need a token: set GITHUB_TOKEN (see the README for the permissions)")
	}
	c, err := s.githubClient()
	if err != nil {
		return err
	}
	fail := func(origin credscan.Origin, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return yield(credscan.Chunk{}, &credscan.ItemError{Origin: origin, Err: err})
	}
	for _, full := range o.Repos {
		owner, repo, ok := strings.Cut(full, "/")
		if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
			return credscan.UsageError("--github-repo %q: want OWNER/NAME", full)
		}
		origin := credscan.Origin{Kind: credscan.KindCIVars, App: s.o.App, Target: "github:repo:" + full, Path: "variables", CI: string(GitHubStore)}
		// repository variables (values readable)
		vars, err := ghVariables(ctx, s, "repository "+full, "repo variables", func(opt *github.ListOptions) (*github.ActionsVariables, *github.Response, error) {
			return c.Actions.ListRepoVariables(ctx, owner, repo, opt)
		})
		if err != nil {
			if err := fail(origin, err); err != nil {
				return err
			}
			continue // nothing else of a repository we cannot see
		}
		secrets, err := ghSecrets(ctx, s, "repository "+full, "repo secrets", func(opt *github.ListOptions) (*github.Secrets, *github.Response, error) {
			return c.Actions.ListRepoSecrets(ctx, owner, repo, opt)
		})
		if err != nil {
			if err := fail(origin, err); err != nil {
				return err
			}
		}
		s.inventory(origin, "repository", secrets)
		// environments: their variables and secrets
		var envs []*github.Environment
		err = s.ghRetry(ctx, "environments of "+full, func() (*github.Response, error) {
			envs = envs[:0]
			opt := &github.EnvironmentListOptions{ListOptions: github.ListOptions{PerPage: 100}}
			for {
				er, resp, err := c.Repositories.ListEnvironments(ctx, owner, repo, opt)
				if err != nil {
					return resp, err
				}
				envs = append(envs, er.Environments...)
				if resp.NextPage == 0 {
					return resp, nil
				}
				opt.Page = resp.NextPage
			}
		})
		if err != nil {
			if err := fail(origin, ghError(err, "repository "+full, "environments", o.Token)); err != nil {
				return err
			}
		}
		var repoID int64
		if len(envs) > 0 {
			err = s.ghRetry(ctx, "repository "+full, func() (*github.Response, error) {
				r, resp, err := c.Repositories.Get(ctx, owner, repo)
				if err == nil {
					repoID = r.GetID()
				}
				return resp, err
			})
			if err != nil {
				if err := fail(origin, ghError(err, "repository "+full, "metadata", o.Token)); err != nil {
					return err
				}
			}
		}
		for _, env := range envs {
			name := env.GetName()
			ev, err := ghVariables(ctx, s, "environment "+name+" of "+full, "environment variables", func(opt *github.ListOptions) (*github.ActionsVariables, *github.Response, error) {
				return c.Actions.ListEnvVariables(ctx, owner, repo, name, opt)
			})
			if err != nil {
				if err := fail(origin, err); err != nil {
					return err
				}
			}
			for i := range ev {
				ev[i].Scope = name
			}
			vars = append(vars, ev...)
			if repoID == 0 {
				continue
			}
			es, err := ghSecrets(ctx, s, "environment "+name+" of "+full, "environment secrets", func(opt *github.ListOptions) (*github.Secrets, *github.Response, error) {
				return c.Actions.ListEnvSecrets(ctx, int(repoID), name, opt)
			})
			if err != nil {
				if err := fail(origin, err); err != nil {
					return err
				}
			}
			s.inventory(origin, "environment:"+name, es)
		}
		s.o.Logger.Info("GitHub variables read", "store", origin.Target, "variables", len(vars), "environments", len(envs))
		if err := s.yieldStore(origin, vars, yield); err != nil {
			return err
		}
	}
	for _, org := range o.Orgs {
		origin := credscan.Origin{Kind: credscan.KindCIVars, App: s.o.App, Target: "github:org:" + org, Path: "variables", CI: string(GitHubStore)}
		vars, err := ghVariables(ctx, s, "organization "+org, "org variables", func(opt *github.ListOptions) (*github.ActionsVariables, *github.Response, error) {
			return c.Actions.ListOrgVariables(ctx, org, opt)
		})
		if err != nil {
			if err := fail(origin, err); err != nil {
				return err
			}
			continue
		}
		secrets, err := ghSecrets(ctx, s, "organization "+org, "org secrets", func(opt *github.ListOptions) (*github.Secrets, *github.Response, error) {
			return c.Actions.ListOrgSecrets(ctx, org, opt)
		})
		if err != nil {
			if err := fail(origin, err); err != nil {
				return err
			}
		}
		s.inventory(origin, "organization", secrets)
		if err := s.yieldStore(origin, vars, yield); err != nil {
			return err
		}
	}
	return nil
}

// ghPages lists every page of an endpoint, retrying after rate limits.
func ghPages[T any](ctx context.Context, s *Scanner, what, perm string, list func(*github.ListOptions) ([]T, *github.Response, error)) ([]T, error) {
	var out []T
	err := s.ghRetry(ctx, what, func() (*github.Response, error) {
		out = out[:0]
		opt := &github.ListOptions{PerPage: 30}
		for {
			page, resp, err := list(opt)
			if err != nil {
				return resp, err
			}
			out = append(out, page...)
			if resp.NextPage == 0 {
				return resp, nil
			}
			opt.Page = resp.NextPage
		}
	})
	if err != nil {
		return nil, ghError(err, what, perm, s.o.GitHub.Token)
	}
	return out, nil
}

// ghVariables lists every page of a variables endpoint.
func ghVariables(ctx context.Context, s *Scanner, what, perm string, list func(*github.ListOptions) (*github.ActionsVariables, *github.Response, error)) ([]storeVar, error) {
	return ghPages(ctx, s, what, perm, func(opt *github.ListOptions) ([]storeVar, *github.Response, error) {
		vs, resp, err := list(opt)
		if err != nil {
			return nil, resp, err
		}
		out := make([]storeVar, 0, len(vs.Variables))
		for _, v := range vs.Variables {
			sv := storeVar{Key: v.Name, Value: v.Value, Scope: "*"}
			if v.UpdatedAt != nil {
				sv.Updated = v.UpdatedAt.UTC().Format(time.RFC3339)
			}
			if v.Visibility != nil {
				sv.Flags = append(sv.Flags, "visibility:"+*v.Visibility)
			}
			out = append(out, sv)
		}
		return out, resp, nil
	})
}

// ghSecrets lists every page of a secrets endpoint: names and dates only,
// GitHub never returns a secret's value.
func ghSecrets(ctx context.Context, s *Scanner, what, perm string, list func(*github.ListOptions) (*github.Secrets, *github.Response, error)) ([]*github.Secret, error) {
	return ghPages(ctx, s, what, perm, func(opt *github.ListOptions) ([]*github.Secret, *github.Response, error) {
		ss, resp, err := list(opt)
		if err != nil {
			return nil, resp, err
		}
		return ss.Secrets, resp, nil
	})
}

// inventory lists write-only secrets by name, scope and last update.
func (s *Scanner) inventory(origin credscan.Origin, scope string, secrets []*github.Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range secrets {
		o := origin
		o.Path = "secrets/" + sec.Name
		o.Variable = sec.Name
		cs := credscan.CISecret{Origin: o, Name: sec.Name, Store: "secrets", Use: "stored", Scope: scope, Updated: sec.UpdatedAt.UTC().Format(time.RFC3339)}
		if sec.Visibility != "" {
			cs.Flags = []string{"visibility:" + sec.Visibility}
		}
		s.secrets = append(s.secrets, cs)
	}
}

// ghRetry runs call again after a primary or secondary rate limit, saying
// so, for up to Retries attempts and MaxWait per wait.
func (s *Scanner) ghRetry(ctx context.Context, what string, call func() (*github.Response, error)) error {
	o := s.o.GitHub
	retries, maxWait := o.Retries, o.MaxWait
	if retries == 0 {
		retries = 5
	}
	if maxWait == 0 {
		maxWait = 15 * time.Minute
	}
	for attempt := 0; ; attempt++ {
		_, err := call()
		if err == nil {
			return nil
		}
		var wait time.Duration
		var rl *github.RateLimitError
		var al *github.AbuseRateLimitError
		var er *github.ErrorResponse
		switch {
		case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests:
			// go-github leaves 429 as a plain error: the secondary limit's other form
			wait = time.Minute
			if secs, perr := strconv.Atoi(er.Response.Header.Get("Retry-After")); perr == nil {
				wait = time.Duration(secs) * time.Second
			}
			s.o.Logger.Warn("GitHub rate limit (429): backing off", "store", what, "wait", wait.String())
		case errors.As(err, &rl):
			wait = time.Until(rl.Rate.Reset.Time) + time.Second
			s.o.Logger.Warn("GitHub rate limit reached: waiting for the reset", "store", what, "wait", wait.Round(time.Second).String())
		case errors.As(err, &al):
			wait = time.Minute
			if al.RetryAfter != nil {
				wait = *al.RetryAfter
			}
			s.o.Logger.Warn("GitHub secondary rate limit: backing off", "store", what, "wait", wait.Round(time.Millisecond).String())
		default:
			return err
		}
		if attempt+1 >= retries {
			return err
		}
		if wait > maxWait {
			return fmt.Errorf("%w (the limit resets in %s, longer than the %s credscan waits)", err, wait.Round(time.Second), maxWait)
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ghError turns an API error into a message naming the store and the
// permission it needs; it never holds the token or a response body.
func ghError(err error, what, perm, token string) error {
	var rl *github.RateLimitError
	var al *github.AbuseRateLimitError
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &rl), errors.As(err, &al), errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("GitHub rate limit reading the %s of %s: still limited after retries; run again later", perm, what)
	}
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("GitHub rejected the token (401) reading the %s of %s: check GITHUB_TOKEN (expired or revoked?)", perm, what)
		case http.StatusForbidden:
			return fmt.Errorf("GitHub refused (403) the %s of %s: %s", perm, what, ghPermission(perm))
		case http.StatusNotFound:
			return fmt.Errorf("GitHub found no %s for %s (404): it does not exist, or the token cannot see it (%s)", perm, what, ghPermission(perm))
		}
		return fmt.Errorf("GitHub answered %d reading the %s of %s", er.Response.StatusCode, perm, what)
	}
	return fmt.Errorf("reading the %s of %s from GitHub: %s", perm, what, redactToken(err.Error(), token))
}

// ghPermission names the least permission an endpoint needs.
func ghPermission(perm string) string {
	switch {
	case strings.HasPrefix(perm, "org secrets"):
		return `the token needs the "Secrets" organization permission (read), or admin:org for a classic token`
	case strings.HasPrefix(perm, "org variables"):
		return `the token needs the "Variables" organization permission (read), or admin:org for a classic token`
	case strings.Contains(perm, "secrets"):
		return `the token needs the "Secrets" repository permission (read), or the repo scope for a classic token`
	case strings.Contains(perm, "variables"):
		return `the token needs the "Variables" repository permission (read), or the repo scope for a classic token`
	case perm == "environments":
		return `the token needs the "Actions" repository permission (read), or the repo scope for a classic token`
	}
	return `the token needs the "Metadata" repository permission (read)`
}
