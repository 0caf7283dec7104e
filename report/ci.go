package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ghEscape escapes a GitHub Actions workflow command's message.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghEscapeProp escapes a workflow command's property value.
func ghEscapeProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// WriteGitHubAnnotations writes one ::error (blocking) or ::warning
// workflow command per finding, which GitHub shows on the pull request's
// diff at the file and line.
func WriteGitHubAnnotations(w io.Writer, r *Report) error {
	bw := &errWriter{w: w}
	for _, f := range r.Findings {
		level := "warning"
		if f.Blocking {
			level = "error"
		}
		title := "credscan: " + f.RuleID
		msg := fmt.Sprintf("%s. Hardcoded secret (fingerprint %s): %s. %s", r.Rules[f.RuleID], shortFP(f.Fingerprint), f.Redacted, r.RuleHelp[f.RuleID])
		bw.printf("::%s file=%s,line=%d,title=%s::%s\n", level, ghEscapeProp(f.Origin.Path), max(f.Origin.Line, 1), ghEscapeProp(Visible(title)), ghEscape(Visible(strings.TrimSpace(msg))))
	}
	return bw.err
}

// glIssue is one entry of a GitLab code quality report.
type glIssue struct {
	Description string     `json:"description"`
	CheckName   string     `json:"check_name"`
	Fingerprint string     `json:"fingerprint"`
	Severity    string     `json:"severity"`
	Location    glLocation `json:"location"`
}

type glLocation struct {
	Path  string  `json:"path"`
	Lines glLines `json:"lines"`
}

type glLines struct {
	Begin int `json:"begin"`
}

// WriteGitLabCodeQuality writes a GitLab code quality report (the
// artifacts:reports:codequality format), which GitLab shows in the merge
// request.
func WriteGitLabCodeQuality(w io.Writer, r *Report) error {
	issues := make([]glIssue, 0, len(r.Findings))
	for _, f := range r.Findings {
		sev := "major"
		if f.Blocking {
			sev = "blocker"
		}
		issues = append(issues, glIssue{
			Description: fmt.Sprintf("%s: hardcoded secret (fingerprint %s): %s", r.Rules[f.RuleID], shortFP(f.Fingerprint), f.Redacted),
			CheckName:   "credscan/" + f.RuleID,
			// unique per location; the keyed fingerprint is not a hash of the secret
			Fingerprint: fmt.Sprintf("%s:%s:%d:%s", f.RuleID, f.Origin.Path, f.Origin.Line, shortFP(f.Fingerprint)),
			Severity:    sev,
			Location:    glLocation{Path: f.Origin.Path, Lines: glLines{Begin: max(f.Origin.Line, 1)}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(issues)
}

// WriteMarkdown writes the Markdown summary (for $GITHUB_STEP_SUMMARY).
func WriteMarkdown(w io.Writer, r *Report) error { return writeMarkdown(w, r) }

// WriteSARIF writes SARIF 2.1.0.
func WriteSARIF(w io.Writer, r *Report) error { return writeSARIF(w, r) }
