package report

import (
	"io"
	"strings"
)

// mdEscape makes s safe in a Markdown table cell: control characters
// visible, no pipe, backtick or HTML tag.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", "\\|", "`", "'", "<", "&lt;", ">", "&gt;", "*", "\\*", "[", "\\[")
	return r.Replace(Visible(s))
}

// mdCode makes s safe inside a code span in a Markdown table cell (where
// HTML is not read and entities are not decoded).
func mdCode(s string) string {
	return strings.NewReplacer("|", "\\|", "`", "'").Replace(Visible(s))
}

func writeMarkdown(w io.Writer, r *Report) error {
	bw := &errWriter{w: w}
	s := r.Stats
	bw.printf("## credscan: %d credential(s), %d finding(s), %d blocking\n\n", s.Credentials, s.Findings, s.Blocking)
	if r.Incomplete != "" {
		bw.printf("> **%s**\n\n", incompleteBanner(r))
	}
	creds := r.Credentials()
	if len(creds) > 0 {
		bw.printf("| Target | User | Identity | Fingerprint | Occurrences | Apps |\n|---|---|---|---|---:|---|\n")
		for _, c := range creds {
			id := ""
			if c.DB != nil {
				id = c.DB.String()
			}
			bw.printf("| %s | %s | %s | `%s` | %d | %s |\n", mdEscape(targetName(c.Target)), mdEscape(c.User), mdEscape(id),
				shortFP(c.Fingerprint), len(c.Findings), mdEscape(strings.Join(c.Apps(), ", ")))
		}
		bw.printf("\n<details><summary>Occurrences</summary>\n\n| Rule | App | Location | Redacted |\n|---|---|---|---|\n")
		for _, f := range r.Findings {
			bw.printf("| %s | %s | `%s` | `%s` |\n", mdEscape(f.RuleID), mdEscape(f.Origin.App), mdCode(location(f.Origin)), mdCode(f.Redacted))
		}
		bw.printf("\n</details>\n")
	} else if r.Incomplete == "" {
		bw.printf("No credentials found.\n")
	}
	if apps := appNames(s); len(apps) > 0 {
		bw.printf("\n| App | Hardcoded | Referenced | Encrypted |\n|---|---:|---:|---:|\n")
		for _, a := range apps {
			bw.printf("| %s | %d | %d | %d |\n", mdEscape(a), s.Hardcoded[a], s.Referenced[a], s.Encrypted[a])
		}
	}
	if len(r.CISecrets) > 0 {
		bw.printf("\n### CI secrets (names only)\n\n| App | Name | Store | Use | Where |\n|---|---|---|---|---|\n")
		for _, c := range r.CISecrets {
			bw.printf("| %s | `%s` | %s | %s | `%s` |\n", mdEscape(c.Origin.App), mdCode(c.Name), mdEscape(c.Store), mdEscape(c.Use), mdCode(location(c.Origin)))
		}
	}
	bw.printf("\n%d item(s) read, %d binary skipped, %d unreadable.\n", s.Items, s.Binary, s.Errors)
	for _, e := range r.Errors {
		bw.printf("- skipped: %s\n", mdEscape(e.Error()))
	}
	return bw.err
}
