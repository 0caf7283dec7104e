package git

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// rawEntry is a file a commit's diff against one of its parents adds or
// changes: its path, new blob and mode.
type rawEntry struct {
	path string
	hash plumbing.Hash
	mode filemode.FileMode
}

// logFormat is each commit's header: hash, committer and author times,
// parents, then the author's name in a field of its own.
const logFormat = "--format=%x00%H %ct %at %P%x00%an"

// streamLog runs `git log --raw` over the commits that from reaches and
// stop does not, newest first, and calls commit for each commit it lists
// and entry for each file a commit adds or changes against each of its
// parents (merges are diffed against every parent): git compares the
// trees in C, where reading every tree and commit through go-git cost
// more CPU than anything but the rules (1.7 s against git's 0.3 s on the
// benchmark history), and the blobs it names can be read while it goes
// on. A (path, blob) pair a commit's tree holds and its diffs do not list
// is its parent's, so it is listed at an older commit.
func (s *Scanner) streamLog(ctx context.Context, git string, from, stop []plumbing.Hash, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	return s.runLog(ctx, git, nil, from, stop, commit, entry)
}

// runLog is streamLog with more options for git log (--no-walk).
func (s *Scanner) runLog(ctx context.Context, git string, opts []string, from, stop []plumbing.Hash, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	args := append([]string{"log", "--stdin", "--raw", "--diff-merges=separate", "--root",
		"--no-renames", "--no-abbrev", "--no-color", "--no-ext-diff", "--no-textconv", "--no-mailmap", "-z", logFormat}, opts...)
	cmd := gitCommand(ctx, git, s.gitDir, args...)
	cmd.Stdin = revsInput(from, stop)
	stderr := &limitedWriter{n: 4096}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	perr := parseLog(bufio.NewReaderSize(out, 256<<10), commit, entry)
	if perr != nil {
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case perr != nil:
		return perr
	case werr != nil:
		return fmt.Errorf("git log: %v: %s", werr, firstLine(strings.TrimSpace(stderr.String())))
	}
	return nil
}

// revsInput is what git's --stdin reads: the commits from, and those
// of stop negated.
func revsInput(from, stop []plumbing.Hash) io.Reader {
	var revs strings.Builder
	for _, h := range from {
		revs.WriteString(h.String() + "\n")
	}
	for _, h := range stop {
		revs.WriteString("^" + h.String() + "\n")
	}
	return strings.NewReader(revs.String())
}

// parseLog reads `git log --raw -z` in logFormat: NUL-separated fields,
// each commit's header and author (a merge's once per parent), then for
// each file ":srcmode dstmode srcsha dstsha status" and its path.
func parseLog(r *bufio.Reader, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	paths := map[string]string{} // one string per path
	var cur *commitInfo
	field := func() (string, error) {
		f, err := r.ReadString(0)
		if err != nil {
			return f, err
		}
		return strings.TrimLeft(f[:len(f)-1], "\n"), nil
	}
	for {
		f, err := field()
		if errors.Is(err, io.EOF) {
			if strings.TrimSpace(f) != "" {
				return errors.New("git log: truncated output")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case f == "":
		case f[0] == ':':
			meta := strings.Fields(f[1:])
			if cur == nil || len(meta) != 5 {
				return errors.New("git log: unexpected raw diff line")
			}
			p, err := field()
			if err != nil {
				return errors.New("git log: truncated output")
			}
			if meta[4] == "D" {
				continue
			}
			mode, err := strconv.ParseUint(meta[1], 8, 32)
			if err != nil || !plumbing.IsHash(meta[3]) {
				return errors.New("git log: unexpected raw diff line")
			}
			if q, ok := paths[p]; ok {
				p = q
			} else {
				paths[p] = p
			}
			entry(cur, rawEntry{path: p, hash: plumbing.NewHash(meta[3]), mode: filemode.FileMode(mode)})
		default:
			c, err := parseCommitHeader(f)
			if err != nil {
				return err
			}
			if c.author, err = field(); err != nil {
				return errors.New("git log: truncated output")
			}
			if cur != nil && cur.hash == c.hash {
				continue // a merge, diffed against its next parent
			}
			cur = c
			commit(c)
		}
	}
}

var errLogOutput = errors.New("git log: unexpected output")

// parseCommitHeader reads "hash committer-time author-time parents...".
func parseCommitHeader(f string) (*commitInfo, error) {
	w := strings.Fields(f)
	bad := errLogOutput
	if len(w) < 3 || !plumbing.IsHash(w[0]) {
		return nil, bad
	}
	ct, err1 := strconv.ParseInt(w[1], 10, 64)
	at, err2 := strconv.ParseInt(w[2], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, bad
	}
	for _, p := range w[3:] {
		if !plumbing.IsHash(p) {
			return nil, bad
		}
	}
	return &commitInfo{hash: w[0], committed: ct, when: time.Unix(at, 0).UTC(), parents: len(w) - 3}, nil
}
