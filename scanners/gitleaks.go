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
	d        *detect.Detector
	bit      uint8
	keywords []string
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
	cfg         *config.Config
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
	for _, a := range g.cfg.Allowlists {
		if a.PathAllowed(path) && len(a.Regexes) == 0 && len(a.StopWords) == 0 && len(a.Commits) == 0 {
			return pathAllowed
		}
	}
	for _, r := range g.cfg.Rules {
		if r.Path != nil && r.Path.MatchString(path) {
			return pathNeeded
		}
		for _, a := range r.Allowlists {
			if a.PathAllowed(path) {
				return pathNeeded
			}
		}
	}
	for _, a := range g.cfg.Allowlists {
		if a.PathAllowed(path) {
			return pathNeeded
		}
	}
	return pathIrrelevant
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
	g := &glDetector{rules: map[string]string{}, cfg: cfg}
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
		d.MaxDecodeDepth = maxDecodeDepth
		g.shards = append(g.shards, glShard{d: d, bit: bit, keywords: kws})
		g.all |= bit
		bit <<= 1
	}
	return g, nil
}

// detect runs one shard on window (whose first line is firstLine) of the item at path.
func (s *glShard) detect(ctx context.Context, path, window string, firstLine int) []report.Finding {
	//lint:ignore SA1019 DetectContext takes detect.Fragment until gitleaks v9
	return s.d.DetectContext(ctx, detect.Fragment{Raw: window, FilePath: path, StartLine: firstLine})
}
