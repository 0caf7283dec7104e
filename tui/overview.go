package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
)

// summary is what the overview shows of an app, computed once per load
// (so a frame of thousands of apps costs what its visible rows do).
type summary struct {
	done, total int
	current     string
	badges      []string
	contested   bool
	search      string // lower-case name, owner, step and badges, for the filter
}

func summarize(a manifest.App, st *tracker.AppState) summary {
	if st == nil {
		st = &tracker.AppState{App: a.Name}
	}
	d, t := st.Progress()
	s := summary{done: d, total: t, current: string(st.Current()), badges: tracker.Row{App: a.Name, State: st}.Badges()}
	if s.current == "" {
		s.current = "done"
	}
	for _, b := range s.badges {
		if b == "contested" {
			s.contested = true
		}
	}
	s.search = strings.ToLower(strings.Join(append([]string{a.Name, a.Owner, s.current, fmt.Sprintf("wave %d", a.Wave)}, s.badges...), " "))
	return s
}

// resummarize computes every shown app's summary from the states (after
// each load or action, not per frame).
func (m *Model) resummarize() {
	m.sums = make(map[string]summary, len(m.apps))
	for _, a := range m.apps {
		m.sums[a.Name] = summarize(a, m.states[a.Name])
	}
}

// visible are the apps the filter lets through, in order.
func (m Model) visible() []manifest.App {
	f := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	if f == "" {
		return m.apps
	}
	out := make([]manifest.App, 0, len(m.apps))
	for _, a := range m.apps {
		if strings.Contains(m.sums[a.Name].search, f) {
			out = append(out, a)
		}
	}
	return out
}

func (m *Model) overviewKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	vis := m.visible()
	switch {
	case key.Matches(msg, k.Filter):
		m.filterOn = true
		return m.filter.Focus()
	case key.Matches(msg, k.ClearFilter):
		m.filter.SetValue("")
		m.cursor = 0
	case key.Matches(msg, k.Up):
		m.cursor = max(0, m.cursor-1)
	case key.Matches(msg, k.Down):
		m.cursor = min(len(vis)-1, m.cursor+1)
	case key.Matches(msg, k.Open):
		if m.cursor < len(vis) {
			m.screen, m.app, m.step, m.scroll, m.notice = detailScreen, vis[m.cursor].Name, 0, 0, ""
		}
	}
	return nil
}

// bar draws done of total as a ten-cell bar.
func bar(done, total int) string {
	if total == 0 {
		return "[..........]"
	}
	n := done * 10 / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 10-n) + "]"
}

func (m Model) overviewView() string {
	var b strings.Builder
	vis := m.visible()
	sums := m.sums
	if m.filterOn || m.filter.Value() != "" {
		b.WriteString(m.filter.View() + fmt.Sprintf("  %d of %d apps\n", len(vis), len(m.apps)))
	}
	if m.loading && len(m.states) == 0 {
		b.WriteString("loading…\n")
		return b.String()
	}
	if len(vis) == 0 {
		b.WriteString("no app matches\n")
		return b.String()
	}
	nameW := 22
	if m.width >= 120 {
		nameW = 30
	}
	// rows around the cursor fill what the screen leaves
	room := max(3, m.height-6)
	first := 0
	if m.cursor >= room-2 {
		first = m.cursor - (room - 3)
	}
	wave := -1
	shown := 0
	for i := first; i < len(vis) && shown < room; i++ {
		a := vis[i]
		if a.Wave != wave {
			wave = a.Wave
			n, done, contested := 0, 0, 0
			for _, x := range vis {
				if x.Wave == wave {
					n++
					s := sums[x.Name]
					if s.current == "done" {
						done++
					}
					if s.contested {
						contested++
					}
				}
			}
			line := fmt.Sprintf("WAVE %d  %d app(s), %d done", wave, n, done)
			if contested > 0 {
				line += fmt.Sprintf(", %d contested", contested)
			}
			b.WriteString(m.st.header.Render(clip(line, m.width)) + "\n")
			shown++
		}
		s := sums[a.Name]
		row := fmt.Sprintf("%-*s %-16s %s %d/%d  next: %-17s %s", nameW, clip(a.Name, nameW), clip(a.Owner, 16), bar(s.done, s.total), s.done, s.total, s.current, strings.Join(s.badges, ", "))
		row = clip(strings.TrimRight(row, " "), m.width-2)
		if i == m.cursor {
			b.WriteString(m.st.selected.Render("> "+row) + "\n")
		} else {
			b.WriteString("  " + row + "\n")
		}
		shown++
	}
	return strings.TrimRight(b.String(), "\n")
}
