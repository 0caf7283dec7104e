package tui

import (
	"charm.land/lipgloss/v2"
)

// styles are the TUI's looks; with NO_COLOR every one is plain (marks
// such as [x] and text carry the meaning, never colour alone).
type styles struct {
	title, header, selected, dim, ok, warn, bad, banner, dialog, help lipgloss.Style
}

func newStyles(color bool) styles {
	if !color {
		plain := lipgloss.NewStyle()
		return styles{title: plain.Bold(true), header: plain.Bold(true), selected: plain.Reverse(true), dim: plain, ok: plain,
			warn: plain, bad: plain, banner: plain.Bold(true), dialog: plain.Border(lipgloss.NormalBorder()).Padding(0, 1), help: plain}
	}
	return styles{
		title:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		header:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("14")),
		selected: lipgloss.NewStyle().Reverse(true),
		dim:      lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		ok:       lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("11")),
		bad:      lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		banner:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")),
		dialog:   lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Color("12")).Padding(0, 1),
		help:     lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
	}
}
