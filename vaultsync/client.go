// Package vaultsync puts discovered credentials into HashiCorp Vault (KV
// v2) with check-and-set writes and custom metadata, checks that Vault
// logs access (audit devices), and reads who the caller is. Plaintext
// passwords pass through it only in memory, on their way into Vault.
package vaultsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
	"github.com/hashicorp/vault/api/cliconfig"

	"github.com/credscan/credscan"
)

// ClientOptions say how to reach and log in to Vault. Empty fields take
// Vault's own environment: VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE,
// VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT/KEY.
type ClientOptions struct {
	Addr      string
	Namespace string
	CACert    string
	// InsecureSkipVerify turns off TLS verification: only with an
	// explicit flag, and said loudly.
	InsecureSkipVerify bool
	// Auth: "token" (VAULT_TOKEN, else the token helper), "approle"
	// (RoleID with the secret ID from SecretIDFile or
	// $VAULT_SECRET_ID), or "kubernetes" (Role with the service
	// account token).
	Auth         string
	RoleID       string
	SecretIDFile string
	Role         string
	MountPath    string // auth mount path, when not the default
	Timeout      time.Duration
	Logger       *slog.Logger
}

// NewClient returns a logged-in Vault client. Its errors never hold a
// token or a secret ID.
func NewClient(ctx context.Context, o ClientOptions) (*vault.Client, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := vault.DefaultConfig()
	if cfg.Error != nil {
		return nil, credscan.UsageError("vault: %v", cfg.Error)
	}
	if o.Addr != "" {
		cfg.Address = o.Addr
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	cfg.Timeout = o.Timeout
	cfg.MaxRetries = 0 // credscan retries, and says so
	if o.CACert != "" || o.InsecureSkipVerify {
		tls := &vault.TLSConfig{CACert: o.CACert, Insecure: o.InsecureSkipVerify}
		if err := cfg.ConfigureTLS(tls); err != nil {
			return nil, credscan.UsageError("vault TLS: %v", err)
		}
	}
	if o.InsecureSkipVerify {
		o.Logger.Warn("TLS VERIFICATION OF VAULT IS OFF (--tls-skip-verify): anyone on the path can read the secrets credscan writes")
	}
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, credscan.UsageError("vault: %v", err)
	}
	if o.Namespace != "" {
		c.SetNamespace(o.Namespace)
	}
	switch o.Auth {
	case "", "token":
		if c.Token() == "" {
			helper, err := cliconfig.DefaultTokenHelper()
			if err == nil {
				if tok, err := helper.Get(); err == nil && tok != "" {
					c.SetToken(strings.TrimSpace(tok))
				}
			}
		}
		if c.Token() == "" {
			return nil, credscan.UsageError("vault: no token: set VAULT_TOKEN, log in with `vault login` (token helper), or use --vault-auth approle|kubernetes")
		}
	case "approle":
		if o.RoleID == "" {
			return nil, credscan.UsageError("vault AppRole login needs --vault-role-id")
		}
		sid := &approle.SecretID{FromEnv: "VAULT_SECRET_ID"}
		if o.SecretIDFile != "" {
			sid = &approle.SecretID{FromFile: o.SecretIDFile}
		}
		var opts []approle.LoginOption
		if o.MountPath != "" {
			opts = append(opts, approle.WithMountPath(o.MountPath))
		}
		a, err := approle.NewAppRoleAuth(o.RoleID, sid, opts...)
		if err != nil {
			return nil, credscan.UsageError("vault AppRole: %v", err)
		}
		if _, err := c.Auth().Login(ctx, a); err != nil {
			return nil, vaultErr("vault AppRole login", err, "")
		}
	case "kubernetes":
		if o.Role == "" {
			return nil, credscan.UsageError("vault Kubernetes login needs --vault-role")
		}
		var opts []kubernetes.LoginOption
		if o.MountPath != "" {
			opts = append(opts, kubernetes.WithMountPath(o.MountPath))
		}
		a, err := kubernetes.NewKubernetesAuth(o.Role, opts...)
		if err != nil {
			return nil, credscan.UsageError("vault Kubernetes auth: %v", err)
		}
		if _, err := c.Auth().Login(ctx, a); err != nil {
			return nil, vaultErr("vault Kubernetes login", err, "")
		}
	default:
		return nil, credscan.UsageError("--vault-auth %q: want token, approle or kubernetes", o.Auth)
	}
	return c, nil
}

// Identity is who a Vault token belongs to. It holds no token.
type Identity struct {
	DisplayName string   `json:"display_name"`
	Accessor    string   `json:"accessor,omitempty"`
	EntityID    string   `json:"entity_id,omitempty"`
	Policies    []string `json:"policies,omitempty"`
}

// ID is what approvals compare identities by: the Vault entity when the
// token has one (any login method), else the token's display name.
func (i Identity) ID() string {
	if i.EntityID != "" {
		return "entity:" + i.EntityID
	}
	return "token:" + i.DisplayName
}

// WhoAmI looks the client's token up (lookup-self needs no extra policy).
func WhoAmI(ctx context.Context, c *vault.Client) (Identity, error) {
	var id Identity
	s, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return id, vaultErr("vault token lookup-self", err, "")
	}
	if s == nil || s.Data == nil {
		return id, errors.New("vault token lookup-self: empty answer")
	}
	str := func(k string) string { v, _ := s.Data[k].(string); return v }
	id.DisplayName, id.Accessor, id.EntityID = str("display_name"), str("accessor"), str("entity_id")
	if ps, ok := s.Data["policies"].([]any); ok {
		for _, p := range ps {
			if ps, ok := p.(string); ok {
				id.Policies = append(id.Policies, ps)
			}
		}
	}
	return id, nil
}

// describe renders a Vault error without the request's headers or body:
// the status and Vault's own error strings (which hold no values), or,
// when Vault could not be reached, that and the network's reason.
func describe(err error) string {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if msg == "" {
			msg = http.StatusText(re.StatusCode)
		}
		return fmt.Sprintf("%s %s: %d %s", re.HTTPMethod, re.URL, re.StatusCode, msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Sprintf("cannot reach Vault at %s: %v", credscan.RedactURL(hostOf(ue.URL)), ue.Err)
	}
	return err.Error()
}

// hostOf is a URL's scheme and host.
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Scheme + "://" + p.Host
	}
	return u
}

// vaultErr classifies a Vault failure of op: not reachable, sealed or
// overloaded is CodeUnavailable; 403 CodeUnauthorized; 404 CodeNotFound;
// a lost check-and-set CodeConflict; an interruption CodeCanceled. Its
// message is describe's, with hint (what the token needs) after a 403.
func vaultErr(op string, err error, hint string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return credscan.E(credscan.CodeCanceled, op, err)
	}
	st := statusOf(err)
	code := credscan.CodeUnknown
	msg := describe(err)
	switch {
	case st == 0 || st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests || st >= 500:
		code = credscan.CodeUnavailable
	case st == http.StatusForbidden || st == http.StatusUnauthorized:
		code = credscan.CodeUnauthorized
		msg = "permission denied: " + msg
		if hint != "" {
			msg += " (" + hint + ")"
		}
	case st == http.StatusNotFound:
		code = credscan.CodeNotFound
	case st == http.StatusBadRequest && strings.Contains(msg, "check-and-set"):
		code = credscan.CodeConflict
	}
	return credscan.E(code, op, errors.New(msg))
}

// statusOf returns the HTTP status of a Vault error, 0 when there is none
// (the server could not be reached).
func statusOf(err error) int {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// retryable reports whether a request may succeed later: Vault
// unreachable, sealed or standby (503), overloaded (429) or failing (5xx).
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	st := statusOf(err)
	return st == 0 || st == http.StatusTooManyRequests || st >= 500
}
