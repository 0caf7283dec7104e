// Package policy decides what happens to findings: what the allowlist and
// the baseline suppress, and what blocks (exit code 1). Decisions are pure
// and made in one place.
package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/scanners/engine"
)

// Policy filters findings and marks the blocking ones.
type Policy struct {
	allowPaths   []*regexp.Regexp
	allowSecrets []*regexp.Regexp
	allowFPs     []string
	baseline     map[baselineKey]bool
	blockDB      bool
	blockGL      bool
}

type baselineKey struct{ fingerprint, path string }

// New builds the policy from the manifest (may be nil) and a baseline file ("" for none).
func New(m *manifest.Manifest, baselineFile string) (*Policy, error) {
	p := &Policy{blockDB: true, blockGL: true}
	if m != nil {
		for _, r := range m.Allowlist.Paths {
			p.allowPaths = append(p.allowPaths, regexp.MustCompile(r)) // validated by manifest
		}
		for _, r := range m.Allowlist.Regexes {
			p.allowSecrets = append(p.allowSecrets, regexp.MustCompile(r))
		}
		for _, fp := range m.Allowlist.Fingerprints {
			fp = strings.ToLower(strings.TrimSpace(fp))
			if len(fp) < 12 {
				return nil, credscan.UsageError("allowlist fingerprint %q: at least 12 hex digits", fp)
			}
			p.allowFPs = append(p.allowFPs, fp)
		}
		if len(m.Policy.Block) > 0 {
			p.blockDB, p.blockGL = false, false
			for _, b := range m.Policy.Block {
				switch b {
				case "database":
					p.blockDB = true
				case "gitleaks":
					p.blockGL = true
				}
			}
		}
	}
	if baselineFile != "" {
		b, err := ReadBaseline(baselineFile)
		if err != nil {
			return nil, err
		}
		p.baseline = map[baselineKey]bool{}
		for _, e := range b.Entries {
			p.baseline[baselineKey{e.Fingerprint, e.path()}] = true
		}
	}
	return p, nil
}

// Verdict is what the policy decided for one finding.
type Verdict int

// Verdicts.
const (
	Report      Verdict = iota // reported, not blocking
	Block                      // reported and blocking
	Allowlisted                // suppressed by the manifest's allowlist
	Baselined                  // suppressed by the baseline
)

func (v Verdict) String() string {
	return [...]string{"report", "block", "allowlisted", "baselined"}[v]
}

// Decision is the verdict on one finding, and why.
type Decision struct {
	Finding *credscan.Finding
	Verdict Verdict
	Reason  string // names the rule that decided: never a value
}

// Decisions are the verdicts on findings, in the findings' order.
type Decisions []Decision

// Decide returns the verdict on each finding and its reason. It is pure:
// it changes neither the policy nor the findings.
func (p *Policy) Decide(fs []*credscan.Finding) Decisions {
	out := make(Decisions, len(fs))
	for i, f := range fs {
		v, why := p.decide(f)
		out[i] = Decision{Finding: f, Verdict: v, Reason: why}
	}
	return out
}

// decide is the verdict on one finding and its reason.
func (p *Policy) decide(f *credscan.Finding) (Verdict, string) {
	for _, r := range p.allowPaths {
		if r.MatchString(f.Origin.Path) {
			return Allowlisted, "allowlist.paths: " + r.String()
		}
	}
	for _, fp := range p.allowFPs {
		if strings.HasPrefix(f.Fingerprint, fp) {
			return Allowlisted, "allowlist.fingerprints: " + fp
		}
	}
	for i, r := range p.allowSecrets {
		if r.MatchString(f.Secret.Reveal()) {
			return Allowlisted, fmt.Sprintf("allowlist.regexes[%d]", i) // the expression may describe the secret
		}
	}
	if p.baseline[baselineKey{f.Fingerprint, f.Origin.Path}] {
		return Baselined, "baseline"
	}
	switch {
	case f.Database && p.blockDB:
		return Block, "policy.block: database"
	case !f.Database && p.blockGL:
		return Block, "policy.block: gitleaks"
	case f.Database:
		return Report, "policy.block does not list database"
	}
	return Report, "policy.block does not list gitleaks"
}

// Counts are how many findings each verdict got.
func (d Decisions) Counts() map[Verdict]int {
	out := map[Verdict]int{}
	for _, x := range d {
		out[x.Verdict]++
	}
	return out
}

// Apply applies the decisions on res.Findings: it drops the suppressed
// findings, marks the blocking ones and fills the counts in res.Stats.
// Call it after res.Finish.
func (p *Policy) Apply(res *engine.Results) {
	kept := res.Findings[:0]
	for _, d := range p.Decide(res.Findings) {
		switch d.Verdict {
		case Allowlisted:
			res.Stats.Allowlisted++
			continue
		case Baselined:
			res.Stats.Baselined++
			continue
		case Block:
			d.Finding.Blocking = true
			res.Stats.Blocking++
		}
		kept = append(kept, d.Finding)
	}
	res.Findings = kept
	res.Stats.Findings = len(kept)
	res.Stats.Hardcoded = map[string]int{}
	for _, f := range kept {
		res.Stats.Hardcoded[f.Origin.App]++
	}
	res.Stats.Credentials = len(credscan.Group(kept))
}

// Baseline is a set of known findings that do not block.
type Baseline struct {
	Version int             `json:"version"`
	Created time.Time       `json:"created"`
	Entries []BaselineEntry `json:"entries"`
}

// BaselineEntry identifies one known finding by fingerprint and path.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	Path        string `json:"path"`
	// PathBytes holds the path's bytes when they are not UTF-8 (a Latin-1
	// file name): JSON strings cannot, and Path then shows it with U+FFFD.
	PathBytes []byte `json:"path_bytes,omitempty"`
	RuleID    string `json:"rule_id"`
	Line      int    `json:"line,omitempty"` // informative; matching ignores it so edits above do not unbaseline
}

// path is the entry's path, exactly as the finding had it.
func (e BaselineEntry) path() string {
	if e.PathBytes != nil {
		return string(e.PathBytes)
	}
	return e.Path
}

func entryFor(f *credscan.Finding) BaselineEntry {
	e := BaselineEntry{Fingerprint: f.Fingerprint, Path: f.Origin.Path, RuleID: f.RuleID, Line: f.Origin.Line}
	if !utf8.ValidString(e.Path) {
		e.PathBytes = []byte(e.Path)
		e.Path = strings.ToValidUTF8(e.Path, "\uFFFD")
	}
	return e
}

// NewBaseline builds a baseline from findings.
func NewBaseline(fs []*credscan.Finding, now time.Time) *Baseline {
	b := &Baseline{Version: 1, Created: now.UTC()}
	seen := map[baselineKey]bool{}
	for _, f := range fs {
		k := baselineKey{f.Fingerprint, f.Origin.Path}
		if seen[k] {
			continue
		}
		seen[k] = true
		b.Entries = append(b.Entries, entryFor(f))
	}
	sort.Slice(b.Entries, func(i, j int) bool {
		if pi, pj := b.Entries[i].path(), b.Entries[j].path(); pi != pj {
			return pi < pj
		}
		return b.Entries[i].Fingerprint < b.Entries[j].Fingerprint
	})
	return b
}

// ReadBaseline reads a baseline file.
func ReadBaseline(file string) (*Baseline, error) {
	raw, err := regular.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, credscan.UsageError("baseline %s does not exist (create it with: credscan baseline create)", file)
		}
		return nil, credscan.UsageError("reading baseline: %v", err)
	}
	var b Baseline
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, credscan.UsageError("baseline %s: %v", file, err)
	}
	if b.Version != 1 {
		return nil, credscan.UsageError("baseline %s: version %d, want 1", file, b.Version)
	}
	return &b, nil
}

// WriteBaseline writes b to file (mode 0644: it holds no secret).
func WriteBaseline(file string, b *Baseline) error {
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}
