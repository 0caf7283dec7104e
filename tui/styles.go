package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// styles are the TUI's looks; with NO_COLOR every one is plain, bold or
// reverse (marks such as [x] and words carry the meaning, never colour
// alone).
type styles struct {
	color                                                       bool
	title, header, selected, dim, ok, warn, bad, banner, dialog lipgloss.Style
}

func newStyles(color bool) styles {
	if !color {
		plain := lipgloss.NewStyle()
		return styles{title: plain.Bold(true), header: plain.Bold(true), selected: plain.Reverse(true), dim: plain, ok: plain,
			warn: plain, bad: plain.Bold(true), banner: plain.Reverse(true), dialog: plain.Border(lipgloss.NormalBorder()).Padding(0, 1)}
	}
	return styles{
		color:    true,
		title:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		header:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("14")),
		selected: lipgloss.NewStyle().Reverse(true),
		dim:      lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		ok:       lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("11")),
		bad:      lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		banner:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")),
		dialog:   lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Color("12")).Padding(0, 1),
	}
}

// input styles a text input: bubbles' defaults in colour, plain without
// (a block cursor that does not blink).
func (s styles) input(t *textinput.Model) {
	if s.color {
		return
	}
	plain := lipgloss.NewStyle()
	state := textinput.StyleState{Text: plain, Placeholder: plain, Suggestion: plain, Prompt: plain}
	t.SetStyles(textinput.Styles{Focused: state, Blurred: state, Cursor: textinput.CursorStyle{Shape: tea.CursorBlock}})
}

// help returns the help bubble in these styles.
func (s styles) help() help.Model {
	h := help.New()
	if !s.color {
		plain := lipgloss.NewStyle()
		h.Styles = help.Styles{Ellipsis: plain, ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain,
			FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain}
		return h
	}
	key := lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))
	desc := lipgloss.NewStyle().Foreground(lipgloss.Color("7"))
	sep := lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	h.Styles = help.Styles{Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep, FullKey: key, FullDesc: desc, FullSeparator: sep}
	return h
}
