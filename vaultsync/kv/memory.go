package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/credscan/credscan"
)

// Memory is an in-memory KV with Vault KV v2's semantics (versions kept up
// to MaxVersions, 10 by default; check-and-set; custom metadata limits;
// data given back as JSON gives it). It is for tests, which it keeps fast.
type Memory struct {
	mu    sync.Mutex
	paths map[string]*memPath
	now   func() time.Time
	// DefaultMaxVersions is the mount's max_versions (Vault's default 10).
	DefaultMaxVersions int
}

type memPath struct {
	meta     Metadata
	versions map[int]*memVersion
}

type memVersion struct {
	data    []byte // JSON
	created time.Time
}

var _ KV = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{paths: map[string]*memPath{}, now: func() time.Time { return time.Now().UTC() }, DefaultMaxVersions: 10}
}

func (m *Memory) path(ctx context.Context, p string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", credscan.E(credscan.CodeCanceled, "kv", err)
	}
	return CleanPath(p)
}

// Get implements KV.
func (m *Memory) Get(ctx context.Context, path string) (*Secret, error) {
	p, err := m.path(ctx, path)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.paths[p]
	if e == nil || e.meta.Current == 0 {
		return nil, notFound(p)
	}
	return m.version(p, e, e.meta.Current)
}

// GetVersion implements KV.
func (m *Memory) GetVersion(ctx context.Context, path string, v int) (*Secret, error) {
	p, err := m.path(ctx, path)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.paths[p]
	if e == nil {
		return nil, notFound(p)
	}
	return m.version(p, e, v)
}

func (m *Memory) version(p string, e *memPath, v int) (*Secret, error) {
	ver, ok := e.versions[v]
	if !ok {
		return nil, notFound(p)
	}
	dec := json.NewDecoder(bytes.NewReader(ver.data))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, credscan.E(credscan.CodeIntegrity, "kv "+p, err)
	}
	return &Secret{Path: p, Version: v, Created: ver.created, Data: data}, nil
}

// Put implements KV.
func (m *Memory) Put(ctx context.Context, path string, data map[string]any, cas int) (int, error) {
	p, err := m.path(ctx, path)
	if err != nil {
		return 0, err
	}
	b, err := json.Marshal(data)
	if err != nil {
		return 0, credscan.Errorf(credscan.CodeInvalid, "%s: data is not JSON: %v", p, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.paths[p]
	if e == nil {
		e = &memPath{versions: map[int]*memVersion{}}
		e.meta.Created = m.now()
		m.paths[p] = e
	}
	if cas != Any && cas != e.meta.Current {
		return 0, conflict(p, cas, e.meta.Current)
	}
	now := m.now()
	e.meta.Current++
	e.meta.Updated = now
	e.versions[e.meta.Current] = &memVersion{data: b, created: now}
	e.meta.Versions = append(e.meta.Versions, Version{Version: e.meta.Current, Created: now})
	m.trim(e)
	return e.meta.Current, nil
}

// trim drops the oldest versions past the path's (or the mount's) limit.
func (m *Memory) trim(e *memPath) {
	limit := e.meta.MaxVersions
	if limit <= 0 {
		limit = m.DefaultMaxVersions
	}
	for len(e.meta.Versions) > limit {
		delete(e.versions, e.meta.Versions[0].Version)
		e.meta.Versions = e.meta.Versions[1:]
	}
	if len(e.meta.Versions) > 0 {
		e.meta.Oldest = e.meta.Versions[0].Version
	}
}

// Metadata implements KV.
func (m *Memory) Metadata(ctx context.Context, path string) (*Metadata, error) {
	p, err := m.path(ctx, path)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.paths[p]
	if e == nil {
		return nil, notFound(p)
	}
	md := e.meta
	md.Versions = append([]Version(nil), e.meta.Versions...)
	md.Custom = map[string]string{}
	for k, v := range e.meta.Custom {
		md.Custom[k] = v
	}
	return &md, nil
}

// PatchMetadata implements KV.
func (m *Memory) PatchMetadata(ctx context.Context, path string, pa MetadataPatch) error {
	p, err := m.path(ctx, path)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.paths[p]
	var existing map[string]string
	if e != nil {
		existing = e.meta.Custom
	}
	if err := CheckCustom(p, existing, pa.Custom); err != nil {
		return err
	}
	if e == nil {
		e = &memPath{versions: map[int]*memVersion{}}
		e.meta.Created = m.now()
		m.paths[p] = e
	}
	if e.meta.Custom == nil {
		e.meta.Custom = map[string]string{}
	}
	for k, v := range pa.Custom {
		if v == "" {
			delete(e.meta.Custom, k)
		} else {
			e.meta.Custom[k] = v
		}
	}
	if pa.MaxVersions > 0 {
		e.meta.MaxVersions = pa.MaxVersions
		m.trim(e)
	}
	e.meta.Updated = m.now()
	return nil
}

// List implements KV.
func (m *Memory) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, credscan.E(credscan.CodeCanceled, "kv", err)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	names := map[string]bool{}
	for p := range m.paths {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			names[rest[:i+1]] = true
		} else {
			names[rest] = true
		}
	}
	return sortedKeys(names), nil
}
