// Package report renders scan results as a table, JSON, SARIF 2.1.0, CSV
// or Markdown. No format ever holds a plaintext secret: findings carry
// only redacted lines and keyed fingerprints.
package report

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/credscan/credscan"
)

// Formats lists the supported output formats.
var Formats = []string{"table", "json", "sarif", "csv", "markdown"}

// Report is everything a format may render.
type Report struct {
	Tool     string
	Version  string
	Findings []*credscan.Finding
	// Suppressed, when set (--show-suppressed), lists the findings inline
	// markers suppressed, each tagged "suppressed:<marker>".
	Suppressed []*credscan.Finding
	References []credscan.Reference
	CISecrets  []credscan.CISecret
	Errors     []*credscan.ItemError
	Stats      credscan.Stats
	Rules      map[string]string // rule ID → description
	RuleHelp   map[string]string // rule ID → remediation
	Color      bool              // ANSI colour (table only; on a TTY)
	// Incomplete, when set, says why the scan stopped before the end
	// ("interrupted"): every format says so, and CSV, which has no place
	// to, refuses to be written (ErrIncompleteCSV).
	Incomplete string
	// RuleSet and KeyID say what the report can be merged with (JSON
	// ruleset, key_id); Shard is set in one shard's report.
	RuleSet, KeyID string
	Shard          *Shard
	credentials    []*credscan.Credential
}

// Shard says which part of a split run a report covers.
type Shard struct {
	Index, Total int
	Apps         []string                    // the apps it scanned
	Layers       map[string]*credscan.Counts // what it read of each image layer
}

// Credentials groups the findings (computed once).
func (r *Report) Credentials() []*credscan.Credential {
	if r.credentials == nil {
		r.credentials = credscan.Group(r.Findings)
	}
	return r.credentials
}

// ErrIncompleteCSV is returned for a CSV report of an incomplete scan.
var ErrIncompleteCSV = errors.New("the scan did not finish and CSV cannot say so: no CSV report written (use --format json, which marks it incomplete)")

// Write renders r in format to w.
func Write(w io.Writer, format string, r *Report) error {
	switch format {
	case "table", "":
		return writeTable(w, r)
	case "json":
		return writeJSON(w, r)
	case "sarif":
		return writeSARIF(w, r)
	case "csv":
		return writeCSV(w, r)
	case "markdown", "md":
		return writeMarkdown(w, r)
	}
	return credscan.UsageError("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

func shortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

func targetName(t string) string {
	if t == "" {
		return "(no target)"
	}
	return t
}

func location(o credscan.Origin) string {
	var parts []string
	if o.Layer != "" {
		parts = append(parts, "layer "+shortDigest(o.Layer))
	}
	if o.Commit != "" {
		parts = append(parts, "commit "+shortFP(o.Commit))
	}
	loc := o.Path
	if o.Kind == credscan.KindCIVars && (strings.HasPrefix(o.Target, "gitlab:") || strings.HasPrefix(o.Target, "github:")) {
		loc = o.Target + " " + o.Path // a variable store: the project names the place
	}
	if o.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, o.Line)
	}
	parts = append(parts, loc)
	if ctx := ciContext(o); ctx != "" {
		parts = append(parts, "("+ctx+")")
	}
	return strings.Join(parts, " ")
}

// ciContext names the CI system, job, step and variable of a CI origin.
func ciContext(o credscan.Origin) string {
	if o.CI == "" {
		return ""
	}
	parts := []string{o.CI}
	if o.Job != "" {
		parts = append(parts, "job "+o.Job)
	}
	if o.Step != "" {
		parts = append(parts, "step "+o.Step)
	}
	if o.Variable != "" {
		parts = append(parts, "variable "+o.Variable)
	}
	return strings.Join(parts, ", ")
}

// writeCISecrets lists the CI secret names pipelines reference and stores
// hold, per app: the names to re-point at Vault. No values exist here.
func writeCISecrets(bw *errWriter, r *Report, c func(code, s string) styled) {
	if len(r.CISecrets) == 0 {
		return
	}
	bw.printf("\n%s\n", c(ansiBold, "CI SECRETS (names only: what to re-point at Vault)"))
	bw.printf("%-16s %-28s %-12s %-10s %s\n", "APP", "NAME", "STORE", "USE", "WHERE")
	for _, s := range r.CISecrets {
		app := s.Origin.App
		if app == "" {
			app = "-"
		}
		where := location(s.Origin)
		if s.Updated != "" {
			where += " updated " + s.Updated
		}
		if len(s.Flags) > 0 {
			where += " [" + strings.Join(s.Flags, ",") + "]"
		}
		bw.printf("%-16s %-28s %-12s %-10s %s\n", app, s.Name, s.Store, s.Use, where)
	}
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// suppressedMarker is the marker that suppressed f.
func suppressedMarker(f *credscan.Finding) string {
	for _, t := range f.Tags {
		if m, ok := strings.CutPrefix(t, "suppressed:"); ok {
			return m
		}
	}
	return ""
}

// appNames lists the apps that have hardcoded or referenced credentials, sorted.
func appNames(s credscan.Stats) []string {
	seen := map[string]bool{}
	var ks []string
	for _, m := range []map[string]int{s.Hardcoded, s.Referenced, s.Encrypted} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				ks = append(ks, k)
			}
		}
	}
	sort.Strings(ks)
	return ks
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiDim   = "\x1b[2m"
	ansiCyan  = "\x1b[36m"
)

func writeTable(w io.Writer, r *Report) error {
	c := func(code, s string) styled {
		if !r.Color {
			return styled(Visible(s))
		}
		return styled(code + Visible(s) + ansiReset)
	}
	bw := &errWriter{w: w}
	if r.Incomplete != "" {
		bw.printf("%s\n", c(ansiRed, incompleteBanner(r)))
	}
	creds := r.Credentials()
	if len(creds) == 0 && r.Incomplete == "" {
		bw.printf("No credentials found.\n")
	}
	lastTarget := "\x00"
	for _, cr := range creds {
		if cr.Target != lastTarget {
			lastTarget = cr.Target
			bw.printf("\n%s\n", c(ansiBold, "TARGET "+targetName(cr.Target)))
		}
		id := "(identity unknown)"
		if cr.DB != nil && !cr.DB.Empty() {
			id = cr.DB.String()
		}
		user := cr.User
		if user == "" {
			user = "(no user)"
		}
		bw.printf("  %s %s  %s  fp %s  %d occurrence(s) in %s\n", c(ansiRed, "credential"), c(ansiBold, user), id,
			shortFP(cr.Fingerprint), len(cr.Findings), strings.Join(orNone(cr.Apps()), ", "))
		for _, f := range cr.Findings {
			app := f.Origin.App
			if app == "" {
				app = "-"
			}
			block := styled("")
			if f.Blocking {
				block = c(ansiRed, " [blocking]")
			}
			bw.printf("    %-18s %-16s %s%s\n", f.RuleID, app, c(ansiCyan, location(f.Origin)), block)
			bw.printf("      %s\n", c(ansiDim, f.Redacted))
		}
	}
	s := r.Stats
	bw.printf("\n%d finding(s), %d credential(s), %d blocking; %d item(s), %.1f MB read, %d binary skipped, %d unreadable",
		s.Findings, s.Credentials, s.Blocking, s.Items, float64(s.Bytes)/1e6, s.Binary, s.Errors)
	if s.Allowed+s.Allowlisted+s.Baselined > 0 {
		bw.printf("; suppressed: %d inline, %d allowlist, %d baseline", s.Allowed, s.Allowlisted, s.Baselined)
	}
	if len(s.Skipped) > 0 {
		kinds := make([]string, 0, len(s.Skipped))
		for k := range s.Skipped {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for i, k := range kinds {
			kinds[i] = fmt.Sprintf("%d %s", s.Skipped[k], k)
		}
		bw.printf("; skipped: %s", strings.Join(kinds, ", "))
	}
	if s.Cached > 0 {
		bw.printf("; %d known clean from the scan cache", s.Cached)
	}
	bw.printf("\n")
	if apps := appNames(s); len(apps) > 0 {
		bw.printf("\n%-24s %10s %10s %10s\n", "APP", "HARDCODED", "REFERENCED", "ENCRYPTED")
		for _, a := range apps {
			name := a
			if name == "" {
				name = "(no app)"
			}
			bw.printf("%-24s %10d %10d %10d\n", name, s.Hardcoded[a], s.Referenced[a], s.Encrypted[a])
		}
	}
	if len(r.Suppressed) > 0 {
		bw.printf("\n%s\n", c(ansiBold, fmt.Sprintf("SUPPRESSED BY INLINE MARKERS (%d; still copies of their secrets)", len(r.Suppressed))))
		for _, f := range r.Suppressed {
			bw.printf("%-28s %-40s %s  %s\n", f.RuleID, location(f.Origin), suppressedMarker(f), f.Redacted)
		}
	}
	writeCISecrets(bw, r, c)
	for _, e := range r.Errors {
		bw.printf("%s %s\n", c(ansiRed, "skipped:"), e.Error())
	}
	if r.Incomplete != "" {
		bw.printf("\n%s\n", c(ansiRed, incompleteBanner(r)))
	}
	return bw.err
}

// incompleteBanner says, in the human formats, that a report is not a
// clean result.
func incompleteBanner(r *Report) string {
	return fmt.Sprintf("INCOMPLETE: the scan was %s; this report holds only what was found before it stopped and is not a clean result.", r.Incomplete)
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"(no app)"}
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

// printf writes format with args; every string and error among args is
// made Visible (text the writer styled itself is passed as styled).
func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, visibleArgs(args)...)
	}
}
