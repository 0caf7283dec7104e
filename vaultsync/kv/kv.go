// Package kv is the seam between credscan and a versioned key/value store
// (Vault KV v2): what credentials, approvals, the audit mirror, the
// migration tracker and the rotation read and write, with check-and-set.
//
// Two implementations share one conformance suite (kvtest): Vault, over
// the KV v2 HTTP API, and Memory, for tests that must run in milliseconds.
// DryRun wraps either so that reads go through and writes do not.
//
// Every error is a *credscan.Error whose code tells a lost check-and-set
// (CodeConflict) from a missing path (CodeNotFound), a refusal
// (CodeUnauthorized), an outage (CodeUnavailable), bad input such as
// metadata over Vault's limits (CodeInvalid) and an interruption
// (CodeCanceled). No error holds a stored value.
package kv

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/credscan/credscan"
)

// KV is a versioned key/value store. Paths are relative to the store's
// mount, without leading or trailing slashes. Implementations are safe
// for concurrent use.
type KV interface {
	// Get returns the current version of path. A path with no version, or
	// whose current version is deleted, is CodeNotFound.
	Get(ctx context.Context, path string) (*Secret, error)
	// GetVersion returns version v of path (CodeNotFound when it does not
	// exist, is deleted or destroyed).
	GetVersion(ctx context.Context, path string, v int) (*Secret, error)
	// Put writes data as a new version of path and returns its number.
	// cas is the current version the caller read: 0 creates (the path must
	// have no version), Any writes whatever is there. A cas that is not
	// the current version writes nothing and is CodeConflict.
	Put(ctx context.Context, path string, data map[string]any, cas int) (int, error)
	// Metadata returns path's metadata: its versions in order, each with
	// its creation time, and its custom metadata (CodeNotFound when the
	// path has none).
	Metadata(ctx context.Context, path string) (*Metadata, error)
	// PatchMetadata sets the custom metadata keys of p (an empty value
	// deletes a key) and, when p.MaxVersions > 0, how many versions are
	// kept. Custom metadata over Vault's limits (64 keys, keys of 128
	// bytes, values of 512) is CodeInvalid and nothing is written. A path
	// with no metadata yet gets some.
	PatchMetadata(ctx context.Context, path string, p MetadataPatch) error
	// List returns the names directly under prefix, sorted; a name that is
	// itself a prefix ends in "/". An empty prefix lists the mount; a
	// prefix with nothing under it gives an empty list.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Any is the cas that writes whatever version is current.
const Any = -1

// Secret is one version of a path.
type Secret struct {
	Path    string
	Version int
	Created time.Time
	// Data is the stored data as JSON gives it back: numbers are
	// json.Number, lists []any, objects map[string]any.
	Data map[string]any
}

// Metadata describes a path: its versions, oldest first, and its custom
// metadata.
type Metadata struct {
	Current     int
	Oldest      int
	MaxVersions int // 0: the mount's default (Vault's is 10)
	Created     time.Time
	Updated     time.Time
	Custom      map[string]string
	Versions    []Version
}

// Version is one version's metadata.
type Version struct {
	Version   int
	Created   time.Time
	Deleted   bool
	Destroyed bool
}

// MetadataPatch is what PatchMetadata changes.
type MetadataPatch struct {
	Custom      map[string]string
	MaxVersions int
}

// Vault's limits on custom metadata.
const (
	MaxCustomKeys     = 64
	MaxCustomKeyLen   = 128
	MaxCustomValueLen = 512
)

// CheckCustom validates custom metadata against Vault's limits, counting
// the keys already there that the patch keeps.
func CheckCustom(path string, existing, patch map[string]string) error {
	merged := map[string]bool{}
	for k := range existing {
		merged[k] = true
	}
	for k, v := range patch {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = true
		}
		if len(k) > MaxCustomKeyLen {
			return credscan.Errorf(credscan.CodeInvalid, "custom metadata of %s: key of %d bytes, over Vault's %d", path, len(k), MaxCustomKeyLen)
		}
		if len(v) > MaxCustomValueLen {
			return credscan.Errorf(credscan.CodeInvalid, "custom metadata of %s: the value of %s has %d bytes, over Vault's %d", path, k, len(v), MaxCustomValueLen)
		}
	}
	if len(merged) > MaxCustomKeys {
		return credscan.Errorf(credscan.CodeInvalid, "custom metadata of %s: %d keys, over Vault's %d", path, len(merged), MaxCustomKeys)
	}
	return nil
}

// CleanPath checks a path: relative, no empty, "." or ".." segment.
func CleanPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", credscan.Errorf(credscan.CodeInvalid, "empty KV path")
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." {
			return "", credscan.Errorf(credscan.CodeInvalid, "KV path %q has an empty, . or .. segment", p)
		}
	}
	return p, nil
}

func notFound(path string) error {
	return credscan.Errorf(credscan.CodeNotFound, "%s: no such secret", path)
}

func conflict(path string, cas, current int) error {
	if cas == 0 {
		return credscan.Errorf(credscan.CodeConflict, "%s: check-and-set: it exists already (version %d), and this write only creates", path, current)
	}
	return credscan.Errorf(credscan.CodeConflict, "%s: check-and-set: version %d was read, version %d is current (someone else wrote first)", path, cas, current)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Version returns the metadata of version v, when listed.
func (m *Metadata) Version(v int) (Version, bool) {
	for _, x := range m.Versions {
		if x.Version == v {
			return x, true
		}
	}
	return Version{}, false
}

func (m *Metadata) String() string {
	return fmt.Sprintf("current %d, %d version(s) kept", m.Current, len(m.Versions))
}

func isNotFound(err error) bool { return credscan.CodeOf(err) == credscan.CodeNotFound }
