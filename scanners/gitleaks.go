package scanners

import (
	"context"
	"fmt"
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

// glDetector runs gitleaks' rules on windows of a chunk. It is safe for
// concurrent use: gitleaks' DetectContext only reads the detector.
type glDetector struct {
	d *detect.Detector
	// keywordless is true when some regex rule has no keyword: gitleaks
	// then runs it on every fragment, and so must we.
	keywordless bool
	keywords    []string
	rules       map[string]string // rule ID → description
}

func newGLDetector(path string, maxDecodeDepth int) (*glDetector, error) {
	cfg, err := loadGitleaksConfig(path)
	if err != nil {
		return nil, err
	}
	d := detect.NewDetector(*cfg)
	d.MaxDecodeDepth = maxDecodeDepth
	g := &glDetector{d: d, rules: map[string]string{}}
	for k := range cfg.Keywords {
		g.keywords = append(g.keywords, k)
	}
	for id, r := range cfg.Rules {
		g.rules[id] = r.Description
		if len(r.Keywords) == 0 && r.Regex != nil {
			g.keywordless = true
		}
	}
	return g, nil
}

// detect runs gitleaks on window (whose first line is firstLine) of the item at path.
func (g *glDetector) detect(ctx context.Context, path, window string, firstLine int) []report.Finding {
	//lint:ignore SA1019 DetectContext takes detect.Fragment until gitleaks v9
	return g.d.DetectContext(ctx, detect.Fragment{Raw: window, FilePath: path, StartLine: firstLine})
}
