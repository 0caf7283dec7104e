package chunk

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/credscan/credscan"
)

// A binary streamed for the sweep yields every byte, each chunk at its
// offset, all marked binary; without the sweep it is one empty chunk.
func TestStreamBinaries(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	data[10] = 0
	z := Sizes{Chunk: 64 << 10, Overlap: 4 << 10, Whole: 1 << 20}
	var chunks []credscan.Chunk
	collect := func(ch credscan.Chunk, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		ch.Data = bytes.Clone(ch.Data)
		chunks = append(chunks, ch)
		return nil
	}
	if err := z.Reader(context.Background(), bytes.NewReader(data), int64(len(data)), credscan.Origin{Path: "bin"}, collect); err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 1 || chunks[0].Skip != "binary" || len(chunks[0].Data) != 0 {
		t.Fatalf("without the sweep: %d chunks, want one empty binary chunk", len(chunks))
	}
	chunks = nil
	if err := z.Reader(WithBinaries(context.Background()), bytes.NewReader(data), int64(len(data)), credscan.Origin{Path: "bin"}, collect); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i, ch := range chunks {
		if ch.Skip != "binary" {
			t.Fatalf("chunk %d not marked binary", i)
		}
		if !bytes.Equal(data[ch.Offset:ch.Offset+int64(len(ch.Data))], ch.Data) {
			t.Fatalf("chunk %d is not the item's bytes at offset %d", i, ch.Offset)
		}
		if (i == 0) != (ch.Offset == 0) {
			t.Fatalf("chunk %d at offset %d", i, ch.Offset)
		}
		all = append(all, ch.Data[ch.Overlap:]...)
	}
	if len(chunks) < 40 || !bytes.Equal(all, data) {
		t.Fatalf("%d chunks holding %d of %d bytes", len(chunks), len(all), len(data))
	}
}
