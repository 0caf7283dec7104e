// Package dir is the directory source: every regular file under a set of
// roots, read in parallel and streamed in overlapping chunks so that a
// file of any size is scanned in bounded memory with exact line numbers.
package dir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credscan/credscan"
	scancache "github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/archive"
	"github.com/credscan/credscan/scanners/chunk"
)

// Scanner scans directories. It is safe for concurrent use.
type Scanner struct {
	roots   []string
	app     string
	workers int
	sizes   chunk.Sizes
	skipDir func(name string) bool
	// missingOK: a root that does not exist is an item error of the
	// scan, not a refusal of New
	missingOK bool
	// planned counts the files queued, walked says the walk is over
	// (Size)
	planned atomic.Int64
	walked  atomic.Bool
	// started is when the current Chunks began: a file changed since
	// (or just before) has no version for the scan cache
	started time.Time
	// lastWalk is what the last complete walk met, replayed by the next
	// Chunks (the sweep's pass reads the roots again: their directories
	// are not read again, nor the files the cache knows clean by the
	// version the first pass saw); versions holds those versions by path
	walkMu   sync.Mutex
	lastWalk []walkEvent
	versions sync.Map
	replay   bool // WithSecondPass
	portable bool // walk with walkPortable (tests compare the walks)
}

// walkEvent is what the walk met: a file to read (job), an item it
// skipped (skip, its kind) or an error.
type walkEvent struct {
	job  *job
	o    *credscan.Origin // of a skip or an error
	skip string
	err  error
}

// maxReplay bounds the walk events kept for the next Chunks (a larger
// tree is walked again).
const maxReplay = 1 << 20

var _ scanners.Sizer = (*Scanner)(nil)

// Size implements scanners.Sizer: the files found so far, final once the
// walk is over (their bytes are not known before they are read).
func (s *Scanner) Size() (items, bytes int64, final bool) {
	return s.planned.Load(), 0, s.walked.Load()
}

var _ scanners.Source = (*Scanner)(nil)

// Option configures a Scanner.
type Option func(*Scanner) error

// WithApp attributes findings to an app of the manifest.
func WithApp(app string) Option { return func(s *Scanner) error { s.app = app; return nil } }

// WithWorkers sets how many files are read at once (default: one per CPU).
func WithWorkers(n int) Option {
	return func(s *Scanner) error {
		if n < 1 {
			return fmt.Errorf("workers must be at least 1, got %d", n)
		}
		s.workers = n
		return nil
	}
}

// WithSecondPass says the roots will be read again by the same scan (the
// sweep's pass): the first complete walk is kept (its files, and the
// versions the scan cache saw) for the next Chunks to replay.
func WithSecondPass() Option { return func(s *Scanner) error { s.replay = true; return nil } }

// WithMissingRoots makes a root that does not exist (or cannot be read)
// an item error reported when it is scanned, after which the other roots
// are scanned, instead of an error from New: what an estate wants, where
// one app's missing checkout must not stop the others.
func WithMissingRoots() Option { return func(s *Scanner) error { s.missingOK = true; return nil } }

// WithChunking sets the chunk size, the overlap and the whole-file limit.
func WithChunking(size, overlap int, whole int64) Option {
	return func(s *Scanner) error {
		z := chunk.Sizes{Chunk: size, Overlap: overlap, Whole: whole}
		if err := z.Check(); err != nil {
			return err
		}
		s.sizes = z
		return nil
	}
}

// New returns a Scanner of roots (directories or files).
func New(roots []string, opts ...Option) (*Scanner, error) {
	if len(roots) == 0 {
		return nil, credscan.UsageError("no directory to scan")
	}
	s := &Scanner{roots: roots, workers: runtime.NumCPU(), sizes: chunk.Default,
		skipDir: func(name string) bool { return name == ".git" }}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, credscan.UsageError("%v", err)
		}
	}
	for _, r := range roots {
		if _, err := os.Stat(r); err != nil && !s.missingOK {
			return nil, credscan.UsageError("cannot scan %s: %v", r, errors.Unwrap(err))
		}
	}
	return s, nil
}

// What the walk skips without reading, by kind (counted in stats.skipped).
const (
	kindSymlink   = "symlink (not followed)"
	kindFIFO      = "named pipe"
	kindSocket    = "socket"
	kindDevice    = "device"
	kindDir       = "directory"
	kindIrregular = "irregular file"
)

// irregularError says a path is not a regular file, and what it is.
type irregularError struct{ kind string }

func (e *irregularError) Error() string { return "not a regular file: " + e.kind }

// fileKind names what a non-regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return kindSymlink
	case m&fs.ModeNamedPipe != 0:
		return kindFIFO
	case m&fs.ModeSocket != 0:
		return kindSocket
	case m&fs.ModeDevice != 0:
		return kindDevice
	case m.IsDir():
		return kindDir
	}
	return kindIrregular
}

// noteVersion keeps the version of path this walk saw (v, "" for none)
// for the second pass, when one will come.
func (s *Scanner) noteVersion(path, v string) {
	if v != "" && s.replay && s.planned.Load() < maxReplay {
		s.versions.Store(path, v)
	}
}

// readBufs holds the workers' read buffers between walks.
var readBufs = sync.Pool{New: func() any { return new([]byte) }}

type job struct {
	root, path, rel string
	ver             string // the version the walk or the last walk's pass saw, if any
	stated          bool   // the walk looked the version up (ver: "" when there is none)
}

// Chunks walks the roots and yields every regular file's chunks, reading
// files on the Scanner's workers. Symbolic links are not followed (so
// link loops cannot trap the walk). Unreadable files and directories are
// yielded as *credscan.ItemError and the walk goes on. A later Chunks
// (another pass over the same sources: the sweep's) replays what the
// first complete walk met when WithSecondPass is set, reading each file
// again as it is then; a file the scan cache knows clean at the version
// the first pass saw is not opened.
func (s *Scanner) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	s.started = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, 256)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		stopErr  error
		yieldMu  sync.Mutex // errors from the walker and workers are yielded one at a time
		safeStop = func(err error) {
			errOnce.Do(func() { stopErr = err; cancel() })
		}
	)
	yieldErr := func(o credscan.Origin, err error) {
		yieldMu.Lock()
		defer yieldMu.Unlock()
		if e := yield(credscan.Chunk{Origin: o}, &credscan.ItemError{Origin: o, Err: err}); e != nil {
			safeStop(e)
		}
	}
	skip := func(o credscan.Origin, kind string) {
		yieldMu.Lock()
		defer yieldMu.Unlock()
		if e := yield(credscan.Chunk{Origin: o, Skip: kind}, nil); e != nil {
			safeStop(e)
		}
	}
	filter := credscan.PathFilterFrom(ctx)
	for w := 0; w < s.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// a read buffer from the pool, grown to what the files read
			// need (a run the cache mostly skips reads few files: 15
			// directories' workers would otherwise each allocate and
			// fault in a chunk-sized buffer they do not use)
			bp := readBufs.Get().(*[]byte)
			defer readBufs.Put(bp)
			buf := *bp
			defer func() { *bp = buf[:0] }()
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				o := credscan.Origin{Kind: credscan.KindDir, App: s.app, Target: j.root, Path: j.rel}
				if why := filterSkips(filter, o.Path); why != "" {
					skip(o, why) // (here, not in the walk: a sweep's pass replays the walk and reads it)
					continue
				}
				if err := s.scanFile(ctx, j, o, &buf, yield); err != nil {
					var ie *credscan.ItemError
					if errors.As(err, &ie) {
						yieldErr(o, ie.Err)
						continue
					}
					safeStop(err)
				}
			}
		}()
	}
	send := func(j job) bool {
		select {
		case jobs <- j:
			s.planned.Add(1)
			return true
		case <-ctx.Done():
			return false
		}
	}
	s.walkMu.Lock()
	replay := s.lastWalk
	s.walkMu.Unlock()
	if replay != nil {
		for _, ev := range replay {
			if ctx.Err() != nil {
				break
			}
			switch {
			case ev.job != nil:
				j := *ev.job
				if v, ok := s.versions.Load(j.path); ok {
					j.ver = v.(string)
				}
				send(j)
			case ev.err != nil:
				yieldErr(*ev.o, ev.err)
			default:
				skip(*ev.o, ev.skip)
			}
		}
	} else {
		var events []walkEvent
		note := func(ev walkEvent) {
			if s.replay && len(events) < maxReplay {
				events = append(events, ev)
			}
		}
		for _, root := range s.roots {
			if ctx.Err() != nil {
				break
			}
			s.walk(ctx, root, walker{
				send:     func(j job) bool { note(walkEvent{job: &j}); return send(j) },
				yieldErr: func(o credscan.Origin, err error) { note(walkEvent{o: &o, err: err}); yieldErr(o, err) },
				skip:     func(o credscan.Origin, kind string) { note(walkEvent{o: &o, skip: kind}); skip(o, kind) },
			})
		}
		if s.replay && ctx.Err() == nil && len(events) < maxReplay {
			s.walkMu.Lock()
			s.lastWalk = events
			s.walkMu.Unlock()
		}
	}
	s.walked.Store(true)
	close(jobs)
	wg.Wait()
	if stopErr != nil {
		return stopErr
	}
	return nil
}

// filterSkips is f.SkipPath(p), "" without a filter.
func filterSkips(f credscan.PathFilter, p string) string {
	if f == nil {
		return ""
	}
	return f.SkipPath(p)
}

// walker is what a walk reports to: files to read (send: false when
// the walk must stop), unreadable directories and skipped items.
type walker struct {
	send     func(job) bool
	yieldErr func(credscan.Origin, error)
	skip     func(credscan.Origin, string)
}

func (s *Scanner) walk(ctx context.Context, root string, w walker) {
	fi, err := os.Stat(root)
	if err != nil {
		w.yieldErr(credscan.Origin{Kind: credscan.KindDir, App: s.app, Target: root}, fmt.Errorf("reading root: %w", unwrapPath(err)))
		return
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() { // a pipe, a socket, a device named as a root
			w.skip(credscan.Origin{Kind: credscan.KindDir, App: s.app, Target: root, Path: filepath.Base(root)}, fileKind(fi.Mode()))
			return
		}
		w.send(job{root: root, path: root, rel: filepath.Base(root)})
		return
	}
	// a root that is a link to a directory is walked (links inside it
	// are not followed)
	top := root
	if l, err := os.Lstat(root); err == nil && l.Mode()&fs.ModeSymlink != 0 {
		if r, err := filepath.EvalSymlinks(root); err == nil {
			top = r
		}
	}
	if s.portable {
		s.walkPortable(ctx, root, top, w)
		return
	}
	s.walkTree(ctx, root, top, w)
}

// walkPortable walks the directory top (of root) with filepath.WalkDir,
// in lexical order: directories and files it cannot read are errors,
// directories skipDir names are not entered, links are not followed,
// and what is not a regular file is skipped by kind. Files' versions are
// looked up by the workers. walkTree does the same.
func (s *Scanner) walkPortable(ctx context.Context, root, top string, w walker) {
	_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(top, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			w.yieldErr(credscan.Origin{Kind: credscan.KindDir, App: s.app, Target: root, Path: rel}, fmt.Errorf("reading directory: %w", unwrapPath(err)))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != top && s.skipDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			// symlinks are not followed (a link loop cannot trap the
			// walk; what a link points at inside a root is scanned
			// there), and sockets, pipes and devices are never opened:
			// each is counted as skipped, by kind
			o := credscan.Origin{Kind: credscan.KindDir, App: s.app, Target: root, Path: rel}
			w.skip(o, fileKind(d.Type()))
			return nil
		}
		if !w.send(job{root: root, path: p, rel: rel}) {
			return ctx.Err()
		}
		return nil
	})
}

// unwrapPath drops the *fs.PathError's path (the origin names it already).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// scanFile yields the chunks of one file. Read errors come back as
// *credscan.ItemError; other errors come from yield.
func (s *Scanner) scanFile(ctx context.Context, j job, o credscan.Origin, buf *[]byte, yield func(credscan.Chunk, error) error) error {
	path, ver := j.path, j.ver
	pass := scancache.PassFrom(ctx)
	// knownClean yields the file as counted from its entry when the cache
	// knows it clean at version v
	knownClean := func(v string) (bool, error) {
		e, ok := pass.Lookup(pass.Config().Version(string(o.Kind), o.Path, v))
		if !ok {
			return false, nil
		}
		return true, yield(credscan.Chunk{Origin: o, StartLine: 1, Whole: true, Cached: &credscan.CachedItem{Bytes: e.Bytes, Binary: e.Binary}}, nil)
	}
	if pass != nil {
		// the version the walk or an earlier pass of this scan saw, else
		// the one the file's status names: a file the cache knows clean
		// at it is not even opened (one stat instead of open, two stats
		// and close)
		if ver == "" && !j.stated {
			ver = pathVersion(path, s.started.Add(-2*time.Second))
			s.noteVersion(path, ver)
		}
		if ver != "" {
			if ok, err := knownClean(ver); ok {
				return err
			}
		}
	}
	fh, err := openFile(path)
	var irr *irregularError
	if errors.As(err, &irr) {
		return yield(credscan.Chunk{Origin: o, Skip: irr.kind}, nil) // a pipe, a socket, a device named as a root
	}
	if err != nil {
		return &credscan.ItemError{Origin: o, Err: fmt.Errorf("opening file: %w", unwrapPath(err))}
	}
	defer fh.Close()
	size, err := fh.Size()
	if err != nil {
		return &credscan.ItemError{Origin: o, Err: fmt.Errorf("stat: %w", unwrapPath(err))}
	}
	opened := "" // the version read
	if pass != nil {
		// the open file's status names the version read (looked up again
		// only when it is not the one looked up above: the file changed
		// since); the engine enters it under that version
		if v := fh.Version(s.started.Add(-2 * time.Second)); v != "" {
			opened = v
			if v != ver {
				s.noteVersion(path, v)
				if ok, err := knownClean(v); ok {
					return err
				}
			}
			inner := yield
			yield = func(ch credscan.Chunk, err error) error {
				// (the file's chunks, whole or parts of it: not an
				// archive's members)
				if err == nil && !strings.Contains(ch.Origin.Path[len(o.Path):], "!") {
					ch.Version = v
				}
				return inner(ch, err)
			}
		}
	}
	if archive.Kind(path) != "" {
		// each member an item (named by the file's version and its place,
		// for the cache)
		return archive.Default.Chunks(archive.WithVersion(ctx, opened), fh, size, o, yield)
	}
	if size <= s.sizes.Whole {
		data := *buf
		if int64(cap(data)) < size+1 {
			data = make([]byte, 0, size+1)
		}
		data = data[:0]
		for {
			if len(data) == cap(data) {
				data = append(data, 0)[:len(data)]
			}
			n, err := fh.Read(data[len(data):cap(data)])
			data = data[:len(data)+n]
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading file: %w", unwrapPath(err))}
			}
			if int64(len(data)) > s.sizes.Whole { // grew while we read: stream the rest
				return s.sizes.Stream(ctx, io.MultiReader(bytes.NewReader(append([]byte(nil), data...)), fh), o, yield)
			}
		}
		if cap(data) <= s.sizes.Chunk+s.sizes.Overlap {
			*buf = data
		}
		return chunk.Whole(data, o, yield)
	}
	return s.sizes.Stream(ctx, fh, o, yield)
}

// file is an open file read once from its start.
type file interface {
	io.ReadCloser
	Size() (int64, error)
	// Version names the content's version without reading it (device,
	// inode, size, modification and change times, as git's index does),
	// once Size was called; "" when it cannot, or when either time is not
	// before before (a file changed as the scan started might change
	// again within the same timestamp).
	Version(before time.Time) string
}
