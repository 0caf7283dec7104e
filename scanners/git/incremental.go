package git

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/credscan/credscan"
	scancache "github.com/credscan/credscan/cache"
)

// The incremental listing. With the scan cache on, a history scan leaves
// a record of its listing in the cache (a side record: digests only):
// the commits `git log` listed, in its order (8 bytes of each ID, and a
// hash of the whole sequence), and for every unique blob the commit that
// first listed it, whether the scan found it clean (and its key), and
// the commits that introduced it at each of its paths. The next scan of
// the same history lists the commits with `git rev-list` (IDs, times and
// parents, no trees: a tenth of `git log --raw`'s time). When the old
// listing is exactly what remains of the new one once the commits it
// did not hold are taken out (nothing rewritten or deleted: new commits
// were added, in git log's date order among the old ones, as merged
// branches are), only the new commits are diffed, and again the few old
// commits needed: those that first listed or introduced the blobs read
// again (those that produced findings, always read) and the submodules.
// The old blobs known clean are counted from their cache entries
// without being listed. Everything else is what a full listing gives:
// which path a blob is scanned under (where the full listing lists it
// first, new commit or old), which commit a finding is attributed to,
// the order of commits; `git log --no-walk=unsorted` over commits in
// rev-list's order prints exactly what the full `git log` prints for
// them. When anything does not hold (no record, another sequence, an
// entry evicted, a shallow clone, --since or a range), the history is
// listed whole.

// listedCommit is a commit as rev-list lists it.
type listedCommit struct {
	hash      plumbing.Hash
	committed int64
	parents   int
	parentIDs []plumbing.Hash
}

// skewedMerges returns the places in list of the merges dated no later
// than one of their ancestors in it, or with a parent outside it when
// partial (a listing cut by --since: what the parent brings is not
// listed). A merge's combined diff leaves out the (path, blob) pairs a
// parent holds; such a pair is listed where it came in, which ranks
// before the merge (ranks: committer time) unless that commit is dated
// at the merge's second or after it. These merges' own diffs against each
// parent are listed too, so that the earliest occurrence of every pair is
// the one the merge's separate diffs gave.
func skewedMerges(list []listedCommit, partial bool) []int {
	at := make(map[plumbing.Hash]int, len(list))
	for i, c := range list {
		at[c.hash] = i
	}
	const unknown = math.MinInt64
	latest := make([]int64, len(list)) // the latest date among a commit's ancestors
	done := make([]bool, len(list))
	var stack []int
	for i := range list {
		if done[i] {
			continue
		}
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			ready := true
			for _, p := range list[k].parentIDs {
				if j, ok := at[p]; ok && !done[j] {
					stack = append(stack, j)
					ready = false
				}
			}
			if !ready {
				continue
			}
			stack = stack[:len(stack)-1]
			if done[k] {
				continue
			}
			m := int64(unknown)
			for _, p := range list[k].parentIDs {
				if j, ok := at[p]; ok {
					m = max(m, list[j].committed, latest[j])
				}
			}
			latest[k], done[k] = m, true
		}
	}
	var out []int
	for i, c := range list {
		if c.parents < 2 {
			continue
		}
		outside := false
		for _, p := range c.parentIDs {
			if _, ok := at[p]; !ok {
				outside = true
			}
		}
		if latest[i] >= c.committed || partial && outside {
			out = append(out, i)
		}
	}
	return out
}

// histBlob is a blob of the recorded history.
type histBlob struct {
	hash plumbing.Hash
	hand uint32 // the listing index of the commit that first listed it
	// handOcc, when not 0, says that the path it was first listed at is
	// that of occ[handOcc-1] (occ in order, the earliest per path): the
	// commit that first listed it need not be listed again
	handOcc uint32
	clean   bool
	key     scancache.Key // when clean
	// skip, when set, says why no rule read it (credscan.PathFilter, at
	// the path it was handed at): counted as skipped again without being
	// listed or read, as a clean blob is counted
	skip string
	occ  []uint32 // the commits that introduced it at each path
}

// history is the record of one scan's listing.
type history struct {
	seq   [32]byte // SHA-256 of the commit IDs in listing order
	ids   []uint64 // the first 8 bytes of each commit ID, in that order
	blobs []histBlob
	subs  []uint32 // the commits that first listed each submodule path
}

// histVersion 4: merges listed by their combined diffs (mergeDiffs), the
// first listing of a blob and of a submodule path moved with them
const histVersion = 4

func idOf(h plumbing.Hash) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

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
	n := 64 + len(h.ids)*8 + len(h.blobs)*42 + len(h.subs)*4
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, histVersion)
	b = append(b, h.seq[:]...)
	b = binary.AppendUvarint(b, uint64(len(h.ids)))
	for _, id := range h.ids {
		b = binary.LittleEndian.AppendUint64(b, id)
	}
	b = binary.AppendUvarint(b, uint64(len(h.blobs)))
	for _, x := range h.blobs {
		b = append(b, x.hash[:]...)
		b = binary.AppendUvarint(b, uint64(x.hand))
		b = binary.AppendUvarint(b, uint64(x.handOcc))
		switch {
		case x.clean:
			b = append(b, 1)
			b = append(b, x.key[:]...)
		case x.skip != "":
			b = append(b, 2)
			b = binary.AppendUvarint(b, uint64(len(x.skip)))
			b = append(b, x.skip...)
		default:
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

var (
	errHistory        = errors.New("not a history record")
	errHistoryVersion = errors.New("a history record of another version")
)

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
	if v := uv(); bad {
		return nil, errHistory
	} else if v != histVersion {
		return nil, errHistoryVersion
	}
	h := &history{}
	copy(h.seq[:], take(32))
	commits := uv()
	if bad || commits > uint64(len(b))/8 {
		return nil, errHistory
	}
	h.ids = make([]uint64, commits)
	for i := range h.ids {
		h.ids[i] = binary.LittleEndian.Uint64(take(8))
	}
	nb := uv()
	if bad || nb > uint64(len(b))/22 {
		return nil, errHistory
	}
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
		x.handOcc = uint32(uv())
		switch flag := take(1)[0]; flag {
		case 1:
			x.clean = true
			copy(x.key[:], take(len(x.key)))
		case 2:
			n := uv()
			if n == 0 || n > uint64(len(b)) {
				return nil, errHistory
			}
			x.skip = string(take(int(n)))
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
	return pass.Config().Side("git-history", s.identity(), s.o.Branch, strings.Join(s.o.Refs, "\x00"))
}

// identity names the repository across scans: its git directory, or for
// a temporary clone the URL it came from.
func (s *Scanner) identity() string {
	if s.tmp != "" {
		return s.label
	}
	return s.gitDir
}

// revList lists the commits from reaches, in `git log`'s order, with
// their committer times and parents.
func (s *Scanner) revList(ctx context.Context, git string, from []plumbing.Hash, env []string) ([]listedCommit, error) {
	cmd := gitCommand(ctx, git, s.gitDir, "rev-list", "--stdin", "--timestamp", "--parents")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = revsInput(from, nil)
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
		ids := make([]plumbing.Hash, 0, len(w)-2)
		for _, p := range w[2:] {
			ids = append(ids, plumbing.NewHash(p))
		}
		list = append(list, listedCommit{hash: plumbing.NewHash(w[1]), committed: ts, parents: len(w) - 2, parentIDs: ids})
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
	git    string
	filter credscan.PathFilter // the scan's, or nil
	prev   []byte              // the record read, when the listing was incremental
	order  []plumbing.Hash     // the whole listing's commit IDs
	handed map[plumbing.Hash]handRec
	old    []histBlob // recorded blobs counted without being listed, re-indexed
	subs   map[string]uint32
}

type handRec struct {
	listed uint32
	key    scancache.Key
	path   string // (not recorded: which occurrence's path it is is)
	skip   string // why no rule reads it there, if none does
}

// record is what to record after the pass: it runs at the pass's End,
// when the pass knows which blobs are clean.
func (s *Scanner) record(rec *recorder) {
	// the record is built when the scan is over and its garbage still
	// fills the heap: collected first, the record's few megabytes reuse
	// it instead of growing the heap at the run's peak (etcd with the
	// cache on: peak RSS 268-270 MB instead of 304-312 MB, a collection
	// of some 30 ms)
	runtime.GC()
	h := &history{seq: seqHash(rec.order), ids: make([]uint64, len(rec.order))}
	for i, c := range rec.order {
		h.ids[i] = idOf(c)
	}
	occOf := func(hash plumbing.Hash) []uint32 {
		var out []uint32
		for _, oc := range s.occ[hash] {
			out = append(out, uint32(oc.commit.listed))
		}
		return out
	}
	for hash, r := range rec.handed {
		x := histBlob{hash: hash, hand: r.listed, occ: occOf(hash)}
		if r.skip == "" && rec.filter != nil {
			// handed while the rules loaded (the filter could not tell
			// yet): the engine skipped it all the same
			r.skip = rec.filter.SkipPath(r.path)
		}
		switch {
		case r.skip != "":
			x.skip = r.skip
		case rec.pass.BlobKnownClean(hash.String()):
			x.clean, x.key = true, r.key
		default:
			for k, oc := range s.occ[hash] {
				if oc.path == r.path {
					x.handOcc = uint32(k + 1)
					break
				}
			}
		}
		h.blobs = append(h.blobs, x)
	}
	h.blobs = append(h.blobs, rec.old...)
	sort.Slice(h.blobs, func(i, j int) bool {
		a, b := &h.blobs[i], &h.blobs[j]
		return a.hand < b.hand || a.hand == b.hand && bytes.Compare(a.hash[:], b.hash[:]) < 0
	})
	for _, c := range rec.subs {
		h.subs = append(h.subs, c)
	}
	sort.Slice(h.subs, func(i, j int) bool { return h.subs[i] < h.subs[j] })
	// (a record that did not change is not written again)
	if data := h.encode(); !bytes.Equal(data, rec.prev) {
		if err := rec.pass.Store().WriteSide(s.histKey(rec.pass), data); err != nil {
			s.o.Logger.Warn("the history's listing could not be recorded in the scan cache", "repo", s.label, "error", err.Error())
			return
		}
	}
	s.writeGraph(context.Background(), rec.git, rec.pass.Store(), len(rec.order))
}

// incPlan is plan through the recorded listing (see above). It returns
// false, having handed nothing, when the history must be listed whole;
// an error when a listing failed midway (a broken object), after which
// the whole listing goes on from what was handed (plan).
func (s *Scanner) incPlan(ctx context.Context, git string, from, stop []plumbing.Hash, pass *scancache.Pass, p *planner) (bool, error) {
	if len(stop) > 0 || len(s.shallowCommits()) > 0 {
		return false, nil
	}
	data, ok := pass.Store().ReadSide(s.histKey(pass))
	if !ok {
		s.o.Logger.Debug("no record of the history in the scan cache: listed whole", "repo", s.label)
		return false, nil
	}
	p.rec.prev = data
	old, err := decodeHistory(data)
	if errors.Is(err, errHistoryVersion) {
		s.o.Logger.Debug("the scan cache's record of the history is of another version: the history is listed whole", "repo", s.label)
		return false, nil
	}
	if err != nil {
		s.o.Logger.Warn("the scan cache's record of the history is damaged: the history is listed whole", "repo", s.label)
		return false, nil
	}
	list, err := s.revList(ctx, git, from, s.graphEnv(pass.Store()))
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		s.o.Logger.Debug("git rev-list failed; the history is listed whole", "repo", s.label, "error", err.Error())
		return false, nil
	}
	order := make([]plumbing.Hash, len(list))
	for i, c := range list {
		order[i] = c.hash
	}
	// the old commits' places in the new listing: what is left of it
	// without the new commits must be the old listing
	oldIDs := make(map[uint64]struct{}, len(old.ids))
	for _, id := range old.ids {
		oldIDs[id] = struct{}{}
	}
	place := make([]uint32, 0, len(old.ids)) // old listing index → new
	isOld := make([]bool, len(list))
	kept := make([]plumbing.Hash, 0, len(old.ids))
	for i, h := range order {
		if _, ok := oldIDs[idOf(h)]; ok {
			place = append(place, uint32(i))
			isOld[i] = true
			kept = append(kept, h)
		}
	}
	if len(place) != len(old.ids) || seqHash(kept) != old.seq {
		// (a new commit whose ID begins as an old one's lands here too)
		s.o.Logger.Debug("the history was rewritten since the scan cache's record of it (or refs deleted): listed whole", "repo", s.label)
		return false, nil
	}
	// every blob recorded clean must still be known clean
	entries := make([]scancache.Entry, len(old.blobs))
	for i, b := range old.blobs {
		if !b.clean {
			continue
		}
		e, ok := pass.LookupBlobKey(b.hash.String(), b.key) // (known clean in this pass)
		if !ok {
			s.o.Logger.Debug("a blob the scan cache's record of the history holds clean is no longer in the cache: listed whole", "repo", s.label)
			return false, nil
		}
		entries[i] = e
	}
	for _, k := range skewedMerges(list, false) {
		if !isOld[k] {
			// its own diffs would be listed too (see skewedMerges): rare
			// enough to list the history whole
			s.o.Logger.Debug("a new merge is dated before one of its ancestors: the history is listed whole", "repo", s.label)
			return false, nil
		}
	}
	rank := ranks(list)
	byHash := map[plumbing.Hash]int{} // the commits listed
	info := func(c *commitInfo) {
		at := byHash[plumbing.NewHash(c.hash)]
		c.listed, c.order = at, rank[at]
	}
	oldBlob := make(map[plumbing.Hash]int, len(old.blobs))
	for i, b := range old.blobs {
		oldBlob[b.hash] = i
	}
	occ := map[plumbing.Hash][]occurrence{}
	subs := map[string]bool{}
	rec := p.rec
	rec.order = order
	sub := func(c *commitInfo, e rawEntry) {
		subs[e.path] = true
		if at, ok := rec.subs[e.path]; !ok || uint32(c.listed) < at {
			rec.subs[e.path] = uint32(c.listed)
		}
	}
	regular := func(m filemode.FileMode) bool {
		return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
	}
	// 1. the new commits, in the full listing's order. A recorded blob
	// they list is handed here only when the full listing would list it
	// here first.
	var newCommits []plumbing.Hash
	for i, h := range order {
		if !isOld[i] {
			newCommits = append(newCommits, h)
			byHash[h] = i
		}
	}
	handedNew := map[plumbing.Hash]bool{}
	newOcc := map[plumbing.Hash][]uint32{} // recorded blobs: where the new commits list them
	err = s.listCommits(ctx, git, newCommits, info, func(c *commitInfo, e rawEntry) {
		switch {
		case e.mode == filemode.Submodule:
			sub(c, e)
		case !regular(e.mode):
		default:
			occ[e.hash] = append(occ[e.hash], occurrence{path: e.path, commit: c})
			if i, ok := oldBlob[e.hash]; ok {
				newOcc[e.hash] = append(newOcc[e.hash], uint32(c.listed))
				if uint32(c.listed) > place[old.blobs[i].hand] || p.handed[e.hash] {
					return // listed first by an old commit
				}
				handedNew[e.hash] = true
			}
			p.handAt(e.hash, e.path, c, false)
		}
	})
	if err != nil {
		return false, s.listFailed(ctx, err)
	}
	// 2. the old commits needed: where the recorded blobs to read again
	// were first listed and introduced, and the submodules
	again := map[plumbing.Hash]bool{}
	want := map[uint32]bool{}
	for _, b := range old.blobs {
		if (b.clean || b.skip != "") && !handedNew[b.hash] {
			continue
		}
		again[b.hash] = true
		if !handedNew[b.hash] && (b.clean || b.handOcc == 0 || int(b.handOcc) > len(b.occ)) {
			want[place[b.hand]] = true
		}
		for _, o := range b.occ {
			want[place[o]] = true
		}
	}
	for _, c := range old.subs {
		want[place[c]] = true
	}
	oldCommits := make([]plumbing.Hash, 0, len(want))
	for i, h := range order {
		if want[uint32(i)] {
			oldCommits = append(oldCommits, h)
			byHash[h] = i
		}
	}
	s.listedAgain = oldCommits
	oldOcc := map[plumbing.Hash][]occurrence{}
	err = s.listCommits(ctx, git, oldCommits, info, func(c *commitInfo, e rawEntry) {
		switch {
		case e.mode == filemode.Submodule:
			sub(c, e)
		case regular(e.mode) && again[e.hash]:
			oc := occurrence{path: e.path, commit: c}
			occ[e.hash] = append(occ[e.hash], oc)
			b := old.blobs[oldBlob[e.hash]]
			if !b.clean && b.handOcc > 0 && int(b.handOcc) <= len(b.occ) {
				oldOcc[e.hash] = append(oldOcc[e.hash], oc)
				return
			}
			// read again at the path it was first listed at, whole
			p.handAt(e.hash, e.path, c, true)
		}
	})
	if err != nil {
		return false, s.listFailed(ctx, err)
	}
	// the blobs read again whose first path is that of an occurrence: the
	// occurrences in the old commits, as recorded, give it
	for h, os := range oldOcc {
		if p.handed[h] {
			continue
		}
		b := old.blobs[oldBlob[h]]
		os = earliestPerPath(os)
		if int(b.handOcc) > len(os) {
			return false, fmt.Errorf("the scan cache's record of the history names an occurrence of blob %s it does not list", h)
		}
		oc := os[b.handOcc-1]
		p.handAt(h, oc.path, oc.commit, true)
		r := p.rec.handed[h]
		r.listed = place[b.hand]
		p.rec.handed[h] = r
	}
	// 3. the recorded blobs known clean that were not handed: counted
	// at once
	known := &credscan.CachedItem{}
	reindex := func(b histBlob) histBlob {
		b.hand = place[b.hand]
		o := make([]uint32, 0, len(b.occ)+len(newOcc[b.hash]))
		for _, x := range b.occ {
			o = append(o, place[x])
		}
		b.occ = append(o, newOcc[b.hash]...) // (a superset: listed again, the earliest per path is kept)
		delete(occ, b.hash)
		return b
	}
	for i, b := range old.blobs {
		if b.skip != "" && !p.handed[b.hash] {
			// skipped by its path, as it was: counted so again
			p.s.planned.Add(1)
			p.submit(blobJob{hash: b.hash, skip: b.skip})
			rec.old = append(rec.old, reindex(b))
			continue
		}
		if !b.clean || p.handed[b.hash] {
			continue
		}
		known.Items++
		if e := entries[i]; e.Binary {
			known.BinaryItems++
		} else {
			known.Bytes += e.Bytes
		}
		rec.old = append(rec.old, reindex(b))
	}
	if known.Items > 0 {
		if known.Items == 1 { // (1 is read as one item of its own)
			known.Binary = known.BinaryItems == 1
		}
		p.s.planned.Add(known.Items)
		p.submit(blobJob{known: known})
	}
	s.setOcc(occ)
	s.Commits = len(list)
	s.setSubmodules(subs)
	s.o.Logger.Info("history listed from the scan cache's record", "repo", s.label, "commits", len(list), "new_commits", len(newCommits), "old_commits_listed_again", len(oldCommits))
	return true, nil
}

// listFailed is the error of a listing that failed midway through an
// incremental plan (blobs were handed: the whole listing that follows
// does not hand them again).
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
		s.occ[h] = earliestPerPath(os)
	}
}

// earliestPerPath keeps, of occurrences, the earliest at each path, in
// the commits' order (a commit's in the order git listed them).
func earliestPerPath(os []occurrence) []occurrence {
	sort.SliceStable(os, func(i, j int) bool { return os[i].commit.order < os[j].commit.order })
	seen := map[string]bool{}
	kept := os[:0]
	for _, oc := range os {
		if !seen[oc.path] {
			seen[oc.path] = true
			kept = append(kept, oc)
		}
	}
	return kept
}
