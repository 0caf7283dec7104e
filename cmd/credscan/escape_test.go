package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/vaultsync"
)

// writeEscapeCorpus writes leakcheck's escape corpus under dir, with a
// malformed YAML and a YAML with a type error that hold escaped secrets
// too (error paths), and returns every marker.
func writeEscapeCorpus(t *testing.T, dir string) []string {
	t.Helper()
	files := leakcheck.EscapeCorpus(t)
	m1, m2, m3 := leakcheck.Marker(t), leakcheck.Marker(t), leakcheck.Marker(t)
	files = append(files,
		leakcheck.EscapedFile{Path: "broken/db.yml", Content: "database:\n  host: arp-db.prod.internal\n  password: \"" + m1 + `\"` + m2 + "\"\n  user: [unclosed\n", Markers: []string{m1, m2}},
		leakcheck.EscapedFile{Path: "broken/.gitlab-ci.yml", Content: "variables:\n  PGHOST: arp-db.prod.internal\n  PGPASSWORD: \"" + m3 + "\\\"\"\n  x: [\n", Markers: []string{m3}},
	)
	for _, f := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content)
	}
	return leakcheck.Markers(files)
}

// A secret written with escapes shows in no output: not in any report
// format, not at any log level, not in errors, not in the audit log, not
// in Vault's findings record.
func TestEscapedSecretsInNoOutput(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	markers := writeEscapeCorpus(t, root)
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		for _, level := range []string{"debug", "info", "warn", "error"} {
			out := filepath.Join(t.TempDir(), "report")
			stdout, stderr, code := run(t, "scan", "dir", root, "--format", format, "--log-level", level, "-o", out)
			if code != exitBlocking {
				t.Fatalf("%s/%s: exit %d: %s", format, level, code, stderr)
			}
			file, err := os.ReadFile(out)
			if err != nil || len(file) == 0 {
				t.Fatalf("%s: no report (%v)", format, err)
			}
			leakcheck.AssertNoMarker(t, format+"/"+level+" report", file, markers)
			leakcheck.AssertNoMarker(t, format+"/"+level+" stdout", []byte(stdout), markers)
			leakcheck.AssertNoMarker(t, format+"/"+level+" stderr", []byte(stderr), markers)
		}
	}
	// the sweep reports each escaped secret's copies in every encoding
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		stdout, stderr, _ := run(t, "scan", "dir", root, "--sweep", "--show-suppressed", "--format", format, "--log-level", "debug")
		leakcheck.AssertNoMarker(t, format+" --sweep output", []byte(stdout+stderr), markers)
	}
	// the CI source's own parse of the pipeline files (derived findings
	// are re-redacted against the file's lines)
	stdout, stderr, _ := run(t, "scan", "ci", filepath.Join(root, "broken"), "--format", "json", "--log-level", "debug")
	leakcheck.AssertNoMarker(t, "scan ci", []byte(stdout+stderr), markers)
	auditLog, _ := os.ReadFile(os.Getenv("CREDSCAN_AUDIT_LOG"))
	leakcheck.AssertNoMarker(t, "audit log", auditLog, markers)

	// Vault's findings record (credscan/findings/<app>) and every entry's
	// metadata: the credential entries hold the password, as they must
	src, err := dir.New([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	res := scantest.Scan(t, scantest.Engine(t, ""), src)
	entries := vaultsync.Entries(credscan.Group(res.Findings), vaultsync.Layout{}, "test")
	findings := 0
	for _, e := range entries {
		meta, _ := json.Marshal(e.Meta)
		leakcheck.AssertNoMarker(t, e.Path+" metadata", meta, markers)
		if e.Path == (vaultsync.Layout{}).FindingsPath("") {
			findings++
			data, _ := json.Marshal(e.Data)
			leakcheck.AssertNoMarker(t, e.Path+" data", data, markers)
		}
	}
	if findings != 1 {
		t.Errorf("%d findings records, want 1", findings)
	}
}
