package cache

import (
	"context"
	"sync"
)

// Pass is the cache as one pass over the sources uses it (the rules'
// pass, or the sweep's, each with its own configuration). Sources find it
// in the context (PassFrom) to skip items before reading them; the engine
// enters what it finds clean. A git blob scanned against another version
// (only its changed lines read, the rest carried over) is clean only when
// that version is too: such blobs are entered by End.
type Pass struct {
	st  *Store
	cfg Config
	mu  sync.Mutex
	// git blobs met in this pass, by ID
	blobs map[string]blobState
	// items (not git blobs) an error was reported for in this pass: never
	// entered, whatever their chunks yield (a damaged archive is said,
	// then read as a file; known clean, the next run would not say it)
	failed map[string]bool
	// items read in parts (too large to read whole), by kind and path:
	// what their parts so far say
	streams map[string]*stream
	atEnd   []func()
}

// stream is what the parts of an item read in parts said so far.
type stream struct {
	version string
	dirty   bool
	entry   Entry
}

type blobState struct {
	key   Key
	entry Entry
	base  string // the version it was scanned against, when clean on its own
	state uint8
}

const (
	stateClean       = iota + 1 // read whole, produced nothing
	stateCleanIfBase            // produced nothing on its changed lines
	stateCached                 // skipped: the cache knew it clean
	stateDirty                  // produced something, or was not read whole
)

// NewPass is a pass over st under cfg.
func NewPass(st *Store, cfg Config) *Pass {
	return &Pass{st: st, cfg: cfg, blobs: map[string]blobState{}, failed: map[string]bool{}, streams: map[string]*stream{}}
}

// Config is the pass's configuration.
func (p *Pass) Config() Config { return p.cfg }

// Lookup says whether the item of key k is known clean.
func (p *Pass) Lookup(k Key) (Entry, bool) { return p.st.Get(k) }

// LookupBlob says whether git blob at path is known clean (the source
// then does not read it).
func (p *Pass) LookupBlob(blob, path string) (Entry, bool) {
	return p.LookupBlobKey(blob, p.cfg.Blob(blob, path))
}

// LookupBlobKey is LookupBlob with the blob's key (Config.Blob) known.
func (p *Pass) LookupBlobKey(blob string, k Key) (Entry, bool) {
	e, ok := p.st.Get(k)
	if ok {
		p.mu.Lock()
		p.blobs[blob] = blobState{state: stateCached}
		p.mu.Unlock()
	}
	return e, ok
}

// LookupHint returns the hint entered for the item of key k (a Config.ContentKeys hint key).
func (p *Pass) LookupHint(k Key) (Hint, bool) { return p.st.GetHint(k) }

// Hint enters h for the item of key k (not a git blob), which produced
// something when read whole under the pass's configuration.
func (p *Pass) Hint(k Key, h Hint) { p.st.PutHint(k, h) }

// Clean enters the item of key k (not a git blob) as clean.
func (p *Pass) Clean(k Key, e Entry) { p.st.Put(k, e) }

// Part records one part of an item (not a git blob) read in parts, too
// large to be read whole, that its source names by version (the parts of
// one item come in order, from its first, first, to its last, last):
// produced says the part produced something (or was cut short), bytes is
// what it counted (its own bytes, not those it shares with the part
// before) and binary whether the item is. An item whose every part,
// first to last, produced nothing, and for which no error was reported,
// is entered as clean under its version, so the next scan does not read
// it at all.
func (p *Pass) Part(kind, path, version string, first, last, produced bool, bytes int64, binary bool) {
	id := kind + "\x00" + path
	p.mu.Lock()
	st := p.streams[id]
	if first {
		st = &stream{version: version}
		p.streams[id] = st
	}
	if st == nil || st.version != version {
		delete(p.streams, id) // its first part was not seen, or a part of another version came
		p.mu.Unlock()
		return
	}
	st.dirty = st.dirty || produced
	st.entry.Bytes += bytes
	st.entry.Binary = st.entry.Binary || binary
	if !last {
		p.mu.Unlock()
		return
	}
	delete(p.streams, id)
	clean := !st.dirty && !p.failed[id]
	p.mu.Unlock()
	if clean {
		e := st.entry
		if e.Binary {
			e.Bytes = 0
		}
		p.Clean(p.cfg.Version(kind, path, version), e)
	}
}

// ItemFailed notes that an error was reported for the item of kind at
// path (not a git blob: BlobDirty): Failed then says so. Held in memory
// for the pass only.
func (p *Pass) ItemFailed(kind, path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed[kind+"\x00"+path] = true
}

// Failed says whether ItemFailed was told of the item of kind at path.
func (p *Pass) Failed(kind, path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed[kind+"\x00"+path]
}

// BlobClean records that git blob produced nothing: read whole (base ""),
// it is entered now; scanned against base, at End if base is clean.
func (p *Pass) BlobClean(blob string, k Key, e Entry, base string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.blobs[blob]; ok && b.state == stateDirty {
		return
	}
	if base == "" {
		p.blobs[blob] = blobState{key: k, entry: e, state: stateClean}
		p.st.Put(k, e)
		return
	}
	p.blobs[blob] = blobState{key: k, entry: e, base: base, state: stateCleanIfBase}
}

// BlobDirty records that git blob produced something, or was not read
// whole: it is not entered, nor any version scanned against it.
func (p *Pass) BlobDirty(blob string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blobs[blob] = blobState{state: stateDirty}
}

// Store is the store the pass reads and enters into.
func (p *Pass) Store() *Store { return p.st }

// AtEnd has End call f once it has entered what it enters (a source
// that records what the pass found, by BlobKnownClean).
func (p *Pass) AtEnd(f func()) {
	p.mu.Lock()
	p.atEnd = append(p.atEnd, f)
	p.mu.Unlock()
}

// BlobKnownClean says whether git blob is clean as far as this pass
// knows: skipped as known clean, or read and clean (after End, also when
// scanned against a clean version).
func (p *Pass) BlobKnownClean(blob string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.blobs[blob]
	return ok && (b.state == stateClean || b.state == stateCached)
}

// End enters the blobs scanned against a version that is clean, then
// calls what AtEnd was given.
func (p *Pass) End() {
	p.end()
	p.mu.Lock()
	fs := p.atEnd
	p.atEnd = nil
	p.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

func (p *Pass) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var clean func(id string, depth int) bool
	clean = func(id string, depth int) bool {
		b, ok := p.blobs[id]
		switch {
		case !ok || depth > 10000:
			return false // a version this pass did not meet
		case b.state == stateClean || b.state == stateCached:
			return true
		case b.state == stateCleanIfBase:
			if clean(b.base, depth+1) {
				b.state = stateClean
				p.st.Put(b.key, b.entry)
				p.blobs[id] = b
				return true
			}
			b.state = stateDirty
			p.blobs[id] = b
		}
		return false
	}
	for id := range p.blobs {
		clean(id, 0)
	}
}

type passKey struct{}

// WithPass returns a context whose sources skip what p knows clean.
func WithPass(ctx context.Context, p *Pass) context.Context {
	return context.WithValue(ctx, passKey{}, p)
}

// PassFrom is the context's pass, or nil.
func PassFrom(ctx context.Context) *Pass {
	p, _ := ctx.Value(passKey{}).(*Pass)
	return p
}
