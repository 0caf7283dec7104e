package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/redact"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/chunk"
	"github.com/credscan/credscan/scanners/dsn"
	"github.com/credscan/credscan/scanners/engine/internal/accel"
	"github.com/credscan/credscan/scanners/rules"
)

// RuleSet selects which detectors run.
type RuleSet string

// Rule sets.
const (
	RulesAll      RuleSet = "all"      // gitleaks' rules and the DB pack
	RulesDB       RuleSet = "db"       // the DB pack alone
	RulesGitleaks RuleSet = "gitleaks" // gitleaks' rules alone
)

// Options configure an Engine.
type Options struct {
	Rules          RuleSet
	GitleaksConfig string // a gitleaks TOML config; "" for its defaults
	MaxDecodeDepth int    // gitleaks' decoding passes (its CLI uses 5)
	Fingerprinter  *credscan.Fingerprinter
	// ContextWords make keys database keys (the manifest's target names).
	ContextWords []string
	// Classify returns the target a finding's identity belongs to, "" when none.
	Classify func(db *credscan.DBIdentity) string
	// Workers is the number of items scanned at once; 0 means one per CPU.
	Workers int
	Logger  *slog.Logger
}

// Engine runs detectors over chunks. It is safe for concurrent use.
type Engine struct {
	o     Options
	pack  *rules.Pack
	gl    *glDetector
	m     *accel.Matcher
	pool  sync.Pool
	quiet quietWindows
	// ready is closed once the rules above are loaded (see New); built
	// holds what went wrong then
	ready chan struct{}
	built error
	// known, when set, is swept for in every chunk (SetKnown)
	known atomic.Pointer[KnownSet]
	// cache, when set, skips what is known clean (SetCache)
	cache atomic.Pointer[cacheSetting]
	// grouper is the credscan.LineGrouper Scan gives its sources
	grouper *grouper
}

// grouper gives lines the engine's keyword groups (accel.Matcher): the
// git source finds them for the lines a version does not share with the
// one before, and copies the others'.
type grouper struct{ e *Engine }

func (g *grouper) LineGroups(data []byte, dst []uint8) []uint8 {
	if g.e.wait() != nil {
		return nil
	}
	return g.e.m.Scan(data, dst)
}

// givenGroups returns the keyword groups the source found for ch's
// lines, when they are this engine's and there is one per line, else nil.
func (e *Engine) givenGroups(ch credscan.Chunk) []uint8 {
	if g, ok := ch.GroupedBy.(*grouper); !ok || g != e.grouper || len(ch.LineGroups) != len(ch.LineStarts) || len(ch.LineStarts) == 0 {
		return nil
	}
	return ch.LineGroups
}

// pgpass says whether ch names a pgpass file (rules.MentionsPgpass), as
// its source says when it looked (Chunk.PgpassKnown: a history scan
// looks, in a version, only at the lines its base lacks).
func (e *Engine) pgpass(ch credscan.Chunk) bool {
	if ch.PgpassKnown && ch.LineStarts != nil {
		return ch.Pgpass
	}
	return rules.MentionsPgpass(ch.Data)
}

// quietWindows remembers windows in which a gitleaks unit found nothing
// (by a 128-bit hash of the unit, the path when the unit's rules look at
// it, and the text), so that the same text met again (a copied file, the
// lines around a change in a file's next version, a vendored library) is
// not run again. What a unit finds depends on nothing else. It forgets
// everything when full.
type quietWindows struct {
	mu   sync.Mutex
	seen map[[2]uint64]struct{}
}

const maxQuiet = 1 << 18 // about 10 MB

var quietSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func (q *quietWindows) key(unit int, path string, text []byte) [2]uint64 {
	var k [2]uint64
	var u [8]byte
	binary.LittleEndian.PutUint64(u[:], uint64(unit))
	for i, seed := range quietSeeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.Write(u[:])
		h.WriteString(path)
		h.WriteByte(0)
		h.Write(text)
		k[i] = h.Sum64()
	}
	return k
}

func (q *quietWindows) has(k [2]uint64) bool {
	q.mu.Lock()
	_, ok := q.seen[k]
	q.mu.Unlock()
	return ok
}

func (q *quietWindows) add(k [2]uint64) {
	q.mu.Lock()
	if q.seen == nil || len(q.seen) >= maxQuiet {
		q.seen = make(map[[2]uint64]struct{}, 1024)
	}
	q.seen[k] = struct{}{}
	q.mu.Unlock()
}

type scratch struct {
	lines  rules.Lines
	groups []uint8
	hits   []int
	// unitLines holds, for each gitleaks unit, the lines its keywords woke
	unitLines [][]int
	woken     []int    // units decoded text wakes
	deep      deepLine // what the decoding passes need of a line
	settled   []bool   // credscan.SettledLines of a chunk's Unchanged
	// only narrows the gitleaks units run (a cache.Hint); learned is what
	// produced
	only    unitMask
	learned cache.Hint
	// deepBits are the units (bit u%64) that produced in a run with
	// decoding passes
	deepBits uint64
}

// unitMask is a set of gitleaks units, unit u as bit u%64 (on false: all
// of them), and whether the decoding passes run.
type unitMask struct {
	on      bool
	bits    uint64
	decoded bool
}

func (m unitMask) has(u int) bool { return !m.on || m.bits&(1<<(u%64)) != 0 }

// decoding says whether the decoding passes run.
func (m unitMask) decoding() bool { return !m.on || m.decoded }

// New builds an Engine. gitleaks' built-in rules load in the background
// (scanning waits for them); a configuration file given in the options
// loads before New returns, so its errors come from New.
func New(o Options) (*Engine, error) {
	if o.Rules == "" {
		o.Rules = RulesAll
	}
	if o.Fingerprinter == nil {
		return nil, errors.New("engine needs a fingerprinter")
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{o: o, ready: make(chan struct{})}
	e.grouper = &grouper{e}
	switch o.Rules {
	case RulesAll, RulesDB, RulesGitleaks:
	default:
		return nil, credscan.UsageError("unknown rule set %q (want all, db or gitleaks)", o.Rules)
	}
	if o.GitleaksConfig == "" {
		// gitleaks' own rules, built in, load (70 ms: 222 expressions,
		// allowlists, accel.Keyword tries) while the source starts (git lists
		// the history, a registry answers); the first chunk waits
		go func() {
			e.built = e.load()
			close(e.ready)
		}()
		return e, nil
	}
	err := e.load() // a configuration of the user's: its errors are theirs
	close(e.ready)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// load builds the rules.
func (e *Engine) load() error {
	o := e.o
	kws := map[string]uint8{}
	if o.Rules != RulesGitleaks {
		e.pack = rules.New(rules.Options{ContextWords: o.ContextWords})
		for _, k := range e.pack.Keywords() {
			kws[k] |= accel.GroupDB
		}
	}
	if o.Rules != RulesDB {
		gl, err := newGLDetector(o.GitleaksConfig, o.MaxDecodeDepth)
		if err != nil {
			return credscan.UsageError("%v", err)
		}
		e.gl = gl
		for _, k := range gl.keywords {
			kws[k] |= accel.GroupGitleaks
		}
	}
	e.m = accel.NewMatcher(kws)
	e.pool.New = func() any { return &scratch{} }
	return nil
}

// maxEarly bounds the bytes Scan keeps aside while the rules load.
const maxEarly = 1 << 20

// isReady says whether the rules are loaded.
func (e *Engine) isReady() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// wait waits until the rules are loaded, and says what went wrong then.
func (e *Engine) wait() error {
	<-e.ready
	return e.built
}

// Workers is the parallelism sources should use.
func (e *Engine) Workers() int { return e.o.Workers }

// RuleDescriptions returns rule ID → description for every active rule.
func (e *Engine) RuleDescriptions() map[string]string {
	out := map[string]string{}
	if e.wait() != nil {
		return out
	}
	if e.pack != nil {
		for _, r := range rules.All {
			out[r.ID] = r.Description
		}
	}
	if e.gl != nil {
		for id, d := range e.gl.rules {
			out[id] = d
		}
	}
	return out
}

// Scan runs every chunk of src through the detectors into res. Item
// problems are recorded in res and the scan goes on; Scan returns only
// errors that stopped the source (and ctx's).
func (e *Engine) Scan(ctx context.Context, src scanners.Source, res scanners.Sink) error {
	if e.known.Load() != nil {
		ctx = chunk.WithBinaries(ctx) // the sweep reads every byte
	}
	pass := e.rulesPass()
	ctx = withPass(ctx, pass)
	// whole items met while the rules still load (gitleaks' take 50 ms of
	// a core) are kept aside, up to maxEarly bytes, and scanned once the
	// source is walked: the walk goes on meanwhile (a run the cache mostly
	// skips is over in a few times that). The bound is small: what is kept
	// adds to a first run's peak RSS (8 MB added 12 MB on the bench
	// corpus)
	var (
		earlyMu sync.Mutex
		early   []credscan.Chunk
		size    int
	)
	keep := func(ch credscan.Chunk) bool {
		if !ch.Whole || ch.Derived || ch.Unchanged != nil || e.isReady() {
			return false
		}
		earlyMu.Lock()
		defer earlyMu.Unlock()
		if size+len(ch.Data) > maxEarly {
			return false
		}
		size += len(ch.Data)
		ch.Data = bytes.Clone(ch.Data) // (the source reuses its buffer)
		ch.LineStarts = slices.Clone(ch.LineStarts)
		early = append(early, ch)
		return true
	}
	scan := func(ch credscan.Chunk) error {
		if err := e.wait(); err != nil {
			return err
		}
		ch = e.skipByPath(ch) // (before the cache: a skipped item is not entered)
		if pass != nil && cached(ctx, pass, ch, res, func(s scanners.Sink, hint *cache.Hint) (cache.Hint, bool) {
			return e.scanChunk(ctx, ch, s, hint)
		}) {
			return nil
		}
		e.scanChunk(ctx, ch, res, nil)
		return nil
	}
	sctx := credscan.WithLineGrouper(ctx, e.grouper)
	if e.known.Load() == nil {
		sctx = credscan.WithPathFilter(sctx, e) // (the sweep reads every item)
	}
	err := src.Chunks(sctx, func(ch credscan.Chunk, err error) error {
		if err != nil {
			res.AddError(err)
			e.o.Logger.Warn("skipped item", "error", err.Error())
			failed(pass, err)
			return ctx.Err()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if pass != nil && ch.Cached != nil {
			res.Count(ch) // skipped by the source as known clean: the rules need not be ready
			return nil
		}
		if keep(ch) {
			return nil
		}
		return scan(ch)
	})
	for _, ch := range early {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		err = scan(ch)
	}
	if pass != nil {
		pass.End()
	}
	return err
}

// SkipDependencyFile is the reason (Stats.Skipped) an item at the path of
// a package manager's lock file or a Go module file is not scanned
// (rules.DependencyFile).
const SkipDependencyFile = "dependency file"

// SkipAllowlisted is the reason an item is not scanned when gitleaks'
// rules alone run and its global allowlist skips the item's path.
const SkipAllowlisted = "allowlisted path"

// SkipPath implements credscan.PathFilter: an item at the path of a
// package manager's lock file or a Go module file (rules.DependencyFile)
// is read by no rule when the DB pack runs and gitleaks' global allowlist
// skips the path too (its default configuration does; a configuration of
// one's own may not). "" while the rules load.
func (e *Engine) SkipPath(path string) string {
	if !e.isReady() {
		return ""
	}
	return e.skipPath(path)
}

// skipPath is SkipPath once the rules are loaded.
func (e *Engine) skipPath(path string) string {
	switch {
	case e.pack == nil && e.gl == nil:
		return ""
	case e.pack != nil && !rules.DependencyFile(path):
		return ""
	case e.gl != nil && e.gl.pathMode(path) != pathAllowed:
		return ""
	case e.pack == nil:
		return SkipAllowlisted
	}
	return SkipDependencyFile
}

// skipByPath marks ch skipped (counted under the reason, its bytes still
// read by the known-secret sweep) when no rule reads an item at its path,
// whether or not its source asked SkipPath. The rules must be loaded.
func (e *Engine) skipByPath(ch credscan.Chunk) credscan.Chunk {
	if ch.Skip == "" && ch.Cached == nil && !ch.Derived {
		ch.Skip = e.skipPath(ch.Origin.Path)
	}
	return ch
}

// ScanChunk runs the detectors over one chunk.
func (e *Engine) ScanChunk(ctx context.Context, ch credscan.Chunk, res scanners.Sink) {
	if e.wait() != nil {
		return
	}
	e.scanChunk(ctx, e.skipByPath(ch), res, nil)
}

// scanChunk is ScanChunk with the gitleaks units run narrowed to those
// hint says produced on the same bytes before (nil: all). It returns the
// units that produced (the hint this scan would leave), and whether that
// is whole: every unit ran (hint nil), to the end (ctx not done), with
// rules a hint can narrow (no keywordless rule).
//
// Why a narrowed run finds the same: each unit runs on windows its own
// keywords wake, so what it finds does not depend on the other units; a
// gitleaks run over several units (the decoding passes' detectors) drops
// only generic rules' findings that a non-generic rule's finding holds,
// and a rule that found nothing the caller saw (or only findings so
// dropped) finds nothing the caller sees whatever runs beside it.
// TestHintedScanIsTheScan checks it.
func (e *Engine) scanChunk(ctx context.Context, ch credscan.Chunk, res scanners.Sink, hint *cache.Hint) (learned cache.Hint, whole bool) {
	if e.wait() != nil {
		return learned, false // (Scan returns the error)
	}
	defer func() {
		whole = hint == nil && ctx.Err() == nil && (e.gl == nil || !e.gl.keywordless)
	}()
	if k := e.known.Load(); k != nil {
		e.sweepChunk(ch, k, res) // every byte, binary items' too
	}
	if plain := dbeaverCredentials(ch); plain != nil {
		// DBeaver's saved credentials, decrypted with its published key:
		// read as the JSON they are (the item is counted as read here)
		res.Count(credscan.Chunk{Origin: ch.Origin, Data: ch.Data, StartLine: 1, Whole: true})
		ch = credscan.Chunk{Origin: ch.Origin, Data: plain, StartLine: 1, Whole: true, Derived: true}
	}
	if ch.Skip != "" {
		res.Count(ch)
		return
	}
	s := e.pool.Get().(*scratch)
	defer e.pool.Put(s)
	f := &rules.File{Path: ch.Origin.Path, Format: rules.DetectFormat(ch.Origin.Path), Data: ch.Data, StartLine: ch.StartLine, Whole: ch.Whole, ByLine: ch.ByLine}
	linesReady := false
	if ch.Unchanged != nil && (!f.Format.Structured() || ch.ByLine) && !f.Format.WholeFile() && (e.gl == nil || !e.gl.keywordless) {
		// lines settled amid unchanged ones wake nothing: what any rule
		// finds there (the DB pack reads 12 lines around a password) was
		// found in the other version, and the source carries it over. A
		// structured document is read whole, unless it holds nothing to
		// assemble.
		s.indexLines(ch)
		linesReady = true
		s.settled = credscan.SettledLines(ch.Unchanged, credscan.SettledMargin, s.settled)
		if given := e.givenGroups(ch); given != nil { // (one per line of s.lines)
			s.groups = append(s.groups[:0], given...)
			for i, settled := range s.settled {
				if settled && i < len(s.groups) {
					s.groups[i] = 0 // (as unsettledGroups leaves them)
				}
			}
		} else {
			s.groups = e.unsettledGroups(ch, &s.lines, s.settled, s.groups)
		}
	} else if given := e.givenGroups(ch); given != nil {
		s.groups = append(s.groups[:0], given...)
	} else {
		s.groups = e.m.Scan(ch.Data, s.groups)
	}
	needLines := false
	for _, g := range s.groups {
		if g != 0 {
			needLines = true
			break
		}
	}
	if f.Format.WholeFile() || (ch.Whole && f.Format == rules.FormatYAML) {
		needLines = true
	}
	if e.gl != nil && e.gl.keywordless {
		needLines = true
	}
	if e.gl != nil && e.gl.maxDecode > 0 {
		needLines = true // lines that may decode must be found
	}
	pgpass, pgpassKnown := false, false
	if !needLines && e.pack != nil && linesReady {
		// a script's .pgpass lines are found from the line that names
		// the file, which may be settled (see rules.Pack.Scan)
		pgpass, pgpassKnown = e.pgpass(ch), true
		needLines = pgpass
	}
	if !needLines {
		res.Count(ch)
		return
	}
	if !linesReady {
		s.indexLines(ch)
	}
	var cands []rules.Candidate
	var pr rules.Result
	if e.pack != nil {
		s.hits = s.hits[:0]
		for i, g := range s.groups {
			if g&accel.GroupDB != 0 {
				s.hits = append(s.hits, i)
			}
		}
		if !pgpassKnown {
			pgpass = e.pgpass(ch)
		}
		f.PgpassKnown, f.Pgpass = true, pgpass
		e.pack.Scan(ctx, f, &s.lines, s.hits, &pr)
		cands = pr.Candidates
		for _, ref := range pr.References {
			o := ch.Origin
			o.Line = ref.Line
			res.AddReference(credscan.Reference{Origin: o, Key: ref.Key, Encrypted: ref.Encrypted})
		}
		for _, p := range pr.Problems {
			e.o.Logger.Info("parsed line by line", "path", ch.Origin.Path, "reason", p.Error())
			res.AddProblem(fmt.Sprintf("%s: %v", ch.Origin.String(), p))
		}
	}
	var glCands []rules.Candidate
	if e.gl != nil {
		s.only, s.learned, s.deepBits = unitMask{}, cache.Hint{}, 0
		if hint != nil && !e.gl.keywordless {
			s.only = unitMask{on: true, bits: hint.Units, decoded: hint.Decoded}
		}
		if !s.only.on || s.only.bits != 0 {
			glCands = e.gitleaks(ctx, ch, s)
		}
		learned = s.learned
	}
	findings, suppressed := e.toFindings(ch, &s.lines, cands, glCands)
	if hint == nil && learned.Units != 0 {
		learned.Units = e.neededUnits(ch, &s.lines, cands, glCands, findings, suppressed, learned.Units, s.deepBits)
	}
	res.Count(ch)
	for _, f := range suppressed {
		res.Suppressed(f)
	}
	res.Add(findings)
	return learned, whole // (whole: set on return)
}

// maxHintCandidates bounds the gitleaks candidates of an item for which
// neededUnits tries the report without each unit's.
const maxHintCandidates = 4096

// neededUnits narrows produced (the units, bit u%64, that produced the
// gitleaks candidates gl of ch) to those the item's report needs: a unit
// whose candidates (none found by the decoding passes, whose detectors
// run several units together) all lose to another finding of the same
// secret at the same place, the DB pack's most often, and change no
// line's redaction, leaves the same report when it does not run. Each
// unit is tried without its candidates, then all those left out
// together; the report compared is what Results keeps of the item (one
// finding per secret per place, found and suppressed).
func (e *Engine) neededUnits(ch credscan.Chunk, lines *rules.Lines, db, gl []rules.Candidate, found, suppressed []*credscan.Finding, produced, deep uint64) uint64 {
	if len(gl) > maxHintCandidates || !ch.Whole {
		return produced
	}
	byUnit := map[int][]int{}
	for i, c := range gl {
		u, ok := e.gl.unitOf[c.RuleID]
		if !ok {
			return produced
		}
		byUnit[u] = append(byUnit[u], i)
	}
	wantF, wantS := onePerPlace(found), onePerPlace(suppressed)
	without := func(drop func(u int) bool) bool { // the same report without drop's units
		var rest []rules.Candidate
		for i, c := range gl {
			if !drop(e.gl.unitOf[c.RuleID]) {
				rest = append(rest, gl[i])
			}
		}
		f, s := e.toFindings(ch, lines, db, rest)
		return sameFindings(wantF, onePerPlace(f)) && sameFindings(wantS, onePerPlace(s))
	}
	out := deep
	var left []int
	for _, u := range slices.Sorted(maps.Keys(byUnit)) {
		bit := uint64(1) << (u % 64)
		if deep&bit != 0 || !without(func(v int) bool { return v == u }) {
			out |= bit
			continue
		}
		left = append(left, u)
	}
	if len(left) > 1 && !without(func(v int) bool { return slices.Contains(left, v) }) {
		return produced // together they make a difference
	}
	return out
}

// sameFindings says a and b are the same findings in the same order.
func sameFindings(a, b []*credscan.Finding) bool {
	return slices.EqualFunc(a, b, func(x, y *credscan.Finding) bool { return reflect.DeepEqual(*x, *y) })
}

// indexLines indexes the lines of ch, as its source found them if it says.
func (s *scratch) indexLines(ch credscan.Chunk) {
	if ch.LineStarts != nil {
		s.lines.Use(ch.Data, ch.LineStarts)
		return
	}
	s.lines.Reset(ch.Data)
}

// unsettledGroups is accel.Matcher.scan on the lines of ch that are not
// settled (credscan.SettledLines), with no group for the others.
func (e *Engine) unsettledGroups(ch credscan.Chunk, lines *rules.Lines, settled []bool, groups []uint8) []uint8 {
	n := lines.Len()
	groups = slices.Grow(groups[:0], n)[:n]
	clear(groups)
	var sub []uint8
	isSettled := func(i int) bool { return i < len(settled) && settled[i] }
	for i := 0; i < n; {
		if isSettled(i) {
			i++
			continue
		}
		j := i + 1
		for j < n && !isSettled(j) {
			j++
		}
		end := len(ch.Data)
		if j < n {
			end = lines.Start(j)
		}
		sub = e.m.Scan(ch.Data[lines.Start(i):end], sub)
		copy(groups[i:j], sub)
		i = j
	}
	return groups
}

// gitleaks runs each gitleaks shard on the windows of consecutive lines
// that hold one of its keywords, not on whole chunks: its regexes then see
// a few percent of the bytes.
func (e *Engine) gitleaks(ctx context.Context, ch credscan.Chunk, s *scratch) []rules.Candidate {
	var out []rules.Candidate
	n := s.lines.Len()
	path := ch.Origin.Path
	switch e.gl.pathMode(path) {
	case pathAllowed:
		return nil
	case pathIrrelevant:
		path = ""
	}
	// gitleaks counts columns from 1 on a fragment's first line and from
	// the line break before on the others (one more), and gives the span
	// of the whole match (mapped back to the encoded text for what it
	// decoded): reported columns count from 1 on every line, and the span
	// is narrowed to the secret where the match holds it as written
	// (what the decoding passes found is noted for the item's hint: see
	// scanChunk)
	emit := func(fs []report.Finding, firstLine int, decoded bool) {
		for _, gf := range fs {
			if u, ok := e.gl.unitOf[gf.RuleID]; ok {
				s.learned.Units |= 1 << (u % 64)
			} else {
				s.learned.Units = ^uint64(0)
			}
			s.learned.Decoded = s.learned.Decoded || decoded
			if decoded {
				if u, ok := e.gl.unitOf[gf.RuleID]; ok {
					s.deepBits |= 1 << (u % 64)
				} else {
					s.deepBits = ^uint64(0)
				}
			}
			col, endCol := gf.StartColumn, gf.EndColumn+1
			if gf.StartLine > firstLine {
				col--
			}
			if gf.EndLine > firstLine {
				endCol--
			}
			c := rules.Candidate{RuleID: gf.RuleID, Line: gf.StartLine, Col: col, EndLine: gf.EndLine, EndCol: endCol, Secret: gf.Secret, Raw: gf.Secret, Tags: gf.Tags}
			narrow(&c, &s.lines, ch)
			out = append(out, c)
		}
	}
	run := func(d *detect.Detector, from, to int, decoded bool) { // lines [from, to)
		text := windowText(&s.lines, ch.Data, from, to)
		if to == from+1 && len(text) > maxFragment {
			emit(fragmentWindows(ctx, d, path, text, ch.StartLine+from), ch.StartLine+from, decoded)
			return
		}
		emit(glDetect(ctx, d, path, string(text), ch.StartLine+from), ch.StartLine+from, decoded)
	}
	// Decoded text may hold any rule's keywords: a line that holds
	// something to decode is decoded, and the units its decoded text wakes
	// run on it with the decoding passes. (What they find again in the raw
	// text is merged by Results.)
	// lines an earlier version held, amid unchanged lines: what the rules
	// find there the source carries over from that version
	unchanged := func(i, j int) bool {
		if len(ch.Unchanged) < j {
			return false
		}
		for k := i; k < j; k++ {
			if !ch.Unchanged[k] {
				return false
			}
		}
		return true
	}
	if e.gl.maxDecode > 0 && e.gl.deep == nil && s.only.decoding() {
		for i := 0; i < n; i++ {
			if unchanged(i, i+1) {
				continue
			}
			line := s.lines.Bytes(i)
			// what the line's decoded segments say: no accel.Keyword of any
			// rule in them nor in the raw line, and nothing decodes
			// further, leaves nothing for the decoding passes to find
			rawKw := i < len(s.groups) && s.groups[i]&accel.GroupGitleaks != 0
			if !e.gl.deepSpans(line, rawKw, &s.deep) {
				continue
			}
			if len(line) > longLine {
				if fs, ok := e.gl.deepWindows(ctx, path, line, &s.deep, s.only, ch.StartLine+i); ok {
					emit(fs, ch.StartLine+i, true)
					continue
				}
			}
			s.woken = s.woken[:0]
			texts := []string{string(line)}
			e.gl.decodedUnits(texts[0], func(u int) {
				if s.only.has(u) && !slices.Contains(s.woken, u) {
					s.woken = append(s.woken, u)
				}
			}, func(cur string) { texts = append(texts, cur) })
			if s.woken = e.gl.gatedOut(s.woken, texts); len(s.woken) > 0 {
				slices.Sort(s.woken)
				run(e.gl.deepFor(s.woken), i, i+1, true)
			}
		}
	}
	if e.gl.deep != nil { // keywordless rules: every rule, on every line that may decode
		for i := 0; i < n; {
			if !accel.MayDecode(s.lines.Bytes(i)) {
				i++
				continue
			}
			j := i + 1
			for j < n && accel.MayDecode(s.lines.Bytes(j)) {
				j++
			}
			run(e.gl.deep, i, j, true)
			i = j
		}
	}
	if e.gl.keywordless {
		run(e.gl.all, 0, n, false)
		return out
	}
	// the lines each unit's keywords wake
	if cap(s.unitLines) < len(e.gl.units) {
		s.unitLines = make([][]int, len(e.gl.units))
	}
	s.unitLines = s.unitLines[:len(e.gl.units)]
	for u := range s.unitLines {
		s.unitLines[u] = s.unitLines[u][:0]
	}
	for i := 0; i < n && i < len(s.groups); i++ {
		if s.groups[i]&accel.GroupGitleaks == 0 {
			continue
		}
		e.gl.kw.Each(s.lines.Bytes(i), func(units []int) bool {
			for _, u := range units {
				if !s.only.has(u) {
					continue
				}
				if l := s.unitLines[u]; len(l) == 0 || l[len(l)-1] != i {
					s.unitLines[u] = append(l, i)
				}
			}
			return false
		})
	}
	// gate says whether line i passes a unit's gate, and the last line a
	// match found there may reach
	gate := func(un *glUnit, i int) (bool, int) {
		from := s.lines.Start(i)
		to := from + len(s.lines.Bytes(i))
		if end, ok := un.gate(ch.Data, from, to); ok {
			if end <= to {
				return true, i
			}
			return true, s.lines.Index(min(end, len(ch.Data)-1))
		}
		return false, i
	}
	for u, ls := range s.unitLines {
		if len(ls) == 0 {
			continue // (a unit is made on its first use)
		}
		un := e.gl.unit(u)
		for k := 0; k < len(ls); {
			// a window: consecutive woken lines
			i, j := ls[k], ls[k]
			for k < len(ls) && ls[k] <= j {
				last := ls[k]
				k++
				if un.gate != nil {
					ok, l := gate(un, last)
					if !ok {
						continue
					}
					if l > last { // the gate found the line the match ends on
						j = max(j, l+1)
					}
				}
				last = min(last+un.span, n-1)
				j = max(j, last+1)
			}
			if j == i {
				continue // no line passed the gate
			}
			if un.multiline {
				j = endMarker(&s.lines, i, j, n)
			} else if unchanged(i, j) {
				continue
			}
			text := windowText(&s.lines, ch.Data, i, j)
			if un.textGate != nil && !un.textGate(text) {
				continue
			}
			key := e.quiet.key(u, path, text)
			if e.quiet.has(key) {
				continue // the same unit found nothing in the same text before
			}
			fs, ok := []report.Finding(nil), false
			if un.stoppers != nil && len(text) > pieceMin {
				fs, ok = pieceWindows(ctx, un, path, text, ch.StartLine+i)
			}
			if !ok && un.anchors != nil && j <= i+2 && len(text) > longLine {
				fs, ok = longLineWindows(ctx, un, path, text, ch.StartLine+i)
			}
			if !ok && j == i+1 && len(text) > maxFragment {
				fs, ok = fragmentWindows(ctx, un.plain.get(), path, text, ch.StartLine+i), true
			}
			if !ok {
				fs = glDetect(ctx, un.plain.get(), path, string(text), ch.StartLine+i)
			}
			if len(fs) == 0 && ctx.Err() == nil {
				e.quiet.add(key)
			}
			emit(fs, ch.StartLine+i, false)
		}
	}
	return out
}

// narrow narrows a gitleaks candidate's span, which is its whole match,
// to the secret where the match holds it as written (the last place it
// does: secret groups end most matches). A secret that starts on a later
// line than the match is masked there (MaskLine), and the match is still
// reported where it starts.
func narrow(c *rules.Candidate, lines *rules.Lines, ch credscan.Chunk) {
	i, j := c.Line-ch.StartLine, c.EndLine-ch.StartLine
	if c.Col <= 0 || c.EndCol <= 0 || i < 0 || j < i || j >= lines.Len() {
		return
	}
	from, to := lines.Start(i)+c.Col-1, lines.Start(j)+c.EndCol-1
	if from < 0 || to > len(ch.Data) || from >= to {
		return
	}
	k := bytes.LastIndex(ch.Data[from:to], []byte(c.Secret))
	if k < 0 || c.Secret == "" {
		return
	}
	start, end := from+k, from+k+len(c.Secret)
	sl, el := lines.Index(start), lines.Index(max(start, end-1))
	c.EndLine, c.EndCol = el+ch.StartLine, end-lines.Start(el)+1
	if sl == i {
		c.Col = start - lines.Start(sl) + 1
		return
	}
	c.MaskLine, c.MaskCol = sl+ch.StartLine, start-lines.Start(sl)+1
}

// windowText is the text of lines [i, j) of data.
func windowText(lines *rules.Lines, data []byte, i, j int) []byte {
	end := len(data)
	if j < lines.Len() {
		end = lines.Start(j)
	}
	return data[lines.Start(i):end]
}

// endMarker extends the window of lines [i, j) that holds a "-----BEGIN"
// marker to the first line, 64 bytes or more after it, that holds a
// "-----" marker (at most 400 lines on): a PEM block's END line, or the
// next marker when the block is too short to be a key, which is where
// gitleaks' lazy private-key expression stops.
func endMarker(lines *rules.Lines, i, j, n int) int {
	for k := i; k < j; k++ {
		if !bytes.Contains(bytes.ToLower(lines.Bytes(k)), []byte("-----begin")) {
			continue
		}
		after := 0
		for e := k + 1; e < n && e < k+400; e++ {
			b := lines.Bytes(e)
			if after >= 64 && bytes.Contains(b, []byte("-----")) {
				return max(j, e+1)
			}
			after += len(b) + 1
		}
		return max(j, min(n, k+400))
	}
	return j
}

// toFindings fingerprints, classifies and redacts candidates, and sets
// aside those allowed inline (suppressed).
func (e *Engine) toFindings(ch credscan.Chunk, lines *rules.Lines, db, gl []rules.Candidate) (out, suppressed []*credscan.Finding) {
	if len(db)+len(gl) == 0 {
		return nil, nil
	}
	gl = sameSecretElsewhere(db, gl)
	all := make([]rules.Candidate, 0, len(db)+len(gl))
	all = append(all, db...)
	all = append(all, gl...)
	masks := lineMasks(all)
	// every finding on a line shows the line with all of them masked: one
	// redaction per line (a minified file may hold a thousand on one)
	redacted, marked := map[int]string{}, map[int]string{}
	for i, c := range all {
		idx := c.Line - ch.StartLine
		if idx < 0 || idx >= lines.Len() {
			continue
		}
		// a finding that starts in the part of the chunk the previous or
		// the next chunk owns is reported there
		if !ch.Owns(lines.Start(idx) + max(c.Col-1, 0)) {
			continue
		}
		if strings.TrimSpace(c.Secret) == "" {
			continue
		}
		// the line as text, once per line (a minified file's line of
		// megabytes may hold hundreds of findings)
		marker, ok := marked[c.Line]
		red, redOK := redacted[c.Line]
		if !ok || !redOK {
			text := string(lines.Bytes(idx))
			if !ok {
				marker = SuppressedBy(text)
				marked[c.Line] = marker
			}
			if !redOK {
				m := masks[c.Line]
				red = redact.Line(text, m.spans, m.secrets)
				redacted[c.Line] = red
			}
		}
		o := ch.Origin
		o.Line = c.Line
		col := c.Col
		if idx == 0 && col > 0 {
			col += ch.LineOffset // columns count from the line's start
		}
		f := &credscan.Finding{
			RuleID:      c.RuleID,
			Origin:      o,
			Secret:      credscan.NewSecret(c.Secret),
			Raw:         credscan.NewSecret(c.Raw),
			Column:      col,
			Fingerprint: e.o.Fingerprinter.Of(c.Secret),
			Redacted:    red,
			Database:    i < len(db) && c.RuleID != rules.GenericPassword,
			Tags:        c.Tags,
		}
		if f.Database {
			id := identity(c.DB)
			f.DB = &id
		}
		if e.o.Classify != nil {
			f.Target = e.o.Classify(f.DB)
		}
		if marker != "" {
			// never silent: a suppressed copy of a password is still a copy
			f.Tags = append(slices.Clip(f.Tags), "suppressed:"+marker)
			suppressed = append(suppressed, f)
			continue
		}
		out = append(out, f)
	}
	return out, suppressed
}

// sameSecretElsewhere drops the gitleaks candidates that hold a secret a
// DB-pack candidate holds within the lines the gitleaks match covers (a
// Kubernetes Secret matched as a whole manifest and as its keys): one
// finding per secret per place, the DB one, which has the identity.
// Matches on the same line are merged later, by fingerprint.
func sameSecretElsewhere(db, gl []rules.Candidate) []rules.Candidate {
	if len(db) == 0 || len(gl) == 0 {
		return gl
	}
	// gitleaks' kubernetes-secret-yaml matches a manifest from its kind
	// (or data) to one key: it is the manifest the DB pack read key by
	// key when one of the pack's Secret findings follows it before the
	// next such match
	starts := []int{}
	for _, g := range gl {
		if strings.HasPrefix(g.RuleID, "kubernetes-secret") {
			starts = append(starts, g.Line)
		}
	}
	slices.Sort(starts)
	manifest := func(g rules.Candidate) bool {
		next := int(^uint(0) >> 1)
		if i, _ := slices.BinarySearch(starts, g.Line+1); i < len(starts) {
			next = starts[i]
		}
		for _, d := range db {
			if d.RuleID == rules.K8sSecret && d.Line >= g.Line && d.Line < next {
				return true
			}
		}
		return false
	}
	return slices.DeleteFunc(gl, func(g rules.Candidate) bool {
		if strings.HasPrefix(g.RuleID, "kubernetes-secret") && manifest(g) {
			return true
		}
		last := max(g.EndLine, g.Line)
		for _, d := range db {
			if d.Line < g.Line || d.Line > last || d.Line == g.Line && last == g.Line {
				continue
			}
			if g.Secret == d.Secret || g.Secret == d.Raw || strings.TrimSpace(g.Secret) == strings.TrimSpace(d.Raw) {
				return true
			}
		}
		return false
	})
}

// SuppressionMarkers are the inline comments that suppress the findings
// of their line: credscan's own and those of gitleaks, trufflehog,
// detect-secrets and gosec.
var SuppressionMarkers = []string{"credscan:allow", "gitleaks:allow", "trufflehog:ignore", "pragma: allowlist secret", "#nosec"}

// SuppressedBy returns the suppression marker on line, or "".
func SuppressedBy(line string) string {
	for _, m := range SuppressionMarkers {
		if strings.Contains(line, m) {
			return m
		}
	}
	return ""
}

// lineMask is what is masked on one line: the spans of every candidate
// written on it, and every candidate's secret wherever else it stands.
type lineMask struct {
	spans   []redact.Span
	secrets []string
}

// lineMasks gathers, for each line a candidate is reported on, the masks
// of every candidate that covers it: a secret written over several lines
// masks each of them from or up to where it stands.
func lineMasks(cs []rules.Candidate) map[int]*lineMask {
	masks := make(map[int]*lineMask, len(cs))
	for _, c := range cs {
		masks[c.Line] = &lineMask{}
	}
	for _, c := range cs {
		add := func(l int, sp redact.Span) {
			if m := masks[l]; m != nil {
				m.spans = append(m.spans, sp)
				m.secrets = append(m.secrets, c.Secret, c.Raw)
			}
		}
		first, col := c.Line, c.Col
		if c.MaskLine > c.Line {
			first, col = c.MaskLine, c.MaskCol
			add(c.Line, redact.Elsewhere) // shown where the match starts
		}
		last := first
		if c.EndCol > 0 && c.EndLine > first {
			last = c.EndLine
		}
		switch {
		case col <= 0: // where it stands is unknown: the whole line
			add(first, redact.Span{From: 0, To: -1})
		case last == first && c.EndCol > 0:
			add(first, redact.Span{From: col - 1, To: c.EndCol - 1})
		default:
			add(first, redact.Span{From: col - 1, To: -1})
		}
		if last == first {
			continue
		}
		if last-first <= len(masks) {
			for l := first + 1; l < last; l++ {
				add(l, redact.Span{From: 0, To: -1})
			}
		} else {
			for l := range masks {
				if first < l && l < last {
					add(l, redact.Span{From: 0, To: -1})
				}
			}
		}
		add(last, redact.Span{From: 0, To: c.EndCol - 1})
	}
	return masks
}

func identity(p dsn.Parsed) credscan.DBIdentity {
	id := credscan.DBIdentity{Driver: p.Driver, User: p.User, Port: p.Port, Database: p.Database, Host: p.Host()}
	if len(p.Hosts) > 1 {
		id.Hosts = append([]string(nil), p.Hosts...)
	}
	return id
}
