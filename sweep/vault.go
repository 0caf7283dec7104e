package sweep

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners/dsn"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Learned is a password read from a secret store, with the user stored
// beside it and where it was read (path@version#field, never the value).
type Learned struct {
	Secret string
	User   string
	From   string
}

// MaxLearned bounds what one read may return.
const MaxLearned = 100000

// FromKV reads, through the KV seam, every version that is still
// readable of each path (a path ending in "/" or "/*" is every secret
// under it, recursively) and returns the passwords they hold: the values
// of password-like fields (password, pass, pwd, secret …) and the
// passwords of URL/DSN fields. It writes nothing; values stay in memory.
// Deleted and destroyed versions are passed over.
func FromKV(ctx context.Context, store kv.KV, paths []string) ([]Learned, error) {
	var leaves []string
	for _, p := range paths {
		p = strings.Trim(p, " ")
		if prefix, ok := strings.CutSuffix(p, "*"); ok || strings.HasSuffix(p, "/") {
			if !ok {
				prefix = p
			}
			got, err := listAll(ctx, store, prefix, 0)
			if err != nil {
				return nil, err
			}
			leaves = append(leaves, got...)
			continue
		}
		leaves = append(leaves, p)
	}
	var out []Learned
	seen := map[[2]string]bool{}
	for _, p := range leaves {
		md, err := store.Metadata(ctx, p)
		if credscan.CodeOf(err) == credscan.CodeNotFound {
			return nil, credscan.Errorf(credscan.CodeNotFound, "--known-from-vault %s: no such secret", p)
		}
		if err != nil {
			return nil, fmt.Errorf("--known-from-vault %s: %w", p, err)
		}
		for _, v := range md.Versions {
			if v.Deleted || v.Destroyed {
				continue
			}
			sec, err := store.GetVersion(ctx, p, v.Version)
			if credscan.CodeOf(err) == credscan.CodeNotFound {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("--known-from-vault %s version %d: %w", p, v.Version, err)
			}
			user := stringField(sec.Data, "username", "user", "login", "role")
			keys := make([]string, 0, len(sec.Data))
			for k := range sec.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				val, ok := sec.Data[k].(string)
				if !ok || val == "" {
					continue
				}
				pw := ""
				switch l := strings.ToLower(k); {
				case strings.Contains(l, "pass") || strings.Contains(l, "pwd") || strings.Contains(l, "secret"):
					pw = val
				case strings.Contains(l, "url") || strings.Contains(l, "uri") || strings.Contains(l, "dsn") || strings.Contains(l, "conn"):
					pw = dsnPassword(val)
				}
				if pw == "" || seen[[2]string{pw, user}] {
					continue
				}
				seen[[2]string{pw, user}] = true
				out = append(out, Learned{Secret: pw, User: user, From: fmt.Sprintf("%s@%d#%s", p, v.Version, k)})
				if len(out) > MaxLearned {
					return nil, credscan.UsageError("--known-from-vault: more than %d passwords", MaxLearned)
				}
			}
		}
	}
	return out, nil
}

func listAll(ctx context.Context, store kv.KV, prefix string, depth int) ([]string, error) {
	if depth > 32 {
		return nil, nil
	}
	names, err := store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("--known-from-vault: listing %s: %w", prefix, err)
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, "/") {
			sub, err := listAll(ctx, store, prefix+n, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, prefix+n)
	}
	return out, nil
}

func stringField(data map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := data[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func dsnPassword(v string) string {
	l := strings.ToLower(v)
	var p *dsn.Parsed
	var err error
	switch {
	case strings.HasPrefix(l, "jdbc:"):
		p, _, err = dsn.ParseJDBC(v)
	case strings.Contains(l, "://"):
		p, _, err = dsn.ParseURI(v)
	case strings.Contains(l, "password="):
		p, err = dsn.ParseKeyValue(v)
	default:
		return ""
	}
	if err != nil || p == nil {
		return ""
	}
	return p.Password
}
