// Package scanners holds the contracts between credscan's sources and its
// engine: a Source yields chunks, the engine turns them into findings for
// a Sink, and a source that re-presents its items (git blobs, image
// layers, CI pipelines) is an Attributor that maps findings back to where
// they are. The engine lives in scanners/engine, chunking in
// scanners/chunk, one package per source kind beside them.
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

// Sink receives what a scan produces: findings, references, what was read
// (for stats and progress), what could not be. Its methods are called
// from several goroutines at once.
type Sink interface {
	// Add records the findings of one chunk.
	Add(fs []*credscan.Finding)
	// AddReference records a credential setting that points at a secret
	// store instead of holding a secret.
	AddReference(ref credscan.Reference)
	// Count records a chunk read (an item, or a later part of one).
	Count(ch credscan.Chunk)
	// Suppressed records a finding an inline marker allowed (tagged
	// "suppressed:<marker>"): counted, and listed on request.
	Suppressed(f *credscan.Finding)
	// AddError records an item that could not be read.
	AddError(err error)
	// AddProblem records something read in a degraded way (a malformed
	// document read line by line); it holds no content.
	AddProblem(p string)
}

// Attributor is a source whose findings need mapping once every source is
// scanned: git (a blob's findings to the commits and paths that hold it),
// images (a layer's to each image), CI (a pipeline's derived lines to
// their files, jobs and variables). Attribute returns findings of other
// sources unchanged. It is called once, after the scan.
type Attributor interface {
	Attribute(fs []*credscan.Finding) []*credscan.Finding
}

// Sizer is the optional capability of a source that knows how much it
// will read, for progress: items and bytes planned so far, and whether
// they are final (files once the walk ended, blobs once the history was
// listed, layers once the manifests were read).
type Sizer interface {
	Size() (items, bytes int64, final bool)
}
