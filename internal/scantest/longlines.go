package scantest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners/chunk"
)

// Planted is a credential a generated file holds.
type Planted struct {
	Password  string
	Offset    int // of the password in the file
	Line, Col int // 1-based; Col in bytes
}

// DSN is how a planted credential is written: a PostgreSQL URI between
// blanks. Only the DB pack's URI rule finds it.
func DSN(pw string) string {
	return " postgres://arp_app:" + pw + "@arp-db.prod.internal:5432/arp "
}

const dsnPrefix = len(" postgres://arp_app:")

// LongLineFile returns about n bytes of text whose lines are mostly short
// and sometimes far longer than longLine, with no byte that wakes any rule
// (no 'p', no ':'), and DSNs planted at `random` random places.
func LongLineFile(rng *rand.Rand, n, longLine, random int) ([]byte, []Planted) {
	b := make([]byte, 0, n+64)
	const letters = "abcdefghijklmnoqrstuvwxyz   ,.=\"'{}()"
	for len(b) < n {
		ll := rng.IntN(120)
		if rng.IntN(8) == 0 {
			ll = longLine/2 + rng.IntN(longLine*2)
		}
		for i := 0; i < ll && len(b) < n; i++ {
			b = append(b, letters[rng.IntN(len(letters))])
		}
		b = append(b, '\n')
	}
	var pl []Planted
	for i := 0; i < random; i++ {
		pl = PlantAcross(rng, b, pl, rng.IntN(len(b)))
	}
	return b, pl
}

// PlantAcross overwrites bytes of data with a DSN whose password covers
// offset at, when that touches no line break and no DSN already planted,
// and returns planted with it added. Line breaks stay where they were, so
// chunk boundaries computed before stay the same.
func PlantAcross(rng *rand.Rand, data []byte, planted []Planted, at int) []Planted {
	pw := fmt.Sprintf("Pw%012x", rng.Uint64()&(1<<48-1))
	d := DSN(pw)
	pwStart := at - rng.IntN(len(pw))
	start := pwStart - dsnPrefix
	end := start + len(d)
	if start < 0 || end > len(data) || bytes.IndexByte(data[start:end], '\n') >= 0 {
		return planted
	}
	for _, p := range planted {
		ps := p.Offset - dsnPrefix
		if start < ps+len(d) && ps < end {
			return planted
		}
	}
	copy(data[start:], d)
	nl := bytes.LastIndexByte(data[:pwStart], '\n')
	return append(planted, Planted{Password: pw, Offset: pwStart, Line: bytes.Count(data[:pwStart], []byte{'\n'}) + 1, Col: pwStart - nl})
}

// Boundaries runs chunks (a source's chunking of data) and returns the
// offsets in data where chunks end and where each chunk's own part starts
// and ends (credscan.Chunk.Owns): the places a finding can be cut or
// reported twice.
func Boundaries(chunks func(yield func(credscan.Chunk, error) error) error) ([]int, error) {
	var out []int
	err := chunks(func(ch credscan.Chunk, err error) error {
		if err != nil {
			return err
		}
		off := int(ch.Offset)
		out = append(out, off+len(ch.Data), off+ch.Overlap/2)
		if ch.Tail > 0 {
			out = append(out, off+len(ch.Data)-ch.Tail+ch.Tail/2)
		}
		return nil
	})
	return out, err
}

// PlantAtBoundaries plants a DSN across each boundary that can take one.
func PlantAtBoundaries(rng *rand.Rand, data []byte, planted []Planted, bounds []int) []Planted {
	for _, at := range bounds {
		planted = PlantAcross(rng, data, planted, at)
	}
	return planted
}

// ScanChunks is a chunks function for Boundaries over a source's Chunks.
func ScanChunks(ctx context.Context, src interface {
	Chunks(context.Context, func(credscan.Chunk, error) error) error
}) func(func(credscan.Chunk, error) error) error {
	return func(yield func(credscan.Chunk, error) error) error { return src.Chunks(ctx, yield) }
}

// CheckPlanted compares what a scan found with what was planted: each
// password once, at its line and column, and nothing else. Findings are
// named by place, never by secret.
func CheckPlanted(t testing.TB, what string, found []*credscan.Finding, planted []Planted) {
	t.Helper()
	want := map[string]Planted{}
	for _, p := range planted {
		want[p.Password] = p
	}
	seen := map[string]int{}
	for _, f := range found {
		pw := f.Secret.Reveal()
		p, ok := want[pw]
		if !ok {
			t.Errorf("%s: %s:%d:%d: a secret that was not planted (a cut one?), %d bytes", what, f.Origin.Path, f.Origin.Line, f.Column, len(pw))
			continue
		}
		seen[pw]++
		if f.Origin.Line != p.Line || f.Column != p.Col {
			t.Errorf("%s: planted at offset %d (line %d col %d), reported at line %d col %d", what, p.Offset, p.Line, p.Col, f.Origin.Line, f.Column)
		}
	}
	for pw, p := range want {
		if seen[pw] != 1 {
			t.Errorf("%s: planted at offset %d (line %d col %d): reported %d times", what, p.Offset, p.Line, p.Col, seen[pw])
		}
	}
}

// BigLongLineFile is a file larger than the size read whole (so it is
// streamed in chunks by every source), of lines up to several MB, with
// DSNs at random places and across every boundary the default chunking
// makes in it.
func BigLongLineFile(t testing.TB, seed uint64) ([]byte, []Planted) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	data, planted := LongLineFile(rng, chunk.DefaultWhole+3*chunk.DefaultChunkSize, 2*chunk.DefaultChunkSize, 40)
	bounds, err := Boundaries(func(yield func(credscan.Chunk, error) error) error {
		return chunk.Default.Bytes(context.Background(), data, credscan.Origin{Path: "x"}, yield)
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, PlantAtBoundaries(rng, data, planted, bounds)
}
