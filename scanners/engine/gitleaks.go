package engine

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/scanners/engine/internal/accel"

	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/report"
)

// gitleaks loads its configuration through the process-global viper, so
// each configuration is loaded once per process and shared.
var (
	glMu      sync.Mutex
	glConfigs = map[string]*config.Config{}
	glSources = map[string]*glSource{}
)

func init() {
	// gitleaks logs secrets at trace level: keep its logger silent.
	logging.Logger = zerolog.Nop()
}

// readGitleaksConfig reads gitleaks' default configuration ("") or the
// TOML file at path, untranslated.
func readGitleaksConfig(path string) (*config.ViperConfig, error) {
	v := viper.New()
	v.SetConfigType("toml")
	var err error
	if path == "" {
		err = v.ReadConfig(strings.NewReader(config.DefaultConfig))
	} else {
		v.SetConfigFile(path)
		err = v.ReadInConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("reading gitleaks config %q: %w", path, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("decoding gitleaks config %q: %w", path, err)
	}
	return &vc, nil
}

// loadGitleaksConfig returns gitleaks' default configuration ("") or the
// TOML file at path, translated whole.
func loadGitleaksConfig(path string) (*config.Config, error) {
	glMu.Lock()
	defer glMu.Unlock()
	return loadGitleaksConfigLocked(path)
}

func loadGitleaksConfigLocked(path string) (*config.Config, error) {
	if c, ok := glConfigs[path]; ok {
		return c, nil
	}
	vc, err := readGitleaksConfig(path)
	if err != nil {
		return nil, err
	}
	c, err := translate(vc)
	if err != nil {
		return nil, fmt.Errorf("translating gitleaks config %q: %w", path, err)
	}
	glConfigs[path] = &c
	return &c, nil
}

// translate is vc.Translate, with its panics (gitleaks compiles the
// expressions with regexp.MustCompile) as errors.
func translate(vc *config.ViperConfig) (c config.Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return vc.Translate()
}

// glSource is a gitleaks configuration whose rules are translated
// (expressions compiled, allowlists built) when a unit first needs them:
// translating gitleaks' 222 rules took 20 ms of every process, and a scan
// wakes few of them. A user's configuration is translated whole as it
// loads (its errors are theirs, reported then), as is one that extends
// another or aims global allowlists at rules.
type glSource struct {
	base  config.Config // without rules: the global allowlists
	infos []ruleInfo    // every rule, by ID
	full  *config.Config
	vc    *config.ViperConfig // (when not full)

	mu    sync.Mutex
	rules map[string]config.Rule // translated so far (all when full)
}

// ruleInfo is what a rule says before its translation.
type ruleInfo struct {
	id, description string
	keywords        []string // lower-case
	required        []string // the rules it requires
	regex           bool     // it has an expression
	// paths are the path expressions of the rule and of its allowlists
	paths []*regexp.Regexp
}

// loadGitleaksSource returns the configuration at path ("": gitleaks'
// default) as a glSource, shared by the process.
func loadGitleaksSource(path string) (*glSource, error) {
	glMu.Lock()
	defer glMu.Unlock()
	if s, ok := glSources[path]; ok {
		return s, nil
	}
	src, err := newGitleaksSource(path)
	if err != nil {
		return nil, err
	}
	glSources[path] = src
	return src, nil
}

// newGitleaksSource reads the configuration at path (glMu held).
func newGitleaksSource(path string) (*glSource, error) {
	var vc *config.ViperConfig
	lazy := path == ""
	if lazy {
		var err error
		if vc, err = readGitleaksConfig(path); err != nil {
			return nil, err
		}
		x := vc.Extend
		lazy = x.Path == "" && x.URL == "" && !x.UseDefault && len(x.DisabledRules) == 0
		//lint:ignore SA1019 gitleaks' default configuration still has its global [allowlist]
		if old := vc.AllowList; old != nil {
			lazy = lazy && len(old.TargetRules) == 0
		}
		for _, a := range vc.Allowlists {
			lazy = lazy && len(a.TargetRules) == 0
		}
	}
	src := &glSource{rules: map[string]config.Rule{}}
	if !lazy {
		full, err := loadGitleaksConfigLocked(path)
		if err != nil {
			return nil, err
		}
		src.full, src.base, src.rules = full, *full, full.Rules
		src.base.Rules, src.base.Keywords, src.base.OrderedRules = nil, nil, nil
		for id, r := range full.Rules {
			in := ruleInfo{id: id, description: r.Description, keywords: r.Keywords, regex: r.Regex != nil}
			for _, req := range r.RequiredRules {
				in.required = append(in.required, req.RuleID)
			}
			if r.Path != nil {
				in.paths = append(in.paths, r.Path)
			}
			for _, a := range r.Allowlists {
				in.paths = append(in.paths, a.Paths...)
			}
			src.infos = append(src.infos, in)
		}
	} else {
		global := *vc
		global.Rules = nil
		base, err := translate(&global)
		if err != nil {
			return nil, fmt.Errorf("translating gitleaks config %q: %w", path, err)
		}
		src.base, src.vc = base, vc
		for _, r := range vc.Rules {
			in := ruleInfo{id: r.ID, description: r.Description, regex: r.Regex != ""}
			for _, k := range r.Keywords {
				in.keywords = append(in.keywords, strings.ToLower(k))
			}
			for _, req := range r.Required {
				in.required = append(in.required, req.ID)
			}
			var ps []string
			if r.Path != "" {
				ps = append(ps, r.Path)
			}
			if r.AllowList != nil {
				ps = append(ps, r.AllowList.Paths...)
			}
			for _, a := range r.Allowlists {
				ps = append(ps, a.Paths...)
			}
			for _, p := range ps {
				re, err := regexp.Compile(p)
				if err != nil {
					return nil, fmt.Errorf("translating gitleaks config %q: rule %s: %w", path, r.ID, err)
				}
				in.paths = append(in.paths, re)
			}
			src.infos = append(src.infos, in)
		}
	}
	slices.SortFunc(src.infos, func(a, b ruleInfo) int { return strings.Compare(a.id, b.id) })
	return src, nil
}

// translate returns the rules ids, translated.
func (s *glSource) translate(ids []string) map[string]config.Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]config.Rule, len(ids))
	var todo []string
	for _, id := range ids {
		if r, ok := s.rules[id]; ok {
			out[id] = r
		} else {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return out
	}
	sub := config.ViperConfig{}
	for _, r := range s.vc.Rules {
		if slices.Contains(todo, r.ID) {
			sub.Rules = append(sub.Rules, r)
		}
	}
	c, err := translate(&sub)
	if err != nil {
		// the default configuration translates whole (TestLazyRules
		// translates every unit's): should a part ever not, the whole is
		// the answer
		full, ferr := func() (*config.Config, error) {
			glMu.Lock()
			defer glMu.Unlock()
			return loadGitleaksConfigLocked("")
		}()
		if ferr != nil {
			panic(fmt.Sprintf("gitleaks' default configuration: %v", ferr))
		}
		c = *full
	}
	for _, id := range todo {
		s.rules[id] = c.Rules[id]
		out[id] = c.Rules[id]
	}
	return out
}

// glUnit is a gitleaks detector over one rule (or over a rule and the
// rules it requires), woken by the keywords of its rules only. The
// fields below once are made on first use: see glDetector.unit.
type glUnit struct {
	ids       []string       // its rules
	src       *glSource      // where they are translated
	cfg       *config.Config // the configuration without rules
	depth     int            // the decoding passes' depth
	multiline bool           // a keyword is a "-----BEGIN" marker: the window runs on to the "-----END" line

	once    sync.Once
	members []config.Rule // its rules, translated
	// lineAllows are the expressions of the allowlists of the unit's rules
	// (and the global ones) that look at the whole line: the unit runs on
	// part of a line only when none matches the line
	lineAllows []*regexp.Regexp
	// plain runs the unit's rules without decoding passes, made on first
	// use (a scan wakes few of the units; each detector builds its own
	// keyword trie, 13 MB for all of them)
	plain *lazyDetector
	// deep runs the unit's rules with gitleaks' decoding passes, made on
	// first use (few units are ever woken by decoded text)
	deep *lazyDetector
	// gate, when set, is a cheaper check a woken line must pass: it
	// returns the offset where a match found there may end (see
	// genericGate, vaultGate, litGate).
	gate func(data []byte, from, to int) (end int, ok bool)
	// span is how many lines past its last woken line a window runs, for
	// expressions that match line breaks (see accel.NewlineSpan)
	span int
	// anchors, when set, are literals (lower-case ASCII) every match
	// holds: on a long line the rule runs on windows around them (see
	// longLineWindows), through anchored, the rule without keywords (the
	// line holds one; a window need not)
	anchors  []string
	anchored *lazyDetector
	// stoppers, when set (for a gated rule), are the ASCII bytes no match
	// of its expression can hold: see pieceWindows
	stoppers *[128]bool
	// textGate, when set, says whether a window's text may hold a match of
	// the unit's one rule at all; a window it turns away is not run (see
	// curlGate)
	textGate func(text []byte) bool
}

// Long lines (minified code, data URIs, lock files) are where regular
// expressions spend most: on a line longer than longLine, a rule whose
// matches all hold one of its anchors runs on windows of winBefore bytes
// before and winAfter bytes after each anchor instead. A match that
// reaches a window's cut edge (within edgeMargin) makes the rule run on
// the whole line after all, so the findings are the whole line's.
const (
	longLine   = 1024
	winBefore  = 512
	winAfter   = 2048
	edgeMargin = 8
)

// maxFragment is the longest text one gitleaks run sees. gitleaks reads a
// file in fragments of 100 KB (and up to 25 KB more, to a blank line), so
// neither a match nor an allowlist that looks at "the line" ever sees
// more; a single line of megabytes (a one-line JSON of test vectors, a
// minified bundle) given whole would have every allowlist expression run
// over all of it for every candidate. Such a line is read in windows of
// maxFragment bytes overlapping by fragOverlap, and each finding is
// reported by the window that holds its start away from the edges.
const (
	maxFragment = 128 << 10
	fragOverlap = 4 << 10
)

// fragmentWindows runs d on a line longer than maxFragment, window by
// window (see maxFragment), with columns counted on the whole line.
func fragmentWindows(ctx context.Context, d *detect.Detector, path string, line []byte, lineNo int) []report.Finding {
	var out []report.Finding
	for off := 0; off < len(line) && ctx.Err() == nil; off += maxFragment - fragOverlap {
		end := min(len(line), off+maxFragment)
		for _, gf := range glDetect(ctx, d, path, string(line[off:end]), lineNo) {
			start := gf.StartColumn - 1
			if off > 0 && start < fragOverlap/2 || end < len(line) && start >= maxFragment-fragOverlap/2 {
				continue // the neighbouring window's
			}
			gf.StartColumn += off
			gf.EndColumn += off
			out = append(out, gf)
		}
		if end == len(line) {
			break
		}
	}
	return out
}

// windowAnchors returns the literals a rule's every match holds, when they
// are plain ASCII, else nil. A rule (or configuration) with an allowlist
// that looks at the whole line is never windowed: a window is not the line.
func windowAnchors(r config.Rule, cfg *config.Config) []string {
	if r.Regex == nil || r.Path != nil || len(lineAllowlists(r, cfg)) > 0 {
		return nil
	}
	// a match longer than winBefore may start before its anchor's window
	// or end past it, and one cut short is not found at all (a JWT of
	// kilobytes): only rules whose matches are bounded are windowed
	if n := accel.MaxMatchLen(r.Regex.String()); n < 0 || n > winBefore {
		return nil
	}
	lits := accel.RequiredLiterals(r.Regex.String())
	for _, l := range lits {
		for i := 0; i < len(l); i++ {
			if l[i] >= 0x80 || 'A' <= l[i] && l[i] <= 'Z' {
				return nil
			}
		}
	}
	return lits
}

// lineAllowlists returns the allowlists of r, and the global ones, that
// look at the whole line.
func lineAllowlists(r config.Rule, cfg *config.Config) []*config.Allowlist {
	var out []*config.Allowlist
	for _, a := range append(append([]*config.Allowlist(nil), r.Allowlists...), cfg.Allowlists...) {
		if a.RegexTarget == "line" {
			out = append(out, a)
		}
	}
	return out
}

// glDetector runs gitleaks' rules on windows of a chunk: each rule runs
// on the lines that hold its own keywords, so a line woken by one rule's
// accel.Keyword does not cost the other 221 rules' accel.Keyword checks, nor their
// regular expressions. It is safe for concurrent use: gitleaks'
// DetectContext only reads the detector.
type glDetector struct {
	units  []glUnit
	unitOf map[string]int // rule ID → unit
	kw     *accel.KwIndex // accel.Keyword → units
	// keywordless is true when some regex rule has no keyword: gitleaks
	// then runs it on every fragment, and so must we.
	keywordless bool
	all         *detect.Detector  // every rule, without decoding (keywordless rules only)
	rules       map[string]string // rule ID → description
	keywords    []string          // every rule's keywords
	// deep runs every rule with gitleaks' decoding passes (nil without
	// decoding), for configurations with keywordless rules
	deep      *detect.Detector
	maxDecode int
	// deepSets caches, per set of units woken on a decodable line, one
	// detector with decoding passes over their rules, so the line is
	// decoded once rather than once per unit
	deepSets   sync.Map       // string → *lazyDetector
	cfg        *config.Config // the configuration without rules (global allowlists)
	src        *glSource
	allowPaths []accel.LitMatcher // a match skips the file
	needPaths  []accel.LitMatcher // a match makes fragments carry the path
	modes      pathModes          // pathMode's answers
}

// pathModes remembers pathMode's answers by path: a history's versions
// of a file ask for the same path again and again (the allowlists' path
// expressions were 1.5% of a history scan's CPU). It forgets everything
// when full.
type pathModes struct {
	mu sync.Mutex
	m  map[string]pathMode
}

const maxPathModes = 1 << 16

// pathMode says how gitleaks must see a file's path. Path checks are
// regular expressions that gitleaks would run on every fragment; credscan
// runs them once per file instead.
type pathMode int

const (
	pathIrrelevant pathMode = iota // no rule or allowlist looks at this path: fragments go without it
	pathNeeded                     // some rule or rule allowlist matches the path: fragments carry it
	pathAllowed                    // the global allowlist skips the file
)

func (g *glDetector) pathMode(path string) pathMode {
	g.modes.mu.Lock()
	m, ok := g.modes.m[path]
	g.modes.mu.Unlock()
	if ok {
		return m
	}
	m = g.findPathMode(path)
	g.modes.mu.Lock()
	if g.modes.m == nil || len(g.modes.m) >= maxPathModes {
		g.modes.m = make(map[string]pathMode)
	}
	g.modes.m[path] = m
	g.modes.mu.Unlock()
	return m
}

// findPathMode is pathMode without its memory.
func (g *glDetector) findPathMode(path string) pathMode {
	lower := strings.ToLower(path)
	for _, m := range g.allowPaths {
		if m.Match(path, lower) {
			return pathAllowed
		}
	}
	for _, m := range g.needPaths {
		if m.Match(path, lower) {
			return pathNeeded
		}
	}
	return pathIrrelevant
}

// splitPaths moves the path checks of the global allowlists out of the
// detectors' configuration (base, without rules), so they run once per
// file rather than on every fragment: a path that an "OR" allowlist
// matches skips the file. Paths that rules and "AND" allowlists look at
// make fragments carry the path.
func (g *glDetector) splitPaths(base *config.Config, infos []ruleInfo) (*config.Config, error) {
	out := *base
	out.Allowlists = nil
	for _, a := range base.Allowlists {
		if a.MatchCondition == config.AllowlistMatchAnd || len(a.Paths) == 0 {
			out.Allowlists = append(out.Allowlists, a)
			for _, p := range a.Paths {
				g.needPaths = append(g.needPaths, accel.NewLitMatcher(p))
			}
			continue
		}
		for _, p := range a.Paths {
			g.allowPaths = append(g.allowPaths, accel.NewLitMatcher(p))
		}
		if len(a.Commits)+len(a.Regexes)+len(a.StopWords) == 0 {
			continue
		}
		rest := &config.Allowlist{Description: a.Description, MatchCondition: a.MatchCondition, Commits: a.Commits,
			RegexTarget: a.RegexTarget, Regexes: a.Regexes, StopWords: a.StopWords}
		if err := rest.Validate(); err != nil {
			return nil, err
		}
		out.Allowlists = append(out.Allowlists, rest)
	}
	for _, in := range infos {
		for _, p := range in.paths {
			g.needPaths = append(g.needPaths, accel.NewLitMatcher(p))
		}
	}
	return &out, nil
}

func newGLDetector(path string, maxDecodeDepth int) (*glDetector, error) {
	if path != "" {
		if err := regular.Check(path); err != nil {
			return nil, err
		}
	}
	src, err := loadGitleaksSource(path)
	if err != nil {
		return nil, err
	}
	return newGLDetectorOf(src, maxDecodeDepth)
}

// newGLDetectorOf is newGLDetector over the rules of src.
func newGLDetectorOf(src *glSource, maxDecodeDepth int) (*glDetector, error) {
	g := &glDetector{rules: map[string]string{}, unitOf: map[string]int{}, src: src}
	cfg, err := g.splitPaths(&src.base, src.infos)
	if err != nil {
		return nil, err
	}
	// rules in composite (required) relations stay together
	unitOf := map[string]string{}
	var ids []string
	infos := map[string]*ruleInfo{}
	for i := range src.infos {
		in := &src.infos[i]
		infos[in.id] = in
		ids = append(ids, in.id)
		g.rules[in.id] = in.description
		if len(in.keywords) == 0 && in.regex {
			g.keywordless = true
		}
		for _, req := range in.required {
			unitOf[req] = in.id
		}
	}
	sort.Strings(ids)
	members := map[string][]string{}
	var names []string
	for _, id := range ids {
		u := id
		if p, ok := unitOf[id]; ok {
			u = p
		}
		if members[u] == nil {
			names = append(names, u)
		}
		members[u] = append(members[u], id)
	}
	sort.Strings(names)
	kws := map[string][]int{}
	for _, n := range names {
		ui := len(g.units)
		g.units = append(g.units, glUnit{ids: members[n], src: src, cfg: cfg, depth: maxDecodeDepth})
		un := &g.units[ui]
		for _, id := range members[n] {
			g.unitOf[id] = ui
			for _, k := range infos[id].keywords {
				un.multiline = un.multiline || strings.HasPrefix(k, "-----")
				if l := kws[k]; len(l) == 0 || l[len(l)-1] != ui {
					kws[k] = append(l, ui)
				}
			}
		}
	}
	for k := range kws {
		g.keywords = append(g.keywords, k)
	}
	sort.Strings(g.keywords)
	g.kw = accel.NewKWIndex(kws)
	g.maxDecode = maxDecodeDepth
	g.cfg = cfg
	if g.keywordless { // only then do whole chunks go through every rule
		all := g.allRules()
		g.all = detect.NewDetector(all)
		g.all.MaxDecodeDepth = 0
		if maxDecodeDepth > 0 {
			g.deep = detect.NewDetector(all)
			g.deep.MaxDecodeDepth = maxDecodeDepth
		}
	}
	return g, nil
}

// allRules is the detectors' configuration with every rule, translated.
func (g *glDetector) allRules() config.Config {
	all := *g.cfg
	all.Rules = map[string]config.Rule{}
	all.Keywords = map[string]struct{}{}
	all.OrderedRules = nil
	for _, in := range g.src.infos {
		all.OrderedRules = append(all.OrderedRules, in.id)
	}
	for id, r := range g.src.translate(all.OrderedRules) {
		all.Rules[id] = r
		for _, k := range r.Keywords {
			all.Keywords[strings.ToLower(k)] = struct{}{}
		}
	}
	return all
}

// unit returns unit u, its checks made (on its first use: a scan wakes
// few of the units, and reading 222 expressions for literals, spans and
// stop bytes took 15 ms of every process).
func (g *glDetector) unit(u int) *glUnit {
	un := &g.units[u]
	un.once.Do(un.build)
	return un
}

// build translates the unit's rules and makes its detectors and checks.
func (un *glUnit) build() {
	rules := un.src.translate(un.ids)
	sub := *un.cfg
	sub.Rules = map[string]config.Rule{}
	sub.Keywords = map[string]struct{}{}
	sub.OrderedRules = nil
	for _, id := range un.ids {
		r := rules[id]
		un.members = append(un.members, r)
		sub.Rules[id] = r
		sub.OrderedRules = append(sub.OrderedRules, id)
		for _, k := range r.Keywords {
			sub.Keywords[strings.ToLower(k)] = struct{}{}
		}
		for _, a := range lineAllowlists(r, un.cfg) {
			un.lineAllows = append(un.lineAllows, a.Regexes...)
		}
	}
	un.plain = &lazyDetector{cfg: sub}
	un.deep = &lazyDetector{cfg: sub, depth: un.depth}
	for _, r := range un.members {
		if r.Regex != nil {
			un.span = max(un.span, accel.NewlineSpan(r.Regex.String()))
		}
	}
	if len(un.members) != 1 {
		return
	}
	r := un.members[0]
	un.gate = ruleGate(r, un.span)
	un.textGate = textGate(r)
	if un.span <= 1 && !un.multiline {
		un.anchors = windowAnchors(r, un.cfg)
	}
	if un.gate != nil && !un.multiline && accel.AssertionFree(un.lineAllows) {
		un.stoppers = accel.StopBytes(r.Regex.String())
	}
	if un.anchors != nil || un.stoppers != nil {
		free := un.plain.cfg
		r.Keywords = nil
		free.Rules = map[string]config.Rule{r.RuleID: r}
		free.Keywords = map[string]struct{}{}
		un.anchored = &lazyDetector{cfg: free}
	}
	if isDefaultGeneric(r) {
		un.span = 0 // its gate finds the line a match ends on
	}
}

// lazyDetector is a detector with decoding passes built on first use.
type lazyDetector struct {
	once  sync.Once
	cfg   config.Config
	depth int
	d     *detect.Detector
}

func (l *lazyDetector) get() *detect.Detector {
	l.once.Do(func() {
		l.d = detect.NewDetector(l.cfg)
		l.d.MaxDecodeDepth = l.depth
	})
	return l.d
}

// deepFor returns a detector with decoding passes over the rules of units
// (sorted unit indexes).
func (g *glDetector) deepFor(units []int) *detect.Detector {
	if len(units) == 1 {
		return g.unit(units[0]).deep.get()
	}
	var key strings.Builder
	for _, u := range units {
		key.WriteString(strconv.Itoa(u))
		key.WriteByte(',')
	}
	if l, ok := g.deepSets.Load(key.String()); ok {
		return l.(*lazyDetector).get()
	}
	sub := *g.cfg
	sub.Rules = map[string]config.Rule{}
	sub.Keywords = map[string]struct{}{}
	sub.OrderedRules = nil
	for _, u := range units {
		c := &g.unit(u).deep.cfg
		for _, id := range c.OrderedRules {
			sub.Rules[id] = c.Rules[id]
			sub.OrderedRules = append(sub.OrderedRules, id)
		}
		for k := range c.Keywords {
			sub.Keywords[k] = struct{}{}
		}
	}
	l, _ := g.deepSets.LoadOrStore(key.String(), &lazyDetector{cfg: sub, depth: g.maxDecode})
	return l.(*lazyDetector).get()
}

// decodedUnits decodes text as gitleaks' decoding passes do, and calls
// woken with each unit whose keywords the decoded text holds (raw parts
// included). It reports whether anything decoded.
func (g *glDetector) decodedUnits(text string, woken func(u int), depth func(cur string)) bool {
	dec := codec.NewDecoder()
	cur, segs := text, []*codec.EncodedSegment(nil)
	decoded := false
	for range g.maxDecode {
		cur, segs = dec.Decode(cur, segs)
		if len(segs) == 0 {
			break
		}
		decoded = true
		if depth != nil {
			depth(cur)
		}
		g.kw.Each([]byte(cur), func(units []int) bool {
			for _, u := range units {
				woken(u)
			}
			return false
		})
	}
	return decoded
}

// gatedOut drops from units those whose gate fails on every text of
// texts (what gitleaks' decoding passes run the rules on, depth after
// depth: the window with its segments decoded; and the raw window, where
// the deep detector's own raw pass runs): their expression cannot match
// there, so the decoding passes cannot find anything with them. (A long
// line of base64 decodes to text where generic-api-key's expression costs
// 17 ms per 16 KB and depth, and its gate rules it out.)
func (g *glDetector) gatedOut(units []int, texts []string) []int {
	var data [][]byte // the texts as bytes, made once when a unit has a gate
	return slices.DeleteFunc(units, func(u int) bool {
		gate := g.unit(u).gate
		if gate == nil {
			return false
		}
		if data == nil {
			for _, t := range texts {
				data = append(data, []byte(t))
			}
		}
		for _, d := range data {
			if _, ok := gate(d, 0, len(d)); ok {
				return false
			}
		}
		return true
	})
}

// glDetect runs d on window (whose first line is firstLine) of the item at path.
func glDetect(ctx context.Context, d *detect.Detector, path, window string, firstLine int) []report.Finding {
	//lint:ignore SA1019 DetectContext takes detect.Fragment until gitleaks v9
	return d.DetectContext(ctx, detect.Fragment{Raw: window, FilePath: path, StartLine: firstLine})
}

// ruleGate returns a check that lines must pass before r's expression runs
// on them, or nil.
func ruleGate(r config.Rule, span int) func(data []byte, from, to int) (int, bool) {
	if r.Regex == nil || r.Path != nil {
		return nil
	}
	switch {
	case isDefaultGeneric(r):
		return genericGate
	case r.Regex.String() == vaultRegex:
		return vaultGate
	case r.Regex.String() == twilioRegex:
		return twilioGate
	}
	if ids := assignmentIDs(r.Regex.String()); ids != nil {
		return assignmentGate(ids)
	}
	if span > 0 {
		return nil // the literals may be on a later line
	}
	lits := accel.RequiredLiterals(r.Regex.String())
	if lits == nil {
		return nil
	}
	for _, k := range r.Keywords {
		if len(k) >= accel.MinLen(lits) {
			return nil // the keywords tell as much
		}
	}
	return litGate(lits)
}

// longLineWindows runs a unit on windows of a long text (a line, or a
// line and the next when a match may cross a line break) around its
// anchors. ok is false when the whole text must be run instead: the
// windows would cover most of it, or a match reached a cut edge.
func longLineWindows(ctx context.Context, un *glUnit, path string, text []byte, firstLine int) ([]report.Finding, bool) {
	if bytes.Contains(text, []byte("gitleaks:allow")) {
		return nil, false // the allow comment may be outside a window
	}
	lower := make([]byte, len(text))
	for i, c := range text {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	var wins [][2]int
	for _, a := range un.anchors {
		for off := 0; off < len(lower); {
			k := bytes.Index(lower[off:], []byte(a))
			if k < 0 {
				break
			}
			p := off + k
			wins = append(wins, [2]int{max(0, p-winBefore), min(len(text), p+len(a)+winAfter)})
			off = p + len(a)
		}
	}
	if len(wins) == 0 {
		return nil, true // no anchor: no match anywhere
	}
	merged, covered := mergeWindows(wins)
	if covered > len(text)/2 {
		return nil, false
	}
	return runWindows(ctx, un.anchored.get(), path, text, firstLine, merged, edgeMargin)
}

// runWindows runs d on windows (sorted, disjoint) of text and returns what
// it finds as found in text (whose first line is firstLine). With edge
// above 0, ok is false when a match comes within edge bytes of a window's
// cut edge: the whole text must be run instead.
func runWindows(ctx context.Context, d *detect.Detector, path string, text []byte, firstLine int, wins [][2]int, edge int) (out []report.Finding, ok bool) {
	line, lineStart, counted := firstLine, 0, 0
	for _, w := range wins {
		// where the window starts: its line, and its column on that line
		for k := counted; k < w[0]; k++ {
			if text[k] == '\n' {
				line++
				lineStart = k + 1
			}
		}
		counted = w[0]
		col := w[0] - lineStart
		win := text[w[0]:w[1]]
		for _, gf := range glDetect(ctx, d, path, string(win), line) {
			if edge > 0 {
				// the match's offsets in the window (without decoding
				// passes, gitleaks' Match is the match, trimmed of line
				// breaks)
				start := offsetIn(win, gf.StartLine-line, gf.StartColumn-1)
				end := start + len(gf.Match)
				if w[0] > 0 && start < edge || w[1] < len(text) && end > len(win)-edge {
					return nil, false
				}
			}
			// gitleaks counts columns from 1 on a fragment's first line and
			// from the line break on the others: a window cut into a later
			// line makes up for it
			if gf.StartLine == line {
				gf.StartColumn += col
				if line > firstLine {
					gf.StartColumn++
				}
			}
			// (a match over lines, or over a line's break, has an end
			// column that is gitleaks' guess: 0, or on another line)
			if gf.EndLine == line && gf.StartLine == line && gf.EndColumn > 0 {
				gf.EndColumn += col
				if line > firstLine {
					gf.EndColumn++
				}
			}
			out = append(out, gf)
		}
	}
	return out, true
}

// pieceWindows runs a gated unit on the parts of a text its gate passes.
// No match of the unit's expression holds one of its stoppers, so at each
// stopper the text splits into pieces that no match crosses; run on a
// piece with the stoppers at its ends (so that the text's own edges, where
// "$" and the like match, are not a piece's), the expression finds there
// exactly what it finds in the whole text. Only the pieces where the gate
// finds something to report are run. ok is false when the whole text must
// be run instead: an allow comment or an allowlist that looks at whole
// lines could see more than a piece, or the pieces cover most of it.
func pieceWindows(ctx context.Context, un *glUnit, path string, text []byte, firstLine int) ([]report.Finding, bool) {
	if bytes.Contains(text, []byte("gitleaks:allow")) {
		return nil, false
	}
	for _, re := range un.lineAllows {
		if re.Match(text) {
			return nil, false
		}
	}
	var wins [][2]int
	covered := 0
	start := 0 // a stopper, or the text's start
	for k := 0; k <= len(text); k++ {
		if k < len(text) && (text[k] >= 128 || !un.stoppers[text[k]]) {
			continue
		}
		end := min(k+1, len(text))
		if _, ok := un.gate(text[start:end], 0, end-start); ok {
			if n := len(wins); n > 0 && start-wins[n-1][1] < pieceGap {
				covered += end - wins[n-1][1]
				wins[n-1][1] = end // the pieces between are run too
			} else {
				covered += end - start
				wins = append(wins, [2]int{start, end})
			}
		}
		start = k
	}
	if covered > len(text)*3/4 {
		return nil, false
	}
	return runWindows(ctx, un.anchored.get(), path, text, firstLine, wins, 0)
}

// pieceMin is the shortest window run in pieces: on a shorter one, the
// pieces would cost more calls than the bytes they spare.
const pieceMin = 256

// pieceGap is how far apart two pieces to run may be and still run as one
// window (with the pieces between them).
const pieceGap = 256

// deepMargin is how much of a long line a window of the decoding passes
// holds on each side of a segment: a match in decoded text runs from a
// accel.Keyword before the segment (a generic key's is a few dozen bytes away)
// into it, and what reaches a window's edge makes the whole line run.
const deepMargin = 512

// deepLine is what the decoding passes need to know of a line: where its
// segments whose decoding may matter are, and its percent segment.
type deepLine struct {
	spans [][2]int // segments that may decode and may matter
	kwAt  []int    // where a long line's raw keywords start
	local []byte   // scratch: text around an escape, decoded
	pct   [2]int   // a long line's percent segment ({-1, -1}: none)
	pctOK bool     // it decodes
}

// deepSpans finds what the decoding passes may find on line (rawKw: the
// line holds a raw keyword of a gitleaks rule), and reports whether they
// may find anything. A segment matters when its decoded text holds a
// keyword or decodes further, or (on a long line: within deepMargin) a raw
// keyword may join it in a match. On a long line, a percent escape
// matters only when what it decodes to may join a segment of the next pass
// or the text around it, decoded, holds a keyword (on a short line the
// whole line is run anyway). Matches far from every escape of a line's
// percent segment are the raw text's, which the keyword-woken windows
// find, and which Results prefers to the decoded copy.
func (g *glDetector) deepSpans(line []byte, rawKw bool, dl *deepLine) bool {
	long := len(line) > longLine
	dl.spans, dl.kwAt = dl.spans[:0], dl.kwAt[:0]
	dl.pct, dl.pctOK = [2]int{-1, -1}, false
	if rawKw && long {
		dl.kwAt = g.kw.Positions(line, dl.kwAt)
	}
	nearKw := func(from, to int) bool {
		if !long {
			return rawKw
		}
		k, _ := slices.BinarySearch(dl.kwAt, from-deepMargin)
		return k < len(dl.kwAt) && dl.kwAt[k] < to+deepMargin
	}
	need := false
	if !accel.ProbeDecode(line, func(dec []byte, from, to int) bool {
		escape := dec == nil && line[from] == '%'
		var matters bool
		switch {
		case escape && long:
			matters = nearKw(from, to) || g.escapeMatters(line, from, dl)
		case dec == nil && long && accel.InertUnicode(line[from:to]):
			// a unicode escape of a control character (a JSON-escaped
			// NUL): no rule's match holds one
		default:
			matters = dec == nil || accel.MayDecode(dec) || g.kw.Any(dec) || nearKw(from, to)
		}
		if matters {
			need = true
			dl.spans = append(dl.spans, [2]int{from, to})
		}
		return need && !long // on a long line, where each is
	}) || !need {
		return false
	}
	if !long {
		return true
	}
	// the line's percent segment runs from its first escape to its last,
	// those of bytes that are not Printable included (which ProbeDecode
	// does not show); when one of them is, nothing in it decodes
	if a, b, ok := accel.PercentSpan(line); a < b {
		dl.pct, dl.pctOK = [2]int{a, b}, ok
		if !ok {
			dl.spans = slices.DeleteFunc(dl.spans, func(sp [2]int) bool { return a <= sp[0] && sp[1] <= b })
		}
	}
	return len(dl.spans) > 0
}

// escapeMatters says whether the percent escape at line[i:] decodes to a
// byte that may join a segment of the next pass, or a keyword may hold
// the byte it decodes to.
func (g *glDetector) escapeMatters(line []byte, i int, dl *deepLine) bool {
	if c, _ := accel.EscapeAt(line, i); accel.EscapeMayJoin(c) {
		return true
	}
	const reach = 3 * 32 // a keyword's length, written in escapes
	from := accel.OutsideEscapes(line, max(0, i-reach), true)
	to := accel.OutsideEscapes(line, min(len(line), i+3+reach), false)
	dl.local = accel.PercentDecode(dl.local[:0], line[from:to])
	return g.kw.Any(dl.local)
}

// deepWindows runs gitleaks' decoding passes on windows of a long line
// around the segments that may matter (dl, from deepSpans), instead of on
// the whole line: each window runs the units its own decoded text wakes,
// and only what is found in decoded text is kept (what the raw text
// holds, the accel.Keyword-woken windows find). A window never splits a
// percent escape; one that starts or ends inside the line's percent
// segment gets an escape there (of a space, or of a byte that is not
// Printable when the segment does not decode), so that its own percent
// segment reaches its edge as the line's does, and the other segments in
// it wait for the next pass as they do on the whole line. ok is false
// when the whole line must be run instead: an allowlist that looks at
// whole lines matches this one, or a finding reached a cut edge. (Windows
// that cover most of the line still cost less than the line: each runs
// only the units its own decoded text wakes.)
func (g *glDetector) deepWindows(ctx context.Context, path string, line []byte, dl *deepLine, only unitMask, lineNo int) (out []report.Finding, ok bool) {
	if len(dl.spans) == 0 || bytes.Contains(line, []byte("gitleaks:allow")) {
		return nil, false
	}
	wins := make([][2]int, len(dl.spans))
	for i, sp := range dl.spans {
		wins[i] = [2]int{accel.OutsideEscapes(line, max(0, sp[0]-deepMargin), true),
			accel.OutsideEscapes(line, min(len(line), sp[1]+deepMargin), false)}
	}
	wins, _ = mergeWindows(wins)
	sentinel := "%20"
	if !dl.pctOK {
		sentinel = "%9C"
	}
	inside := func(p int) bool { return dl.pct[0] < p && p < dl.pct[1] }
	var woken []int
	var win []byte
	for _, w := range wins {
		win = win[:0]
		pre := 0
		if inside(w[0]) {
			win = append(win, sentinel...)
			pre = len(sentinel)
		}
		win = append(win, line[w[0]:w[1]]...)
		if inside(w[1]) {
			win = append(win, sentinel...)
		}
		woken = woken[:0]
		texts := []string{string(win)}
		g.decodedUnits(texts[0], func(u int) {
			if only.has(u) && !slices.Contains(woken, u) {
				woken = append(woken, u)
			}
		}, func(cur string) { texts = append(texts, cur) })
		if woken = g.gatedOut(woken, texts); len(woken) == 0 {
			continue
		}
		for _, u := range woken {
			for _, re := range g.unit(u).lineAllows {
				if re.Match(line) { // it may allow what a window finds
					return nil, false
				}
			}
		}
		slices.Sort(woken)
		for _, gf := range glDetect(ctx, g.deepFor(woken), path, string(win), lineNo) {
			if !slices.ContainsFunc(gf.Tags, func(t string) bool { return strings.HasPrefix(t, "decoded:") }) {
				continue
			}
			// columns count from 1 on the window's (the line's) first line
			if w[0] > 0 && gf.StartColumn-1 < pre+edgeMargin || w[1] < len(line) && gf.EndColumn > pre+w[1]-w[0]-edgeMargin {
				return nil, false
			}
			gf.StartColumn += w[0] - pre
			gf.EndColumn += w[0] - pre
			out = append(out, gf)
		}
	}
	return out, true
}

// mergeWindows sorts windows (start, end) and merges those that overlap
// or touch, in place; covered is how many bytes the merged ones span.
func mergeWindows(wins [][2]int) (merged [][2]int, covered int) {
	sort.Slice(wins, func(i, j int) bool { return wins[i][0] < wins[j][0] })
	merged = wins[:1]
	for _, w := range wins[1:] {
		if last := &merged[len(merged)-1]; w[0] <= last[1] {
			last[1] = max(last[1], w[1])
			continue
		}
		merged = append(merged, w)
	}
	for _, w := range merged {
		covered += w[1] - w[0]
	}
	return merged, covered
}

// offsetIn is the byte offset in text of column col (0-based) of its
// line-th line (0-based).
func offsetIn(text []byte, line, col int) int {
	off := 0
	for ; line > 0; line-- {
		i := bytes.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	return off + col
}
