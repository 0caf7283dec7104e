package dir_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/dir"
)

// goroot asks the go command where Go's own source tree is.
func goroot(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// goSrc is real content on every machine: a slice of Go's own source tree.
func goSrc(b *testing.B) string {
	p := filepath.Join(goroot(b), "src", "net")
	if _, err := os.Stat(p); err != nil {
		b.Fatalf("Go source tree not found: %v", err)
	}
	return p
}

func treeBytes(b *testing.B, root string) int64 {
	var n int64
	_ = filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func benchDir(b *testing.B, rules scanners.RuleSet) {
	root := goSrc(b)
	e := engine(b, rules)
	b.SetBytes(treeBytes(b, root))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := dir.New([]string{root})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Scan(context.Background(), src, scanners.NewResults()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirDB scans Go's net package tree with the DB pack alone.
func BenchmarkDirDB(b *testing.B) { benchDir(b, scanners.RulesDB) }

// BenchmarkDirAll scans it with gitleaks' rules and the DB pack.
func BenchmarkDirAll(b *testing.B) { benchDir(b, scanners.RulesAll) }

// BenchmarkEngineChunk measures the engine alone on one in-memory file of real Go source.
func BenchmarkEngineChunk(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(goroot(b), "src", "net", "http", "server.go"))
	if err != nil {
		b.Fatal(err)
	}
	for _, rs := range []scanners.RuleSet{scanners.RulesDB, scanners.RulesAll} {
		b.Run(string(rs), func(b *testing.B) {
			e := engine(b, rs)
			res := scanners.NewResults()
			ch := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: "net/http/server.go"}, Data: data, StartLine: 1, Whole: true}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.ScanChunk(context.Background(), ch, res)
			}
		})
	}
}
