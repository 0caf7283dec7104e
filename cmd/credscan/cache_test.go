package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --cache as a user meets it: the second scan of the example estate reads
// less and reports the same; a damaged cache is said and discarded;
// --no-cache and CREDSCAN_CACHE=off read everything.
func TestCacheFlag(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "golden-key-0123456789abcdef")
	m := filepath.Join("..", "..", "examples", "estate", "credscan.yaml")
	dir := t.TempDir()
	scan := func(args ...string) (map[string]any, string) {
		t.Helper()
		stdout, stderr, code := run(t, append([]string{"scan", "estate", "-m", m, "-f", "json", "-q"}, args...)...)
		if code != exitBlocking {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatal(err)
		}
		return doc, stderr
	}
	cached := func(doc map[string]any) float64 {
		n, _ := doc["stats"].(map[string]any)["cached"].(float64)
		return n
	}
	strip := func(doc map[string]any) string {
		delete(doc["stats"].(map[string]any), "cached")
		b, _ := json.Marshal(doc)
		return string(b)
	}
	cold, _ := scan("--no-cache")
	first, _ := scan("--cache", dir)
	second, _ := scan("--cache", dir)
	if cached(first) != 0 && cached(second) <= cached(first) || cached(second) == 0 {
		t.Fatalf("cached items: first %v, second %v", cached(first), cached(second))
	}
	if strip(second) != strip(cold) || strip(first) != strip(cold) {
		t.Fatal("a cached scan reports otherwise than an uncached one")
	}
	if err := os.WriteFile(filepath.Join(dir, "credscan-scan-cache.v1"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	damaged, stderr := scan("--cache", dir)
	if !strings.Contains(stderr, "damaged") || strip(damaged) != strip(cold) {
		t.Fatalf("a damaged cache: %s", stderr)
	}
	t.Setenv("CREDSCAN_CACHE", dir)
	if env, _ := scan(); cached(env) == 0 {
		t.Fatal("$CREDSCAN_CACHE was not used")
	}
	t.Setenv("CREDSCAN_CACHE", "off")
	if off, _ := scan(); cached(off) != 0 {
		t.Fatal("CREDSCAN_CACHE=off used a cache")
	}
}

// A cache directory that cannot be made is said, and the scan goes on
// reading everything.
func TestCacheUnusableIsNotFatal(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "golden-key-0123456789abcdef")
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "scan", "estate", "-m", filepath.Join("..", "..", "examples", "estate", "credscan.yaml"), "-q", "-f", "json", "--cache", filepath.Join(blocker, "cache"))
	if code != exitBlocking || !strings.Contains(stderr, "scan cache cannot be used") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
