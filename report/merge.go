package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/credscan/credscan"
)

// Part is one shard's JSON report, named (by its file) for errors.
type Part struct {
	Name   string
	Report *JSONReport
}

// ReadJSON reads a JSON report.
func ReadJSON(r io.Reader) (*JSONReport, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var jr JSONReport
	if err := dec.Decode(&jr); err != nil {
		return nil, fmt.Errorf("not a credscan JSON report: %w", err)
	}
	return &jr, nil
}

// Merge combines the reports of the shards of one split run (credscan
// scan estate --shard I/N, each N the same and each I once) into the
// report that one run over the whole estate gives: findings, credentials
// grouped by fingerprint across shards, references, CI secrets, errors
// and stats, in one order. It refuses reports that are not shards, of
// another schema, rule set or fingerprint key (naming them), and a set
// with a shard missing or given twice. A shard that was interrupted makes
// the merged report incomplete.
func Merge(parts []Part) (*Report, error) {
	if len(parts) == 0 {
		return nil, errors.New("no report to merge")
	}
	first := parts[0]
	var total int
	seen := map[int]string{}
	for _, p := range parts {
		r := p.Report
		switch {
		case r.Version != JSONVersion:
			return nil, fmt.Errorf("%s: JSON report version %d; merge reads version %d (written by this credscan)", p.Name, r.Version, JSONVersion)
		case r.Shard == nil:
			return nil, fmt.Errorf("%s: not a shard's report (scan with --shard INDEX/TOTAL)", p.Name)
		case r.RuleSet != first.Report.RuleSet:
			return nil, fmt.Errorf("%s and %s were scanned with different rule sets (%s, %s: credscan version, rules, gitleaks config, targets, allowlist, policy or baseline differ)",
				first.Name, p.Name, short(first.Report.RuleSet), short(r.RuleSet))
		case r.KeyID != first.Report.KeyID:
			return nil, fmt.Errorf("%s and %s were fingerprinted with different keys (%s, %s): their credentials cannot be grouped", first.Name, p.Name, r.KeyID, first.Report.KeyID)
		}
		if total == 0 {
			total = r.Shard.Total
		}
		if r.Shard.Total != total {
			return nil, fmt.Errorf("%s is shard %d/%d, %s one of %d", p.Name, r.Shard.Index, r.Shard.Total, first.Name, total)
		}
		if other, ok := seen[r.Shard.Index]; ok {
			return nil, fmt.Errorf("%s and %s are both shard %d/%d", other, p.Name, r.Shard.Index, total)
		}
		seen[r.Shard.Index] = p.Name
	}
	var missing []string
	for i := range total {
		if _, ok := seen[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, total))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("shard %s missing: a merge of part of the shards is not the estate's report", strings.Join(missing, ", "))
	}
	slices.SortFunc(parts, func(a, b Part) int { return a.Report.Shard.Index - b.Report.Shard.Index })

	out := &Report{Tool: first.Report.Tool.Name, Version: first.Report.Tool.Version, RuleSet: first.Report.RuleSet, KeyID: first.Report.KeyID,
		Rules: map[string]string{}, RuleHelp: map[string]string{}}
	st := &out.Stats
	st.Referenced, st.Hardcoded = map[string]int{}, map[string]int{}
	layers := map[string]bool{}
	for _, p := range parts {
		r := p.Report
		if r.Incomplete != "" {
			out.Incomplete = r.Incomplete
		}
		for _, f := range r.Findings {
			out.Findings = append(out.Findings, finding(f))
		}
		for _, f := range r.Suppressed {
			out.Suppressed = append(out.Suppressed, finding(f))
		}
		for _, ref := range r.References {
			out.References = append(out.References, credscan.Reference{Origin: origin(ref.Origin, ref.App), Key: ref.Key, Encrypted: ref.Encrypted})
		}
		for _, c := range r.CISecrets {
			out.CISecrets = append(out.CISecrets, credscan.CISecret{Origin: origin(c.Origin, c.App), Name: c.Name, Store: c.Store, Use: c.Use,
				Scope: c.Scope, Updated: c.Updated, Flags: c.Flags})
		}
		for _, e := range r.Errors {
			out.Errors = append(out.Errors, &credscan.ItemError{Origin: origin(e.Origin, ""), Err: errors.New(e.Error)})
		}
		s := r.Stats
		st.Add(1, credscan.Counts{Items: s.Items, Bytes: s.Bytes, Binary: s.Binary, Skipped: s.Skipped})
		// a layer two shards read (images of apps in both share it) is
		// counted once, as one run reads it once
		for _, d := range slices.Sorted(maps.Keys(r.Shard.Layers)) {
			if layers[d] {
				st.Add(-1, *r.Shard.Layers[d])
			}
			layers[d] = true
		}
		st.Errors += s.Errors
		st.Cached += s.Cached
		st.Allowed += s.Allowed
		st.Allowlisted += s.Allowlisted
		st.Baselined += s.Baselined
		st.Blocking += s.Blocking
		addMap(&st.Referenced, s.Referenced)
		addMap(&st.Encrypted, s.Encrypted)
		addMap(&st.Hardcoded, s.Hardcoded)
		st.Problems = append(st.Problems, s.Problems...)
		maps.Copy(out.Rules, r.Shard.Rules)
		maps.Copy(out.RuleHelp, r.Shard.Help)
	}
	credscan.SortFindings(out.Findings)
	credscan.SortFindings(out.Suppressed)
	credscan.SortReferences(out.References)
	credscan.SortCISecrets(out.CISecrets)
	credscan.SortErrors(out.Errors)
	slices.Sort(st.Problems)
	st.Findings = len(out.Findings)
	st.Credentials = len(out.Credentials())
	return out, nil
}

func addMap(dst *map[string]int, src map[string]int) {
	for k, n := range src {
		if *dst == nil {
			*dst = map[string]int{}
		}
		(*dst)[k] += n
	}
}

func short(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func origin(o JSONOrigin, app string) credscan.Origin {
	return credscan.Origin{Kind: credscan.Kind(o.Kind), App: app, Target: o.Target, Path: o.Path, Line: o.Line, Commit: o.Commit,
		Author: o.Author, Date: o.Date, Blob: o.Blob, Layer: o.Layer, CI: o.CI, Job: o.Job, Step: o.Step, Variable: o.Variable}
}

// finding is a finding read back from a report: everything but the
// secret, which a report never holds.
func finding(f JSONFinding) *credscan.Finding {
	out := &credscan.Finding{RuleID: f.RuleID, Database: f.Kind == "database", Target: f.Target, Origin: origin(f.Origin, f.App),
		Fingerprint: f.Fingerprint, Redacted: f.Redacted, Blocking: f.Blocking, Tags: f.Tags, Column: f.Column}
	if d := f.DB; d != nil {
		out.DB = &credscan.DBIdentity{Driver: d.Driver, User: d.User, Host: d.Host, Hosts: d.Hosts, Port: d.Port, Database: d.Database}
	}
	return out
}
