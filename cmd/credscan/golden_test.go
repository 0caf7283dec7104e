package main

import (
	"path/filepath"
	"testing"

	"github.com/credscan/credscan/internal/golden"
)

// The README's main command on the bundled example estate, in every
// format (with a fixed fingerprint key: the README's own key file is made
// on first use, so its fingerprints differ from machine to machine).
func TestGoldenExampleEstate(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "golden-key-0123456789abcdef")
	t.Setenv("NO_COLOR", "1")
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		stdout, stderr, code := run(t, "scan", "estate", "-m", filepath.Join("..", "..", "examples", "estate", "credscan.yaml"), "--format", format)
		if code != exitBlocking {
			t.Fatalf("%s: exit %d: %s", format, code, stderr)
		}
		golden.Check(t, "example-estate."+format, []byte(stdout))
	}
}
