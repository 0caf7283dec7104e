package git

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
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
// and entry for each file a commit adds or changes against its parent
// (a merge: each file it holds in a version no parent holds, see
// mergeDiffs): git compares the trees in C, where reading every tree and
// commit through go-git cost more CPU than anything but the rules (1.7 s
// against git's 0.3 s on the benchmark history), and the blobs it names
// can be read while it goes on. A (path, blob) pair a commit's tree holds and its diffs do not list
// is a parent's, so it is listed at an older commit.
func (s *Scanner) streamLog(ctx context.Context, git string, from, stop []plumbing.Hash, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	return s.runLog(ctx, git, nil, from, stop, commit, entry)
}

// mergeDiffs is how git log lists a merge's files: only those the merge
// holds in a version none of its parents holds at that path (a combined
// diff). Every other (path, blob) pair of the merge's tree is a parent's,
// listed where it came in, as for any commit. Merges diffed against each
// parent (separate) listed most of their files again: on etcd's history
// git wrote 56 MB instead of 14 and used 1.22 s of CPU instead of 0.93,
// and the scan 9.31 s of CPU instead of 8.25 (prometheus: 12.40 s
// against 11.32 s). What the merge's own diffs added was never a
// blob's earliest occurrence unless the merge is dated no later than the
// commit that brought the pair in: skewedMerges finds those merges, and
// logPlan lists them against each parent as well.
const mergeDiffs = "combined"

// runLog is streamLog with more options for git log (--no-walk).
func (s *Scanner) runLog(ctx context.Context, git string, opts []string, from, stop []plumbing.Hash, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	args := append([]string{"log", "--stdin", "--raw", "--diff-merges=" + mergeDiffs, "--root",
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
// each commit's header and author (a merge's once per parent when its
// diffs are separate), then for each file ":srcmode dstmode srcsha dstsha
// status" and its path (a merge's combined diff: "::" and a mode and an
// ID for each parent and the merge, see splitCombined). Fields
// are read in place, without a string each (a merge diffed against every
// parent lists most files again: 56 MB of fields on etcd's history).
func parseLog(r *bufio.Reader, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	paths := map[string]string{} // one string per path
	var cur *commitInfo
	var long []byte // a field longer than r's buffer
	// field returns the next field, valid until the next call
	field := func() ([]byte, error) {
		f, err := r.ReadSlice(0)
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], f...)
			for errors.Is(err, bufio.ErrBufferFull) {
				f, err = r.ReadSlice(0)
				long = append(long, f...)
			}
			f = long
		}
		if err != nil {
			return f, err
		}
		return bytes.TrimLeft(f[:len(f)-1], "\n"), nil
	}
	var meta [5][]byte
	for {
		f, err := field()
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(f)) != 0 {
				return errors.New("git log: truncated output")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case len(f) == 0:
		case len(f) > 1 && f[0] == ':' && f[1] == ':':
			// a merge's combined diff line: a mode for each parent and the
			// merge, then as many IDs, then a status for each parent; the
			// merge's are last
			k := 0
			for k < len(f) && f[k] == ':' {
				k++
			}
			pf, perr := field()
			if perr != nil {
				return errors.New("git log: truncated output")
			}
			mode, h, ok := splitCombined(f[k:], k)
			if cur == nil || !ok {
				return errors.New("git log: unexpected combined diff line")
			}
			if mode == 0 {
				continue // deleted by the merge
			}
			entry(cur, rawEntry{path: intern(paths, pf), hash: h, mode: filemode.FileMode(mode)})
		case f[0] == ':':
			if cur == nil || !splitRaw(f[1:], &meta) {
				return errors.New("git log: unexpected raw diff line")
			}
			deleted := string(meta[4]) == "D"
			mode, err := strconv.ParseUint(string(meta[1]), 8, 32)
			var h plumbing.Hash
			ok := len(meta[3]) == 2*len(h)
			if ok {
				_, herr := hex.Decode(h[:], meta[3])
				ok = herr == nil
			}
			pf, perr := field()
			if perr != nil {
				return errors.New("git log: truncated output")
			}
			if deleted {
				continue
			}
			if err != nil || !ok {
				return errors.New("git log: unexpected raw diff line")
			}
			entry(cur, rawEntry{path: intern(paths, pf), hash: h, mode: filemode.FileMode(mode)})
		default:
			c, err := parseCommitHeader(string(f))
			if err != nil {
				return err
			}
			a, err := field()
			if err != nil {
				return errors.New("git log: truncated output")
			}
			c.author = string(a)
			if cur != nil && cur.hash == c.hash {
				continue // a merge, diffed against its next parent
			}
			cur = c
			commit(c)
		}
	}
}

// intern returns the one string of paths for the path b.
func intern(paths map[string]string, b []byte) string {
	p, known := paths[string(b)]
	if !known {
		p = string(b)
		paths[p] = p
	}
	return p
}

// splitCombined reads a combined diff line's fields after its colons (one
// per parent, n of them): n+1 modes, n+1 IDs, the status letters. It
// returns the merge's mode and ID (mode 0: the merge deleted the file).
func splitCombined(b []byte, n int) (mode uint64, h plumbing.Hash, ok bool) {
	w := bytes.Fields(b)
	if len(w) != 2*(n+1)+1 || len(w[len(w)-1]) != n {
		return 0, h, false
	}
	mode, err := strconv.ParseUint(string(w[n]), 8, 32)
	if err != nil || len(w[2*n+1]) != 2*len(h) {
		return 0, h, false
	}
	if _, err := hex.Decode(h[:], w[2*n+1]); err != nil {
		return 0, h, false
	}
	return mode, h, true
}

// splitRaw splits a raw diff line's fields (after its ':') at single
// spaces into meta: false unless there are exactly five.
func splitRaw(b []byte, meta *[5][]byte) bool {
	for k := 0; k < 4; k++ {
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			return false
		}
		meta[k], b = b[:i], b[i+1:]
	}
	meta[4] = b
	return len(b) > 0 && bytes.IndexByte(b, ' ') < 0
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
	ids := make([]plumbing.Hash, 0, len(w)-3)
	for _, p := range w[3:] {
		if !plumbing.IsHash(p) {
			return nil, bad
		}
		ids = append(ids, plumbing.NewHash(p))
	}
	return &commitInfo{hash: w[0], committed: ct, when: time.Unix(at, 0).UTC(), parents: len(w) - 3, parentIDs: ids}, nil
}
