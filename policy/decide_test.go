package policy

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/manifest"
)

func TestDecide(t *testing.T) {
	db := func(path, fp string) *credscan.Finding {
		return &credscan.Finding{RuleID: "pg-env", Database: true, Fingerprint: fp, Origin: credscan.Origin{Path: path}, Secret: credscan.NewSecret("Qw7-secret-value")}
	}
	gl := func(path, fp string) *credscan.Finding {
		return &credscan.Finding{RuleID: "generic-api-key", Fingerprint: fp, Origin: credscan.Origin{Path: path}, Secret: credscan.NewSecret("tok_abcdef")}
	}
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	if err := WriteBaseline(baseline, NewBaseline([]*credscan.Finding{db("known.env", "bbbbbbbbbbbbbbbb")}, time.Unix(0, 0))); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse([]byte(`version: 1
allowlist:
  paths: ["^vendor/"]
  fingerprints: ["cccccccccccc"]
  regexes: ["^tok_"]
`))
	if err != nil {
		t.Fatal(err)
	}
	gitleaksOnly, err := manifest.Parse([]byte("version: 1\npolicy:\n  block: [gitleaks]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		m        *manifest.Manifest
		baseline string
		f        *credscan.Finding
		want     Verdict
		reason   string
	}{
		{"a DB finding blocks", nil, "", db("app.env", "aaaaaaaaaaaaaaaa"), Block, "policy.block: database"},
		{"a gitleaks finding blocks", nil, "", gl("app.go", "aaaaaaaaaaaaaaaa"), Block, "policy.block: gitleaks"},
		{"allowlisted path", m, "", db("vendor/x.env", "aaaaaaaaaaaaaaaa"), Allowlisted, "allowlist.paths: ^vendor/"},
		{"allowlisted fingerprint prefix", m, "", db("app.env", "cccccccccccccccc"), Allowlisted, "allowlist.fingerprints: cccccccccccc"},
		{"allowlisted secret, reason without the expression", m, "", gl("app.go", "aaaaaaaaaaaaaaaa"), Allowlisted, "allowlist.regexes[0]"},
		{"a DB secret the regex does not match", m, "", db("app.env", "aaaaaaaaaaaaaaaa"), Block, "policy.block: database"},
		{"baselined", nil, baseline, db("known.env", "bbbbbbbbbbbbbbbb"), Baselined, "baseline"},
		{"baselined fingerprint at another path", nil, baseline, db("other.env", "bbbbbbbbbbbbbbbb"), Block, "policy.block: database"},
		{"policy.block without database reports it", gitleaksOnly, "", db("app.env", "aaaaaaaaaaaaaaaa"), Report, "policy.block does not list database"},
		{"policy.block with gitleaks blocks it", gitleaksOnly, "", gl("app.go", "aaaaaaaaaaaaaaaa"), Block, "policy.block: gitleaks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(c.m, c.baseline)
			if err != nil {
				t.Fatal(err)
			}
			d := p.Decide([]*credscan.Finding{c.f})
			if len(d) != 1 || d[0].Verdict != c.want || d[0].Reason != c.reason {
				t.Fatalf("got %v (%q), want %v (%q)", d[0].Verdict, d[0].Reason, c.want, c.reason)
			}
			if c.f.Blocking {
				t.Error("Decide changed the finding")
			}
		})
	}
}
