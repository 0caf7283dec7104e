package git

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/credscan/credscan"
)

// Environment variables that authenticate clones. Their values are never
// printed.
const (
	EnvToken  = "CREDSCAN_GIT_TOKEN"   // HTTPS token (else GITHUB_TOKEN, GITLAB_TOKEN, GIT_TOKEN)
	EnvUser   = "CREDSCAN_GIT_USER"    // HTTPS user name for the token
	EnvSSHKey = "CREDSCAN_GIT_SSH_KEY" // SSH private key file (else the SSH agent, else ~/.ssh/id_ed25519, id_rsa)
)

// authFromEnv picks credentials for cloning spec: a token over HTTPS, the
// SSH agent or a key file over SSH, or none (public repositories, or user
// information in the URL).
func authFromEnv(spec string) (transport.AuthMethod, error) {
	if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
		if u, err := url.Parse(spec); err == nil && u.User != nil {
			return nil, nil
		}
		token, user := "", os.Getenv(EnvUser)
		for _, v := range []string{EnvToken, "GITHUB_TOKEN", "GITLAB_TOKEN", "GIT_TOKEN"} {
			if token = os.Getenv(v); token != "" {
				if user == "" {
					switch v {
					case "GITLAB_TOKEN":
						user = "oauth2"
					default:
						user = "x-access-token"
					}
				}
				break
			}
		}
		if token == "" {
			return nil, nil
		}
		return &http.BasicAuth{Username: user, Password: token}, nil
	}
	user := "git"
	if u, err := url.Parse(spec); err == nil && u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	} else if at := strings.Index(spec, "@"); at > 0 && !strings.Contains(spec, "://") {
		user = spec[:at]
	}
	if key := os.Getenv(EnvSSHKey); key != "" {
		a, err := ssh.NewPublicKeysFromFile(user, key, os.Getenv("CREDSCAN_GIT_SSH_KEY_PASSPHRASE"))
		if err != nil {
			return nil, credscan.UsageError("SSH key %s: %v", key, err)
		}
		return a, nil
	}
	if os.Getenv("SSH_AUTH_SOCK") != "" {
		if a, err := ssh.NewSSHAgentAuth(user); err == nil {
			return a, nil
		}
	}
	home, _ := os.UserHomeDir()
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(p); err == nil {
			if a, err := ssh.NewPublicKeysFromFile(user, p, ""); err == nil {
				return a, nil
			}
		}
	}
	return nil, nil
}
