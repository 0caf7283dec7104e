package tracker

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/credscan/credscan/report"
)

// Row is one app of a status report: its place in the manifest and its
// state.
type Row struct {
	App   string
	Owner string
	Wave  int
	State *AppState
}

// Badges name what needs attention: contested (a tick a scan
// contradicts), waived (a step waived, not done), blocked (the next step
// waits on evidence nobody can tick: a scan, or a Vault push).
func (r Row) Badges() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.State.Status() {
		switch s.State {
		case Contested:
			seen["contested"] = true
		case Waived:
			seen["waived"] = true
		}
	}
	if _, why := r.State.Blocked(); why != "" {
		seen["blocked"] = true
	}
	for _, b := range []string{"contested", "waived", "blocked"} {
		if seen[b] {
			out = append(out, b)
		}
	}
	return out
}

// SortRows orders rows by wave, then app.
func SortRows(rows []Row) {
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Wave != rows[j].Wave {
			return rows[i].Wave < rows[j].Wave
		}
		return rows[i].App < rows[j].App
	})
}

// StatusFormats are the formats WriteStatus renders.
var StatusFormats = []string{"table", "json", "markdown"}

// WriteStatus renders rows (sorted by wave) in format: per app and wave,
// each step with who did it and when.
func WriteStatus(w io.Writer, format string, rows []Row) error {
	SortRows(rows)
	switch format {
	case "json":
		return writeStatusJSON(w, rows)
	case "markdown", "md":
		return writeStatusMarkdown(w, rows)
	case "table", "":
		return writeStatusTable(w, rows)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(StatusFormats, ", "))
}

// mark is a step's state in one character.
func mark(s State) string {
	switch s {
	case Done:
		return "x"
	case Waived:
		return "w"
	case Contested:
		return "!"
	}
	return "."
}

func who(e *Event) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%s %s", e.Who(), e.At.UTC().Format("2006-01-02 15:04"))
}

func writeStatusTable(w io.Writer, rows []Row) error {
	ew := &errW{w: w}
	wave := -1
	for _, r := range rows {
		if r.Wave != wave {
			wave = r.Wave
			done, total := 0, 0
			for _, x := range rows {
				if x.Wave == wave {
					total++
					if x.State.Current() == "" {
						done++
					}
				}
			}
			ew.printf("WAVE %d: %d of %d app(s) done\n", wave, done, total)
		}
		d, t := r.State.Progress()
		cur := string(r.State.Current())
		if cur == "" {
			cur = "done"
		}
		ew.printf("%s\n", strings.TrimRight(fmt.Sprintf("  %-24s %-16s %d/%d  next: %-18s %s", r.App, r.Owner, d, t, cur, strings.Join(r.Badges(), ", ")), " "))
		for _, s := range r.State.Status() {
			line := fmt.Sprintf("    [%s] %-18s", mark(s.State), s.Title)
			switch {
			case s.By != nil:
				line += " " + string(s.By.Kind) + " by " + who(s.By)
				if s.By.Change != "" {
					line += " (" + s.By.Change + ")"
				}
				if s.By.Note != "" {
					line += ": " + s.By.Note
				}
				if s.State == Contested {
					line += "; CONTESTED: " + s.Why
				}
			case s.Why != "":
				line += " " + s.Why
			}
			ew.printf("%s\n", strings.TrimRight(line, " "))
		}
	}
	return ew.err
}

func writeStatusMarkdown(w io.Writer, rows []Row) error {
	ew := &errW{w: w}
	ew.printf("| Wave | App | Owner | Progress | Next | Notes |\n|---:|---|---|---:|---|---|\n")
	for _, r := range rows {
		d, t := r.State.Progress()
		cur := string(r.State.Current())
		if cur == "" {
			cur = "done"
		}
		ew.printf("| %d | %s | %s | %d/%d | %s | %s |\n", r.Wave, mdCell(r.App), mdCell(r.Owner), d, t, cur, mdCell(strings.Join(r.Badges(), ", ")))
	}
	ew.printf("\n")
	for _, r := range rows {
		ew.printf("### %s\n\n| Step | State | By | When | Note |\n|---|---|---|---|---|\n", mdCell(r.App))
		for _, s := range r.State.Status() {
			by, when, note := "", "", s.Why
			if s.By != nil {
				by, when, note = s.By.Who(), s.By.At.UTC().Format("2006-01-02 15:04"), s.By.Note
				if s.By.Change != "" {
					note = strings.TrimSpace(s.By.Change + " " + note)
				}
			}
			ew.printf("| %s | %s | %s | %s | %s |\n", s.Title, s.State, mdCell(by), when, mdCell(note))
		}
		ew.printf("\n")
	}
	return ew.err
}

func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'").Replace(report.Visible(s))
}

// JSONStatus is the JSON status of one app.
type JSONStatus struct {
	App      string     `json:"app"`
	Owner    string     `json:"owner,omitempty"`
	Wave     int        `json:"wave"`
	Done     int        `json:"done"`
	Total    int        `json:"total"`
	Current  string     `json:"current"` // "" when every step is done or waived
	Badges   []string   `json:"badges,omitempty"`
	Steps    []JSONStep `json:"steps"`
	LastScan *time.Time `json:"last_scan,omitempty"`
}

// JSONStep is a step of JSONStatus.
type JSONStep struct {
	Step   Step      `json:"step"`
	State  State     `json:"state"`
	By     string    `json:"by,omitempty"`
	Entity string    `json:"entity,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Note   string    `json:"note,omitempty"`
	Change string    `json:"change,omitempty"`
	Why    string    `json:"why,omitempty"`
}

func writeStatusJSON(w io.Writer, rows []Row) error {
	out := []JSONStatus{}
	for _, r := range rows {
		d, t := r.State.Progress()
		js := JSONStatus{App: r.App, Owner: r.Owner, Wave: r.Wave, Done: d, Total: t, Current: string(r.State.Current()), Badges: r.Badges()}
		if r.State.Inventory != nil {
			at := r.State.Inventory.At
			js.LastScan = &at
		}
		for _, s := range r.State.Status() {
			st := JSONStep{Step: s.Step, State: s.State, Why: s.Why}
			if s.By != nil {
				st.By, st.Entity, st.At, st.Note, st.Change = s.By.Who(), s.By.Actor.Entity, s.By.At, s.By.Note, s.By.Change
			}
			js.Steps = append(js.Steps, st)
		}
		out = append(out, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type errW struct {
	w   io.Writer
	err error
}

func (e *errW) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = report.Visible(s)
		}
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}
