package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/credscan/credscan"
)

// hostile is a report whose every free text holds terminal controls, line
// breaks, bidirectional overrides and spreadsheet formulas, as file names,
// file content and remote error bodies can.
func hostile() *Report {
	f := &credscan.Finding{
		RuleID:      "pg-env",
		Origin:      credscan.Origin{Kind: credscan.KindDir, App: "=HYPERLINK(\"http://x\")", Target: "+cmd", Path: "a\x1b]0;owned\x07\r\nb\x1b[2J\u202econf.yml", Line: 3, Job: "@SUM(1)", Variable: "-2+3"},
		DB:          &credscan.DBIdentity{User: "u\x1b[8m", Host: "h\x9bq"},
		Target:      "ARP",
		Fingerprint: "abcdef0123456789",
		Redacted:    "PGPASSWORD=**** \x1b[1A\x1b[2K\xff",
		Blocking:    true,
	}
	return &Report{Tool: "credscan", Version: "t", Findings: []*credscan.Finding{f},
		Errors: []*credscan.ItemError{{Origin: credscan.Origin{Path: "x\x1b[31m"}, Err: errors.New("server said \x1b]8;;http://evil\x07")}},
		Stats:  credscan.Stats{Findings: 1, Credentials: 1, Blocking: 1, Hardcoded: map[string]int{"=HYPERLINK(\"http://x\")": 1}}}
}

// controls lists the control bytes in s other than the line breaks and
// tabs a format writes itself.
func controls(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			out = append(out, c)
		}
	}
	if strings.ContainsAny(s, "\u202e\u009b") {
		out = append(out, '!')
	}
	return out
}

// Table, Markdown and CSV show control characters as escapes, so a file
// name cannot rewrite the terminal or split a row, and CSV cells that a
// spreadsheet would run as formulas are defused.
func TestHumanFormatsNeutraliseControls(t *testing.T) {
	for _, format := range []string{"table", "markdown", "csv"} {
		var b bytes.Buffer
		if err := Write(&b, format, hostile()); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if c := controls(out); len(c) > 0 {
			t.Errorf("%s: control bytes %q in the output:\n%s", format, c, out)
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%s: the escape is not shown", format)
		}
		if format == "table" {
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "b") {
					t.Errorf("table: a line break in a file name split a row: %q", l)
				}
			}
		}
		if format == "csv" {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				for _, cell := range row {
					if cell != "" && strings.ContainsAny(cell[:1], "=+-@\t\r") {
						t.Errorf("csv: cell %q starts a formula", cell)
					}
				}
			}
		}
	}
	// ANSI colour, when asked for, still works around visible text
	r := hostile()
	r.Color = true
	var b bytes.Buffer
	if err := Write(&b, "table", r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ansiRed) || strings.Contains(b.String(), "\x1b[2J") {
		t.Errorf("coloured table: colour lost or a control passed")
	}
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"plain.yml":            "plain.yml",
		"é ü 日本":               "é ü 日本",
		"a\x1bb":               `a\x1bb`,
		"tab\there":            `tab\x09here`,
		"\u202egnp.exe":        `\u202egnp.exe`,
		"bad\xffutf8":          `bad\xffutf8`,
		"c1\u0085next\u2028ls": `c1\u0085next\u2028ls`,
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
	}
}
