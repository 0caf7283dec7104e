package dir_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

// Every position of every line is scanned by a chunk that holds it with
// context, and each finding is reported once: random files with lines far
// longer than a chunk, secrets at random offsets and across every chunk
// boundary and every boundary of a chunk's own part.
func TestChunkingReportsEveryFindingOnce(t *testing.T) {
	e := scantest.Engine(t, engine.RulesDB)
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		chunk := 1024 + rng.IntN(4096)
		overlap := 256 + rng.IntN(chunk/2)
		data, planted := scantest.LongLineFile(rng, 20000+rng.IntN(60000), chunk*3, 20)
		p := filepath.Join(t.TempDir(), "dump.sql")
		write := func() {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write()
		opts := []dir.Option{dir.WithChunking(chunk, overlap, 0)}
		src, err := dir.New([]string{p}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		bounds, err := scantest.Boundaries(scantest.ScanChunks(context.Background(), src))
		if err != nil {
			t.Fatal(err)
		}
		planted = scantest.PlantAtBoundaries(rng, data, planted, bounds)
		write()
		res := engine.NewResults()
		if err := e.Scan(context.Background(), src, res); err != nil {
			t.Fatal(err)
		}
		if len(planted) < len(bounds)/3 {
			t.Fatalf("seed %d: only %d planted for %d boundaries", seed, len(planted), len(bounds))
		}
		scantest.CheckPlanted(t, fmt.Sprintf("seed %d", seed), res.Findings, planted)
	}
}
