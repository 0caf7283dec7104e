package civars

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
)

// A store URL with user information that does not parse is named without it.
func TestBadBaseURLNotRepeated(t *testing.T) {
	secret := leakcheck.Secret(t)
	base := "https://ops:" + url.QueryEscape(secret) + "@ci.example.com/api\x7f"
	gh := &Scanner{o: Options{GitHub: &GitHubOptions{BaseURL: base, Token: "t"}}}
	if _, err := gh.githubClient(); err == nil {
		t.Error("GitHub: a bad base URL was accepted")
	} else {
		leakcheck.AssertNone(t, "the GitHub client error", []byte(err.Error()), secret)
	}
	gl := &Scanner{o: Options{GitLab: &GitLabOptions{BaseURL: base, Token: "t"}}}
	if _, err := gl.gitlabClient(context.Background()); err == nil {
		t.Error("GitLab: a bad base URL was accepted")
	} else {
		leakcheck.AssertNone(t, "the GitLab client error", []byte(err.Error()), secret)
	}
	// a URL client-go warns about (a scheme other than http or https) is
	// not quoted in the log
	var logs bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	odd := &Scanner{o: Options{GitLab: &GitLabOptions{BaseURL: "ftp://ops:" + url.QueryEscape(secret) + "@ci.example.com/api", Token: "t"}}}
	if _, err := odd.gitlabClient(context.Background()); err != nil {
		leakcheck.AssertNone(t, "the GitLab client error", []byte(err.Error()), secret)
	}
	leakcheck.AssertNone(t, "the log", logs.Bytes(), secret)
}
