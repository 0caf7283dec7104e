package main

import (
	"context"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/manifest"

	"github.com/credscan/credscan/internal/leakcheck"
)

// The fan-out as a user runs it: scan estate --shard I/N for each I,
// then credscan merge; the merged report is the one-process report
// (--sweep=false, which a shard implies), with its exit code, in every
// format, and holds no secret.
func TestShardThenMerge(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "golden-key-0123456789abcdef")
	t.Setenv("NO_COLOR", "1")
	m := filepath.Join("..", "..", "examples", "estate", "credscan.yaml")
	dir := t.TempDir()
	var shards []string
	for i := range 3 {
		out := filepath.Join(dir, "shard-"+string(rune('0'+i))+".json")
		_, stderr, code := run(t, "scan", "estate", "-m", m, "--shard", string(rune('0'+i))+"/3", "-f", "json", "-o", out, "-q")
		if code != exitBlocking && code != exitOK {
			t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
		}
		shards = append(shards, out)
	}
	for _, format := range []string{"json", "table", "sarif", "csv", "markdown"} {
		single, stderr, code := run(t, "scan", "estate", "-m", m, "--sweep=false", "-f", format, "-q")
		if code != exitBlocking {
			t.Fatalf("single: exit %d: %s", code, stderr)
		}
		merged, stderr, mcode := run(t, append([]string{"merge", "-f", format}, shards...)...)
		if mcode != code {
			t.Fatalf("%s: merge exit %d, the run's %d: %s", format, mcode, code, stderr)
		}
		if format == "json" && merged != single {
			t.Fatalf("the merged JSON report differs from the run's")
		}
		leakcheck.AssertNone(t, format+" merged report", []byte(merged+stderr), exampleSecrets(t)...)
	}
	// refusals name the file and exit 2
	_, stderr, code := run(t, "merge", shards[0], shards[2])
	if code != exitUsage || !strings.Contains(stderr, "shard 1/3 missing") {
		t.Fatalf("a missing shard: exit %d, %s", code, stderr)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 1, "findings": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "merge", bad); code != exitUsage || !strings.Contains(stderr, "bad.json") {
		t.Fatalf("an old report: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run(t, "scan", "estate", "-m", m, "--shard", "3/3"); code != exitUsage || !strings.Contains(stderr, "INDEX/TOTAL") {
		t.Fatalf("--shard 3/3: exit %d, %s", code, stderr)
	}
}

// exampleSecrets are the plaintext secrets of the example estate, as a
// scan finds them (for leak checks).
func exampleSecrets(t *testing.T) []string {
	t.Helper()
	m, err := manifest.Load(filepath.Join("..", "..", "examples", "estate", "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Sweep: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range res.Findings {
		if s := f.Secret.Reveal(); len(s) >= 6 {
			out = append(out, s)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d secrets in the example estate", len(out))
	}
	return out
}
