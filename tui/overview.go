package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
)

// summary is what the overview shows of an app, computed once per load
// (so a frame of thousands of apps costs what its visible rows do).
type summary struct {
	done, total int
	cells       string // a cell per step: # done, w waived, ! contested, . to do
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
	cells := make([]byte, 0, t)
	for _, x := range st.Status() {
		cells = append(cells, map[tracker.State]byte{tracker.Done: '#', tracker.Waived: 'w', tracker.Contested: '!'}[x.State])
		if cells[len(cells)-1] == 0 {
			cells[len(cells)-1] = '.'
		}
	}
	s.cells = "[" + string(cells) + "]"
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

// overview lists the apps by wave: owner, a progress bar, the current
// step and badges, with a summary line per wave and a filter.
type overview struct {
	c             *common
	width, height int
	cursor        int // index into visible()
	filter        textinput.Model
	filtering     bool
	opened        string // set by enter: the app to open
}

func newOverview(c *common) overview {
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "name, owner or state"
	fi.CharLimit = 80
	c.st.input(&fi)
	return overview{c: c, filter: fi}
}

// SetSize sets the room the overview has.
func (o *overview) SetSize(width, height int) {
	o.width, o.height = width, height
	o.filter.SetWidth(max(10, min(40, width-30)))
}

// visible are the apps the filter lets through, in order.
func (o overview) visible() []manifest.App {
	f := strings.ToLower(strings.TrimSpace(o.filter.Value()))
	if f == "" {
		return o.c.apps
	}
	out := make([]manifest.App, 0, len(o.c.apps))
	for _, a := range o.c.apps {
		if strings.Contains(o.c.sums[a.Name].search, f) {
			out = append(out, a)
		}
	}
	return out
}

// Update handles a key (or the filter's cursor blink).
func (o overview) Update(msg tea.Msg) (overview, tea.Cmd) {
	k := o.c.keys
	press, ok := msg.(tea.KeyPressMsg)
	if o.filtering || !ok {
		if ok {
			switch {
			case press.String() == "enter":
				o.filtering = false
				o.filter.Blur()
				return o, nil
			case key.Matches(press, k.ClearFilter):
				o.filtering = false
				o.filter.Blur()
				o.filter.SetValue("")
				o.cursor = 0
				return o, nil
			}
		}
		var cmd tea.Cmd
		before := o.filter.Value()
		o.filter, cmd = o.filter.Update(msg)
		if o.filter.Value() != before {
			o.cursor = 0
		}
		return o, cmd
	}
	n := len(o.visible())
	switch {
	case key.Matches(press, k.Filter):
		o.filtering = true
		return o, o.filter.Focus()
	case key.Matches(press, k.ClearFilter):
		o.filter.SetValue("")
		o.cursor = 0
	case key.Matches(press, k.Up):
		o.cursor = max(0, o.cursor-1)
	case key.Matches(press, k.Down):
		o.cursor = max(0, min(n-1, o.cursor+1))
	case key.Matches(press, k.Open):
		if vis := o.visible(); o.cursor < len(vis) {
			o.opened = vis[o.cursor].Name
		}
	}
	return o, nil
}

// View draws the rows around the cursor that fit.
func (o overview) View() string {
	c := o.c
	var b strings.Builder
	vis := o.visible()
	room := o.height
	if o.filtering || o.filter.Value() != "" {
		b.WriteString(o.filter.View() + fmt.Sprintf("  %d of %d apps\n", len(vis), len(c.apps)))
		room--
	}
	switch {
	case c.loading && len(c.states) == 0:
		return b.String() + "loading…"
	case len(c.apps) == 0:
		return b.String() + "no app in the manifest matches --owner/--app"
	case len(vis) == 0:
		return b.String() + "no app matches the filter"
	}
	waves := map[int][3]int{} // apps, done, contested per wave of vis
	for _, a := range vis {
		w, s := waves[a.Wave], c.sums[a.Name]
		w[0]++
		if s.current == "done" {
			w[1]++
		}
		if s.contested {
			w[2]++
		}
		waves[a.Wave] = w
	}
	nameW, ownerW := c.nameW, c.ownerW
	if o.width < 100 {
		nameW, ownerW = min(nameW, 20), min(ownerW, 13)
	}
	// lines are wave headers (app -1) and apps; the window keeps the
	// cursor in view; only the lines in it are drawn
	type line struct{ wave, app int }
	lines := make([]line, 0, len(vis)+len(waves))
	at := 0
	for i, a := range vis {
		if i == 0 || a.Wave != vis[i-1].Wave {
			lines = append(lines, line{a.Wave, -1})
		}
		if i == o.cursor {
			at = len(lines)
		}
		lines = append(lines, line{a.Wave, i})
	}
	room = max(1, room)
	first := 0
	if at >= room {
		first = at - room + 1
	}
	window := lines[first:min(len(lines), first+room)]
	if first > 0 && len(window) > 1 && window[0].app >= 0 && window[1].app >= 0 {
		// a sticky header: the top row's wave stays named
		window = append([]line{{window[1].wave, -1}}, window[1:]...)
	}
	for _, l := range window {
		if l.app < 0 {
			w := waves[l.wave]
			text := fmt.Sprintf("WAVE %d  %d app(s), %d done", l.wave, w[0], w[1])
			if w[2] > 0 {
				text += fmt.Sprintf(", %d contested", w[2])
			}
			b.WriteString(c.st.header.Render(clip(text, o.width)) + "\n")
			continue
		}
		a := vis[l.app]
		s := c.sums[a.Name]
		row := fmt.Sprintf("%-*s %-*s %s", nameW, clip(a.Name, nameW), ownerW, clip(a.Owner, ownerW), s.cells)
		if o.width >= 100 {
			row += fmt.Sprintf(" %d/%d", s.done, s.total)
		}
		row += fmt.Sprintf("  %-17s %s", s.current, strings.Join(s.badges, ", "))
		row = clip(strings.TrimRight(row, " "), o.width-2)
		if l.app == o.cursor {
			b.WriteString(c.st.selected.Render("> "+row) + "\n")
		} else {
			b.WriteString("  " + row + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
