// Package scantest holds what source tests and benchmarks share: an engine
// with a fixed fingerprint key, image layers built from files, and Go's
// source tree as real content.
package scantest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/engine"
)

// Engine returns an engine over rs ("" for all rules) with a test key.
func Engine(t testing.TB, rs engine.RuleSet) *engine.Engine {
	t.Helper()
	fp, err := credscan.NewFingerprinter([]byte("test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Rules: rs, Fingerprinter: fp, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TarLayer returns an uncompressed-tar image layer of files (path →
// content), in path order.
func TarLayer(t testing.TB, files map[string][]byte) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Zip returns a zip (a jar) of files (path → content), deflated as jar
// tools write them, in path order.
func Zip(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// GoSrc returns a directory of Go's own source tree (real content on every
// machine), e.g. GoSrc(b, "net", "http").
func GoSrc(tb testing.TB, elem ...string) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Fatalf("go env GOROOT: %v", err)
	}
	p := filepath.Join(append([]string{strings.TrimSpace(string(out)), "src"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("Go source tree not found: %v", err)
	}
	return p
}

// Scan runs src through e and returns the finished results.
func Scan(t testing.TB, e *engine.Engine, src scanners.Source) *engine.Results {
	t.Helper()
	res := engine.NewResults()
	if err := e.Scan(context.Background(), src, res); err != nil {
		t.Fatal(err)
	}
	res.Finish()
	return res
}

// Source is a source of chunks built by hand: it yields them in order.
type Source []credscan.Chunk

// Chunks implements scanners.Source.
func (s Source) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	for _, ch := range s {
		if err := yield(ch, nil); err != nil {
			return err
		}
	}
	return nil
}
