// Package vaultsync puts discovered credentials into HashiCorp Vault (KV
// v2) with check-and-set writes and custom metadata, checks that Vault
// logs access (audit devices), and reads who the caller is. Plaintext
// passwords pass through it only in memory, on their way into Vault.
package vaultsync

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
	"github.com/hashicorp/vault/api/cliconfig"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/vaultsync/kv"
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
			return nil, kv.VaultError("vault AppRole login", err, "")
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
			return nil, kv.VaultError("vault Kubernetes login", err, "")
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
		return id, kv.VaultError("vault token lookup-self", err, "")
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

// CanUpdate says whether the client's token may update path (a tracker
// entry), from sys/capabilities-self.
func CanUpdate(ctx context.Context, c *vault.Client, path string) (bool, error) {
	caps, err := c.Sys().CapabilitiesSelfWithContext(ctx, path)
	if err != nil {
		return false, kv.VaultError("reading the token's capabilities on "+path, err, "")
	}
	for _, cp := range caps {
		if cp == "update" || cp == "root" {
			return true, nil
		}
	}
	return false, nil
}
