// Package tui is the dev leads' terminal UI over the migration tracker:
// an overview of every app by wave, an app's checklist with who ticked
// what and when, its hardcoded occurrences (redacted) and CI secret
// names, and ticking with a note. It reads and writes the tracker only:
// it never scans, and it never shows a secret (the tracker holds redacted
// lines and names, never a value).
//
// It is built the way soft-serve and gh-dash are on bubbletea v2: one
// Model whose screens share a common state (size, styles, keymap,
// read-only), all I/O in tea.Cmds that return typed messages, and a
// re-armed tea.Tick that reloads the state.
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
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

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

type screen int

const (
	overviewScreen screen = iota
	detailScreen
)

// Model is the TUI's state. Update returns a new Model; it is not shared
// between goroutines (bubbletea's contract).
type Model struct {
	o      Options
	keys   keyMap
	help   help.Model
	st     styles
	width  int
	height int

	apps     []manifest.App // shown (narrowed by Owner/App)
	states   map[string]*tracker.AppState
	sums     map[string]summary // of states, made when they change
	loadedAt time.Time
	loading  bool
	// outage is set while the tracker cannot be reached: the last state
	// stays on screen, ticking is off, and reloading goes on
	outage string
	// writable says, per app, whether the identity may tick it
	writable map[string]bool
	notice   string // one line: what the last action did

	screen   screen
	cursor   int // overview: index into visible()
	filter   textinput.Model
	filterOn bool

	app       string // detail: the app shown
	step      int    // detail: the step under the cursor
	scroll    int    // detail: lines scrolled
	dialog    *dialog
	fullHelp  bool
	quitting  bool
	ctx       context.Context
	cancelCtx context.CancelFunc
}

// New returns the TUI's model.
func New(o Options) Model {
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = "name, owner or state"
	m := Model{o: o, keys: newKeyMap(), help: help.New(), st: newStyles(o.Color), states: map[string]*tracker.AppState{},
		writable: map[string]bool{}, filter: fi, loading: true, width: 80, height: 24}
	m.ctx, m.cancelCtx = context.WithCancel(context.Background())
	for _, a := range o.Manifest.Apps {
		if (o.Owner == "" || a.Owner == o.Owner) && (o.App == "" || a.Name == o.App) {
			m.apps = append(m.apps, a)
		}
	}
	slices.SortStableFunc(m.apps, func(a, b manifest.App) int {
		if a.Wave != b.Wave {
			return a.Wave - b.Wave
		}
		return strings.Compare(a.Name, b.Name)
	})
	if o.App != "" && len(m.apps) == 1 {
		m.screen, m.app = detailScreen, o.App
	}
	m.resummarize()
	m.bindings()
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
		what string
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
	tr, apps, now, ctx := m.o.Tracker, m.apps, m.o.Now, m.ctx
	return func() tea.Msg {
		states := map[string]*tracker.AppState{}
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
	if m.o.ReadOnly || m.o.CanWrite == nil {
		return nil
	}
	can, apps, ctx := m.o.CanWrite, m.apps, m.ctx
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
	return tea.Tick(m.o.Refresh, func(t time.Time) tea.Msg { return refreshMsg(t) })
}

// canTick says whether the app under the detail screen may be ticked.
func (m Model) canTick(app string) bool {
	if m.o.ReadOnly || m.outage != "" {
		return false
	}
	if m.o.CanWrite == nil {
		return true
	}
	return m.writable[app]
}

// bindings enables the keys that apply to the current screen and state:
// a disabled binding is absent from help.
func (m *Model) bindings() {
	k := &m.keys
	over, detail := m.screen == overviewScreen && m.dialog == nil, m.screen == detailScreen && m.dialog == nil
	k.Open.SetEnabled(over && !m.filterOn)
	k.Filter.SetEnabled(over && !m.filterOn)
	k.ClearFilter.SetEnabled(over && (m.filterOn || m.filter.Value() != ""))
	k.Back.SetEnabled(detail)
	writable := detail && m.canTick(m.app)
	k.Tick.SetEnabled(writable)
	k.Waive.SetEnabled(writable)
	k.Confirm.SetEnabled(m.dialog != nil)
	k.Cancel.SetEnabled(m.dialog != nil)
	k.Up.SetEnabled(m.dialog == nil)
	k.Down.SetEnabled(m.dialog == nil)
	k.PageUp.SetEnabled(detail)
	k.PageDown.SetEnabled(detail)
	k.Quit.SetEnabled(m.dialog == nil && !m.filterOn)
	k.Refresh.SetEnabled(m.dialog == nil && !m.filterOn)
	k.Help.SetEnabled(m.dialog == nil && !m.filterOn)
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
	case loadedMsg:
		m.loading = false
		if msg.err != nil {
			m.outage = outageText(msg.err)
		} else {
			if m.outage != "" {
				m.notice = "the tracker is back: ticking is on again"
			}
			m.outage = ""
			m.states, m.loadedAt = msg.states, msg.at
			m.resummarize()
		}
	case writableMsg:
		m.writable = msg.writable
	case refreshMsg:
		cmd = tea.Batch(m.load(), m.tick())
	case actionMsg:
		cmd = m.acted(msg)
	case tea.KeyPressMsg:
		cmd = m.key(msg)
	}
	m.bindings()
	return m, cmd
}

// acted shows what an action did and reloads.
func (m *Model) acted(msg actionMsg) tea.Cmd {
	switch {
	case msg.err == nil && msg.res.Retried:
		m.notice = fmt.Sprintf("%s: someone else changed %s meanwhile: reloaded, and your %s was applied", msg.what, msg.app, msg.what)
	case msg.err == nil:
		m.notice = fmt.Sprintf("%s of %s saved (version %d)", msg.what, msg.app, msg.res.Version)
	case credscan.CodeOf(msg.err) == credscan.CodeConflict:
		m.notice = "not saved: " + msg.err.Error() + " (reloaded)"
	case credscan.CodeOf(msg.err) == credscan.CodeUnavailable:
		m.outage = outageText(msg.err)
		m.notice = "not saved: the tracker cannot be reached"
	default:
		m.notice = "not saved: " + msg.err.Error()
	}
	if msg.err == nil && msg.res.State != nil {
		m.states[msg.app] = msg.res.State
		m.resummarize()
	}
	return m.load()
}

func outageText(err error) string {
	if credscan.CodeOf(err) == credscan.CodeUnavailable {
		return "the tracker cannot be reached (" + err.Error() + ")"
	}
	return "the tracker cannot be read (" + err.Error() + ")"
}

// key handles a key press on the current screen.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.dialog != nil {
		return m.dialogKey(msg)
	}
	if m.filterOn {
		switch {
		case msg.String() == "enter":
			m.filterOn = false
			m.filter.Blur()
			return nil
		case key.Matches(msg, k.ClearFilter):
			m.filterOn = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.cursor = 0
			return nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.cursor = 0
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		m.cancelCtx()
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.fullHelp = !m.fullHelp
		return nil
	case key.Matches(msg, k.Refresh):
		return m.load()
	}
	if m.screen == overviewScreen {
		return m.overviewKey(msg)
	}
	return m.detailKey(msg)
}

// View implements tea.Model.
func (m Model) View() tea.View {
	var body string
	if m.quitting {
		return tea.NewView("")
	}
	switch m.screen {
	case overviewScreen:
		body = m.overviewView()
	default:
		body = m.detailView()
	}
	v := tea.NewView(m.frame(body))
	v.AltScreen = true
	return v
}

// frame puts the title, the banner, the notice and help around body, cut
// to the screen's height.
func (m Model) frame(body string) string {
	title := m.st.title.Render("credscan migration tracker") + m.st.dim.Render("  "+m.o.Tracker.Store().Where())
	top := []string{title}
	if m.outage != "" {
		since := "never loaded"
		if !m.loadedAt.IsZero() {
			since = "showing the state of " + m.loadedAt.Format("15:04:05")
		}
		top = append(top, m.st.banner.Render(clip("VAULT/TRACKER OUTAGE: "+m.outage+"; "+since+"; ticking is off; retrying", m.width)))
	}
	if m.o.ReadOnly {
		top = append(top, m.st.warn.Render("read-only"))
	}
	helpView := m.help.ShortHelpView(m.keys.ShortHelp())
	if m.fullHelp {
		helpView = m.help.FullHelpView(m.keys.FullHelp())
	}
	bottom := []string{}
	if m.notice != "" {
		bottom = append(bottom, m.st.warn.Render(clip(m.notice, m.width)))
	}
	bottom = append(bottom, helpView)
	room := m.height - len(top) - lines(strings.Join(bottom, "\n"))
	bodyLines := strings.Split(body, "\n")
	if room < 1 {
		room = 1
	}
	if len(bodyLines) > room {
		bodyLines = bodyLines[:room]
	}
	for len(bodyLines) < room {
		bodyLines = append(bodyLines, "")
	}
	return strings.Join(append(append(top, bodyLines...), bottom...), "\n")
}

func lines(s string) int { return strings.Count(s, "\n") + 1 }

// clip cuts s to width runes.
func clip(s string, width int) string {
	r := []rune(s)
	if width > 1 && len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}

// ColorFromEnv says whether to style in colour: not with NO_COLOR.
func ColorFromEnv() bool { return os.Getenv("NO_COLOR") == "" }
