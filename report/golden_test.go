package report

import (
	"bytes"
	"errors"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/golden"
)

// sample is a report with a finding of every source kind, a reference, CI
// secret names, an unreadable item and suppressed counts.
func sample() *Report {
	arp := &credscan.DBIdentity{Driver: "postgresql", User: "arp_app", Host: "arp-db.prod.internal", Port: 5432, Database: "arp"}
	fs := []*credscan.Finding{
		{RuleID: "pg-env", Database: true, Target: "ARP", DB: arp, Fingerprint: "c96c64dbe538aaaa0000", Blocking: true, Column: 19,
			Origin: credscan.Origin{Kind: credscan.KindDir, App: "billing-api", Target: "billing-api", Path: "Dockerfile", Line: 3}, Redacted: `ENV PGPASSWORD="****"`},
		{RuleID: "postgres-uri", Database: true, Target: "ARP", DB: arp, Fingerprint: "c96c64dbe538aaaa0000", Blocking: true, Column: 33, Tags: []string{"git:history-only"},
			Origin: credscan.Origin{Kind: credscan.KindGit, App: "billing-api", Target: "https://git.example.com/team/billing-api.git", Path: "deploy/db.env", Line: 1,
				Commit: "5f2d1e0c9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", Author: "Alice", Date: "2024-01-01T11:00:00Z", Blob: "0123456789abcdef0123456789abcdef01234567"}, Redacted: "DATABASE_URL=postgres://arp_app:****@arp-db.prod.internal:5432/arp"},
		{RuleID: "pgpass", Database: true, Target: "ARP", DB: &credscan.DBIdentity{User: "arp_backup", Host: "arp-db.prod.internal", Port: 5432, Database: "arp"}, Fingerprint: "9e418bb28e64bbbb1111", Blocking: true, Column: 34,
			Tags:   []string{"image:layer:1", "image:deleted-later"},
			Origin: credscan.Origin{Kind: credscan.KindImage, App: "ops-scripts", Target: "registry.example.com/ops:1.0@sha256:aaaa", Layer: "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", Path: "root/.pgpass", Line: 2}, Redacted: "arp-db.prod.internal:5432:arp:arp_backup:****"},
		{RuleID: "pg-env", Database: true, Target: "ARP", DB: arp, Fingerprint: "c96c64dbe538aaaa0000", Blocking: true, Column: 17,
			Origin: credscan.Origin{Kind: credscan.KindCIVars, App: "billing-api", Target: "billing-api", Path: ".gitlab-ci.yml", Line: 10, CI: "gitlab-ci", Job: "migrate", Variable: "PGPASSWORD"}, Redacted: `PGPASSWORD: "****"`},
		{RuleID: "generic-api-key", Fingerprint: "deadbeef00112233", Column: 9,
			Origin: credscan.Origin{Kind: credscan.KindDir, App: "reports-web", Target: "reports-web", Path: "src/client.js", Line: 4}, Redacted: "apiKey: '****'"},
	}
	return &Report{Tool: "credscan", Version: "v1.2.3", Findings: fs,
		References: []credscan.Reference{{Origin: credscan.Origin{Kind: credscan.KindDir, App: "billing-api", Target: "billing-api", Path: "src/main/resources/application.yml", Line: 9}, Key: "password"}},
		CISecrets: []credscan.CISecret{{Origin: credscan.Origin{Kind: credscan.KindCIVars, App: "billing-api", Target: "billing-api", Path: ".gitlab-ci.yml", Line: 16, CI: "gitlab-ci", Job: "deploy"},
			Name: "ARP_DB_PASSWORD", Store: "variables", Use: "referenced"}},
		Errors: []*credscan.ItemError{{Origin: credscan.Origin{Kind: credscan.KindDir, Target: "ops-scripts", Path: "secrets/locked.env"}, Err: errors.New("opening file: open: permission denied")}},
		Stats: credscan.Stats{Items: 42, Bytes: 123456, Binary: 2, Skipped: map[string]int{"symlink (not followed)": 1}, Errors: 1, Findings: 5, Credentials: 3,
			Allowed: 1, Allowlisted: 2, Baselined: 1, Blocking: 4, Referenced: map[string]int{"billing-api": 1}, Hardcoded: map[string]int{"billing-api": 3, "ops-scripts": 1, "reports-web": 1}},
		Rules:    map[string]string{"pg-env": "PGPASSWORD set in a script", "postgres-uri": "PostgreSQL connection URI with a password", "pgpass": ".pgpass entry", "generic-api-key": "Generic API key"},
		RuleHelp: map[string]string{"pg-env": "Inject PGPASSWORD from Vault.", "postgres-uri": "Read the DSN from Vault.", "pgpass": "Render .pgpass from Vault."},
	}
}

// Every format, for a report with every kind of content, and for an
// interrupted one.
func TestGolden(t *testing.T) {
	for _, format := range Formats {
		for _, incomplete := range []bool{false, true} {
			r := sample()
			name := format
			if incomplete {
				r.Incomplete = "interrupted"
				name += "-incomplete"
			}
			var b bytes.Buffer
			err := Write(&b, format, r)
			if incomplete && format == "csv" {
				if !errors.Is(err, ErrIncompleteCSV) {
					t.Errorf("csv of an incomplete scan: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name+".golden", b.Bytes())
		}
	}
	for name, write := range map[string]func(*bytes.Buffer, *Report) error{
		"github-annotations": func(b *bytes.Buffer, r *Report) error { return WriteGitHubAnnotations(b, r) },
		"gitlab-codequality": func(b *bytes.Buffer, r *Report) error { return WriteGitLabCodeQuality(b, r) },
	} {
		var b bytes.Buffer
		if err := write(&b, sample()); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, name+".golden", b.Bytes())
	}
}
