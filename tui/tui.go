// Package tui is the dev leads' terminal UI over the migration tracker:
// an overview of every app by wave, an app's checklist with who ticked
// what and when, its hardcoded occurrences (redacted) and CI secret
// names, and ticking with a note. It reads and writes the tracker only:
// it never scans, and it never shows a secret (the tracker holds redacted
// lines and names, never a value).
//
// It is built the way soft-serve and gh-dash are on bubbletea v2: screens
// are components (overview, detail) with SetSize, Update and View over a
// shared *common (options, styles, keymap, the loaded states); one keymap
// with bubbles/key and bubbles/help; every I/O in a tea.Cmd returning a
// typed message; a re-armed tea.Tick reloads the state.
package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
)

// Options configure the TUI.
type Options struct {
	Manifest *manifest.Manifest
	Tracker  *tracker.Tracker
	// Owner and App narrow the overview: a dev lead sees their apps.
	Owner, App string
	// ReadOnly disables ticking. CanWrite, when set, says whether the
	// identity may write an app's entry (Vault's capabilities-self): an
	// app it may not write is read-only.
	ReadOnly bool
	CanWrite func(ctx context.Context, app string) (bool, error)
	// Refresh is how often the state is reloaded (default 5 s).
	Refresh time.Duration
	// Color: styles in colour (off with NO_COLOR).
	Color bool
	// Now is the clock (tests fix it).
	Now func() time.Time
}

// common is what every component shares (soft-serve's common.Common):
// the options, looks and keys, and the state as last loaded. Only Update
// changes it, on bubbletea's one goroutine.
type common struct {
	o    Options
	keys keyMap
	st   styles
	ctx  context.Context

	apps   []manifest.App // shown (narrowed by Owner/App), by wave
	states map[string]*tracker.AppState
	sums   map[string]summary // of states, made when they change
	// nameW and ownerW fit the longest name and owner (within bounds)
	nameW, ownerW int
	loadedAt      time.Time
	loading       bool
	// outage is set while the tracker cannot be reached: the last state
	// stays on screen, ticking is off, and reloading goes on
	outage string
	// writable says, per app, whether the identity may tick it
	writable map[string]bool
	notice   string // one line: what the last action did
}

// canTick says whether app may be ticked now.
func (c *common) canTick(app string) bool {
	if c.o.ReadOnly || c.outage != "" {
		return false
	}
	if c.o.CanWrite == nil {
		return true
	}
	return c.writable[app]
}

// resummarize computes every shown app's summary from the states (after
// each load or action, not per frame).
func (c *common) resummarize() {
	c.sums = make(map[string]summary, len(c.apps))
	c.nameW, c.ownerW = 10, 5
	for _, a := range c.apps {
		c.sums[a.Name] = summarize(a, c.states[a.Name])
		c.nameW, c.ownerW = max(c.nameW, min(30, len(a.Name))), max(c.ownerW, min(16, len(a.Owner)))
	}
}

type screen int

const (
	overviewScreen screen = iota
	detailScreen
)

// Model is the TUI: the components and the chrome around them (title,
// outage banner, notice, help).
type Model struct {
	c        *common
	help     help.Model
	width    int
	height   int
	screen   screen
	overview overview
	detail   detail
	fullHelp bool
	quitting bool
	cancel   context.CancelFunc
}

// New returns the TUI's model.
func New(o Options) Model {
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &common{o: o, keys: newKeyMap(), st: newStyles(o.Color), states: map[string]*tracker.AppState{},
		writable: map[string]bool{}, loading: true}
	ctx, cancel := context.WithCancel(context.Background())
	c.ctx = ctx
	for _, a := range o.Manifest.Apps {
		if (o.Owner == "" || a.Owner == o.Owner) && (o.App == "" || a.Name == o.App) {
			c.apps = append(c.apps, a)
		}
	}
	slices.SortStableFunc(c.apps, func(a, b manifest.App) int {
		if a.Wave != b.Wave {
			return a.Wave - b.Wave
		}
		return strings.Compare(a.Name, b.Name)
	})
	c.resummarize()
	m := Model{c: c, help: c.st.help(), overview: newOverview(c), detail: newDetail(c), cancel: cancel}
	if o.App != "" && len(c.apps) == 1 {
		m.screen = detailScreen
		m.detail.show(o.App)
	}
	m.layout(80, 24)
	return m
}

// Run runs the TUI on a terminal until the user quits.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	p := tea.NewProgram(New(o), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	_, err := p.Run()
	return err
}

// Messages: every I/O runs in a tea.Cmd and answers with one of these.
type (
	loadedMsg struct {
		states map[string]*tracker.AppState
		at     time.Time
		err    error
	}
	writableMsg struct{ writable map[string]bool }
	refreshMsg  time.Time
	actionMsg   struct {
		app  string
		what tracker.EventKind
		res  tracker.Result
		err  error
	}
)

// Init implements tea.Model: load, learn what may be written, and arm
// the refresh.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.load(), m.checkWritable(), m.tick())
}

func (m Model) load() tea.Cmd {
	tr, apps, now, ctx := m.c.o.Tracker, m.c.apps, m.c.o.Now, m.c.ctx
	return func() tea.Msg {
		states := make(map[string]*tracker.AppState, len(apps))
		for _, a := range apps {
			st, err := tr.Load(ctx, a.Name)
			if err != nil {
				return loadedMsg{err: err, at: now()}
			}
			states[a.Name] = st
		}
		return loadedMsg{states: states, at: now()}
	}
}

func (m Model) checkWritable() tea.Cmd {
	if m.c.o.ReadOnly || m.c.o.CanWrite == nil {
		return nil
	}
	can, apps, ctx := m.c.o.CanWrite, m.c.apps, m.c.ctx
	return func() tea.Msg {
		w := map[string]bool{}
		for _, a := range apps {
			ok, err := can(ctx, a.Name)
			w[a.Name] = err == nil && ok
		}
		return writableMsg{w}
	}
}

func (m Model) tick() tea.Cmd {
	return tea.Tick(m.c.o.Refresh, func(t time.Time) tea.Msg { return refreshMsg(t) })
}

// bindings enables the keys that apply to the current screen and state:
// a disabled binding is absent from help.
func (m *Model) bindings() {
	k := &m.c.keys
	dialog := m.screen == detailScreen && m.detail.dialog != nil
	filtering := m.screen == overviewScreen && m.overview.filtering
	over, detail := m.screen == overviewScreen && !filtering, m.screen == detailScreen && !dialog
	k.Open.SetEnabled(over)
	k.Filter.SetEnabled(over)
	k.ClearFilter.SetEnabled(m.screen == overviewScreen && (filtering || m.overview.filter.Value() != ""))
	k.Back.SetEnabled(detail)
	writable := detail && m.c.canTick(m.detail.app)
	k.Tick.SetEnabled(writable)
	k.Waive.SetEnabled(writable)
	k.Confirm.SetEnabled(dialog)
	k.Cancel.SetEnabled(dialog)
	k.Up.SetEnabled(!dialog)
	k.Down.SetEnabled(!dialog)
	k.PageUp.SetEnabled(detail)
	k.PageDown.SetEnabled(detail)
	k.Quit.SetEnabled(!dialog && !filtering)
	k.Refresh.SetEnabled(!dialog && !filtering)
	k.Help.SetEnabled(!dialog && !filtering)
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	c := m.c
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case loadedMsg:
		c.loading = false
		if msg.err != nil {
			c.outage = outageText(msg.err)
		} else {
			if c.outage != "" {
				c.notice = "the tracker is back: ticking is on again"
			}
			c.outage = ""
			c.states, c.loadedAt = msg.states, msg.at
			c.resummarize()
		}
	case writableMsg:
		c.writable = msg.writable
	case refreshMsg:
		cmd = tea.Batch(m.load(), m.tick())
	case actionMsg:
		cmd = m.acted(msg)
	case tea.KeyPressMsg:
		cmd = m.key(msg)
	default:
		// the cursor's blink and the like go to whichever input has focus
		if m.screen == overviewScreen {
			m.overview, cmd = m.overview.Update(msg)
		} else {
			m.detail, cmd = m.detail.Update(msg)
		}
	}
	m.bindings()
	m.layout(m.width, m.height)
	return m, cmd
}

// acted shows what an action did and reloads.
func (m *Model) acted(msg actionMsg) tea.Cmd {
	c := m.c
	switch {
	case msg.err == nil && msg.res.Retried:
		c.notice = fmt.Sprintf("someone else changed %s meanwhile: reloaded, and your %s was applied (version %d)", msg.app, msg.what, msg.res.Version)
	case msg.err == nil:
		c.notice = fmt.Sprintf("%s of %s saved (version %d)", msg.what, msg.app, msg.res.Version)
	case credscan.CodeOf(msg.err) == credscan.CodeConflict:
		c.notice = "not saved: " + msg.err.Error() + " (reloaded)"
	case credscan.CodeOf(msg.err) == credscan.CodeUnavailable:
		c.outage = outageText(msg.err)
		c.notice = "not saved: the tracker cannot be reached"
	default:
		c.notice = "not saved: " + msg.err.Error()
	}
	if msg.err == nil && msg.res.State != nil {
		c.states[msg.app] = msg.res.State
		c.resummarize()
	}
	return m.load()
}

func outageText(err error) string {
	if credscan.CodeOf(err) == credscan.CodeUnavailable {
		return "the tracker cannot be reached (" + err.Error() + ")"
	}
	return "the tracker cannot be read (" + err.Error() + ")"
}

// key handles the keys every screen shares, then hands the rest to the
// screen's component.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		m.cancel()
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.fullHelp = !m.fullHelp
		return nil
	case key.Matches(msg, k.Refresh):
		return m.load()
	}
	var cmd tea.Cmd
	if m.screen == overviewScreen {
		m.overview, cmd = m.overview.Update(msg)
		if app := m.overview.opened; app != "" {
			m.overview.opened = ""
			m.screen = detailScreen
			m.detail.show(app)
			m.c.notice = ""
		}
		return cmd
	}
	m.detail, cmd = m.detail.Update(msg)
	if m.detail.closed {
		m.detail.closed = false
		m.screen = overviewScreen
		m.c.notice = ""
	}
	return cmd
}

// chrome are the lines around the screen's component.
func (m Model) chrome() (top, bottom []string) {
	c := m.c
	title := c.st.title.Render("credscan migration tracker") + c.st.dim.Render("  "+c.o.Tracker.Store().Where())
	top = []string{clip(title, m.width)}
	if c.outage != "" {
		since := "never loaded"
		if !c.loadedAt.IsZero() {
			since = "showing the state of " + c.loadedAt.Format("15:04:05")
		}
		top = append(top, c.st.banner.Render(clip("TRACKER OUTAGE: ticking is off; "+since+"; retrying. "+c.outage, m.width)))
	}
	if c.o.ReadOnly {
		top = append(top, c.st.warn.Render("read-only"))
	}
	if c.notice != "" {
		bottom = append(bottom, c.st.warn.Render(clip(c.notice, m.width)))
	}
	h := m.help
	h.SetWidth(m.width)
	if m.fullHelp {
		bottom = append(bottom, strings.Split(h.FullHelpView(c.keys.FullHelp()), "\n")...)
	} else {
		bottom = append(bottom, h.ShortHelpView(c.keys.ShortHelp()))
	}
	return top, bottom
}

// layout gives the components the room the chrome leaves.
func (m *Model) layout(width, height int) {
	m.width, m.height = width, height
	top, bottom := m.chrome()
	room := max(1, height-len(top)-len(bottom))
	m.overview.SetSize(width, room)
	m.detail.SetSize(width, room)
}

// View implements tea.Model.
func (m Model) View() tea.View {
	if m.quitting {
		return tea.NewView("")
	}
	var body string
	if m.screen == overviewScreen {
		body = m.overview.View()
	} else {
		body = m.detail.View()
	}
	top, bottom := m.chrome()
	room := max(1, m.height-len(top)-len(bottom))
	bodyLines := strings.Split(body, "\n")
	if len(bodyLines) > room {
		bodyLines = bodyLines[:room]
	}
	for len(bodyLines) < room {
		bodyLines = append(bodyLines, "")
	}
	all := slices.Concat(top, bodyLines, bottom)
	if len(all) > m.height && m.height > 0 {
		// a screen smaller than the chrome: the top, the body, then help
		all = all[:m.height]
	}
	v := tea.NewView(strings.Join(all, "\n"))
	v.AltScreen = true
	return v
}

// clip cuts s to width cells (styles kept) with an ellipsis.
func clip(s string, width int) string {
	if width < 2 {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// ColorFromEnv says whether to style in colour: not with NO_COLOR.
func ColorFromEnv() bool { return os.Getenv("NO_COLOR") == "" }
