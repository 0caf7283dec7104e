package engine

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners/engine/internal/accel"
)

// loadedEngine is New(o) with a test fingerprint key, its rules loaded.
func loadedEngine(tb testing.TB, o Options) *Engine {
	fp, err := credscan.NewFingerprinter([]byte("test-key-0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	o.Fingerprinter = fp
	e, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.wait(); err != nil {
		tb.Fatal(err)
	}
	return e
}

// goRoot is the Go tree of the go command on PATH.
func goRoot() (string, error) {
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(root)), nil
}

// goText is up to max bytes of Go's source tree under dir: real text.
func goText(tb testing.TB, dir string, max int) []byte {
	var data []byte
	root, err := goRoot()
	if err != nil {
		tb.Skip(err)
	}
	_ = filepath.WalkDir(filepath.Join(root, "src", dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && len(data) < max {
			if f, err := os.ReadFile(p); err == nil {
				data = append(data, f...)
			}
		}
		return nil
	})
	if len(data) == 0 {
		tb.Skip("no Go source tree")
	}
	return data
}

// The keyword matcher with the engine's own keywords marks each line of
// real text with the groups of the keywords it holds (a plain search per
// keyword), in any case.
func TestMatcherMarksWhatTheKeywordsHold(t *testing.T) {
	e := loadedEngine(t, Options{MaxDecodeDepth: 5, Workers: 1})
	kws := map[string]uint8{}
	for _, k := range e.pack.Keywords() {
		kws[k] |= accel.GroupDB
	}
	for _, k := range e.gl.keywords {
		kws[k] |= accel.GroupGitleaks
	}
	data := goText(t, "net/http", 1<<20)
	// flip the case of every seventh letter: keywords match in any case
	for i := 0; i < len(data); i += 7 {
		if c := data[i]; 'a' <= c && c <= 'z' {
			data[i] = c - 'a' + 'A'
		}
	}
	got := e.m.Scan(data, nil)
	lines := bytes.SplitAfter(data, []byte{'\n'})
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(got) != len(lines) {
		t.Fatalf("%d lines marked, want %d", len(got), len(lines))
	}
	woke := 0
	for i, l := range lines {
		low := strings.ToLower(string(l))
		want := uint8(0)
		for k, g := range kws {
			if len(k) >= 2 && strings.Contains(low, k) {
				want |= g
			}
		}
		if got[i] != want {
			t.Fatalf("line %d: groups %b, want %b", i+1, got[i], want)
		}
		if want != 0 {
			woke++
		}
	}
	if woke == 0 || woke == len(lines) {
		t.Fatalf("%d of %d lines woke a group: the text does not test the matcher", woke, len(lines))
	}
}

// BenchmarkMatcher is the keyword matcher with the engine's keywords on
// Go's net tree.
func BenchmarkMatcher(b *testing.B) {
	e := loadedEngine(b, Options{MaxDecodeDepth: 5, Workers: 1})
	data := goText(b, "net", 8<<20)
	b.SetBytes(int64(len(data)))
	var groups []uint8
	for b.Loop() {
		groups = e.m.Scan(data, groups)
	}
}
