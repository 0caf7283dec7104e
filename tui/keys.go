package tui

import "charm.land/bubbles/v2/key"

// keyMap is the one keymap of every screen (bubbles/help renders it): a
// disabled binding is absent from help, which is how read-only mode and
// the screens hide what does not apply.
type keyMap struct {
	Up, Down, PageUp, PageDown key.Binding
	Open, Back                 key.Binding
	Filter, ClearFilter        key.Binding
	Tick, Waive                key.Binding
	Confirm, Cancel            key.Binding
	Refresh, Help, Quit        key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:        key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Tick:        key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "tick/untick")),
		Waive:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "waive")),
		Confirm:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Refresh:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Open, k.Back, k.Filter, k.ClearFilter, k.Tick, k.Waive, k.Confirm, k.Cancel, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown},
		{k.Open, k.Back, k.Filter, k.ClearFilter},
		{k.Tick, k.Waive, k.Confirm, k.Cancel},
		{k.Refresh, k.Help, k.Quit},
	}
}
