package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/scanners/civars"
)

// ciStoreFlags say which CI variable stores to read and how.
type ciStoreFlags struct {
	gitlabProjects, gitlabGroups []string
	gitlabURL, gitlabTokenFile   string
	githubRepos, githubOrgs      []string
	githubURL, githubTokenFile   string
}

func (c *ciStoreFlags) any() bool {
	return len(c.gitlabProjects)+len(c.gitlabGroups)+len(c.githubRepos)+len(c.githubOrgs) > 0
}

// options builds the scanner options; tokens come from the token files,
// else $GITLAB_TOKEN / $GITHUB_TOKEN, and are never printed.
func (c *ciStoreFlags) options(o *civars.Options) error {
	if len(c.gitlabProjects)+len(c.gitlabGroups) > 0 {
		tok, err := readToken(c.gitlabTokenFile, "GITLAB_TOKEN")
		if err != nil {
			return err
		}
		o.GitLab = &civars.GitLabOptions{BaseURL: c.gitlabURL, Token: tok, Projects: c.gitlabProjects, Groups: c.gitlabGroups}
	}
	if len(c.githubRepos)+len(c.githubOrgs) > 0 {
		tok, err := readToken(c.githubTokenFile, "GITHUB_TOKEN")
		if err != nil {
			return err
		}
		o.GitHub = &civars.GitHubOptions{BaseURL: c.githubURL, Token: tok, Repos: c.githubRepos, Orgs: c.githubOrgs}
	}
	return nil
}

// readToken reads a token from file, else from the environment variable env.
func readToken(file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := regular.ReadFile(file)
	if err != nil {
		return "", credscan.UsageError("reading the token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func newScanCICmd() *cobra.Command {
	f := &scanFlags{}
	c := &ciStoreFlags{}
	cmd := &cobra.Command{
		Use:   "ci [PATH...]",
		Short: "Scan CI pipeline definitions and GitLab/GitHub CI variable stores",
		Long: `Scan CI pipeline definitions (GitHub Actions workflows, .gitlab-ci.yml and its
local includes, Jenkinsfile, .circleci/config.yml, azure-pipelines.yml,
bitbucket-pipelines.yml, .travis.yml) found under each PATH, and the CI/CD
variable stores named by the flags. Each finding names the CI system, the file
or project, the job or step and the variable. Values that point at the CI's
secret store (${{ secrets.X }}, $X, credentials('x')) count as referenced, and
the secret names the pipelines depend on are listed.

GitLab: project and group variables, values included (a token with read_api and
the Maintainer role, from $GITLAB_TOKEN or --gitlab-token-file). GitHub: Actions
variables of repositories, their environments and organizations, with values;
Actions secrets by name and update date only (GitHub never returns their
values). Token from $GITHUB_TOKEN or --github-token-file.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !c.any() {
				return credscan.UsageError("scan ci needs PATHs or a store (--gitlab-project, --gitlab-group, --github-repo, --github-org)")
			}
			r, err := newAdHocRun(cmd, f, "ci", args)
			if err != nil {
				return err
			}
			o := civars.Options{Logger: r.log}
			if err := c.options(&o); err != nil {
				return err
			}
			if r.m != nil {
				if o.GitLab != nil && o.GitLab.BaseURL == "" {
					o.GitLab.BaseURL = r.m.CI.GitLabURL
				}
				if o.GitHub != nil && o.GitHub.BaseURL == "" {
					o.GitHub.BaseURL = r.m.CI.GitHubURL
				}
			}
			src, err := civars.New(args, o)
			if err != nil {
				return err
			}
			return r.finish(cmd, r.ScanCI(cmd.Context(), src))
		},
	}
	addScanFlags(cmd, f, true)
	fl := cmd.Flags()
	fl.StringSliceVar(&c.gitlabProjects, "gitlab-project", nil, "GitLab project ID or path whose CI/CD variables to read (repeatable)")
	fl.StringSliceVar(&c.gitlabGroups, "gitlab-group", nil, "GitLab group ID or path whose CI/CD variables to read (repeatable)")
	fl.StringVar(&c.gitlabURL, "gitlab-url", "", "API base URL of a self-managed GitLab (default https://gitlab.com)")
	fl.StringVar(&c.gitlabTokenFile, "gitlab-token-file", "", "read the GitLab token from this file (default $GITLAB_TOKEN)")
	fl.StringSliceVar(&c.githubRepos, "github-repo", nil, "GitHub repository OWNER/NAME whose Actions variables and secrets to read (repeatable)")
	fl.StringSliceVar(&c.githubOrgs, "github-org", nil, "GitHub organization whose Actions variables and secrets to read (repeatable)")
	fl.StringVar(&c.githubURL, "github-url", "", "API base URL of GitHub Enterprise Server (https://ghe.example.com/api/v3/)")
	fl.StringVar(&c.githubTokenFile, "github-token-file", "", "read the GitHub token from this file (default $GITHUB_TOKEN)")
	return cmd
}
