package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/tracker"
)

// detail is an app's page: its checklist with who, when and why, the
// contested places, its occurrences (redacted), its CI secret names and
// its history; space ticks the selected step through a dialog.
type detail struct {
	c             *common
	width, height int
	app           string
	step          int // the step under the cursor
	scroll        int // lines scrolled
	dialog        *dialog
	closed        bool // set by esc: back to the overview
}

func newDetail(c *common) detail { return detail{c: c} }

// SetSize sets the room the page has.
func (d *detail) SetSize(width, height int) {
	d.width, d.height = width, height
	if d.dialog != nil {
		d.dialog.setWidth(width)
	}
}

// show opens app's page at its first step.
func (d *detail) show(app string) {
	d.app, d.step, d.scroll, d.dialog, d.closed = app, 0, 0, nil, false
}

func (d detail) state() *tracker.AppState {
	if st := d.c.states[d.app]; st != nil {
		return st
	}
	return &tracker.AppState{App: d.app}
}

// Update handles a key (or the dialog's cursor blink).
func (d detail) Update(msg tea.Msg) (detail, tea.Cmd) {
	if d.dialog != nil {
		return d.dialogUpdate(msg)
	}
	press, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	k := d.c.keys
	st := d.state().Status()
	page := max(1, d.height-2)
	switch {
	case key.Matches(press, k.Back):
		d.closed = true
	case key.Matches(press, k.Up):
		d.step = max(0, d.step-1)
		d.scroll = 0
	case key.Matches(press, k.Down):
		d.step = min(len(st)-1, d.step+1)
		d.scroll = 0
	case key.Matches(press, k.PageDown):
		d.scroll += page
	case key.Matches(press, k.PageUp):
		d.scroll = max(0, d.scroll-page)
	case key.Matches(press, k.Tick):
		s := st[d.step]
		switch {
		case s.By != nil && s.By.Kind == tracker.Tick:
			d.open(tracker.Untick, s.StepInfo)
		case !s.Manual:
			d.c.notice = fmt.Sprintf("%s is automatic: it comes from %s", s.Title, s.Evidence)
		case s.State == tracker.Done:
			d.c.notice = fmt.Sprintf("%s is done: %s", s.Title, s.Why)
		default:
			d.open(tracker.Tick, s.StepInfo)
		}
		if d.dialog != nil {
			return d, textinput.Blink
		}
	case key.Matches(press, k.Waive):
		if s := st[d.step]; s.State != tracker.Waived && s.State != tracker.Done {
			d.open(tracker.Waive, s.StepInfo)
			return d, textinput.Blink
		}
		d.c.notice = st[d.step].Title + " needs no waiver: it is " + string(st[d.step].State)
	}
	return d, nil
}

// dialog confirms an action and takes its note (and a change reference).
type dialog struct {
	kind   tracker.EventKind
	step   tracker.StepInfo
	note   textinput.Model
	change textinput.Model
	field  int // 0 note, 1 change
	err    string
}

func (d *detail) open(kind tracker.EventKind, step tracker.StepInfo) {
	note := textinput.New()
	note.Prompt = "note: "
	note.Placeholder = map[tracker.EventKind]string{tracker.Tick: "what was done", tracker.Untick: "why", tracker.Waive: "reason (required)"}[kind]
	note.CharLimit = 300
	note.Focus()
	change := textinput.New()
	change.Prompt = "change: "
	change.Placeholder = "e.g. CHG-1234, a merge request"
	change.CharLimit = 120
	d.c.st.input(&note)
	d.c.st.input(&change)
	d.dialog = &dialog{kind: kind, step: step, note: note, change: change}
	d.dialog.setWidth(d.width)
}

func (g *dialog) setWidth(width int) {
	g.note.SetWidth(max(10, min(60, width-16)))
	g.change.SetWidth(max(10, min(60, width-18)))
}

func (g *dialog) needsChange() bool { return g.kind == tracker.Tick && g.step.NeedsChange }

func (d detail) dialogUpdate(msg tea.Msg) (detail, tea.Cmd) {
	g := *d.dialog // a copy: Update returns a new detail
	d.dialog = &g
	k := d.c.keys
	if press, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(press, k.Cancel):
			d.dialog = nil
			return d, nil
		case press.String() == "tab" && g.needsChange():
			g.field = 1 - g.field
			if g.field == 1 {
				g.note.Blur()
				return d, g.change.Focus()
			}
			g.change.Blur()
			return d, g.note.Focus()
		case key.Matches(press, k.Confirm):
			if g.needsChange() && g.field == 0 {
				g.field = 1
				g.note.Blur()
				return d, g.change.Focus()
			}
			note, change := strings.TrimSpace(g.note.Value()), strings.TrimSpace(g.change.Value())
			if g.kind == tracker.Waive && note == "" {
				g.err = "a waiver needs a reason"
				return d, nil
			}
			if g.needsChange() && change == "" {
				g.err = "deployed needs a change reference"
				return d, nil
			}
			d.dialog = nil
			return d, d.act(g.kind, g.step.Step, note, change)
		}
	}
	var cmd tea.Cmd
	if g.field == 0 {
		g.note, cmd = g.note.Update(msg)
	} else {
		g.change, cmd = g.change.Update(msg)
	}
	return d, cmd
}

// act runs an action on the tracker in a command.
func (d detail) act(kind tracker.EventKind, step tracker.Step, note, change string) tea.Cmd {
	tr, app, ctx := d.c.o.Tracker, d.app, d.c.ctx
	return func() tea.Msg {
		var res tracker.Result
		var err error
		switch kind {
		case tracker.Tick:
			res, err = tr.Tick(ctx, app, step, note, change)
		case tracker.Untick:
			res, err = tr.Untick(ctx, app, step, note)
		default:
			res, err = tr.WaiveStep(ctx, app, step, note)
		}
		return actionMsg{app: app, what: kind, res: res, err: err}
	}
}

func markOf(s tracker.State) string {
	switch s {
	case tracker.Done:
		return "[x]"
	case tracker.Waived:
		return "[w]"
	case tracker.Contested:
		return "[!]"
	}
	return "[ ]"
}

// View draws the page, scrolled so the selected step (and the dialog)
// stay in view; page down scrolls on from there.
func (d detail) View() string {
	c := d.c
	st := d.state()
	app, _ := c.o.Manifest.App(d.app)
	owner, wave := "", 0
	if app != nil {
		owner, wave = app.Owner, app.Wave
	}
	done, total := st.Progress()
	var out []string
	head := fmt.Sprintf("%s  owner %s  wave %d  %s %d/%d", d.app, orDash(owner), wave, summarize(manifest.App{Name: d.app}, st).cells, done, total)
	if !c.canTick(d.app) && !c.o.ReadOnly && c.outage == "" {
		head += "  read-only: this identity may not update this app"
	}
	out = append(out, c.st.header.Render(clip(report.Visible(head), d.width)), "", c.st.title.Render("CHECKLIST"))
	status := st.Status()
	stepLine, keep := 0, 0
	for i, s := range status {
		line := fmt.Sprintf("%s %-18s %-9s", markOf(s.State), s.Title, s.State)
		switch {
		case s.By != nil:
			line += fmt.Sprintf(" %s by %s %s", s.By.Kind, s.By.Who(), s.By.At.UTC().Format("2006-01-02 15:04"))
			if s.By.Change != "" {
				line += " [" + s.By.Change + "]"
			}
			if s.By.Note != "" {
				line += ": " + s.By.Note
			}
		case s.Auto && !s.Manual:
			line += " auto: " + orDash(s.Why)
		case s.Why != "":
			line += " " + s.Why
		}
		line = clip(report.Visible(line), d.width-2)
		if i == d.step {
			stepLine = len(out)
			line = c.st.selected.Render("> " + line)
		} else {
			line = "  " + line
		}
		out = append(out, line)
		if s.State == tracker.Contested {
			out = append(out, c.st.bad.Render(clip("      CONTESTED: "+s.Why, d.width)))
			for _, p := range s.Places {
				out = append(out, clip("        "+place(p), d.width))
			}
		}
	}
	sel := status[min(d.step, len(status)-1)]
	about := sel.Help
	if sel.Auto {
		about += "; evidence: " + sel.Evidence
	}
	out = append(out, c.st.dim.Render(clip("  "+about, d.width)))
	keep = len(out) - 1
	if d.dialog != nil {
		out = append(out, "")
		out = append(out, strings.Split(d.dialogView(), "\n")...)
		keep = len(out) - 1
	}
	out = append(out, "", c.st.title.Render("OCCURRENCES (redacted)"))
	inv := st.Inventory
	switch {
	case inv == nil:
		out = append(out, "  no scan of this app yet (credscan scan estate -m … --app "+report.Visible(d.app)+")")
	case len(inv.Occurrences) == 0:
		out = append(out, "  none found by the scan of "+inv.At.UTC().Format("2006-01-02 15:04"))
	default:
		for _, o := range inv.Occurrences {
			out = append(out, clip("  "+place(o), d.width))
			out = append(out, c.st.dim.Render(clip("      "+report.Visible(o.Redacted), d.width)))
		}
	}
	if inv != nil && len(inv.CISecrets) > 0 {
		out = append(out, "", c.st.title.Render("CI SECRETS (names to re-point at Vault)"), clip("  "+report.Visible(strings.Join(inv.CISecrets, ", ")), d.width))
	}
	out = append(out, "", c.st.title.Render("HISTORY (newest first)"))
	hist := slices.Clone(st.History)
	slices.Reverse(hist)
	for _, e := range hist {
		line := fmt.Sprintf("  %s %-8s %-18s %s", e.At.UTC().Format("2006-01-02 15:04"), e.Kind, e.Step, e.Who())
		if e.Change != "" {
			line += " [" + e.Change + "]"
		}
		if e.Note != "" {
			line += ": " + e.Note
		}
		out = append(out, clip(report.Visible(line), d.width))
	}
	if len(hist) == 0 {
		out = append(out, "  nothing yet")
	}
	// the window: the selected step and what belongs to it (its help, the
	// dialog) in view, then scrolled by page keys
	top := 0
	if keep >= d.height {
		top = keep - d.height + 1
	}
	top = min(top, stepLine)
	top = max(0, min(top+d.scroll, len(out)-d.height))
	return strings.Join(out[top:min(len(out), top+d.height)], "\n")
}

// place names an occurrence: rule, kind, path:line, where in history or
// which layer, and whether it is only in history or deleted later.
func place(o tracker.Occurrence) string {
	s := fmt.Sprintf("%-24s %-6s %s", o.Rule, o.Kind, o.Path)
	if o.Line > 0 {
		s += fmt.Sprintf(":%d", o.Line)
	}
	if o.Commit != "" {
		s += " commit " + short(o.Commit)
	}
	if o.Layer != "" {
		s += " layer " + short(o.Layer)
	}
	switch {
	case o.HistoryOnly:
		s += " (history only)"
	case o.DeletedLater:
		s += " (deleted in a later layer)"
	}
	if o.DB != "" {
		s += "  " + o.DB
	}
	return report.Visible(s)
}

func short(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13]
	}
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (d detail) dialogView() string {
	g := d.dialog
	verb := map[tracker.EventKind]string{tracker.Tick: "Tick", tracker.Untick: "Untick", tracker.Waive: "Waive"}[g.kind]
	ask := fmt.Sprintf("%s %q of %s as %s?", verb, g.step.Title, d.app, tracker.Event{Actor: d.c.o.Tracker.Actor()}.Who())
	lines := []string{report.Visible(ask), g.note.View()}
	if g.needsChange() {
		lines = append(lines, g.change.View())
	}
	if g.err != "" {
		lines = append(lines, d.c.st.bad.Render(g.err))
	}
	lines = append(lines, d.c.st.dim.Render("enter: confirm   esc: cancel"))
	return d.c.st.dialog.Render(strings.Join(lines, "\n"))
}
