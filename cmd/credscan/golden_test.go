package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/credscan -run Golden -update rewrites it):\n%s", name, got)
	}
}

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
		golden(t, "example-estate."+format, []byte(stdout))
	}
}
