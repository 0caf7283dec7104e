// Package git is the git history source: every blob reachable from the
// selected refs is scanned once (by object hash), and each finding is then
// attributed to the commit that first introduced it at each path the blob
// had, with the commit's author and date, and marked as still present at
// the tip of the default branch or in history only.
package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/credscan/credscan"
	scancache "github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/redact"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/archive"
	"github.com/credscan/credscan/scanners/chunk"
)

// Tags put on git findings.
const (
	TagAtTip       = "git:at-tip"       // the secret is in the default branch's tip
	TagHistoryOnly = "git:history-only" // deleted since, but in history
	// TagAtOrBefore: the commit named is where the history the repository
	// holds begins (a shallow clone's boundary, or the child of a missing
	// commit): the secret was introduced there or before.
	TagAtOrBefore = "git:at-or-before"
	lfsPointer    = "version https://git-lfs.github.com/spec/v1"
)

// Options select what history is scanned.
type Options struct {
	App     string
	Label   string   // the name reports give the repository (default: its path or URL)
	Branch  string   // scan only what this branch reaches
	Since   string   // leave out what this revision reaches
	Range   string   // "A..B": what B reaches and A does not
	Refs    []string // scan only what these refs reach (the manifest's ref)
	Workers int
	Logger  *slog.Logger
	// Auth authenticates a clone; nil picks it from the environment.
	Auth transport.AuthMethod
	// Git is the git binary that lists the history and reads the blobs:
	// "" finds one on the PATH; GoGit reads everything with go-git.
	Git string
	// Limits bound what a scan holds in memory; zero fields take the
	// defaults.
	Limits Limits
}

// GoGit is the Options.Git that reads the repository with go-git alone.
const GoGit = "go-git"

// Limits bound the memory a history scan holds.
type Limits struct {
	// ReadAhead bounds the bytes of blobs read ahead of the workers
	// (default 8 MiB).
	ReadAhead int64
	// LineHashes bounds the bytes of line hashes held to match versions
	// of a file (default 64 MiB); past it, versions are scanned whole.
	LineHashes int64
}

func (l Limits) withDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.ReadAhead, 8<<20)
	def(&l.LineHashes, keepBudget)
	return l
}

// Scanner scans one repository's history. Open it, Scan it with an
// Engine, then Attribute the findings; Close removes a temporary clone.
type Scanner struct {
	o      Options
	repo   *gogit.Repository
	label  string
	tmp    string
	st     *filesystem.Storage
	gitDir string
	occ    map[plumbing.Hash][]occurrence // blob → where and when it was introduced
	tip    map[string]plumbing.Hash       // path → blob at the default branch's tip
	// deltas holds, for each blob matched with another version of its
	// path, how its lines match that version's (see delta)
	deltas     map[plumbing.Hash]*delta
	deltaMu    sync.Mutex
	noDelta    bool  // scan every blob whole (tests compare)
	keepBudget int64 // bytes of line hashes held at once (Limits.LineHashes)
	// recording is what this pass's listing records in the scan cache
	// (see incPlan), or nil; graphN is how many commits the cache's
	// commit-graph held when this pass verified it (graphRead)
	recording *recorder
	graphN    int
	graphRead bool
	// planned counts the blobs planned, listed says the plan is complete
	// (Size)
	planned atomic.Int64
	listed  atomic.Bool
	kept    *keptBytes
	// boundary holds the commits whose history is not all there: a
	// shallow clone's boundary, the children of a missing commit
	boundary map[string]bool
	// Commits is the number of commits walked; Submodules lists the
	// submodule paths seen (listed, not followed).
	Commits    int
	Submodules []string
	// Incremental says that the last pass over the history listed only
	// the commits new since the scan cache's record of it (see incPlan).
	Incremental bool
	// listedAgain are the old commits an incremental pass listed again
	listedAgain []plumbing.Hash
	// Warnings say what of the history could not be scanned as it was
	// (a shallow clone); they hold no content.
	Warnings []string
}

var (
	_ scanners.Source     = (*Scanner)(nil)
	_ scanners.Attributor = (*Scanner)(nil)
	_ scanners.Sizer      = (*Scanner)(nil)
)

// Size implements scanners.Sizer: the unique blobs planned so far, final
// once the history is listed.
func (s *Scanner) Size() (items, bytes int64, final bool) {
	return s.planned.Load(), 0, s.listed.Load()
}

type occurrence struct {
	path   string
	commit *commitInfo
	pos    int // place in the walk (go-git's plan)
}

// addOcc adds oc to a blob's occurrences os, where earliestPerPath will
// keep only the earliest at each path: an occurrence at the same path
// that is as early as oc (in ranks' order, which the listing's commits
// already tell) makes it add nothing, and a later one gives way to it.
// (A merge diffed against each parent lists most of its blobs again: on
// etcd's history, five occurrences for each one kept.) A blob at many
// paths gets oc appended as it comes.
func addOcc(os []occurrence, oc occurrence) []occurrence {
	if len(os) > maxOccScan {
		return append(os, oc)
	}
	for i := range os {
		if os[i].path == oc.path {
			if !listedEarlier(oc.commit, os[i].commit) {
				return os
			}
			// (oc goes last, as it came: occurrences of one commit stay in
			// the order git listed them, which earliestPerPath keeps)
			os = append(os[:i], os[i+1:]...)
			break
		}
	}
	return append(os, oc)
}

// maxOccScan bounds the occurrences addOcc looks through.
const maxOccScan = 16

// listedEarlier says whether a comes before b in ranks' order: by
// committer time, a merge after the commits of the same second, then the
// later listed first.
func listedEarlier(a, b *commitInfo) bool {
	if a.committed != b.committed {
		return a.committed < b.committed
	}
	if a.parents != b.parents {
		return a.parents < b.parents
	}
	return a.listed > b.listed
}

type commitInfo struct {
	hash   string
	author string
	when   time.Time // authored
	order  int       // oldest first
	// for the order: committer time, parent count, place in git log's
	// listing
	committed int64
	parents   int
	listed    int
	// parentIDs are the parents' IDs (git log's listing only)
	parentIDs []plumbing.Hash
}

// Open opens a local repository (work tree or bare) or clones a URL into a
// temporary directory (bare, all branches and tags).
func Open(ctx context.Context, spec string, o Options) (*Scanner, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Limits = o.Limits.withDefaults()
	s := &Scanner{o: o, label: RedactURL(o.Label), keepBudget: o.Limits.LineHashes}
	if s.label == "" {
		s.label = RedactURL(spec)
	}
	if isURL(spec) {
		tmp, err := os.MkdirTemp("", "credscan-git-")
		if err != nil {
			return nil, err
		}
		auth := o.Auth
		if auth == nil {
			if auth, err = authFromEnv(spec); err != nil {
				os.RemoveAll(tmp)
				return nil, err
			}
		}
		o.Logger.Info("cloning", "repo", RedactURL(spec))
		_, err = gogit.PlainCloneContext(ctx, tmp, true, &gogit.CloneOptions{URL: spec, Auth: auth, Tags: gogit.AllTags})
		if err != nil {
			os.RemoveAll(tmp)
			return nil, cloneError(err, spec)
		}
		s.tmp = tmp
		s.gitDir = tmp
		s.st = newStorage(tmp, 16*cache.MiByte)
		if s.repo, err = gogit.Open(s.st, nil); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	gitDir, err := findGitDir(spec)
	if err != nil {
		return nil, credscan.UsageError("opening git repository %s: %v", spec, err)
	}
	s.gitDir = gitDir
	s.st = newStorage(gitDir, 16*cache.MiByte)
	repo, err := gogit.Open(s.st, nil)
	if err != nil {
		s.st.Close()
		return nil, credscan.UsageError("opening git repository %s: %v", spec, err)
	}
	s.repo = repo
	return s, nil
}

// newStorage opens a git directory keeping its pack files open and
// caching decoded objects (go-git's defaults reopen the pack for every
// object read). Open packs are not safe for concurrent reads: each
// goroutine that reads objects needs its own storage.
func newStorage(gitDir string, cacheSize cache.FileSize) *filesystem.Storage {
	return filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(cacheSize), filesystem.Options{KeepDescriptors: true})
}

// findGitDir returns the git directory of the work tree or bare
// repository at (or above) path.
func findGitDir(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	for {
		dot := filepath.Join(p, ".git")
		if fi, err := os.Stat(dot); err == nil {
			if fi.IsDir() {
				return dot, nil
			}
			b, err := os.ReadFile(dot) // a linked work tree: "gitdir: …"
			if err != nil {
				return "", err
			}
			d := strings.TrimSpace(strings.TrimPrefix(string(b), "gitdir:"))
			if !filepath.IsAbs(d) {
				d = filepath.Join(p, d)
			}
			return d, nil
		}
		if isBare(p) {
			return p, nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", gogit.ErrRepositoryNotExists
		}
		p = parent
	}
}

func isBare(p string) bool {
	for _, n := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(p, n)); err != nil {
			return false
		}
	}
	return true
}

// Close releases the repository and removes the temporary clone, if any.
func (s *Scanner) Close() error {
	if s.st != nil {
		s.st.Close()
	}
	if s.tmp != "" {
		return os.RemoveAll(s.tmp)
	}
	return nil
}

func isURL(s string) bool {
	return strings.Contains(s, "://") || (strings.Contains(s, "@") && strings.Contains(s, ":") && !strings.HasPrefix(s, "/"))
}

// RedactURL drops any user information (a token) from a URL, for
// messages and reports.
func RedactURL(u string) string { return credscan.RedactURL(u) }

// cloneError says why a clone failed from what kind of failure it was,
// never quoting the server: go-git puts the body of a 401, 403 or 404
// answer in its error, and a server's body may echo the request's headers
// (the token). The URL is named without its user information.
func cloneError(err error, spec string) error {
	op := "cloning " + RedactURL(spec)
	var he *githttp.Err
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return credscan.E(credscan.CodeCanceled, op, err)
	case errors.Is(err, transport.ErrAuthenticationRequired):
		return credscan.Errorf(credscan.CodeUnauthorized, "%s: the server asks for credentials (HTTP 401): set $CREDSCAN_GIT_TOKEN, or check that it is valid", op)
	case errors.Is(err, transport.ErrAuthorizationFailed):
		return credscan.Errorf(credscan.CodeUnauthorized, "%s: permission denied (HTTP 403)", op)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return credscan.Errorf(credscan.CodeNotFound, "%s: repository not found (HTTP 404), or not visible to these credentials", op)
	case errors.As(err, &he):
		code := credscan.CodeUnknown
		if he.StatusCode() >= 500 || he.StatusCode() == 429 {
			code = credscan.CodeUnavailable
		}
		return credscan.Errorf(code, "%s: the server answered HTTP %d", op, he.StatusCode())
	case errors.As(err, &ne):
		return credscan.Errorf(credscan.CodeUnavailable, "%s: cannot reach the server: %s", op, redact.Message(scrub(ne, spec)))
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return credscan.Errorf(credscan.CodeNotFound, "%s: the repository is empty", op)
	}
	// other failures (ssh, a bad pack): their first line, without what it
	// quotes
	return credscan.Errorf(credscan.CodeUnknown, "%s: %s", op, redact.Message(firstLine(scrub(err, spec))))
}

// scrub keeps a clone error from repeating the URL's user information.
func scrub(err error, spec string) string {
	msg := err.Error()
	if r := RedactURL(spec); r != spec {
		msg = strings.ReplaceAll(msg, spec, r)
	}
	return msg
}

func (s *Scanner) origin(path string, blob plumbing.Hash) credscan.Origin {
	return credscan.Origin{Kind: credscan.KindGit, App: s.o.App, Target: s.label, Path: path, Blob: blob.String()}
}

// starts returns the commits the walk starts from and those it must not
// enter (what --since or the left side of a range reaches).
func (s *Scanner) starts() (from []plumbing.Hash, stop []plumbing.Hash, err error) {
	resolve := func(rev string) (plumbing.Hash, error) {
		h, err := s.repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return plumbing.ZeroHash, credscan.UsageError("git revision %q: %v", rev, err)
		}
		return *h, nil
	}
	switch {
	case s.o.Range != "":
		a, b, ok := strings.Cut(s.o.Range, "..")
		if !ok || a == "" || b == "" {
			return nil, nil, credscan.UsageError("range %q: want A..B", s.o.Range)
		}
		ha, err := resolve(a)
		if err != nil {
			return nil, nil, err
		}
		hb, err := resolve(b)
		if err != nil {
			return nil, nil, err
		}
		return []plumbing.Hash{hb}, []plumbing.Hash{ha}, nil
	case s.o.Branch != "" || len(s.o.Refs) > 0:
		revs := append([]string(nil), s.o.Refs...)
		if s.o.Branch != "" {
			revs = append(revs, s.o.Branch)
		}
		for _, r := range revs {
			h, err := resolve(r)
			if err != nil {
				return nil, nil, err
			}
			from = append(from, h)
		}
	default:
		refs, err := s.repo.References()
		if err != nil {
			return nil, nil, fmt.Errorf("listing refs: %w", err)
		}
		err = refs.ForEach(func(r *plumbing.Reference) error {
			if r.Type() == plumbing.HashReference && (r.Name().IsBranch() || r.Name().IsTag() || r.Name().IsRemote()) {
				from = append(from, r.Hash())
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if head, err := s.repo.Head(); err == nil {
			from = append(from, head.Hash())
		}
	}
	if s.o.Since != "" {
		h, err := resolve(s.o.Since)
		if err != nil {
			return nil, nil, err
		}
		stop = append(stop, h)
	}
	return from, stop, nil
}

// peel turns a tag object's hash into its commit's.
func (s *Scanner) commit(h plumbing.Hash) (*object.Commit, error) {
	for range 10 {
		c, err := s.repo.CommitObject(h)
		if err == nil {
			return c, nil
		}
		t, terr := s.repo.TagObject(h)
		if terr != nil {
			return nil, err
		}
		h = t.Target
	}
	return nil, fmt.Errorf("tag chain too long at %s", h)
}

// shallowCommits returns the repository's shallow boundary, if any.
func (s *Scanner) shallowCommits() map[plumbing.Hash]bool {
	shallow := map[plumbing.Hash]bool{}
	if hs, err := s.repo.Storer.Shallow(); err == nil {
		for _, h := range hs {
			shallow[h] = true
		}
	}
	return shallow
}

// noteShallow records a shallow clone's boundary and warns of it.
func (s *Scanner) noteShallow(shallow map[plumbing.Hash]bool) {
	if len(shallow) == 0 {
		return
	}
	for h := range shallow {
		s.markBoundary(h.String())
	}
	w := fmt.Sprintf("%s is a shallow clone: the history behind %d commit(s) is not in it, so a secret first seen at such a commit was introduced there or before (tagged %s); fetch the full history (git fetch --unshallow) to know where", s.label, len(shallow), TagAtOrBefore)
	s.Warnings = append(s.Warnings, w)
	s.o.Logger.Warn("shallow clone", "repo", s.label, "boundary_commits", len(shallow))
}

func (s *Scanner) markBoundary(h string) {
	if s.boundary == nil {
		s.boundary = map[string]bool{}
	}
	s.boundary[h] = true
}

// walk returns the commits reachable from from and not from stop, oldest
// first. A commit that cannot be read is reported (a shallow clone's
// boundary is not an error), its children are marked as boundaries, and
// then every commit object the walk did not reach is walked too: what
// lies behind the gap is scanned, though no path leads there.
func (s *Scanner) walk(ctx context.Context, from, stop []plumbing.Hash, report func(error)) ([]*object.Commit, error) {
	shallow := s.shallowCommits()
	s.noteShallow(shallow)
	excluded := map[plumbing.Hash]bool{}
	queue := append([]plumbing.Hash(nil), stop...)
	for len(queue) > 0 {
		h := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if excluded[h] {
			continue
		}
		c, err := s.commit(h)
		if err != nil {
			continue
		}
		excluded[c.Hash] = true
		excluded[h] = true
		if !shallow[c.Hash] {
			queue = append(queue, c.ParentHashes...)
		}
	}
	seen := map[plumbing.Hash]bool{}
	child := map[plumbing.Hash]plumbing.Hash{} // a commit → a child that names it
	var out []*object.Commit
	gaps := 0
	queue = append(queue[:0], from...)
	for pass := 0; pass < 2; pass++ {
		for len(queue) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			h := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if seen[h] || excluded[h] {
				continue
			}
			seen[h] = true
			c, err := s.commit(h)
			if err != nil {
				// in a shallow clone a missing commit is past the boundary
				if !errors.Is(err, plumbing.ErrObjectNotFound) || len(shallow) == 0 {
					gaps++
					ch, ok := child[h]
					msg := fmt.Errorf("reading commit: %w (the history behind it is scanned as far as it can be found)", err)
					if ok {
						s.markBoundary(ch.String())
						msg = fmt.Errorf("reading commit, a parent of %s: %w (what is first seen at %s was introduced there or before; the history behind it is scanned as far as it can be found)", ch, err, ch.String()[:12])
					}
					report(&credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindGit, Target: s.label, Path: "commit " + h.String()}, Err: msg})
				}
				continue
			}
			if seen[c.Hash] && c.Hash != h || excluded[c.Hash] {
				continue
			}
			seen[c.Hash] = true
			out = append(out, c)
			if !shallow[c.Hash] {
				for _, p := range c.ParentHashes {
					child[p] = c.Hash
				}
				queue = append(queue, c.ParentHashes...)
			}
		}
		if gaps == 0 || pass > 0 {
			break
		}
		// past a missing commit: every commit object not reached yet
		// (what lay behind the gap, and any other unreachable commit)
		iter, err := s.repo.CommitObjects()
		if err != nil {
			break
		}
		_ = iter.ForEach(func(c *object.Commit) error {
			if !seen[c.Hash] && !excluded[c.Hash] {
				queue = append(queue, c.Hash)
			}
			return nil
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Committer.When, out[j].Committer.When
		if !a.Equal(b) {
			return a.Before(b)
		}
		return len(out[i].ParentHashes) < len(out[j].ParentHashes)
	})
	return out, nil
}

// Chunks plans the history's blobs (see plan), then yields every unique
// blob once, read on the scanner's workers, newest first.
func (s *Scanner) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	report := func(err error) { _ = yield(credscan.Chunk{}, err) }
	git := gitBinary(s.o.Git)
	// the default branch's tip files, read meanwhile through a storage
	// of their own (an open pack is not safe for concurrent reads)
	tipc := make(chan map[string]plumbing.Hash, 1)
	go func() { tipc <- s.tipFiles() }()
	jobs := make(chan blobJob, 64)
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pipe *pipeline
	if git != "" {
		if p, err := s.startPipeline(ctx, cancel, git, s.o.Workers, yield, errc); err == nil {
			pipe = p
		}
	}
	for range s.o.Workers {
		if pipe != nil {
			break // git cat-file reads, the pipeline's workers scan
		}
		br, err := s.goGitReader()
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer br.close()
			for j := range jobs {
				if err := br.scan(ctx, j, s.origin(j.path, j.hash), yield); err != nil {
					select {
					case errc <- err:
					default:
					}
					cancel()
				}
			}
		}()
	}
	// the plan hands blobs over while git lists the history: scanning
	// starts with the first commit listed, and the queue between never
	// holds up the listing
	q := newJobQueue()
	pass := scancache.PassFrom(ctx)
	planned := make(chan error, 1)
	go func() {
		defer q.close()
		planned <- s.plan(ctx, git, report, q.push)
	}()
	for {
		j, ok := q.pop()
		if !ok {
			break
		}
		if ctx.Err() != nil {
			continue
		}
		if j.known != nil {
			// counted from the cache as the plan found it: not listed
			_ = yield(credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindGit, App: s.o.App, Target: s.label}, StartLine: 1, Whole: true, Cached: j.known}, nil)
			continue
		}
		if j.skip != "" {
			_ = yield(credscan.Chunk{Origin: s.origin(j.path, j.hash), StartLine: 1, Whole: true, Skip: j.skip}, nil)
			continue
		}
		if pass != nil {
			lookup := func() (scancache.Entry, bool) {
				if j.hasKey {
					return pass.LookupBlobKey(j.hash.String(), j.key)
				}
				return pass.LookupBlob(j.hash.String(), j.path)
			}
			if e, ok := lookup(); ok {
				// known clean under this scan's configuration: not read
				_ = yield(credscan.Chunk{Origin: s.origin(j.path, j.hash), StartLine: 1, Whole: true, Cached: &credscan.CachedItem{Bytes: e.Bytes, Binary: e.Binary}}, nil)
				j.drop()
				continue
			}
		}
		if pipe != nil {
			pipe.submit(ctx, j)
			continue
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if pipe != nil {
		pipe.wait()
	}
	planErr := <-planned
	s.tip = <-tipc
	select {
	case err := <-errc: // a consumer's or reader's error comes first
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err // (what the plan says then is that it was stopped)
	}
	if rec := s.recording; planErr == nil && rec != nil {
		// the listing is recorded once the pass knows what is clean
		rec.pass.AtEnd(func() { s.record(rec) })
	}
	return planErr
}

// jobQueue hands blobs from the plan to the readers, holding as many as
// needed.
type jobQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	jobs   []blobJob
	closed bool
}

func newJobQueue() *jobQueue {
	q := &jobQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *jobQueue) push(j blobJob) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	q.cond.Signal()
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// pop returns the next blob, waiting for one; false once the queue is
// closed and empty.
func (q *jobQueue) pop() (blobJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.jobs) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.jobs) == 0 {
		return blobJob{}, false
	}
	j := q.jobs[0]
	q.jobs[0] = blobJob{}
	q.jobs = q.jobs[1:]
	return j, true
}

// plan walks the history, records where each blob was introduced at each
// of its paths (s.occ), and hands each unique blob to submit once, newest
// first, at the first path its newest commit lists it at: git packs keep
// a file's newest version whole and the older ones as deltas against
// newer ones, so git reconstructs less (1.15 s of CPU against 1.63 s
// oldest first on the versions benchmark). Each blob is matched with the
// version of its path handed just before it (a newer one), which keeps
// its line hashes until then. With git, `git log --raw` lists the history
// (see streamLog) and blobs are handed while it does; without it, or when
// it fails, go-git reads the trees and the rest are handed after.
func (s *Scanner) plan(ctx context.Context, git string, report func(error), submit func(blobJob)) (err error) {
	defer func() { s.listed.Store(err == nil) }()
	from, stop, err := s.starts()
	if err != nil {
		return err
	}
	s.kept = &keptBytes{budget: s.keepBudget}
	if s.deltas == nil {
		// kept from one pass over the history to the next (the rules',
		// the sweep's): findings carried to a version need its match
		s.deltas = map[plumbing.Hash]*delta{}
	}
	s.recording, s.Incremental = nil, false
	p := &planner{s: s, submit: submit, handed: map[plumbing.Hash]bool{}, at: map[string]lastVersion{}, filter: credscan.PathFilterFrom(ctx)}
	defer p.finish()
	if git != "" {
		if pass := scancache.PassFrom(ctx); pass != nil {
			p.rec = &recorder{pass: pass, git: git, filter: p.filter, handed: map[plumbing.Hash]handRec{}, subs: map[string]uint32{}}
			ok, err := s.incPlan(ctx, git, from, stop, pass, p)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				// (a broken object): listed whole, as without a record.
				// What was handed stays handed: it was handed where the
				// whole listing hands it, and is not handed twice
				s.o.Logger.Debug("the incremental listing failed; the history is listed whole", "repo", s.label, "error", err.Error())
			}
			if ok && err == nil {
				s.recording, s.Incremental = p.rec, true
				return nil
			}
		}
		err := s.logPlan(ctx, git, from, stop, p)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			s.recording = p.rec
			return nil
		}
		p.rec = nil
		s.o.Logger.Debug("git log failed; reading trees with go-git", "repo", s.label, "error", err.Error())
	}
	return s.walkPlan(ctx, from, stop, report, p)
}

// planner hands blobs over once each, matching each with the version of
// its path handed before it.
type planner struct {
	s      *Scanner
	submit func(blobJob)
	handed map[plumbing.Hash]bool
	at     map[string]lastVersion // path → the version handed last
	n      int
	rec    *recorder           // what the listing records for the next scan, or nil
	filter credscan.PathFilter // the scan's, or nil
}

type lastVersion struct {
	hash plumbing.Hash
	keep *lineInfo
}

// hand hands blob h over at path p, unless it was before.
func (p *planner) hand(h plumbing.Hash, path string) { p.handAt(h, path, nil, false) }

// handAt is hand from commit c's listing (nil: from trees read); whole
// hands it unmatched with other versions.
func (p *planner) handAt(h plumbing.Hash, path string, c *commitInfo, whole bool) {
	if p.handed[h] {
		return
	}
	p.handed[h] = true
	j := blobJob{hash: h, path: path, seq: p.n}
	p.n++
	p.s.planned.Add(1)
	if p.filter != nil {
		j.skip = p.filter.SkipPath(path)
	}
	if p.rec != nil && c != nil {
		j.key, j.hasKey = p.rec.pass.Config().Blob(h.String(), path), true
		p.rec.handed[h] = handRec{listed: uint32(c.listed), key: j.key, path: path, skip: j.skip}
	}
	if j.skip != "" {
		// no rule reads it: not read, nor matched. Every version of the
		// path is skipped from here on; an older one will not come for
		// the line hashes of the one handed before
		if b, ok := p.at[path]; ok {
			b.keep.release()
			delete(p.at, path)
		}
		p.submit(j)
		return
	}
	if !p.s.noDelta && !whole {
		if b, ok := p.at[path]; ok {
			// the reference kept for an older version passes to this one
			j.base, j.baseHash = b.keep, b.hash
		}
		j.keep = newLineInfo(1, p.s.kept)
		p.at[path] = lastVersion{h, j.keep}
	}
	p.submit(j)
}

// finish drops the line hashes of the versions no older one came for.
func (p *planner) finish() {
	for _, b := range p.at {
		b.keep.release()
	}
	p.at = map[string]lastVersion{}
}

// logPlan is plan through git log.
func (s *Scanner) logPlan(ctx context.Context, git string, from, stop []plumbing.Hash, p *planner) error {
	var commits []*commitInfo
	occ := map[plumbing.Hash][]occurrence{}
	subs := map[string]bool{}
	entry := func(c *commitInfo, e rawEntry) {
		switch e.mode {
		case filemode.Submodule:
			if !subs[e.path] && p.rec != nil {
				p.rec.subs[e.path] = uint32(c.listed)
			}
			subs[e.path] = true
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			occ[e.hash] = addOcc(occ[e.hash], occurrence{path: e.path, commit: c})
			p.handAt(e.hash, e.path, c, false)
		}
	}
	err := s.streamLog(ctx, git, from, stop, func(c *commitInfo) {
		c.listed = len(commits)
		commits = append(commits, c)
	}, entry)
	if err != nil {
		return err
	}
	// the merges whose own diffs may hold an earliest occurrence, listed
	// against each parent (see mergeDiffs)
	list := make([]listedCommit, len(commits))
	for i, c := range commits {
		list[i] = listedCommit{hash: plumbing.NewHash(c.hash), committed: c.committed, parents: c.parents, parentIDs: c.parentIDs}
	}
	if skewed := skewedMerges(list, len(stop) > 0); len(skewed) > 0 {
		s.o.Logger.Debug("merges dated before an ancestor, listed against each parent", "repo", s.label, "merges", len(skewed))
		ids := make([]plumbing.Hash, len(skewed))
		byHash := make(map[string]*commitInfo, len(skewed))
		for i, k := range skewed {
			ids[i], byHash[commits[k].hash] = list[k].hash, commits[k]
		}
		err := s.runLog(ctx, git, []string{"--no-walk=unsorted", "--diff-merges=separate"}, ids, nil, func(*commitInfo) {}, func(c *commitInfo, e rawEntry) {
			if m := byHash[c.hash]; m != nil {
				entry(m, e)
			}
		})
		if err != nil {
			return err
		}
	}
	if p.rec != nil {
		p.rec.order = make([]plumbing.Hash, len(commits))
		for i, c := range commits {
			p.rec.order[i] = plumbing.NewHash(c.hash)
		}
		if len(stop) > 0 {
			p.rec = nil // what --since leaves out is not listed: not recorded
		}
	}
	s.noteShallow(s.shallowCommits())
	// oldest first (see ranks)
	for i, r := range ranks(list) {
		commits[i].order = r
	}
	// of a blob's occurrences at a path, the earliest
	s.setOcc(occ)
	s.Commits = len(commits)
	s.setSubmodules(subs)
	return nil
}

// walkPlan is plan through go-git: the commits' trees are read, oldest
// first, then the blobs not handed yet are, newest first.
func (s *Scanner) walkPlan(ctx context.Context, from, stop []plumbing.Hash, report func(error), p *planner) error {
	commits, err := s.walk(ctx, from, stop, report)
	if err != nil {
		return err
	}
	s.Commits = len(commits)
	s.occ = map[plumbing.Hash][]occurrence{}
	v := &visitor{s: s, seenTree: map[treeKey]bool{}, seenAt: map[treeKey]bool{}, subs: map[string]bool{}}
	// what --since or a range's left side holds is known already
	v.seed = true
	for _, h := range stop {
		if c, err := s.commit(h); err == nil {
			_ = v.commit(c)
		}
	}
	v.seed = false
	for i, c := range commits {
		if err := ctx.Err(); err != nil {
			return err
		}
		v.info = &commitInfo{hash: c.Hash.String(), author: c.Author.Name, when: c.Author.When, order: i}
		if err := v.commit(c); err != nil {
			report(&credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindGit, Target: s.label, Commit: c.Hash.String()},
				Err: fmt.Errorf("reading the commit's tree: %w", err)})
		}
	}
	// each blob at the first path its newest commit holds it at
	type blobAt struct {
		hash plumbing.Hash
		occurrence
	}
	newest := make([]blobAt, 0, len(s.occ))
	for h, os := range s.occ {
		n := os[0]
		for _, oc := range os[1:] {
			if oc.commit.order > n.commit.order {
				n = oc
			}
		}
		newest = append(newest, blobAt{h, n})
	}
	sort.Slice(newest, func(a, b int) bool {
		x, y := newest[a], newest[b]
		if x.commit.order != y.commit.order {
			return x.commit.order > y.commit.order
		}
		return x.pos < y.pos
	})
	for _, b := range newest {
		p.hand(b.hash, b.path)
	}
	s.setSubmodules(v.subs)
	return nil
}

// setSubmodules lists the submodule paths seen, and logs them.
func (s *Scanner) setSubmodules(subs map[string]bool) {
	s.Submodules = s.Submodules[:0]
	for p := range subs {
		s.Submodules = append(s.Submodules, p)
	}
	sort.Strings(s.Submodules)
	for _, p := range s.Submodules {
		s.o.Logger.Info("submodule not followed", "repo", s.label, "path", p)
	}
}

type treeKey struct {
	hash plumbing.Hash
	path string
}

// visitor finds, commit after commit, the (path, blob) pairs not seen in an
// earlier commit. A subtree already seen at the same path holds only pairs
// seen before, so each distinct tree is read once per path, and no commit
// is compared with its parents.
type visitor struct {
	s        *Scanner
	info     *commitInfo
	seenTree map[treeKey]bool
	seenAt   map[treeKey]bool // blob at path
	subs     map[string]bool
	seed     bool // only mark what is seen
	n        int
}

func (v *visitor) commit(c *object.Commit) error {
	t, err := object.GetTree(v.s.repo.Storer, c.TreeHash)
	if err != nil {
		return err
	}
	return v.tree(t, "")
}

func (v *visitor) tree(t *object.Tree, prefix string) error {
	for _, e := range t.Entries {
		p := prefix + e.Name
		switch e.Mode {
		case filemode.Dir:
			k := treeKey{e.Hash, p}
			if v.seenTree[k] {
				continue
			}
			v.seenTree[k] = true
			sub, err := object.GetTree(v.s.repo.Storer, e.Hash)
			if err != nil {
				return fmt.Errorf("tree %s at %s: %w", e.Hash, p, err)
			}
			if err := v.tree(sub, p+"/"); err != nil {
				return err
			}
		case filemode.Submodule:
			v.subs[p] = true
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			v.file(p, e.Hash)
		}
	}
	return nil
}

// file records a blob at a path, unless met there before.
func (v *visitor) file(p string, h plumbing.Hash) {
	k := treeKey{h, p}
	if v.seenAt[k] {
		return
	}
	v.seenAt[k] = true
	if v.seed {
		return
	}
	v.n++
	v.s.occ[h] = append(v.s.occ[h], occurrence{path: p, commit: v.info, pos: v.n})
}

// tipFiles maps each file of the default branch's tip to its blob.
func (s *Scanner) tipFiles() map[string]plumbing.Hash {
	out := map[string]plumbing.Hash{}
	st := newStorage(s.gitDir, 8*cache.MiByte)
	defer st.Close()
	repo, err := gogit.Open(st, nil)
	if err != nil {
		return out
	}
	head, err := repo.Head()
	if err != nil {
		return out
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		return out
	}
	tree, err := c.Tree()
	if err != nil {
		return out
	}
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err != nil {
			break
		}
		if e.Mode.IsFile() {
			out[name] = e.Hash
		}
	}
	return out
}

// goGitReader opens a go-git reader of blobs through its own storage (when
// git cat-file cannot be used, or stopped).
func (s *Scanner) goGitReader() (*goGitReader, error) {
	st := newStorage(s.gitDir, 8*cache.MiByte)
	repo, err := gogit.Open(st, nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &goGitReader{s: s, repo: repo, st: st}, nil
}

// goGitReader reads blobs with go-git, each worker through its own
// storage (open packs are not safe for concurrent reads).
type goGitReader struct {
	s    *Scanner
	repo *gogit.Repository
	st   *filesystem.Storage
}

func (g *goGitReader) close() { g.st.Close() }

// scan yields one blob's chunks under its first path.
func (g *goGitReader) scan(ctx context.Context, j blobJob, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	defer j.drop()
	h := j.hash
	fail := func(err error) error {
		return yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading blob %s: %w", h, err)})
	}
	blob, err := g.repo.BlobObject(h)
	if err != nil {
		return fail(err)
	}
	r, err := blob.Reader()
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	if wt, ok := r.(io.WriterTo); ok {
		// go-git holds the blob in memory: scan its bytes where they are
		// (bytes.Reader.WriteTo hands them over in one Write) instead of
		// copying them
		var scanErr error
		wrote := false
		_, err := wt.WriteTo(writerFunc(func(p []byte) (int, error) {
			wrote = true
			scanErr = g.s.scanBlob(ctx, p, j, o, yield)
			return len(p), nil
		}))
		switch {
		case scanErr != nil:
			return scanErr
		case err != nil:
			return fail(err)
		case !wrote:
			return chunk.Default.Bytes(ctx, nil, o, yield) // an empty blob is still an item
		}
		return nil
	}
	if blob.Size <= int64(len(lfsPointer))+200 {
		data, err := io.ReadAll(r)
		if err != nil {
			return fail(err)
		}
		return g.s.scanBlob(ctx, data, j, o, yield)
	}
	err = archive.Default.Chunks(ctx, r, blob.Size, o, yield)
	var ie *credscan.ItemError
	if errors.As(err, &ie) {
		return yield(credscan.Chunk{}, err)
	}
	return err
}

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// mine says whether f is a finding on one of this history's blobs, not
// yet attributed to commits.
func (s *Scanner) mine(f *credscan.Finding) bool {
	return f.Origin.Kind == credscan.KindGit && f.Origin.Target == s.label && f.Origin.Blob != "" && f.Origin.Commit == ""
}

// Attribute turns findings on blobs into findings on commits: one per path
// the blob was introduced at, with the introducing commit, and of those
// with the same secret at the same path only the earliest. Each is tagged
// as still at the default branch's tip or in history only. Findings of
// other sources pass through.
func (s *Scanner) Attribute(fs []*credscan.Finding) []*credscan.Finding {
	fs = s.carried(fs)
	byBlob := map[string]map[string]bool{} // blob → fingerprints found in it
	for _, f := range fs {
		if s.mine(f) {
			if byBlob[f.Origin.Blob] == nil {
				byBlob[f.Origin.Blob] = map[string]bool{}
			}
			byBlob[f.Origin.Blob][f.Fingerprint] = true
		}
	}
	type key struct{ path, fp, rule string }
	best := map[key]*credscan.Finding{}
	bestOrder := map[key]int{}
	var out []*credscan.Finding
	for _, f := range fs {
		if !s.mine(f) {
			out = append(out, f)
			continue
		}
		for _, oc := range s.occ[plumbing.NewHash(f.Origin.Blob)] {
			k := key{oc.path + archive.Member(f.Origin.Path), f.Fingerprint, f.RuleID}
			if b, ok := best[k]; ok && (bestOrder[k] < oc.commit.order ||
				// the same commit: the first place in the file, whatever
				// order the findings came in
				bestOrder[k] == oc.commit.order && (b.Origin.Line < f.Origin.Line || b.Origin.Line == f.Origin.Line && b.Column <= f.Column)) {
				continue
			}
			g := *f
			g.Origin.Path = oc.path + archive.Member(f.Origin.Path) // a member stays named
			g.Origin.Commit = oc.commit.hash
			g.Origin.Author = oc.commit.author
			g.Origin.Date = oc.commit.when.UTC().Format(time.RFC3339)
			tag := TagHistoryOnly
			if tb, ok := s.tip[oc.path]; ok && byBlob[tb.String()][f.Fingerprint] {
				tag = TagAtTip
			}
			g.Tags = append(append([]string(nil), f.Tags...), tag)
			if s.boundary[oc.commit.hash] {
				g.Tags = append(g.Tags, TagAtOrBefore)
			}
			best[k] = &g
			bestOrder[k] = oc.commit.order
		}
	}
	keys := make([]key, 0, len(best))
	for k := range best {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bestOrder[keys[i]] < bestOrder[keys[j]] })
	for _, k := range keys {
		out = append(out, best[k])
	}
	return out
}
