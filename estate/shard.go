package estate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/manifest"
)

// Shard selects a deterministic part of an estate: shard Index (from 0)
// of Total. The apps of the manifest, sorted by name, are dealt round
// robin, so every source of an app is in one shard (an app's CI stores
// are linked with its pipelines, and its evidence is recorded whole) and
// the split depends on the manifest alone: the same on every machine and
// in every run.
type Shard struct {
	Index, Total int
}

// ParseShard reads "I/N" (I from 0 to N-1, as Kubernetes'
// JOB_COMPLETION_INDEX counts).
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, credscan.UsageError("--shard %q: want INDEX/TOTAL, e.g. 0/3", s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	tot, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil || tot < 1 || idx < 0 || idx >= tot {
		return Shard{}, credscan.UsageError("--shard %q: want INDEX/TOTAL with 0 <= INDEX < TOTAL", s)
	}
	return Shard{Index: idx, Total: tot}, nil
}

// On says whether the run is split.
func (s Shard) On() bool { return s.Total > 1 }

// Apps are the names of m's apps in shard s.
func (s Shard) Apps(m *manifest.Manifest) []string {
	names := make([]string, 0, len(m.Apps))
	for _, a := range m.Apps {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	if !s.On() {
		return names
	}
	var out []string
	for i, n := range names {
		if i%s.Total == s.Index {
			out = append(out, n)
		}
	}
	return out
}

// cacheConfig names what decides whether content yields anything, for the
// scan cache's keys: credscan's version, the rule set, the gitleaks
// config, the decoding depth, the targets (the policy, allowlist and
// baseline are applied after, to what the content yielded), and a value
// only the fingerprint key gives, so the keys cannot be computed without
// it.
func cacheConfig(m *manifest.Manifest, o Options, fp *credscan.Fingerprinter) cache.Config {
	parts := []string{"credscan scan cache v1", o.Version, string(o.Rules), strconv.Itoa(o.MaxDecodeDepth), fp.Of("credscan scan cache")}
	if sum := fileSum(o.GitleaksConfig); sum != "" {
		parts = append(parts, "gitleaks:"+sum)
	}
	if m != nil {
		t, _ := json.Marshal(m.Targets)
		parts = append(parts, "targets:"+string(t))
	}
	return cache.NewConfig(parts...)
}

// ruleSet fingerprints everything that decides what a run reports for the
// same sources: credscan's version, the rule set, the gitleaks config, the
// decoding depth, the manifest's targets, allowlist and policy, the
// baseline. Shards merge only when theirs agree.
func ruleSet(m *manifest.Manifest, o Options) string {
	h := sha256.New()
	put := func(k string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(h, "%s=%d:%s\n", k, len(b), b)
	}
	put("version", o.Version)
	put("rules", string(o.Rules))
	put("decode", o.MaxDecodeDepth)
	for _, f := range [][2]string{{"gitleaks", o.GitleaksConfig}, {"baseline", o.Baseline}} {
		if sum := fileSum(f[1]); sum != "" {
			put(f[0], sum)
		}
	}
	if m != nil {
		put("targets", m.Targets)
		put("allowlist", m.Allowlist)
		put("policy", m.Policy)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// fileSum is the hex SHA-256 of a config file's bytes, "" when there is
// none or it cannot be read (the engine or the policy says why).
func fileSum(file string) string {
	if file == "" {
		return ""
	}
	b, err := regular.ReadFile(file) // never a pipe
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
