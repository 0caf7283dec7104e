package kv

import (
	"context"
	"sync"
)

// DryRun wraps a KV so that reads go through and writes do not: a dry run
// of any command is the same code over this wrapper. Put checks the
// check-and-set against the store (so a dry run fails where the real run
// would) and returns the version that stays current; PatchMetadata checks
// Vault's limits. Planned lists what would have been written.
type DryRun struct {
	KV
	mu      sync.Mutex
	planned []string
}

var _ KV = (*DryRun)(nil)

// NewDryRun wraps inner.
func NewDryRun(inner KV) *DryRun { return &DryRun{KV: inner} }

// Put implements KV without writing.
func (d *DryRun) Put(ctx context.Context, path string, _ map[string]any, cas int) (int, error) {
	p, err := CleanPath(path)
	if err != nil {
		return 0, err
	}
	current := 0
	md, err := d.KV.Metadata(ctx, p)
	switch {
	case err == nil:
		current = md.Current
	case !isNotFound(err):
		return 0, err
	}
	if cas != Any && cas != current {
		return 0, conflict(p, cas, current)
	}
	d.note("put " + p)
	return current, nil
}

// PatchMetadata implements KV without writing.
func (d *DryRun) PatchMetadata(ctx context.Context, path string, pa MetadataPatch) error {
	p, err := CleanPath(path)
	if err != nil {
		return err
	}
	var existing map[string]string
	if md, err := d.KV.Metadata(ctx, p); err == nil {
		existing = md.Custom
	} else if !isNotFound(err) {
		return err
	}
	if err := CheckCustom(p, existing, pa.Custom); err != nil {
		return err
	}
	d.note("patch metadata " + p)
	return nil
}

func (d *DryRun) note(s string) {
	d.mu.Lock()
	d.planned = append(d.planned, s)
	d.mu.Unlock()
}

// Planned lists the writes a real run would have made, in order.
func (d *DryRun) Planned() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.planned...)
}
