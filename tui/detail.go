package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/tracker"
)

func (m Model) appState() *tracker.AppState {
	if st := m.states[m.app]; st != nil {
		return st
	}
	return &tracker.AppState{App: m.app}
}

func (m *Model) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	st := m.appState().Status()
	switch {
	case key.Matches(msg, k.Back):
		m.screen, m.notice = overviewScreen, ""
	case key.Matches(msg, k.Up):
		m.step = max(0, m.step-1)
		m.scroll = min(m.scroll, m.step)
	case key.Matches(msg, k.Down):
		m.step = min(len(st)-1, m.step+1)
	case key.Matches(msg, k.PageDown):
		m.scroll += max(1, m.height-8)
	case key.Matches(msg, k.PageUp):
		m.scroll = max(0, m.scroll-max(1, m.height-8))
	case key.Matches(msg, k.Tick):
		s := st[m.step]
		switch {
		case s.By != nil && s.By.Kind == tracker.Tick:
			m.openDialog(tracker.Untick, s.StepInfo)
		case !s.Manual:
			m.notice = fmt.Sprintf("%s is automatic: it comes from %s", s.Title, s.Evidence)
		case s.State == tracker.Done:
			m.notice = fmt.Sprintf("%s is done (%s)", s.Title, s.Why)
		default:
			m.openDialog(tracker.Tick, s.StepInfo)
		}
		if m.dialog != nil {
			return textinput.Blink
		}
	case key.Matches(msg, k.Waive):
		if s := st[m.step]; s.State != tracker.Waived {
			m.openDialog(tracker.Waive, s.StepInfo)
			return textinput.Blink
		}
	}
	return nil
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

func (m *Model) openDialog(kind tracker.EventKind, step tracker.StepInfo) {
	note := textinput.New()
	note.Prompt = "note: "
	note.Placeholder = map[tracker.EventKind]string{tracker.Tick: "what was done", tracker.Untick: "why", tracker.Waive: "reason (required)"}[kind]
	note.CharLimit = 300
	note.SetWidth(min(60, m.width-12))
	note.Focus()
	change := textinput.New()
	change.Prompt = "change: "
	change.Placeholder = "e.g. CHG-1234, a merge request"
	change.CharLimit = 120
	change.SetWidth(min(60, m.width-12))
	m.dialog = &dialog{kind: kind, step: step, note: note, change: change}
}

func (d *dialog) needsChange() bool { return d.kind == tracker.Tick && d.step.NeedsChange }

func (m *Model) dialogKey(msg tea.KeyPressMsg) tea.Cmd {
	d := m.dialog
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.dialog = nil
		return nil
	case msg.String() == "tab" && d.needsChange():
		d.field = 1 - d.field
		if d.field == 1 {
			d.note.Blur()
			return d.change.Focus()
		}
		d.change.Blur()
		return d.note.Focus()
	case key.Matches(msg, m.keys.Confirm):
		if d.needsChange() && d.field == 0 {
			d.field = 1
			d.note.Blur()
			return d.change.Focus()
		}
		note, change := strings.TrimSpace(d.note.Value()), strings.TrimSpace(d.change.Value())
		if d.kind == tracker.Waive && note == "" {
			d.err = "a waiver needs a reason"
			return nil
		}
		if d.needsChange() && change == "" {
			d.err = "deployed needs a change reference"
			return nil
		}
		m.dialog = nil
		return m.act(d.kind, d.step.Step, note, change)
	}
	var cmd tea.Cmd
	if d.field == 0 {
		d.note, cmd = d.note.Update(msg)
	} else {
		d.change, cmd = d.change.Update(msg)
	}
	return cmd
}

// act runs an action on the tracker in a command.
func (m Model) act(kind tracker.EventKind, step tracker.Step, note, change string) tea.Cmd {
	tr, app, ctx := m.o.Tracker, m.app, m.ctx
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
		return actionMsg{app: app, what: string(kind), res: res, err: err}
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

func (m Model) detailView() string {
	st := m.appState()
	app, _ := m.o.Manifest.App(m.app)
	owner, wave := "", 0
	if app != nil {
		owner, wave = app.Owner, app.Wave
	}
	d, t := st.Progress()
	var out []string
	head := fmt.Sprintf("%s  owner %s  wave %d  %s %d/%d", m.app, orDash(owner), wave, bar(d, t), d, t)
	if !m.canTick(m.app) && !m.o.ReadOnly && m.outage == "" {
		head += "  (read-only: this identity may not write this app)"
	}
	out = append(out, m.st.header.Render(clip(head, m.width)), "")
	out = append(out, m.st.title.Render("CHECKLIST"))
	for i, s := range st.Status() {
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
		line = clip(report.Visible(line), m.width-2)
		if i == m.step {
			line = m.st.selected.Render("> " + line)
		} else {
			line = "  " + line
		}
		out = append(out, line)
		if s.State == tracker.Contested {
			out = append(out, m.st.bad.Render(clip("      CONTESTED: "+s.Why, m.width)))
			for _, p := range s.Places {
				out = append(out, clip("        "+place(p), m.width))
			}
		}
	}
	if info, ok := tracker.Info(st.Status()[m.step].Step); ok {
		out = append(out, m.st.dim.Render(clip("  "+info.Help, m.width)))
	}
	if m.dialog != nil {
		out = append(out, "", m.dialogView())
	}
	out = append(out, "", m.st.title.Render("OCCURRENCES (redacted)"))
	inv := st.Inventory
	switch {
	case inv == nil:
		out = append(out, "  no scan of this app yet (credscan scan estate -m … --app "+m.app+")")
	case len(inv.Occurrences) == 0:
		out = append(out, "  none found by the scan of "+inv.At.UTC().Format("2006-01-02 15:04"))
	default:
		for _, o := range inv.Occurrences {
			out = append(out, clip("  "+place(o), m.width))
			out = append(out, m.st.dim.Render(clip("      "+report.Visible(o.Redacted), m.width)))
		}
	}
	if inv != nil && len(inv.CISecrets) > 0 {
		out = append(out, "", m.st.title.Render("CI SECRETS (names to re-point at Vault)"), clip("  "+report.Visible(strings.Join(inv.CISecrets, ", ")), m.width))
	}
	out = append(out, "", m.st.title.Render("HISTORY (newest first)"))
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
		out = append(out, clip(report.Visible(line), m.width))
	}
	if len(hist) == 0 {
		out = append(out, "  nothing yet")
	}
	// scroll, keeping the selected step in view
	top := min(m.scroll, max(0, len(out)-1))
	if stepLine := 3 + m.step; stepLine < top {
		top = stepLine
	}
	return strings.Join(out[top:], "\n")
}

// place names an occurrence: rule, kind, path:line, where in history or
// which layer, and whether it is only in history or deleted later.
func place(o tracker.Occurrence) string {
	s := fmt.Sprintf("%-22s %-6s %s", o.Rule, o.Kind, o.Path)
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

func (m Model) dialogView() string {
	d := m.dialog
	verb := map[tracker.EventKind]string{tracker.Tick: "Tick", tracker.Untick: "Untick", tracker.Waive: "Waive"}[d.kind]
	lines := []string{fmt.Sprintf("%s %q of %s as %s?", verb, d.step.Title, m.app, whoAmI(m)), d.note.View()}
	if d.needsChange() {
		lines = append(lines, d.change.View())
	}
	if d.err != "" {
		lines = append(lines, m.st.bad.Render(d.err))
	}
	lines = append(lines, m.st.dim.Render("enter: confirm   esc: cancel"))
	return m.st.dialog.Render(strings.Join(lines, "\n"))
}

func whoAmI(m Model) string { return tracker.Event{Actor: m.o.Tracker.Actor()}.Who() }
