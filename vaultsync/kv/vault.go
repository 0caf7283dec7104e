package kv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/credscan/credscan"
)

// Vault is a KV v2 mount of a Vault server.
type Vault struct {
	c     *vault.Client
	mount string
}

var _ KV = (*Vault)(nil)

// NewVault returns the KV of the KV v2 mount of c ("secret" when empty).
func NewVault(c *vault.Client, mount string) *Vault {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "secret"
	}
	return &Vault{c: c, mount: mount}
}

// Client is the Vault client the store talks through.
func (v *Vault) Client() *vault.Client { return v.c }

// Mount is the KV v2 mount.
func (v *Vault) Mount() string { return v.mount }

// Get implements KV.
func (v *Vault) Get(ctx context.Context, path string) (*Secret, error) {
	p, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	s, err := v.c.KVv2(v.mount).Get(ctx, p)
	return v.secret(p, s, err)
}

// GetVersion implements KV.
func (v *Vault) GetVersion(ctx context.Context, path string, ver int) (*Secret, error) {
	p, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	s, err := v.c.KVv2(v.mount).GetVersion(ctx, p, ver)
	return v.secret(p, s, err)
}

func (v *Vault) secret(p string, s *vault.KVSecret, err error) (*Secret, error) {
	switch {
	case errors.Is(err, vault.ErrSecretNotFound):
		return nil, notFound(p)
	case err != nil:
		return nil, VaultError("reading "+p, err, "the token needs read on "+v.mount+"/data/"+p)
	case s == nil || s.Data == nil:
		return nil, notFound(p)
	}
	out := &Secret{Path: p, Data: s.Data}
	if s.VersionMetadata != nil {
		out.Version, out.Created = s.VersionMetadata.Version, s.VersionMetadata.CreatedTime
	}
	return out, nil
}

// Put implements KV.
func (v *Vault) Put(ctx context.Context, path string, data map[string]any, cas int) (int, error) {
	p, err := CleanPath(path)
	if err != nil {
		return 0, err
	}
	var opts []vault.KVOption
	if cas != Any {
		opts = append(opts, vault.WithCheckAndSet(cas))
	}
	s, err := v.c.KVv2(v.mount).Put(ctx, p, data, opts...)
	if err != nil {
		if statusOf(err) == http.StatusBadRequest && strings.Contains(describe(err), "check-and-set") {
			current := -1
			if md, merr := v.Metadata(ctx, p); merr == nil {
				current = md.Current
			} else if credscan.CodeOf(merr) == credscan.CodeNotFound {
				current = 0
			}
			return 0, conflict(p, cas, current)
		}
		return 0, VaultError("writing "+p, err, "the token needs create and update on "+v.mount+"/data/"+p)
	}
	if s == nil || s.VersionMetadata == nil {
		return 0, credscan.Errorf(credscan.CodeUnknown, "writing %s: Vault answered without a version", p)
	}
	return s.VersionMetadata.Version, nil
}

// Metadata implements KV.
func (v *Vault) Metadata(ctx context.Context, path string) (*Metadata, error) {
	p, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	md, err := v.c.KVv2(v.mount).GetMetadata(ctx, p)
	switch {
	case errors.Is(err, vault.ErrSecretNotFound) || statusOf(err) == http.StatusNotFound:
		return nil, notFound(p)
	case err != nil:
		return nil, VaultError("reading the metadata of "+p, err, "the token needs read on "+v.mount+"/metadata/"+p)
	}
	out := &Metadata{Current: md.CurrentVersion, Oldest: md.OldestVersion, MaxVersions: md.MaxVersions, Created: md.CreatedTime, Updated: md.UpdatedTime, Custom: map[string]string{}}
	for k, val := range md.CustomMetadata {
		out.Custom[k] = fmt.Sprint(val)
	}
	for k, vm := range md.Versions {
		n, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		out.Versions = append(out.Versions, Version{Version: n, Created: vm.CreatedTime, Deleted: !vm.DeletionTime.IsZero(), Destroyed: vm.Destroyed})
	}
	sort.Slice(out.Versions, func(i, j int) bool { return out.Versions[i].Version < out.Versions[j].Version })
	return out, nil
}

// PatchMetadata implements KV.
func (v *Vault) PatchMetadata(ctx context.Context, path string, pa MetadataPatch) error {
	p, err := CleanPath(path)
	if err != nil {
		return err
	}
	var existing map[string]string
	md, err := v.Metadata(ctx, p)
	switch {
	case err == nil:
		existing = md.Custom
	case credscan.CodeOf(err) != credscan.CodeNotFound:
		return err
	}
	if err := CheckCustom(p, existing, pa.Custom); err != nil {
		return err
	}
	kv := v.c.KVv2(v.mount)
	if md == nil { // no metadata yet: create it
		custom := map[string]any{}
		for k, val := range pa.Custom {
			if val != "" {
				custom[k] = val
			}
		}
		in := vault.KVMetadataPutInput{CustomMetadata: custom, MaxVersions: pa.MaxVersions}
		if err := kv.PutMetadata(ctx, p, in); err != nil {
			return VaultError("writing the metadata of "+p, err, "the token needs create and update on "+v.mount+"/metadata/"+p)
		}
		return nil
	}
	custom := map[string]any{}
	for k, val := range pa.Custom {
		if val == "" {
			custom[k] = nil // a JSON merge patch deletes it
		} else {
			custom[k] = val
		}
	}
	in := vault.KVMetadataPatchInput{CustomMetadata: custom}
	if pa.MaxVersions > 0 {
		n := pa.MaxVersions
		in.MaxVersions = &n
	}
	if err := kv.PatchMetadata(ctx, p, in); err != nil {
		return VaultError("writing the metadata of "+p, err, "the token needs patch on "+v.mount+"/metadata/"+p)
	}
	return nil
}

// List implements KV.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	prefix = strings.Trim(prefix, "/")
	s, err := v.c.Logical().ListWithContext(ctx, v.mount+"/metadata/"+prefix)
	if err != nil {
		if statusOf(err) == http.StatusNotFound {
			return []string{}, nil
		}
		return nil, VaultError("listing "+prefix+"/", err, "the token needs list on "+v.mount+"/metadata/"+prefix)
	}
	out := []string{}
	if s != nil {
		if keys, ok := s.Data["keys"].([]any); ok {
			for _, k := range keys {
				out = append(out, fmt.Sprint(k))
			}
		}
	}
	sort.Strings(out)
	return out, nil
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

// Describe is describe for vaultsync: a Vault error without headers or
// body.
func Describe(err error) string { return describe(err) }

// hostOf is a URL's scheme and host.
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Scheme + "://" + p.Host
	}
	return u
}

// StatusOf returns the HTTP status of a Vault error, 0 when there is none
// (the server could not be reached).
func StatusOf(err error) int { return statusOf(err) }

func statusOf(err error) int {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// Retryable reports whether a request may succeed later: Vault
// unreachable, sealed or standby (503), overloaded (429) or failing (5xx).
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if c := credscan.CodeOf(err); c != credscan.CodeUnknown {
		return c == credscan.CodeUnavailable
	}
	st := statusOf(err)
	return st == 0 || st == http.StatusTooManyRequests || st >= 500
}

// VaultError classifies a Vault failure of op: not reachable, sealed or
// overloaded is CodeUnavailable; 403 CodeUnauthorized (with hint: what
// the token needs); 404 CodeNotFound; a lost check-and-set CodeConflict;
// an interruption CodeCanceled. Its message is describe's.
func VaultError(op string, err error, hint string) error {
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
	case st == http.StatusBadRequest:
		code = credscan.CodeInvalid
	}
	return credscan.E(code, op, errors.New(msg))
}

// Wait is how long to wait before trying again after attempt failed.
func Wait(first time.Duration, attempt int) time.Duration {
	w := first
	for i := 1; i < attempt && w < 8*time.Second; i++ {
		w *= 2
	}
	return min(w, 8*time.Second)
}
