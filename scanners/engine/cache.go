package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/scanners"
)

// SetCache makes later Scans and Sweeps skip the items st knows clean
// under cfg (the scan's configuration: rules, version, targets …; the
// known secrets swept for are added per pass), and enter those they find
// clean. nil stops it.
func (e *Engine) SetCache(st *cache.Store, cfg cache.Config) {
	if st == nil {
		e.cache.Store(nil)
		return
	}
	e.cache.Store(&cacheSetting{st: st, cfg: cfg})
}

type cacheSetting struct {
	st  *cache.Store
	cfg cache.Config
}

// rulesPass is the cache pass of Scan: the configuration, and the known
// secrets swept for in the same pass.
func (e *Engine) rulesPass() *cache.Pass {
	c := e.cache.Load()
	if c == nil {
		return nil
	}
	cfg := c.cfg
	if k := e.known.Load(); k != nil {
		cfg = cfg.With("known", k.id)
	}
	return cache.NewPass(c.st, cfg)
}

// sweepPass is the cache pass of Sweep for set.
func (e *Engine) sweepPass(set *KnownSet) *cache.Pass {
	c := e.cache.Load()
	if c == nil {
		return nil
	}
	return cache.NewPass(c.st, c.cfg.With("sweep", set.id))
}

// cacheable says whether ch is a whole item a key can name: a file of a
// directory, an image layer or a git blob, read whole.
func cacheable(ch credscan.Chunk) bool {
	switch ch.Origin.Kind {
	case credscan.KindDir, credscan.KindGit, credscan.KindImage:
	default:
		return false
	}
	return ch.Whole && !ch.Derived && ch.Offset == 0 && ch.Overlap == 0 && (ch.Skip == "" || ch.Skip == "binary")
}

// versionedPart says ch is a part of an item read in parts (or a binary
// item's one chunk) that its source named by version.
func versionedPart(ch credscan.Chunk) bool {
	switch ch.Origin.Kind {
	case credscan.KindDir, credscan.KindImage:
	default:
		return false
	}
	return ch.Version != "" && !ch.Whole && !ch.Derived && (ch.Skip == "" || ch.Skip == "binary")
}

// cached scans ch through pass p: an item the source skipped as clean is
// counted from its entry; a whole item known clean is counted and not
// scanned; another is scanned (scan), and entered when it produced
// nothing. An item (not a git blob) that produced something is scanned
// with the hint its last scan left, when there is one, and leaves one
// when there is none and scan says what it learned is whole. It returns
// false for a chunk it leaves to the caller (one that is not a whole
// item). An item whose scan ctx cut short is not entered (gitleaks stops
// between rules when ctx is done: what it did not run found nothing).
func cached(ctx context.Context, p *cache.Pass, ch credscan.Chunk, res scanners.Sink, scan scanWith) bool {
	if ch.Cached != nil {
		res.Count(ch)
		return true
	}
	blob := ""
	if ch.Origin.Kind == credscan.KindGit {
		blob = ch.Origin.Blob
	}
	if !cacheable(ch) {
		if blob != "" {
			p.BlobDirty(blob) // streamed, or a part of one: not entered
			return false
		}
		if !versionedPart(ch) {
			return false
		}
		// a part of an item too large to read whole, which its source
		// named by version: entered under it once every part is clean
		t := &tracking{Sink: res}
		scan(t, nil)
		n := int64(len(ch.Data) - ch.Overlap)
		p.Part(string(ch.Origin.Kind), ch.Origin.Path, ch.Version, ch.Offset == 0, ch.Tail == 0,
			t.produced() || ctx.Err() != nil, n, ch.Skip == "binary")
		return true
	}
	var k, hk cache.Key
	var use *cache.Hint
	if blob != "" {
		k = p.Config().Blob(blob, ch.Origin.Path)
	} else {
		k, hk = p.Config().ContentKeys(string(ch.Origin.Kind), ch.Origin.Path, ch.Data)
		if e, ok := p.Lookup(k); ok {
			if ch.Version != "" { // the same bytes in a new version: named too
				p.Clean(p.Config().Version(string(ch.Origin.Kind), ch.Origin.Path, ch.Version), e)
			}
			res.Count(credscan.Chunk{Origin: ch.Origin, StartLine: 1, Whole: true, Cached: &credscan.CachedItem{Bytes: e.Bytes, Binary: e.Binary}})
			return true
		}
		if h, ok := p.LookupHint(hk); ok {
			use = &h
		}
	}
	t := &tracking{Sink: res}
	learned, whole := scan(t, use)
	entry := cache.Entry{Binary: ch.Skip == "binary"}
	if !entry.Binary {
		entry.Bytes = int64(len(ch.Data))
	}
	switch {
	case ctx.Err() != nil && blob != "":
		p.BlobDirty(blob)
	case ctx.Err() != nil:
	case t.produced() && blob != "":
		p.BlobDirty(blob)
	case t.produced():
		if use == nil && whole && !p.Failed(string(ch.Origin.Kind), ch.Origin.Path) {
			p.Hint(hk, learned)
		}
	case blob != "":
		base := ""
		if ch.Unchanged != nil {
			base = ch.Base
		}
		p.BlobClean(blob, k, entry, base)
	case p.Failed(string(ch.Origin.Kind), ch.Origin.Path):
		// an error was said for it (a damaged archive read as a file)
	default:
		p.Clean(k, entry)
		if ch.Version != "" {
			p.Clean(p.Config().Version(string(ch.Origin.Kind), ch.Origin.Path, ch.Version), entry)
		}
	}
	return true
}

// scanWith scans an item into res, running only what hint says produced
// there (nil: everything); it returns what this scan would leave as the
// item's hint, and whether that is whole (the scan ran everything, to the
// end, with rules a hint can narrow).
type scanWith func(res scanners.Sink, hint *cache.Hint) (learned cache.Hint, whole bool)

// tracking is a Sink that notes whether a chunk produced anything.
type tracking struct {
	scanners.Sink
	mu   sync.Mutex
	some bool
}

func (t *tracking) mark() {
	t.mu.Lock()
	t.some = true
	t.mu.Unlock()
}

func (t *tracking) produced() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.some
}

func (t *tracking) Add(fs []*credscan.Finding) {
	if len(fs) > 0 {
		t.mark()
	}
	t.Sink.Add(fs)
}

func (t *tracking) AddReference(ref credscan.Reference) { t.mark(); t.Sink.AddReference(ref) }
func (t *tracking) Suppressed(f *credscan.Finding)      { t.mark(); t.Sink.Suppressed(f) }
func (t *tracking) AddError(err error)                  { t.mark(); t.Sink.AddError(err) }
func (t *tracking) AddProblem(p string)                 { t.mark(); t.Sink.AddProblem(p) }

// failed records that an error was said for the item err names: a git
// blob is then not entered, nor any version scanned against it; another
// item is not entered either (a damaged archive is said, then read as a
// file: known clean, the next run would not say it).
func failed(p *cache.Pass, err error) {
	var ie *credscan.ItemError
	if p == nil || !errors.As(err, &ie) {
		return
	}
	if ie.Origin.Kind == credscan.KindGit && ie.Origin.Blob != "" {
		p.BlobDirty(ie.Origin.Blob)
		return
	}
	p.ItemFailed(string(ie.Origin.Kind), ie.Origin.Path)
}

// withPass puts p in ctx for the sources (nil leaves ctx as it is).
func withPass(ctx context.Context, p *cache.Pass) context.Context {
	if p == nil {
		return ctx
	}
	return cache.WithPass(ctx, p)
}
