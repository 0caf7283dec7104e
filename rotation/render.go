package rotation

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/credscan/credscan/report"
)

// Write renders a stage's result as table or json. It holds no secret:
// results carry names, paths, addresses and timings only.
func (res *Result) Write(w io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if format != "table" && format != "" {
		return fmt.Errorf("unknown format %q (want table or json)", format)
	}
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, report.Visible(fmt.Sprintf(format, args...))) }
	head := strings.ToUpper(res.Stage) + " " + res.Role
	if res.DryRun {
		head += " (dry run: nothing was changed)"
	}
	add("%s", head)
	for _, g := range res.Gates {
		mark := "ok"
		if !g.OK {
			mark = "NO"
		}
		add("  gate  %-2s %-38s %s", mark, g.Name, g.Detail)
	}
	for _, c := range res.Checks {
		add("  login %-11s %s:%d  %s  %s", c.Result, c.Host, c.Port, c.Path, c.Detail)
	}
	for _, c := range res.Clients {
		add("  still using it: %s", c)
	}
	for _, s := range res.Steps {
		if s.Millis > 0 {
			add("  %s  %-64s %5d ms", s.At.UTC().Format("15:04:05.000"), s.What, s.Millis)
		} else {
			add("  %s  %s", s.At.UTC().Format("15:04:05.000"), s.What)
		}
	}
	for _, n := range res.Notes {
		add("  note  %s", n)
	}
	if len(res.Timeline) > 0 {
		add("INCIDENT TIMELINE (also in the audit log)")
		for _, e := range res.Timeline {
			add("  %s  %-9s %s  (%s)", e.At.UTC().Format(time.RFC3339Nano), e.Stage, e.What, e.By)
		}
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}
