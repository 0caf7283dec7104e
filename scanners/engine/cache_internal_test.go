package engine

import (
	"context"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/scanners"
)

// An item whose scan was cut short (ctx done: gitleaks stops between
// rules) is not entered as clean, nor given a hint, nor is a git blob; the
// same scan to its end is.
func TestCutShortScanEntersNothing(t *testing.T) {
	st, err := cache.Open(t.TempDir(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: "a.txt"}, Data: []byte("nothing\n"), StartLine: 1, Whole: true}
	blob := file
	blob.Origin = credscan.Origin{Kind: credscan.KindGit, Path: "a.txt", Blob: "0123456789abcdef0123456789abcdef01234567"}
	nothing := func(scanners.Sink, *cache.Hint) (cache.Hint, bool) { return cache.Hint{}, true }
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ctx := range []context.Context{cut, context.Background()} {
		p := cache.NewPass(st, cache.NewConfig("t"))
		for _, ch := range []credscan.Chunk{file, blob} {
			if !cached(ctx, p, ch, NewResults(), nothing) {
				t.Fatal("a whole item was left to the caller")
			}
		}
		p.End()
		_, fileIn := st.Get(p.Config().Content(string(credscan.KindDir), "a.txt", file.Data))
		blobIn := p.BlobKnownClean(blob.Origin.Blob)
		if done := ctx.Err() == nil; fileIn != done || blobIn != done {
			t.Fatalf("scan to its end %v: file entered %v, blob known clean %v", done, fileIn, blobIn)
		}
	}
}
