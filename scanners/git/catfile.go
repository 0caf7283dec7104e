package git

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/sync/semaphore"

	"github.com/credscan/credscan"
	scancache "github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/scanners/archive"
	"github.com/credscan/credscan/scanners/chunk"
)

// catFile is a `git cat-file --batch` process: git inflates objects and
// resolves delta chains with its own delta-base cache, and the blobs never
// go through go-git's object cache (which hashes every object it caches).
// git writes its answers to a pipe grown to pipeSize (see pipeSize).
// Only used when a git binary is on the PATH (as is git log, which lists
// the history; see streamLog).
type catFile struct {
	proc   atomic.Pointer[os.Process] // for abort, from any goroutine
	git    string
	gitDir string
	cmd    *exec.Cmd
	in     *bufio.Writer
	out    *bufio.Reader
	stdin  io.Closer
	stderr *limitedWriter
	answer *os.File // the pipe's reading end
}

// pipeSize is the buffer asked for the pipe git answers through (Linux's
// largest for an unprivileged process by default). With the default
// 64 KiB, git and the reader woke each other every 64 KiB: 183,000
// context switches and 4.4 s of system time on prometheus/prometheus'
// history. Earlier git wrote to an unlinked file in /dev/shm instead, as
// fast as this pipe on the synthetic benchmark history and cobra but 1.2x
// slower on prometheus, where writing and freeing 2.5 GB of tmpfs pages
// cost 8 s more system time (docs/performance.md).
const pipeSize = 1 << 20

// gitBinary is the git binary of Options.Git: the one named, else the one
// on the PATH ("" when there is none, or when GoGit asks for go-git).
func gitBinary(want string) string {
	switch want {
	case GoGit:
		return ""
	case "":
		want = "git"
	}
	p, err := exec.LookPath(want)
	if err != nil {
		return ""
	}
	return p
}

// gitCommand is git run on the repository at gitDir with no user or
// system configuration, no prompts and no replace objects.
func gitCommand(ctx context.Context, git, gitDir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, git, append([]string{"--git-dir=" + gitDir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0", "GIT_NO_REPLACE_OBJECTS=1")
	return cmd
}

func newCatFile(git, gitDir string) (*catFile, error) {
	c := &catFile{git: git, gitDir: gitDir}
	return c, c.start()
}

func (c *catFile) start() error {
	// newest versions first, a small delta-base cache does as well as
	// git's default 96 MiB (1.06 s of CPU against 1.13 s on the benchmark
	// history) and keeps git's memory at 106 MB instead of 172 MB
	// (cat-file --batch runs no filters, hooks or textconv)
	cmd := gitCommand(context.Background(), c.git, c.gitDir, "-c", "core.deltaBaseCacheLimit=32m", "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	c.stderr = &limitedWriter{n: 4096}
	cmd.Stderr = c.stderr
	r, w, err := os.Pipe()
	if err != nil {
		stdin.Close()
		return err
	}
	growPipe(w)
	cmd.Stdout = w
	err = cmd.Start()
	w.Close() // git's
	if err != nil {
		r.Close()
		stdin.Close()
		return fmt.Errorf("starting git cat-file: %w", err)
	}
	c.cmd, c.stdin, c.answer = cmd, stdin, r
	c.proc.Store(cmd.Process)
	c.in = bufio.NewWriter(stdin)
	c.out = bufio.NewReaderSize(r, 256<<10)
	return nil
}

// kill stops a cat-file that died or is out of step (a corrupt object
// makes git exit); go-git then reads the remaining blobs.
func (c *catFile) kill() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	c.wait()
}

// wait waits for git to exit (after it was told to, or killed).
func (c *catFile) wait() {
	_ = c.answer.Close() // a killed git's unread answers
	_ = c.cmd.Wait()
	c.cmd = nil
}

// abort kills git from any goroutine (an interrupted scan: a write to git
// or a read of its answer must not wait forever).
func (c *catFile) abort() {
	if p := c.proc.Load(); p != nil {
		_ = p.Kill()
	}
}

func (c *catFile) close() {
	if c.cmd == nil {
		return
	}
	_ = c.stdin.Close()
	c.wait()
}

var errMissing = errors.New("object missing")

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// limitedWriter keeps the first n bytes written to it (git's stderr).
type limitedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// pipeline reads blobs through one `git cat-file --batch`, with requests
// written ahead of the answers (a request and its answer one at a time
// left the workers waiting on the pipe), and hands each small blob's
// bytes to the scanning workers. Big blobs are streamed by the reader
// itself. If git dies (a corrupt object, a repository it refuses), go-git
// reads that blob again and the rest; what go-git cannot read either is
// reported.
type pipeline struct {
	s        *Scanner
	cf       *catFile
	reqs     chan blobJob
	pending  chan blobJob
	blobs    chan blobItem
	queued   *semaphore.Weighted // bytes read and not yet scanned
	queueMax int64               // Limits.ReadAhead when it was made
	yield    func(credscan.Chunk, error) error
	wg       sync.WaitGroup
	errc     chan error
	cancel   context.CancelFunc
	pool     sync.Pool
}

type blobJob struct {
	hash plumbing.Hash
	path string
	seq  int // place in the walk
	// base, when set, holds the line hashes of the version of the path
	// (baseHash) to match this blob with; keep, when set, receives this
	// blob's for the versions to be matched with it (see delta)
	base     *lineInfo
	baseHash plumbing.Hash
	keep     *lineInfo
	// key is the blob's cache key (hasKey), computed when the plan
	// records the listing; known, when set, is no blob but what the blobs
	// the plan counts as known clean without listing them count
	key    scancache.Key
	hasKey bool
	known  *credscan.CachedItem
	// skip, when set, says why no rule reads the blob at its path
	// (credscan.PathFilter): it is counted as skipped, not read
	skip string
}

type blobItem struct {
	job    blobJob
	origin credscan.Origin
	data   *[]byte
	weight int64 // its share of Limits.ReadAhead
}

func (s *Scanner) startPipeline(ctx context.Context, cancel context.CancelFunc, git string, workers int, yield func(credscan.Chunk, error) error, errc chan error) (*pipeline, error) {
	cf, err := newCatFile(git, s.gitDir)
	if err != nil {
		return nil, err
	}
	// the blobs read ahead of the workers (bounded by the buffers that
	// hold them): they have blobs to scan while git rebuilds one from a
	// long chain of deltas
	ahead := s.o.Limits.ReadAhead
	p := &pipeline{s: s, cf: cf, reqs: make(chan blobJob, 4096), pending: make(chan blobJob, 8192),
		blobs: make(chan blobItem, 1024), queued: semaphore.NewWeighted(ahead), queueMax: ahead, yield: yield, errc: errc, cancel: cancel}
	go func() {
		<-ctx.Done() // the scan ended or was interrupted
		cf.abort()
	}()
	p.wg.Add(2 + workers)
	go p.write(ctx)
	go p.read(ctx)
	for range workers {
		go p.scanWorker(ctx)
	}
	return p, nil
}

// submit queues a blob (from the walk, in order).
func (p *pipeline) submit(ctx context.Context, j blobJob) {
	select {
	case p.reqs <- j:
	case <-ctx.Done():
	}
}

// wait waits until every queued blob is scanned.
func (p *pipeline) wait() {
	close(p.reqs)
	p.wg.Wait()
	p.cf.close()
}

func (p *pipeline) fail(err error) {
	select {
	case p.errc <- err:
	default:
	}
	p.cancel()
}

// write sends the requests to git, flushing whenever no more are queued.
func (p *pipeline) write(ctx context.Context) {
	defer p.wg.Done()
	defer close(p.pending)
	broken := false
	for j := range p.reqs {
		if ctx.Err() != nil {
			continue // drain
		}
		p.pending <- j
		if broken {
			continue
		}
		if _, err := p.cf.in.WriteString(j.hash.String() + "\n"); err != nil {
			broken = true // git died: the reader reads the rest with go-git
			continue
		}
		if len(p.reqs) == 0 {
			if err := p.cf.in.Flush(); err != nil {
				broken = true
			}
		}
	}
	if !broken {
		_ = p.cf.in.Flush()
	}
	_ = p.cf.stdin.Close() // git ends once it has answered everything
}

// read takes git's answers in request order.
func (p *pipeline) read(ctx context.Context) {
	defer p.wg.Done()
	defer close(p.blobs)
	var fallback *goGitReader
	defer func() {
		if fallback != nil {
			fallback.close()
		}
	}()
	for j := range p.pending {
		if ctx.Err() != nil {
			continue
		}
		o := p.s.origin(j.path, j.hash)
		if fallback != nil {
			if err := fallback.scan(ctx, j, o, p.yield); err != nil {
				p.fail(err)
			}
			continue
		}
		handed, err := p.readOne(ctx, j, o)
		if !handed {
			j.drop()
		}
		if err != nil {
			if errors.Is(err, errGitDied) && ctx.Err() == nil {
				// git stopped (a corrupt object, or a git that refuses the
				// repository): go-git reads this blob again, and the rest;
				// what it cannot read either is reported
				p.s.o.Logger.Debug("git cat-file stopped; reading the remaining blobs with go-git", "repo", p.s.label, "blob", j.hash.String(), "git", firstLine(strings.TrimSpace(p.cf.stderr.String())))
				br, gerr := p.s.goGitReader()
				if gerr != nil {
					p.fail(gerr)
					return
				}
				fallback = br
				if err := fallback.scan(ctx, j, o, p.yield); err != nil {
					p.fail(err)
				}
				continue
			}
			p.fail(err)
		}
	}
}

var errGitDied = errors.New("git cat-file stopped")

// readOne reads git's answer for j: a big blob is streamed and scanned
// here, a small one handed to the workers (handed is then true).
func (p *pipeline) readOne(ctx context.Context, j blobJob, o credscan.Origin) (handed bool, err error) {
	c := p.cf
	line, err := c.out.ReadString('\n')
	if err != nil {
		c.kill()
		return false, errGitDied
	}
	size, err := parseHeader(line)
	if err != nil {
		if errors.Is(err, errMissing) {
			return false, p.yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading blob %s: %w", j.hash, err)})
		}
		c.kill()
		return false, errGitDied
	}
	if size > chunk.DefaultWhole { // streamed here
		lr := &io.LimitedReader{R: c.out, N: size}
		err := archive.Default.Chunks(ctx, lr, size, o, p.yield)
		if _, derr := io.CopyN(io.Discard, c.out, lr.N+1); derr != nil {
			c.kill()
			return false, errGitDied
		}
		var ie *credscan.ItemError
		if errors.As(err, &ie) {
			return false, p.yield(credscan.Chunk{}, err)
		}
		return false, err
	}
	bp, _ := p.pool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	if int64(cap(*bp)) < size+1 {
		// a power of two, so that the buffer serves the versions of a
		// file that grow a little as well (it goes back to the pool)
		*bp = make([]byte, size+1, 1<<bits.Len64(uint64(size)))
	}
	weight := min(int64(cap(*bp)), p.queueMax) // what the buffer holds on to
	if err := p.queued.Acquire(ctx, weight); err != nil {
		return false, nil // interrupted
	}
	*bp = (*bp)[:size+1]
	if _, err := io.ReadFull(c.out, *bp); err != nil {
		p.queued.Release(weight)
		c.kill()
		return false, errGitDied
	}
	*bp = (*bp)[:size]
	select {
	case p.blobs <- blobItem{job: j, origin: o, data: bp, weight: weight}:
		return true, nil
	case <-ctx.Done():
		p.queued.Release(weight)
		return false, nil
	}
}

// maxPooled is the largest blob buffer kept for reuse: git's text blobs
// up to a few megabytes (generated files, lock files) come in many
// versions.
const maxPooled = 4 << 20

func (p *pipeline) scanWorker(ctx context.Context) {
	defer p.wg.Done()
	for it := range p.blobs {
		if ctx.Err() == nil {
			if err := p.s.scanBlob(ctx, *it.data, it.job, it.origin, p.yield); err != nil {
				p.fail(err)
			}
		}
		it.job.drop()
		p.queued.Release(it.weight)
		if cap(*it.data) <= maxPooled { // keep buffers for reuse
			p.pool.Put(it.data)
		}
	}
}

// parseHeader reads git's "<sha> blob <size>" answer.
func parseHeader(line string) (int64, error) {
	f := strings.Fields(line)
	switch {
	case len(f) == 2 && f[1] == "missing":
		return 0, errMissing
	case len(f) != 3 || f[1] != "blob":
		// not quoted: out of step, git's output could be a blob's content
		return 0, errors.New("unexpected answer from git cat-file")
	}
	n, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("unexpected size from git cat-file")
	}
	return n, nil
}

// scanInMemory yields the chunks of a blob held in memory, or counts it as
// a Git LFS pointer.
func scanInMemory(ctx context.Context, data []byte, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	if len(data) <= len(lfsPointer)+200 && bytes.HasPrefix(data, []byte(lfsPointer)) {
		return yield(credscan.Chunk{Origin: o, Skip: "git LFS pointer"}, nil)
	}
	if archive.Kind(o.Path) != "" {
		return archive.Default.Chunks(ctx, bytes.NewReader(data), int64(len(data)), o, yield)
	}
	return chunk.Default.Bytes(ctx, data, o, yield)
}
