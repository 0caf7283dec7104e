package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/credscan/credscan"
)

// JSONVersion is the version of the JSON report schema (docs/reports.md).
// Version 2 added ruleset, key_id and shard, which merging needs.
const JSONVersion = 2

// JSONReport is the JSON report. Its fields are the documented, stable schema.
type JSONReport struct {
	Version     int              `json:"version"`
	Tool        JSONTool         `json:"tool"`
	Findings    []JSONFinding    `json:"findings"`
	Credentials []JSONCredential `json:"credentials"`
	References  []JSONReference  `json:"references"`
	CISecrets   []JSONCISecret   `json:"ci_secrets"`
	Errors      []JSONError      `json:"errors"`
	// Suppressed lists the findings inline markers suppressed, with
	// --show-suppressed; absent otherwise (stats.allowed counts them).
	Suppressed []JSONFinding  `json:"suppressed,omitempty"`
	Stats      credscan.Stats `json:"stats"`
	// Incomplete says why the scan stopped before its end ("interrupted");
	// absent for a finished scan.
	Incomplete string `json:"incomplete,omitempty"`
	// RuleSet fingerprints what decides the report besides the sources
	// (credscan's version, rules, gitleaks config, targets, allowlist,
	// policy, baseline); KeyID names the fingerprint key (an HMAC of a
	// fixed text, never the key). Reports merge only when both agree.
	RuleSet string `json:"ruleset,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	// Shard is set in the report of one shard of a split run (--shard).
	Shard *JSONShard `json:"shard,omitempty"`
}

// JSONShard is what merging a shard's report needs beyond the report.
type JSONShard struct {
	Index int      `json:"index"`
	Total int      `json:"total"`
	Apps  []string `json:"apps"`
	// Layers counts what the shard read of each image layer (part of
	// stats): a layer two shards read is counted once when merged.
	Layers map[string]*credscan.Counts `json:"layers,omitempty"`
	Rules  map[string]string           `json:"rules,omitempty"` // rule ID → description
	Help   map[string]string           `json:"help,omitempty"`  // rule ID → remediation
}

// JSONTool names the producer.
type JSONTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// JSONFinding is one occurrence.
type JSONFinding struct {
	RuleID      string        `json:"rule_id"`
	Kind        string        `json:"kind"` // "database" (DB pack) or "secret" (gitleaks)
	Target      string        `json:"target"`
	App         string        `json:"app"`
	Origin      JSONOrigin    `json:"origin"`
	DB          *JSONIdentity `json:"db"`
	Fingerprint string        `json:"fingerprint"`
	Redacted    string        `json:"redacted"`
	Blocking    bool          `json:"blocking"`
	Tags        []string      `json:"tags,omitempty"`
	Column      int           `json:"column,omitempty"`
}

// JSONOrigin is where a finding is.
type JSONOrigin struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Commit string `json:"commit,omitempty"`
	Author string `json:"author,omitempty"`
	Date   string `json:"date,omitempty"`
	Blob   string `json:"blob,omitempty"`
	Layer  string `json:"layer,omitempty"`
	// CI sources
	CI       string `json:"ci,omitempty"`
	Job      string `json:"job,omitempty"`
	Step     string `json:"step,omitempty"`
	Variable string `json:"variable,omitempty"`
}

// JSONCISecret is a secret name a pipeline references or a CI store
// holds; it never carries a value.
type JSONCISecret struct {
	App     string     `json:"app"`
	Name    string     `json:"name"`
	Store   string     `json:"store"`
	Use     string     `json:"use"`
	Scope   string     `json:"scope,omitempty"`
	Updated string     `json:"updated,omitempty"`
	Flags   []string   `json:"flags,omitempty"`
	Origin  JSONOrigin `json:"origin"`
}

// JSONIdentity is a database identity.
type JSONIdentity struct {
	Driver   string   `json:"driver,omitempty"`
	User     string   `json:"user"`
	Host     string   `json:"host"`
	Hosts    []string `json:"hosts,omitempty"`
	Port     int      `json:"port"`
	Database string   `json:"database"`
}

// JSONCredential groups the findings of one (target, user, fingerprint).
type JSONCredential struct {
	Target      string        `json:"target"`
	User        string        `json:"user"`
	Fingerprint string        `json:"fingerprint"`
	DB          *JSONIdentity `json:"db"`
	Apps        []string      `json:"apps"`
	Rules       []string      `json:"rules"`
	Occurrences int           `json:"occurrences"`
	Locations   []JSONOrigin  `json:"locations"`
}

// JSONReference is a setting that references a secret store.
type JSONReference struct {
	App       string     `json:"app"`
	Key       string     `json:"key"`
	Origin    JSONOrigin `json:"origin"`
	Encrypted bool       `json:"encrypted,omitempty"` // ciphertext or a named secret store, not the environment
}

// JSONError is an item that could not be read.
type JSONError struct {
	Origin JSONOrigin `json:"origin"`
	Error  string     `json:"error"`
}

func jsonOrigin(o credscan.Origin) JSONOrigin {
	return JSONOrigin{Kind: string(o.Kind), Target: o.Target, Path: o.Path, Line: o.Line, Commit: o.Commit, Author: o.Author, Date: o.Date, Blob: o.Blob, Layer: o.Layer,
		CI: o.CI, Job: o.Job, Step: o.Step, Variable: o.Variable}
}

func jsonIdentity(d *credscan.DBIdentity) *JSONIdentity {
	if d == nil {
		return nil
	}
	return &JSONIdentity{Driver: d.Driver, User: d.User, Host: d.Host, Hosts: d.Hosts, Port: d.Port, Database: d.Database}
}

func findingKind(f *credscan.Finding) string {
	if f.Database {
		return "database"
	}
	return "secret"
}

func jsonFinding(f *credscan.Finding) JSONFinding {
	return JSONFinding{RuleID: f.RuleID, Kind: findingKind(f), Target: f.Target, App: f.Origin.App,
		Origin: jsonOrigin(f.Origin), DB: jsonIdentity(f.DB), Fingerprint: f.Fingerprint, Redacted: f.Redacted,
		Blocking: f.Blocking, Tags: f.Tags, Column: f.Column}
}

// BuildJSON converts r to the JSON schema.
func BuildJSON(r *Report) *JSONReport {
	out := &JSONReport{Version: JSONVersion, Tool: JSONTool{Name: r.Tool, Version: r.Version}, Stats: r.Stats, Incomplete: r.Incomplete,
		RuleSet: r.RuleSet, KeyID: r.KeyID,
		Findings: []JSONFinding{}, Credentials: []JSONCredential{}, References: []JSONReference{}, CISecrets: []JSONCISecret{}, Errors: []JSONError{}}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, jsonFinding(f))
	}
	for _, f := range r.Suppressed {
		out.Suppressed = append(out.Suppressed, jsonFinding(f))
	}
	for _, c := range r.Credentials() {
		jc := JSONCredential{Target: c.Target, User: c.User, Fingerprint: c.Fingerprint, DB: jsonIdentity(c.DB),
			Apps: c.Apps(), Rules: c.Rules(), Occurrences: len(c.Findings)}
		if jc.Apps == nil {
			jc.Apps = []string{}
		}
		for _, f := range c.Findings {
			jc.Locations = append(jc.Locations, jsonOrigin(f.Origin))
		}
		out.Credentials = append(out.Credentials, jc)
	}
	for _, c := range r.CISecrets {
		out.CISecrets = append(out.CISecrets, JSONCISecret{App: c.Origin.App, Name: c.Name, Store: c.Store, Use: c.Use, Scope: c.Scope,
			Updated: c.Updated, Flags: c.Flags, Origin: jsonOrigin(c.Origin)})
	}
	for _, ref := range r.References {
		out.References = append(out.References, JSONReference{App: ref.Origin.App, Key: ref.Key, Origin: jsonOrigin(ref.Origin), Encrypted: ref.Encrypted})
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, JSONError{Origin: jsonOrigin(e.Origin), Error: e.Err.Error()})
	}
	if s := r.Shard; s != nil {
		out.Shard = &JSONShard{Index: s.Index, Total: s.Total, Apps: s.Apps, Layers: s.Layers, Rules: r.Rules, Help: r.RuleHelp}
		if out.Shard.Apps == nil {
			out.Shard.Apps = []string{}
		}
	}
	return out
}

func writeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(BuildJSON(r))
}

func writeCSV(w io.Writer, r *Report) error {
	if r.Incomplete != "" {
		return ErrIncompleteCSV
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"target", "app", "rule_id", "kind", "user", "host", "port", "database", "fingerprint",
		"source_kind", "source", "path", "line", "commit", "layer", "blocking", "redacted", "ci", "job", "variable"})
	for _, f := range r.Findings {
		var user, host, port, db string
		if f.DB != nil {
			user, host, db = f.DB.User, strings.Join(f.DB.AllHosts(), ","), f.DB.Database
			if f.DB.Port != 0 {
				port = strconv.Itoa(f.DB.Port)
			}
		}
		row := []string{f.Target, f.Origin.App, f.RuleID, findingKind(f), user, host, port, db, f.Fingerprint,
			string(f.Origin.Kind), f.Origin.Target, f.Origin.Path, strconv.Itoa(f.Origin.Line), f.Origin.Commit, f.Origin.Layer,
			strconv.FormatBool(f.Blocking), f.Redacted, f.Origin.CI, f.Origin.Job, f.Origin.Variable}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe makes a cell safe for a spreadsheet: control characters
// visible, and a cell that begins with = + - @ (or a tab or carriage
// return) prefixed with ' so it is not read as a formula (OWASP).
func csvSafe(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		s = "'" + s
	}
	return Visible(s)
}
