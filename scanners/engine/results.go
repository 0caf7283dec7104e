package engine

import (
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/rules"
)

// Results collects what scans found. It is safe for concurrent use; read
// its fields only after the scans returned and Finish was called.
type Results struct {
	mu       sync.Mutex
	Findings []*credscan.Finding
	// SuppressedFindings are the findings inline markers suppressed.
	SuppressedFindings []*credscan.Finding
	References         []credscan.Reference
	CISecrets          []credscan.CISecret
	Errors             []*credscan.ItemError
	Stats              credscan.Stats
	// Layers counts what was read of each image layer (by digest), part
	// of Stats: a layer shared by images that shards scan apart is read by
	// each, and a merge counts it once.
	Layers map[string]*credscan.Counts
}

// NewResults returns empty results.
func NewResults() *Results {
	return &Results{Stats: credscan.Stats{Referenced: map[string]int{}, Hardcoded: map[string]int{}}}
}

var _ scanners.Sink = (*Results)(nil)

// Add implements scanners.Sink.
func (r *Results) Add(fs []*credscan.Finding) {
	if len(fs) == 0 {
		return
	}
	r.mu.Lock()
	r.Findings = append(r.Findings, fs...)
	r.mu.Unlock()
}

// Count implements scanners.Sink.
func (r *Results) Count(ch credscan.Chunk) {
	if ch.Derived {
		return
	}
	var lc credscan.Counts
	if ch.Overlap == 0 && ch.StartLine <= 1 {
		lc.Items++
	}
	switch {
	case ch.Cached != nil && ch.Cached.Items > 1:
		lc.Items, lc.Bytes, lc.Binary = ch.Cached.Items, ch.Cached.Bytes, ch.Cached.BinaryItems
	case ch.Cached != nil:
		// known clean, not read again: counted as it was when read
		if ch.Cached.Binary {
			lc.Binary++
		} else {
			lc.Bytes += ch.Cached.Bytes
		}
	default:
		countRead(&lc, ch)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch.Cached != nil {
		r.Stats.Cached += max(ch.Cached.Items, 1)
	}
	r.Stats.Add(1, lc)
	if ch.Origin.Kind == credscan.KindImage && ch.Origin.Layer != "" {
		if r.Layers == nil {
			r.Layers = map[string]*credscan.Counts{}
		}
		l := r.Layers[ch.Origin.Layer]
		if l == nil {
			l = &credscan.Counts{}
			r.Layers[ch.Origin.Layer] = l
		}
		l.Add(1, lc)
	}
}

// countRead counts a chunk read into lc.
func countRead(lc *credscan.Counts, ch credscan.Chunk) {
	switch ch.Skip {
	case "":
		lc.Bytes += int64(len(ch.Data) - ch.Overlap)
	case "binary":
		if ch.Offset == 0 { // a binary streamed for the sweep is one item
			lc.Binary++
		}
	default:
		if ch.Offset == 0 { // (an item skipped in parts is one)
			lc.Skipped = map[string]int{ch.Skip: 1}
		}
	}
}

// Counted returns the items and bytes read so far; it may be called while
// a scan runs.
func (r *Results) Counted() (items, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Stats.Items, r.Stats.Bytes
}

// Suppressed implements scanners.Sink.
func (r *Results) Suppressed(f *credscan.Finding) {
	r.mu.Lock()
	r.Stats.Allowed++
	r.SuppressedFindings = append(r.SuppressedFindings, f)
	r.mu.Unlock()
}

// AddReference implements scanners.Sink.
func (r *Results) AddReference(ref credscan.Reference) {
	r.mu.Lock()
	r.References = append(r.References, ref)
	r.mu.Unlock()
}

// AddProblem implements scanners.Sink: something read in a degraded way,
// or that a source could not do as asked (a shallow clone's missing
// history). It holds no content.
func (r *Results) AddProblem(p string) {
	r.mu.Lock()
	r.Stats.Problems = append(r.Stats.Problems, p)
	r.mu.Unlock()
}

// AddCISecrets records secret names CI pipelines reference or stores hold.
func (r *Results) AddCISecrets(s []credscan.CISecret) {
	r.mu.Lock()
	r.CISecrets = append(r.CISecrets, s...)
	r.mu.Unlock()
}

// AddError implements scanners.Sink: an item that could not be read.
func (r *Results) AddError(err error) {
	var ie *credscan.ItemError
	if !errors.As(err, &ie) {
		ie = &credscan.ItemError{Err: err}
	}
	r.mu.Lock()
	r.Errors = append(r.Errors, ie)
	r.Stats.Errors++
	r.mu.Unlock()
}

// Finish removes duplicate findings (the same secret reported at the same
// place by several rules or by overlapping chunks: the DB pack's, with the
// richest identity, wins), sorts everything and fills the per-app stats.
func (r *Results) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Findings = onePerPlace(r.Findings)
	r.SuppressedFindings = onePerPlace(r.SuppressedFindings)
	r.Stats.Allowed = len(r.SuppressedFindings)
	refSeen := map[credscan.Reference]bool{}
	var refs []credscan.Reference
	for _, ref := range r.References {
		if !refSeen[ref] {
			refSeen[ref] = true
			refs = append(refs, ref)
		}
	}
	r.References = refs
	r.Stats.Referenced = map[string]int{}
	r.Stats.Encrypted = nil
	for _, ref := range refs {
		if ref.Encrypted {
			if r.Stats.Encrypted == nil {
				r.Stats.Encrypted = map[string]int{}
			}
			r.Stats.Encrypted[ref.Origin.App]++
			continue
		}
		r.Stats.Referenced[ref.Origin.App]++
	}
	// everything in one order whatever order it was found in, so that a
	// run split in shards and merged gives the same report
	credscan.SortReferences(r.References)
	credscan.SortErrors(r.Errors)
	credscan.SortCISecrets(r.CISecrets)
	slices.Sort(r.Stats.Problems)
}

// onePerPlace keeps one finding per secret per place (origin and
// fingerprint), the best by better, sorted.
func onePerPlace(fs []*credscan.Finding) []*credscan.Finding {
	type key struct {
		o  credscan.Origin
		fp string
	}
	idx := map[key]int{}
	var out []*credscan.Finding
	for _, f := range fs {
		k := key{f.Origin, f.Fingerprint}
		if i, ok := idx[k]; ok {
			if better(f, out[i]) {
				out[i] = f
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, f)
	}
	credscan.SortFindings(out)
	return out
}

func better(a, b *credscan.Finding) bool {
	// a rule's finding, with what the place says, over the sweep's copy
	if ka, kb := a.RuleID == rules.KnownSecret, b.RuleID == rules.KnownSecret; ka != kb {
		return kb
	}
	if a.Database != b.Database {
		return a.Database
	}
	if ra, rb := a.DB.Richness(), b.DB.Richness(); ra != rb {
		return ra > rb
	}
	// found in the raw text over found after decoding, then by rule, so the
	// order findings arrive in does not matter
	if da, db := decoded(a), decoded(b); da != db {
		return !da
	}
	// like gitleaks, a specific rule wins over generic-api-key
	if ga, gb := a.RuleID == "generic-api-key", b.RuleID == "generic-api-key"; ga != gb {
		return gb
	}
	return a.RuleID < b.RuleID
}

func decoded(f *credscan.Finding) bool {
	for _, t := range f.Tags {
		if strings.HasPrefix(t, "decoded:") {
			return true
		}
	}
	return false
}
