package scanners

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/report"
)

// gitleaks loads its configuration through the process-global viper, so
// each configuration is loaded once per process and shared.
var (
	glMu      sync.Mutex
	glConfigs = map[string]*config.Config{}
)

func init() {
	// gitleaks logs secrets at trace level: keep its logger silent.
	logging.Logger = zerolog.Nop()
}

// loadGitleaksConfig returns gitleaks' default configuration ("") or the
// TOML file at path.
func loadGitleaksConfig(path string) (*config.Config, error) {
	glMu.Lock()
	defer glMu.Unlock()
	if c, ok := glConfigs[path]; ok {
		return c, nil
	}
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
	c, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("translating gitleaks config %q: %w", path, err)
	}
	glConfigs[path] = &c
	return &c, nil
}

// glShard is a gitleaks detector over a subset of the rules, woken by the
// keywords of that subset only.
type glShard struct {
	d        *detect.Detector // without decoding passes
	bit      uint8
	keywords []string
	// generic is set on the shard of gitleaks' generic-api-key alone:
	// its lines must pass genericGate.
	generic bool
}

// glDetector runs gitleaks' rules on windows of a chunk. Rules whose
// keywords are common in source code ("s.", "ey", "key") get a shard of
// their own, so their regexes run only on the lines holding their own
// keywords rather than on every window another rule woke. It is safe for
// concurrent use: gitleaks' DetectContext only reads the detector.
type glDetector struct {
	shards []glShard
	// keywordless is true when some regex rule has no keyword: gitleaks
	// then runs it on every fragment, and so must we.
	keywordless bool
	rules       map[string]string // rule ID → description
	all         uint8             // every shard's bit
	// deep runs every rule with gitleaks' decoding passes, on the lines
	// that hold something to decode (nil without decoding)
	deep       *detect.Detector
	allowPaths []litMatcher // a match skips the file
	needPaths  []litMatcher // a match makes fragments carry the path
}

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
	lower := strings.ToLower(path)
	for _, m := range g.allowPaths {
		if m.match(path, lower) {
			return pathAllowed
		}
	}
	for _, m := range g.needPaths {
		if m.match(path, lower) {
			return pathNeeded
		}
	}
	return pathIrrelevant
}

// splitPaths moves the path checks of the global allowlists out of the
// detectors' configuration, so they run once per file rather than on
// every fragment: a path that an "OR" allowlist matches skips the file.
// Paths that rules and "AND" allowlists look at make fragments carry the
// path.
func (g *glDetector) splitPaths(cfg *config.Config) (*config.Config, error) {
	out := *cfg
	out.Allowlists = nil
	for _, a := range cfg.Allowlists {
		if a.MatchCondition == config.AllowlistMatchAnd || len(a.Paths) == 0 {
			out.Allowlists = append(out.Allowlists, a)
			for _, p := range a.Paths {
				g.needPaths = append(g.needPaths, newLitMatcher(p))
			}
			continue
		}
		for _, p := range a.Paths {
			g.allowPaths = append(g.allowPaths, newLitMatcher(p))
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
	for _, r := range cfg.Rules {
		if r.Path != nil {
			g.needPaths = append(g.needPaths, newLitMatcher(r.Path))
		}
		for _, a := range r.Allowlists {
			for _, p := range a.Paths {
				g.needPaths = append(g.needPaths, newLitMatcher(p))
			}
		}
	}
	return &out, nil
}

// isCommonKeyword says a keyword wakes a large share of source lines.
func isCommonKeyword(k string) bool {
	switch strings.ToLower(k) {
	case "key", "api", "auth", "token", "access", "secret", "password", "passwd", "credential", "creds", "pass":
		return true
	}
	return len(k) <= 2
}

func newGLDetector(path string, maxDecodeDepth int, firstBit uint8) (*glDetector, error) {
	cfg, err := loadGitleaksConfig(path)
	if err != nil {
		return nil, err
	}
	g := &glDetector{rules: map[string]string{}}
	if cfg, err = g.splitPaths(cfg); err != nil {
		return nil, err
	}
	linked := map[string]bool{} // rules in composite (required) relations stay together
	for id, r := range cfg.Rules {
		g.rules[id] = r.Description
		if len(r.Keywords) == 0 && r.Regex != nil {
			g.keywordless = true
		}
		if len(r.RequiredRules) > 0 {
			linked[id] = true
			for _, req := range r.RequiredRules {
				linked[req.RuleID] = true
			}
		}
	}
	groups := map[string][]string{} // shard name → rule IDs
	var ids []string
	for id := range cfg.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	const maxOwnShards = 5
	own := 0
	for _, id := range ids {
		r := cfg.Rules[id]
		common := false
		for _, k := range r.Keywords {
			if isCommonKeyword(k) {
				common = true
			}
		}
		if common && !linked[id] && own < maxOwnShards {
			own++
			groups[id] = []string{id}
			continue
		}
		groups[""] = append(groups[""], id)
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	if maxDecodeDepth > 0 {
		g.deep = detect.NewDetector(*cfg)
		g.deep.MaxDecodeDepth = maxDecodeDepth
	}
	bit := firstBit
	for _, n := range names {
		sub := *cfg
		sub.Rules = map[string]config.Rule{}
		sub.Keywords = map[string]struct{}{}
		sub.OrderedRules = nil
		var kws []string
		for _, id := range groups[n] {
			r := cfg.Rules[id]
			sub.Rules[id] = r
			sub.OrderedRules = append(sub.OrderedRules, id)
			for _, k := range r.Keywords {
				sub.Keywords[strings.ToLower(k)] = struct{}{}
				kws = append(kws, k)
			}
		}
		d := detect.NewDetector(sub)
		d.MaxDecodeDepth = 0
		generic := len(groups[n]) == 1 && n != "" && isDefaultGeneric(cfg.Rules[n])
		g.shards = append(g.shards, glShard{d: d, bit: bit, keywords: kws, generic: generic})
		g.all |= bit
		bit <<= 1
	}
	return g, nil
}

// detect runs one shard on window (whose first line is firstLine) of the item at path.
func (s *glShard) detect(ctx context.Context, path, window string, firstLine int) []report.Finding {
	return glDetect(ctx, s.d, path, window, firstLine)
}

func glDetect(ctx context.Context, d *detect.Detector, path, window string, firstLine int) []report.Finding {
	//lint:ignore SA1019 DetectContext takes detect.Fragment until gitleaks v9
	return d.DetectContext(ctx, detect.Fragment{Raw: window, FilePath: path, StartLine: firstLine})
}
