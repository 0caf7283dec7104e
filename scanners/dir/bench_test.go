package dir_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

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

func benchDir(b *testing.B, rules engine.RuleSet) {
	root := scantest.GoSrc(b, "net")
	e := newEngine(b, rules)
	b.SetBytes(treeBytes(b, root))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := dir.New([]string{root})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Scan(context.Background(), src, engine.NewResults()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirDB scans Go's net package tree with the DB pack alone.
func BenchmarkDirDB(b *testing.B) { benchDir(b, engine.RulesDB) }

// BenchmarkDirAll scans it with gitleaks' rules and the DB pack.
func BenchmarkDirAll(b *testing.B) { benchDir(b, engine.RulesAll) }

// BenchmarkEngineChunk measures the engine alone on one in-memory file of real Go source.
func BenchmarkEngineChunk(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(scantest.GoSrc(b, "net", "http"), "server.go"))
	if err != nil {
		b.Fatal(err)
	}
	for _, rs := range []engine.RuleSet{engine.RulesDB, engine.RulesAll} {
		b.Run(string(rs), func(b *testing.B) {
			e := newEngine(b, rs)
			res := engine.NewResults()
			ch := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: "net/http/server.go"}, Data: data, StartLine: 1, Whole: true}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.ScanChunk(context.Background(), ch, res)
			}
		})
	}
}
