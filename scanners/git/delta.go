package git

import (
	"bytes"
	"context"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners/archive"
	"github.com/credscan/credscan/scanners/chunk"
	"github.com/credscan/credscan/scanners/rules"
)

// A file's versions mostly repeat each other: each version is matched,
// line by line (by a hash of each line), with the version of its path
// scanned just before it (the next newer one, as blobs are scanned newest
// first), and the lines it shares with it, with at least contextLines
// shared lines of the same stretch around them, are marked in the chunk
// (Chunk.Unchanged): the line-bound rules skip them, and Attribute carries
// what those rules found there in the other version over. gitleaks' `git
// log -p` scans only added lines in the same way; here the findings stay
// exact for every version, so copies of a blob at other paths and the
// tip's version still report them.
const contextLines = 6 // past the furthest a window of gitleaks' rules reaches (spanLines)

// lineInfo holds the line hashes of a blob that other versions of its
// path are matched against, from when it is read until the last of them
// has been matched.
type lineInfo struct {
	once   sync.Once
	done   chan struct{}
	refs   atomic.Int32
	kept   *keptBytes
	mu     sync.Mutex
	hashes []uint64 // nil when the blob was not read whole, or over budget
	// groups are the blob's line groups (credscan.LineGrouper) by
	// groupedBy, nil when hashes are (set by finish)
	groups    []uint8
	groupedBy credscan.LineGrouper
	released  bool         // every version matched with it was (or gave up)
	byLine    bool         // the engine read the blob line by line (set before done)
	format    rules.Format // the blob's format (set before done)
	// pem says the blob holds a private key's BEGIN marker (pemMarker),
	// when pemKnown; blocks are its lines in fenced code blocks when it is
	// a document (rules.CodeBlocks; set before done)
	pem, pemKnown bool
	blocks        [][2]int32
	// pgpass says the blob names a pgpass file (rules.MentionsPgpass),
	// when pgpassKnown (set before done)
	pgpass, pgpassKnown bool
	// own is the slice the blob's hashes were made in: given back for
	// reuse once both the blob's own scan (ownDone) and the versions
	// matched with it (released) are done with it
	own     []uint64
	ownDone bool
}

// keptBytes bounds the line hashes held at once (a version waits for the
// next one of its path, and a long history has many paths open): past the
// budget, a blob's hashes are not kept and its other version is scanned
// whole.
type keptBytes struct {
	n      atomic.Int64
	budget int64
}

const keepBudget = 64 << 20 // 8 million lines

func newLineInfo(refs int, kept *keptBytes) *lineInfo {
	li := &lineInfo{done: make(chan struct{}), kept: kept}
	li.refs.Store(int32(refs))
	return li
}

// finish publishes the hashes (nil: none) and with them the line groups
// g made (see lineGroups); later calls do nothing.
func (li *lineInfo) finish(h []uint64, groups []uint8, g credscan.LineGrouper) {
	if li == nil {
		return
	}
	li.once.Do(func() {
		li.mu.Lock()
		li.own = h
		if size := int64(8*len(h) + len(groups)); li.released || h != nil && li.kept.n.Add(size) > li.kept.budget {
			if !li.released {
				li.kept.n.Add(-size)
			}
			h = nil
		}
		li.hashes = h
		if h != nil && groups != nil {
			li.groups, li.groupedBy = groups, g
		}
		li.mu.Unlock()
		close(li.done)
	})
}

// wait returns the hashes once they are published (nil if the scan ends
// first), and the line groups made by g, if any.
func (li *lineInfo) wait(ctx context.Context, g credscan.LineGrouper) ([]uint64, []uint8) {
	select {
	case <-li.done:
		li.mu.Lock()
		defer li.mu.Unlock()
		if li.groupedBy != g || g == nil {
			return li.hashes, nil
		}
		return li.hashes, li.groups
	case <-ctx.Done():
		return nil, nil
	}
}

// wanted says whether a version may still be matched with this one (the
// plan had not finished when it was handed).
func (li *lineInfo) wanted() bool {
	if li == nil {
		return false
	}
	li.mu.Lock()
	defer li.mu.Unlock()
	return !li.released
}

// release drops the hashes once every version matched with it was.
func (li *lineInfo) release() {
	if li != nil && li.refs.Add(-1) == 0 {
		li.mu.Lock()
		li.released = true
		li.kept.n.Add(-int64(8*len(li.hashes) + len(li.groups)))
		li.hashes, li.groups = nil, nil
		li.giveBack()
		li.mu.Unlock()
	}
}

// ownerDone says the blob's own scan no longer uses its hashes.
func (li *lineInfo) ownerDone() {
	if li != nil {
		li.mu.Lock()
		li.ownDone = true
		li.giveBack()
		li.mu.Unlock()
	}
}

// giveBack puts the hashes' slice back for reuse once nothing uses it
// (li.mu held).
func (li *lineInfo) giveBack() {
	if li.released && li.ownDone && li.own != nil {
		putHashes(li.own)
		li.own = nil
	}
}

var lineSeed = maphash.MakeSeed()

// hashPool holds line hash slices given back (putHashes) for reuse: a
// history's versions hash about a line per 40 bytes they hold.
var hashPool sync.Pool

func putHashes(h []uint64) {
	if cap(h) > 0 && cap(h) <= 1<<20 {
		hashPool.Put(&h)
	}
}

// startsPool holds line start slices given back (putStarts) once the
// chunks that carried them were scanned (Chunk.LineStarts, like Data, is
// valid only during the call that receives it): they were a quarter of
// what a history scan allocated.
var startsPool sync.Pool

func putStarts(st []int) {
	if cap(st) > 0 && cap(st) <= 1<<20 {
		startsPool.Put(&st)
	}
}

// lineHashes hashes each line of data (lines end at '\n'; a last line
// without one counts).
func lineHashes(data []byte) []uint64 {
	h, _ := lineIndex(data, false)
	return h
}

// lineIndex hashes each line of data and, when starts is set, returns
// where the lines start as rules.Lines.Reset finds them (for the engine,
// which then need not look for them again).
func lineIndex(data []byte, starts bool) ([]uint64, []int) {
	n := bytes.Count(data, []byte{'\n'}) + 1
	var out []uint64
	if p, _ := hashPool.Get().(*[]uint64); p != nil && cap(*p) >= n {
		out = (*p)[:0]
	} else {
		out = make([]uint64, 0, n)
	}
	var st []int
	if starts {
		if p, _ := startsPool.Get().(*[]int); p != nil && cap(*p) >= n {
			st = (*p)[:1]
			st[0] = 0
		} else {
			st = make([]int, 1, n)
		}
	}
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			out = append(out, maphash.Bytes(lineSeed, data[off:]))
			break
		}
		out = append(out, maphash.Bytes(lineSeed, data[off:off+i]))
		off += i + 1
		if starts && off < len(data) {
			st = append(st, off)
		}
	}
	return out, st
}

// lineRun says lines [b, b+n) of a version equal lines [a, a+n) of its
// base (the version it is matched with).
type lineRun struct{ b, a, n int32 }

// matchLines maps the lines of b to equal lines of a: the common prefix
// and suffix, and between them, each line to its equal in a nearest after
// the previous match (a line moved or repeated may match elsewhere). The
// runs are sorted by b and disjoint.
func matchLines(a, b []uint64) []lineRun {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	var runs []lineRun
	if p > 0 {
		runs = append(runs, lineRun{0, 0, int32(p)})
	}
	am, bm := a[p:len(a)-s], b[p:len(b)-s]
	if len(am) > 0 && len(bm) > 0 {
		t, _ := tablePool.Get().(*lineTable)
		if t == nil {
			t = new(lineTable)
		}
		defer func() {
			if cap(t.keys) <= 1<<19 {
				tablePool.Put(t)
			}
		}()
		// first: where each line of am first stands; next[i]: where the
		// line at i stands next (-1: nowhere)
		t.reset(len(am))
		next := t.next[:len(am)]
		for i := len(am) - 1; i >= 0; i-- {
			next[i] = t.upsert(am[i], int32(i))
		}
		cur := -1 // the open run's index in runs
		ca := int32(0)
		for i, h := range bm {
			if cur >= 0 && ca < int32(len(am)) && am[ca] == h {
				runs[cur].n++
				ca++
				continue
			}
			j := t.get(h)
			if j < 0 {
				cur = -1
				continue
			}
			for k, c := 0, j; k < 64 && c >= 0; k, c = k+1, next[c] {
				if c >= ca {
					j = c
					break
				}
			}
			runs = append(runs, lineRun{int32(p + i), int32(p) + j, 1})
			cur = len(runs) - 1
			ca = j + 1
		}
	}
	if s > 0 {
		runs = append(runs, lineRun{int32(len(b) - s), int32(len(a) - s), int32(s)})
	}
	return runs
}

// lineTable maps line hashes to the first line they stand on, by open
// addressing: the hashes are maphash's, so their low bits spread evenly.
// It holds at most half as many lines as slots. (A Go map hashes them
// again and was most of matchLines' time on large, often edited files.)
type lineTable struct {
	keys []uint64
	vals []int32 // line + 1; 0 for an empty slot
	mask uint64
	next []int32 // matchLines' chains, kept for reuse
}

// reset empties the table for n lines.
func (t *lineTable) reset(n int) {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	if cap(t.keys) < size {
		t.keys = make([]uint64, size)
		t.vals = make([]int32, size)
	} else {
		t.keys, t.vals = t.keys[:size], t.vals[:size]
		clear(t.vals)
	}
	t.mask = uint64(size - 1)
	if cap(t.next) < n {
		t.next = make([]int32, n)
	}
}

// upsert sets h's line to i and returns the line it had (-1: none).
func (t *lineTable) upsert(h uint64, i int32) int32 {
	for k := h & t.mask; ; k = (k + 1) & t.mask {
		switch v := t.vals[k]; {
		case v == 0:
			t.keys[k], t.vals[k] = h, i+1
			return -1
		case t.keys[k] == h:
			t.vals[k] = i + 1
			return v - 1
		}
	}
}

// get returns h's line (-1: none).
func (t *lineTable) get(h uint64) int32 {
	for k := h & t.mask; ; k = (k + 1) & t.mask {
		switch v := t.vals[k]; {
		case v == 0:
			return -1
		case t.keys[k] == h:
			return v - 1
		}
	}
}

// changedSpans returns the byte ranges of the lines (starting at starts)
// that no run covers, each line with its line break, neighbours merged.
func changedSpans(data []byte, runs []lineRun, starts []int) [][2]int {
	var spans [][2]int
	at := func(line int) int { // where line starts (the end: len(data))
		if line < len(starts) {
			return starts[line]
		}
		return len(data)
	}
	line := 0
	for k := 0; k <= len(runs); k++ {
		end := len(starts) // the changed lines reach up to the next run
		if k < len(runs) {
			end = int(runs[k].b)
		}
		if line < end {
			if n := len(spans); n > 0 && spans[n-1][1] == at(line) {
				spans[n-1][1] = at(end)
			} else {
				spans = append(spans, [2]int{at(line), at(end)})
			}
		}
		if k < len(runs) {
			line = int(runs[k].b + runs[k].n)
		}
	}
	return spans
}

// pemMarker says whether data holds "-----BEGIN" in any case: the
// keyword of gitleaks' rules whose windows run on to an END line however
// far (see the engine's multiline units).
func pemMarker(data []byte) bool {
	for off := 0; ; {
		k := bytes.Index(data[off:], []byte("-----"))
		if k < 0 {
			return false
		}
		off += k + 5
		if off+5 <= len(data) && bytes.EqualFold(data[off:off+5], []byte("begin")) {
			return true
		}
	}
}

// sameBlocks says whether every line a version shares with its base
// (runs) sits in a fenced code block in both or in neither (blocks and
// baseBlocks: rules.CodeBlocks of each). Fences the version adds or drops
// matter only where they move a shared line in or out of a block: a
// CHANGELOG that gains a release with an example keeps every older line
// where it was, however its repeated lines were matched.
func sameBlocks(runs []lineRun, blocks, baseBlocks [][2]int32) bool {
	for _, r := range runs {
		for pos := int32(0); pos < r.n; {
			inB, nextB := blockAt(blocks, r.b+pos)
			inA, nextA := blockAt(baseBlocks, r.a+pos)
			if inB != inA {
				return false
			}
			pos = min(nextB-r.b, nextA-r.a) // where either may change
		}
	}
	return true
}

// blockAt says whether line x lies in one of blocks (sorted, disjoint),
// and gives the next line where that may change.
func blockAt(blocks [][2]int32, x int32) (in bool, next int32) {
	k, _ := slices.BinarySearchFunc(blocks, x, func(b [2]int32, x int32) int {
		if b[1] <= x {
			return -1
		}
		return 1
	})
	switch {
	case k == len(blocks):
		return false, math.MaxInt32
	case blocks[k][0] <= x:
		return true, blocks[k][1]
	}
	return false, blocks[k][0]
}

// tablePool holds matchLines' tables for reuse; one larger than 4 MB is
// dropped (a file of a million lines is rare and would pin it).
var tablePool = sync.Pool{}

// delta is how a scanned blob relates to its base.
type delta struct {
	base   plumbing.Hash
	runs   []lineRun
	na, nb int32 // line counts
	seq    int   // the blob's place in the scan
	// lineBased is set when the engine reads the blob and its base line
	// by line (text, or structured documents with nothing to assemble:
	// rules.ReadsWhole): then no rule, the DB pack's included, runs on its
	// settled lines (see credscan.Settled)
	lineBased bool
}

// stable says whether line b (0-based) of the version is its base's,
// with contextLines such lines of the same run around it (or the file's
// edge, at the same place in both).
func (d *delta) stable(r lineRun, b int32) bool {
	if b < r.b || b >= r.b+r.n {
		return false
	}
	before := b-contextLines >= r.b || (r.b == 0 && r.a == 0)
	after := b+contextLines < r.b+r.n || (r.b+r.n == d.nb && r.a+r.n == d.na)
	return before && after
}

// unchanged marks the stable lines of the version.
func (d *delta) unchanged() []bool {
	out := make([]bool, d.nb)
	any := false
	for _, r := range d.runs {
		// a run's stable lines are one stretch: contextLines in from each
		// end, unless that end is the file's at the same place in both
		lo, hi := r.b+contextLines, r.b+r.n-contextLines
		if r.b == 0 && r.a == 0 {
			lo = r.b
		}
		if r.b+r.n == d.nb && r.a+r.n == d.na {
			hi = r.b + r.n
		}
		for b := lo; b < hi; b++ {
			out[b] = true
			any = true
		}
	}
	if !any {
		return nil
	}
	return out
}

// carry returns the line (1-based) of the version that line a (1-based)
// of its base is, if it is stable there.
func (d *delta) carry(a int) (int, bool) {
	a0 := int32(a - 1)
	for _, r := range d.runs {
		if a0 >= r.a && a0 < r.a+r.n {
			b := r.b + a0 - r.a
			if d.stable(r, b) {
				return int(b) + 1, true
			}
		}
	}
	return 0, false
}

// drop ends a job, once it was scanned or given up: the versions matched
// with it no longer wait on it, and its base is released.
func (j blobJob) drop() {
	j.keep.finish(nil, nil, nil)
	j.keep.ownerDone()
	j.base.release()
}

// scanBlob yields the chunks of a blob read whole, matched with its base
// when the plan gave it one, and publishes its own line hashes when
// another version will be matched with it. The caller drops the job
// after.
func (s *Scanner) scanBlob(ctx context.Context, data []byte, j blobJob, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	if archive.Kind(o.Path) != "" {
		// an archive's members are items of their own: no lines to match
		j.keep.finish(nil, nil, nil)
		return scanInMemory(ctx, data, o, yield)
	}
	if j.base == nil && !j.keep.wanted() {
		return scanInMemory(ctx, data, o, yield)
	}
	f := rules.DetectFormat(j.path)
	hashes, starts := lineIndex(data, true)
	defer putStarts(starts) // (the chunks that carry them are scanned by then)
	g := credscan.LineGrouperFrom(ctx)
	var ah []uint64
	var ag []uint8 // the base's line groups by g
	if j.base != nil {
		ah, ag = j.base.wait(ctx, g)
	}
	var runs []lineRun
	var spans [][2]int // the lines the base lacks
	if ah != nil {
		runs = matchLines(ah, hashes)
		spans = changedSpans(data, runs, starts)
	}
	var groups []uint8
	if g != nil && len(data) > 0 && chunk.IsText(data) {
		// (a binary or UTF-16 version's chunk carries other bytes, or none)
		groups = lineGroups(g, data, starts, runs, spans, ag)
	}
	byLine := !f.WholeFile()
	if byLine && f.Structured() {
		if ah != nil && j.base.byLine && j.base.format == f {
			// the base was read line by line, and what ReadsWhole looks
			// for lies within a line: only the lines the base lacks can
			// hold it
			byLine = !rules.ReadsWholeIn(f, data, spans)
		} else {
			byLine = !rules.ReadsWhole(f, data)
		}
	}
	var pgpass bool // (found below, before any chunk is yielded)
	whole := func(ch credscan.Chunk, err error) error {
		if err == nil && ch.Whole && ch.StartLine == 1 {
			if f.Structured() {
				ch.ByLine = byLine // (asked once)
			}
			if ch.Overlap == 0 && len(ch.Data) == len(data) {
				ch.LineStarts = starts
				ch.LineGroups, ch.GroupedBy = groups, g
				ch.PgpassKnown, ch.Pgpass = true, pgpass
			}
		}
		return yield(ch, err)
	}
	// what some rules find on a line may depend on lines far from it: a
	// private key's BEGIN line on the key's every line, a document's
	// lines on every code fence above them. A version that has a key, or
	// where a line it shares with its base sits in a code block in one
	// and not the other, is read whole.
	// (the marker lies within a line)
	pem := holds(data, spans, ah != nil && j.base.pemKnown && !j.base.pem, pemMarker)
	// the same for the name of a pgpass file, which the DB pack asks of
	// every version (the engine, which would look itself, may scan a
	// version before it has seen its base)
	pgpass = holds(data, spans, ah != nil && j.base.pgpassKnown && !j.base.pgpass, rules.MentionsPgpass)
	doc := rules.IsDoc(j.path)
	var blocks [][2]int32
	if doc {
		blocks = rules.CodeBlocks(data)
	}
	if j.keep != nil {
		j.keep.byLine, j.keep.format = byLine, f
		j.keep.pem, j.keep.pemKnown, j.keep.blocks = pem, true, blocks
		j.keep.pgpass, j.keep.pgpassKnown = pgpass, true
	}
	j.keep.finish(hashes, groups, g)
	if ah != nil && (pem || doc && !sameBlocks(runs, blocks, j.base.blocks)) {
		ah = nil
	}
	var d *delta
	if ah != nil {
		d = &delta{base: j.baseHash, runs: runs, na: int32(len(ah)), nb: int32(len(hashes)), seq: j.seq,
			lineBased: byLine && j.base.byLine}
	}
	if j.keep == nil {
		putHashes(hashes) // matched, never published
	}
	if d == nil {
		return scanInMemory(ctx, data, o, whole)
	}
	unchanged := d.unchanged()
	if unchanged == nil {
		return scanInMemory(ctx, data, o, whole)
	}
	return scanInMemory(ctx, data, o, func(ch credscan.Chunk, err error) error {
		if err == nil && ch.Whole && ch.Skip == "" && ch.StartLine == 1 && ch.Overlap == 0 {
			if len(ch.Data) == len(data) {
				ch.LineStarts = starts
				ch.LineGroups, ch.GroupedBy = groups, g
				ch.PgpassKnown, ch.Pgpass = true, pgpass
			}
			ch.Unchanged = unchanged
			ch.ByLine = d.lineBased && f.Structured()
			ch.Base = j.baseHash.String()
			s.deltaMu.Lock()
			s.deltas[j.hash] = d
			s.deltaMu.Unlock()
		}
		return yield(ch, err)
	})
}

// holds says whether has finds what it looks for (something that lies
// within a line) in data: only in spans, the lines the base lacks, when
// baseLacks says the base holds none.
func holds(data []byte, spans [][2]int, baseLacks bool, has func([]byte) bool) bool {
	if !baseLacks {
		return has(data)
	}
	for _, sp := range spans {
		if has(data[sp[0]:sp[1]]) {
			return true
		}
	}
	return false
}

// lineGroups gives each line of data (starting at starts) its byte by g:
// copied from the base's (base, when given) for the lines a run shares
// with it, found for the others (spans: the lines no run covers). nil
// when g cannot tell.
func lineGroups(g credscan.LineGrouper, data []byte, starts []int, runs []lineRun, spans [][2]int, base []uint8) []uint8 {
	if base == nil {
		out := g.LineGroups(data, make([]uint8, 0, len(starts)))
		if len(out) != len(starts) {
			return nil
		}
		return out
	}
	out := make([]uint8, len(starts))
	for _, r := range runs {
		if int(r.a+r.n) > len(base) {
			return nil // (not the base's groups)
		}
		copy(out[r.b:r.b+r.n], base[r.a:r.a+r.n])
	}
	var sub []uint8
	for _, sp := range spans {
		first, _ := slices.BinarySearch(starts, sp[0]) // (spans start lines)
		if sub = g.LineGroups(data[sp[0]:sp[1]], sub); sub == nil || first+len(sub) > len(out) {
			return nil
		}
		copy(out[first:], sub)
	}
	return out
}

// carried adds, to the findings of each blob matched with a base, what
// the line-bound rules found in the base on the lines the blob shares
// stably with it (which the rules skipped), at their line numbers in the
// blob, and what the DB pack found on its settled lines when it read the
// blob line by line. Blobs are taken in scan order, so findings travel
// down a chain of versions.
func (s *Scanner) carried(fs []*credscan.Finding) []*credscan.Finding {
	if len(s.deltas) == 0 {
		return fs
	}
	type matched struct {
		hash plumbing.Hash
		d    *delta
	}
	order := make([]matched, 0, len(s.deltas))
	for h, d := range s.deltas {
		order = append(order, matched{h, d})
	}
	sort.Slice(order, func(i, j int) bool { return order[i].d.seq < order[j].d.seq })
	byBlob := map[string][]*credscan.Finding{}
	for _, f := range fs {
		if s.mine(f) {
			byBlob[f.Origin.Blob] = append(byBlob[f.Origin.Blob], f)
		}
	}
	for _, l := range order {
		to := l.hash.String()
		var unchanged []bool
		for _, f := range byBlob[l.d.base.String()] {
			if f.Database && (!l.d.lineBased || f.RuleID == rules.Pgpass) {
				// (a .pgpass line a script writes is found, on any line,
				// from the line that names the file, up to 200 lines
				// before it: the version's own scan finds every one)
				continue
			}
			if line, ok := l.d.carry(f.Origin.Line); ok {
				if f.Database {
					if unchanged == nil {
						unchanged = l.d.unchanged()
					}
					if !credscan.Settled(unchanged, line-1, credscan.SettledMargin) {
						continue
					}
				}
				g := *f
				g.Origin.Blob = to
				g.Origin.Line = line
				byBlob[to] = append(byBlob[to], &g)
				fs = append(fs, &g)
			}
		}
	}
	return fs
}
