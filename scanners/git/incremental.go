package git

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	scancache "github.com/credscan/credscan/cache"
)

// The incremental listing. With the scan cache on, a history scan leaves
// a record of its listing in the cache (a side record: digests only):
// a hash of the sequence of commits `git log` listed, and for every
// unique blob the commit that first listed it, whether the scan found it
// clean (and its key), and the commits that introduced it at each of
// its paths. The next scan of the same history lists the commits with
// `git rev-list` (commit IDs, times and parents, no trees: a tenth of
// `git log --raw`'s time) and, when the old listing is exactly the tail
// of the new one (nothing rewritten or deleted, only commits put on
// top), diffs only the new commits and, again, the few old commits it
// needs: those that introduced the blobs that produced findings (read
// again, always) and the submodules. The old blobs known clean are
// counted from their cache entries without being listed. Everything
// else (which path a blob is scanned under, which commit a finding is
// attributed to, the order of commits) is what a full listing gives,
// since `git log --no-walk=unsorted` over the commits in rev-list's order
// prints exactly what the full `git log` prints for them. When anything
// does not hold (no record, another sequence, an entry evicted, a
// shallow clone, --since or a range), the history is listed whole.

// listedCommit is a commit as rev-list lists it.
type listedCommit struct {
	hash      plumbing.Hash
	committed int64
	parents   int
}

// histBlob is a blob of the recorded history.
type histBlob struct {
	hash  plumbing.Hash
	hand  uint32 // the listing index of the commit that first listed it
	clean bool
	key   scancache.Key // when clean
	occ   []uint32      // the commits that introduced it at each path
}

// history is the record of one scan's listing.
type history struct {
	seq     [32]byte // SHA-256 of the commit IDs in listing order
	commits uint32
	blobs   []histBlob
	subs    []uint32 // the commits that first listed each submodule path
}

const histVersion = 1

func seqHash(hs []plumbing.Hash) [32]byte {
	h := sha256.New()
	for _, c := range hs {
		h.Write(c[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (h *history) encode() []byte {
	n := 64 + len(h.blobs)*42 + len(h.subs)*4
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, histVersion)
	b = append(b, h.seq[:]...)
	b = binary.AppendUvarint(b, uint64(h.commits))
	b = binary.AppendUvarint(b, uint64(len(h.blobs)))
	for _, x := range h.blobs {
		b = append(b, x.hash[:]...)
		b = binary.AppendUvarint(b, uint64(x.hand))
		if x.clean {
			b = append(b, 1)
			b = append(b, x.key[:]...)
		} else {
			b = append(b, 0)
		}
		b = binary.AppendUvarint(b, uint64(len(x.occ)))
		for _, o := range x.occ {
			b = binary.AppendUvarint(b, uint64(o))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(h.subs)))
	for _, s := range h.subs {
		b = binary.AppendUvarint(b, uint64(s))
	}
	return b
}

var errHistory = errors.New("not a history record")

func decodeHistory(b []byte) (*history, error) {
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	take := func(n int) []byte {
		if len(b) < n {
			bad = true
			return make([]byte, n)
		}
		out := b[:n]
		b = b[n:]
		return out
	}
	if uv() != histVersion || bad {
		return nil, errHistory
	}
	h := &history{}
	copy(h.seq[:], take(32))
	commits := uv()
	nb := uv()
	if bad || commits > 1<<31 || nb > uint64(len(b))/22 {
		return nil, errHistory
	}
	h.commits = uint32(commits)
	idx := func() uint32 {
		v := uv()
		if v >= commits {
			bad = true
		}
		return uint32(v)
	}
	h.blobs = make([]histBlob, nb)
	for i := range h.blobs {
		x := &h.blobs[i]
		copy(x.hash[:], take(len(x.hash)))
		x.hand = idx()
		switch flag := take(1)[0]; flag {
		case 1:
			x.clean = true
			copy(x.key[:], take(len(x.key)))
		case 0:
		default:
			bad = true
		}
		no := uv()
		if no > uint64(len(b)) {
			return nil, errHistory
		}
		x.occ = make([]uint32, no)
		for j := range x.occ {
			x.occ[j] = idx()
		}
		if bad {
			return nil, errHistory
		}
	}
	ns := uv()
	if bad || ns > uint64(len(b)) {
		return nil, errHistory
	}
	h.subs = make([]uint32, ns)
	for i := range h.subs {
		h.subs[i] = idx()
	}
	if bad || len(b) != 0 {
		return nil, errHistory
	}
	return h, nil
}

// histKey names the record of this history under pass's configuration:
// the repository and what of it is scanned.
func (s *Scanner) histKey(pass *scancache.Pass) scancache.Key {
	where := s.label
	if s.tmp == "" {
		where = s.gitDir
	}
	return pass.Config().Side("git-history", where, s.o.Branch, strings.Join(s.o.Refs, "\x00"))
}

// revList lists the commits from reaches, in `git log`'s order, with
// their committer times and parents.
func (s *Scanner) revList(ctx context.Context, git string, from []plumbing.Hash) ([]listedCommit, error) {
	cmd := gitCommand(ctx, git, s.gitDir, "rev-list", "--stdin", "--timestamp", "--parents")
	var revs strings.Builder
	for _, h := range from {
		revs.WriteString(h.String() + "\n")
	}
	cmd.Stdin = strings.NewReader(revs.String())
	stderr := &limitedWriter{n: 4096}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var list []listedCommit
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var perr error
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 2 || !plumbing.IsHash(w[1]) {
			perr = errors.New("git rev-list: unexpected output")
			break
		}
		ts, err := strconv.ParseInt(w[0], 10, 64)
		if err != nil {
			perr = errors.New("git rev-list: unexpected output")
			break
		}
		list = append(list, listedCommit{hash: plumbing.NewHash(w[1]), committed: ts, parents: len(w) - 2})
	}
	if perr == nil {
		perr = sc.Err()
	}
	if perr != nil {
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case perr != nil:
		return nil, perr
	case werr != nil:
		return nil, fmt.Errorf("git rev-list: %v: %s", werr, firstLine(strings.TrimSpace(stderr.String())))
	}
	return list, nil
}

// ranks gives each commit of the listing its place oldest first, as
// logPlan orders them: by committer time, a merge after the commits of
// the same second, then parents before children as git lists them.
func ranks(list []listedCommit) []int {
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool {
		a, b := list[idx[i]], list[idx[j]]
		if a.committed != b.committed {
			return a.committed < b.committed
		}
		if a.parents != b.parents {
			return a.parents < b.parents
		}
		return idx[i] > idx[j]
	})
	rank := make([]int, len(list))
	for r, i := range idx {
		rank[i] = r
	}
	return rank
}

// recorder collects what a scan's listing needs to be recorded: each
// blob handed (where first listed, its key), the submodule paths' first
// commits, the listing.
type recorder struct {
	pass   *scancache.Pass
	order  []plumbing.Hash // the whole listing's commit IDs
	handed map[plumbing.Hash]handRec
	old    []histBlob // recorded blobs counted without being listed, re-indexed
	subs   map[string]uint32
}

type handRec struct {
	listed uint32
	key    scancache.Key
}

// record is what to record after the pass: it runs at the pass's End,
// when the pass knows which blobs are clean.
func (s *Scanner) record(rec *recorder) {
	h := &history{seq: seqHash(rec.order), commits: uint32(len(rec.order))}
	occOf := func(hash plumbing.Hash) []uint32 {
		var out []uint32
		for _, oc := range s.occ[hash] {
			out = append(out, uint32(oc.commit.listed))
		}
		return out
	}
	for hash, r := range rec.handed {
		x := histBlob{hash: hash, hand: r.listed, occ: occOf(hash)}
		if rec.pass.BlobKnownClean(hash.String()) {
			x.clean, x.key = true, r.key
		}
		h.blobs = append(h.blobs, x)
	}
	h.blobs = append(h.blobs, rec.old...)
	sort.Slice(h.blobs, func(i, j int) bool { return h.blobs[i].hand < h.blobs[j].hand })
	for _, c := range rec.subs {
		h.subs = append(h.subs, c)
	}
	sort.Slice(h.subs, func(i, j int) bool { return h.subs[i] < h.subs[j] })
	if err := rec.pass.Store().WriteSide(s.histKey(rec.pass), h.encode()); err != nil {
		s.o.Logger.Warn("the history's listing could not be recorded in the scan cache", "repo", s.label, "error", err.Error())
	}
}

// incPlan is plan through the recorded listing (see above). It returns
// false, having handed nothing, when the history must be listed whole.
func (s *Scanner) incPlan(ctx context.Context, git string, from, stop []plumbing.Hash, pass *scancache.Pass, p *planner) (bool, error) {
	if len(stop) > 0 || len(s.shallowCommits()) > 0 {
		return false, nil
	}
	data, ok := pass.Store().ReadSide(s.histKey(pass))
	if !ok {
		return false, nil
	}
	old, err := decodeHistory(data)
	if err != nil {
		s.o.Logger.Warn("the scan cache's record of the history is damaged: the history is listed whole", "repo", s.label)
		return false, nil
	}
	list, err := s.revList(ctx, git, from)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		s.o.Logger.Debug("git rev-list failed; the history is listed whole", "repo", s.label, "error", err.Error())
		return false, nil
	}
	nNew := len(list) - int(old.commits)
	if nNew < 0 {
		return false, nil
	}
	order := make([]plumbing.Hash, len(list))
	for i, c := range list {
		order[i] = c.hash
	}
	if seqHash(order[nNew:]) != old.seq {
		return false, nil // rewritten, deleted or reordered: listed whole
	}
	// every blob recorded clean must still be known clean
	entries := make([]scancache.Entry, len(old.blobs))
	for i, b := range old.blobs {
		if !b.clean {
			continue
		}
		e, ok := pass.Store().Get(b.key)
		if !ok {
			return false, nil
		}
		entries[i] = e
	}
	rank := ranks(list)
	info := func(c *commitInfo, at int) {
		c.listed, c.order = at, rank[at]
	}
	byHash := make(map[plumbing.Hash]int, len(list))
	for i, h := range order {
		byHash[h] = i
	}
	oldBlob := make(map[plumbing.Hash]int, len(old.blobs))
	for i, b := range old.blobs {
		oldBlob[b.hash] = i
	}
	occ := map[plumbing.Hash][]occurrence{}
	subs := map[string]bool{}
	rec := p.rec
	rec.order = order
	note := func(c *commitInfo, e rawEntry, hand bool, whole bool) {
		switch e.mode {
		case filemode.Submodule:
			if !subs[e.path] {
				subs[e.path] = true
				rec.subs[e.path] = uint32(c.listed)
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			occ[e.hash] = append(occ[e.hash], occurrence{path: e.path, commit: c})
			if hand {
				p.handAt(e.hash, e.path, c, whole)
			}
		}
	}
	// 1. the new commits, as the full listing lists them
	newCommits := order[:nNew]
	seenOld := map[plumbing.Hash]bool{} // recorded blobs the new commits list
	err = s.listCommits(ctx, git, newCommits, func(c *commitInfo) { info(c, byHash[plumbing.NewHash(c.hash)]) }, func(c *commitInfo, e rawEntry) {
		if _, ok := oldBlob[e.hash]; ok {
			seenOld[e.hash] = true
		}
		note(c, e, true, false)
	})
	if err != nil {
		return false, s.listFailed(ctx, err)
	}
	// 2. the old commits needed: where the blobs to read again were first
	// listed, where the recorded blobs the new commits list again were
	// introduced, and the submodules
	again := map[plumbing.Hash]bool{}
	want := map[int]bool{}
	for _, b := range old.blobs {
		if b.clean && !seenOld[b.hash] {
			continue
		}
		again[b.hash] = true
		if !b.clean {
			want[int(b.hand)+nNew] = true
		}
		for _, o := range b.occ {
			want[int(o)+nNew] = true
		}
	}
	for _, c := range old.subs {
		want[int(c)+nNew] = true
	}
	oldCommits := make([]plumbing.Hash, 0, len(want))
	for i := nNew; i < len(order); i++ {
		if want[i] {
			oldCommits = append(oldCommits, order[i])
		}
	}
	err = s.listCommits(ctx, git, oldCommits, func(c *commitInfo) { info(c, byHash[plumbing.NewHash(c.hash)]) }, func(c *commitInfo, e rawEntry) {
		if e.mode == filemode.Submodule {
			note(c, e, false, false)
			return
		}
		if !again[e.hash] {
			return
		}
		b := old.blobs[oldBlob[e.hash]]
		// a blob to read again, at the path it was first listed at, whole
		note(c, e, !b.clean, true)
	})
	if err != nil {
		return false, s.listFailed(ctx, err)
	}
	// 3. the recorded blobs known clean that were not handed: counted
	for i, b := range old.blobs {
		if !b.clean || p.handed[b.hash] {
			continue
		}
		e := entries[i]
		pass.LookupBlobKey(b.hash.String(), b.key) // (marks it clean in this pass)
		p.s.planned.Add(1)
		p.submit(blobJob{hash: b.hash, known: &e})
		b.hand += uint32(nNew)
		b.occ = append([]uint32(nil), b.occ...)
		for j := range b.occ {
			b.occ[j] += uint32(nNew)
		}
		rec.old = append(rec.old, b)
	}
	s.setOcc(occ)
	s.Commits = len(list)
	s.setSubmodules(subs)
	s.o.Logger.Info("history listed from the scan cache's record", "repo", s.label, "commits", len(list), "new_commits", nNew, "old_commits_listed_again", len(oldCommits))
	return true, nil
}

// listFailed is the error of a listing that failed midway through an
// incremental plan: blobs were handed, so the plan cannot start again.
func (s *Scanner) listFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("listing the history's new commits: %w", err)
}

// listCommits runs `git log --raw` over exactly these commits, in this
// order (see streamLog).
func (s *Scanner) listCommits(ctx context.Context, git string, commits []plumbing.Hash, commit func(*commitInfo), entry func(*commitInfo, rawEntry)) error {
	if len(commits) == 0 {
		return nil
	}
	return s.runLog(ctx, git, []string{"--no-walk=unsorted"}, commits, nil, commit, entry)
}

// setOcc merges occ into the blobs' occurrences (a history read twice,
// by the rules' pass and the sweep's, may list different commits each
// time), keeping of each blob's occurrences at a path the earliest.
func (s *Scanner) setOcc(occ map[plumbing.Hash][]occurrence) {
	if s.occ == nil {
		s.occ = map[plumbing.Hash][]occurrence{}
	}
	for h, os := range occ {
		if prev, ok := s.occ[h]; ok {
			os = append(append([]occurrence(nil), prev...), os...)
		}
		sort.SliceStable(os, func(i, j int) bool { return os[i].commit.order < os[j].commit.order })
		seen := map[string]bool{}
		kept := os[:0]
		for _, oc := range os {
			if !seen[oc.path] {
				seen[oc.path] = true
				kept = append(kept, oc)
			}
		}
		s.occ[h] = kept
	}
}
