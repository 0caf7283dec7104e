package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/report"
	gitsrc "github.com/credscan/credscan/scanners/git"
)

func newCICmd() *cobra.Command {
	f := &scanFlags{}
	var base, repo, sarifFile, glReport string
	var staged bool
	c := &cobra.Command{
		Use:   "ci",
		Short: "Scan only what a change adds (the CI merge gate and pre-commit hook)",
		Long: `Scan the lines a change adds: HEAD against --base (else the CI's base
branch: $GITHUB_BASE_REF, $CI_MERGE_REQUEST_DIFF_BASE_SHA, …, else the default
branch), from their merge base; or the index against HEAD with --staged.
Exit 1 when the manifest's policy blocks a finding, else 0.

On GitHub Actions it writes ::error annotations, a SARIF file and a Markdown
job summary ($GITHUB_STEP_SUMMARY); on GitLab CI a code quality report;
elsewhere the --format report.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			manifestPath := f.manifest
			if manifestPath == "" {
				if p := filepath.Join(repo, "credscan.yaml"); fileExists(p) {
					manifestPath = p
				}
			}
			m, err := optionalManifest(manifestPath)
			if err != nil {
				return err
			}
			r, err := newRun(cmd, f, m, "ci")
			if err != nil {
				return err
			}
			o := gitsrc.Options{Label: repo, Workers: r.Workers(), Logger: r.log}
			gitEnv(&o)
			g, err := gitsrc.Open(cmd.Context(), repo, o)
			if err != nil {
				return err
			}
			defer g.Close()
			var cs *gitsrc.ChangeSet
			if staged {
				cs, err = g.DiffStaged(cmd.Context())
			} else {
				var b string
				if b, err = g.CIBase(base, os.Getenv); err == nil {
					cs, err = g.DiffBase(cmd.Context(), b)
				}
			}
			if err != nil {
				return err
			}
			r.log.Info("scanning the change", "base", cs.Base, "head", cs.Head, "files", len(cs.Changes))
			r.AddScope("change " + cs.Base + ".." + cs.Head)
			r.Filter(cs.Keep)
			r.scanning(cmd)
			scanErr := r.ScanSource(cmd.Context(), cs)
			r.stopProgress()
			res, err := r.Finish(cmd.Context(), scanErr)
			if err != nil {
				return err
			}
			if err := writeCIReports(cmd, r, res.Report("credscan", version), sarifFile, glReport); err != nil {
				return err
			}
			return res.Err()
		},
	}
	addScanFlags(c, f, true)
	fl := c.Flags()
	fl.StringVar(&base, "base", "", "revision to compare HEAD with (default: the CI's base branch, else the default branch)")
	fl.BoolVar(&staged, "staged", false, "scan what the index adds to HEAD (pre-commit hook)")
	fl.StringVar(&repo, "repo", ".", "the repository")
	fl.StringVar(&sarifFile, "sarif-file", "credscan.sarif", "SARIF file written on GitHub Actions")
	fl.StringVar(&glReport, "gitlab-report", "gl-code-quality-report.json", "code quality report written on GitLab CI")
	return c
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeCIReports writes what the CI the command runs in shows.
func writeCIReports(cmd *cobra.Command, r *scanRun, rep *report.Report, sarifFile, glReport string) error {
	out := cmd.OutOrStdout()
	writeFile := func(path string, write func(io.Writer, *report.Report) error, flag int) error {
		fh, err := os.OpenFile(path, flag|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return credscan.UsageError("writing %s: %v", path, err)
		}
		if err := write(fh, rep); err != nil {
			fh.Close()
			return err
		}
		return fh.Close()
	}
	switch {
	case os.Getenv("GITHUB_ACTIONS") == "true":
		if err := report.WriteGitHubAnnotations(out, rep); err != nil {
			return err
		}
		if err := writeFile(sarifFile, report.WriteSARIF, os.O_TRUNC); err != nil {
			return err
		}
		if p := os.Getenv("GITHUB_STEP_SUMMARY"); p != "" {
			if err := writeFile(p, report.WriteMarkdown, os.O_APPEND); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "credscan: %d finding(s) on added lines, %d blocking; SARIF in %s\n", rep.Stats.Findings, rep.Stats.Blocking, sarifFile)
		return nil
	case os.Getenv("GITLAB_CI") == "true":
		if err := writeFile(glReport, report.WriteGitLabCodeQuality, os.O_TRUNC); err != nil {
			return err
		}
	}
	return r.writeReport(cmd, rep)
}
