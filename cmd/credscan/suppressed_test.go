package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan/scanners/engine"
)

// --show-suppressed lists what inline markers suppressed, in every
// format, without the secret; without it they are only counted.
func TestShowSuppressedNeverLeaks(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	const secret = "Qz7vN3kWp9RtX2mL"
	root := t.TempDir()
	var b strings.Builder
	b.WriteString("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\n")
	for _, m := range engine.SuppressionMarkers {
		b.WriteString("DB_PASSWORD=" + secret + " # " + m + "\n")
	}
	if err := os.WriteFile(filepath.Join(root, "app.env"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		stdout, stderr, code := run(t, "scan", "dir", root, "--format", format, "--show-suppressed", "--log-level", "debug")
		if code != 0 {
			t.Fatalf("%s: exit %d, want 0 (everything suppressed): %s", format, code, stderr)
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Fatalf("%s: the suppressed secret is in the output", format)
		}
		if format == "table" && !strings.Contains(stdout, "SUPPRESSED BY INLINE MARKERS") {
			t.Errorf("table: no suppressed section")
		}
		if format != "json" {
			continue
		}
		var rep struct {
			Suppressed []struct {
				Tags []string `json:"tags"`
			} `json:"suppressed"`
			Stats struct {
				Allowed int `json:"allowed"`
			} `json:"stats"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Stats.Allowed != len(engine.SuppressionMarkers) || len(rep.Suppressed) != rep.Stats.Allowed {
			t.Errorf("json: allowed %d, listed %d, want %d", rep.Stats.Allowed, len(rep.Suppressed), len(engine.SuppressionMarkers))
		}
	}
	stdout, _, _ := run(t, "scan", "dir", root, "--format", "json")
	if strings.Contains(stdout, `"suppressed"`) {
		t.Errorf("suppressed findings listed without --show-suppressed")
	}
}
