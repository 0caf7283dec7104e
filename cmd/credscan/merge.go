package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/report"
)

func newMergeCmd() *cobra.Command {
	f := &scanFlags{}
	c := &cobra.Command{
		Use:   "merge SHARD.json...",
		Short: "Merge the JSON reports of a split scan (--shard) into the estate's report",
		Long: `Merge the JSON reports of every shard of one split scan (credscan scan estate
--shard I/N -f json, each I from 0 to N-1 once) into the report one scan of the
whole estate gives: findings, credentials grouped by fingerprint across shards,
references, CI secrets, errors, stats and the exit code. Reports of another
rule set or fingerprint key, or a set with a shard missing, are refused.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validFormat(f.format) {
				return credscan.UsageError("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", "))
			}
			var parts []report.Part
			for _, a := range args {
				fh, err := regular.Open(a)
				if err != nil {
					return credscan.UsageError("%w", err)
				}
				jr, err := report.ReadJSON(fh)
				fh.Close()
				if err != nil {
					return credscan.UsageError("%s: %w", filepath.Base(a), err)
				}
				parts = append(parts, report.Part{Name: a, Report: jr})
			}
			rep, err := report.Merge(parts)
			if err != nil {
				return credscan.UsageError("%w", err)
			}
			r := &scanRun{f: f}
			if err := r.writeReport(cmd, rep); err != nil {
				return err
			}
			return estate.Outcome(rep)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.Formats, "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the merged report to this file (default stdout)")
	return c
}
