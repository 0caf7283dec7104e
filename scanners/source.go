// Package scanners holds the Source interface every source kind
// implements and the Engine that runs credscan's DB rule pack and gitleaks'
// rules over the chunks sources yield.
package scanners

import (
	"context"

	"github.com/credscan/credscan"
)

// Source yields the content of one source (a directory, a git history, an
// image, CI variables) as chunks.
type Source interface {
	// Chunks calls yield for each chunk. A per-item problem goes to yield as
	// an error (an *credscan.ItemError) and the walk goes on; an error
	// returned by yield stops it. yield may be called from several
	// goroutines at once, but the chunks of one item come in order from
	// one goroutine.
	Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error
}
