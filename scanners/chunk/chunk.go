// Package chunk cuts an item's bytes (a file, a git blob, a layer's
// file) into the chunks the engine scans: whole when it is small enough to
// parse structurally, else streamed in overlapping chunks in bounded
// memory with exact line numbers; UTF-16 is decoded; binary items are
// counted, not scanned. Every source reads items through it.
package chunk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/credscan/credscan"
)

// Default sizes.
const (
	DefaultChunkSize = 1 << 20  // bytes of new data per chunk
	DefaultOverlap   = 32 << 10 // bytes repeated at the start of the next chunk (whole lines when they can be)
	DefaultWhole     = 8 << 20  // items up to this size are read whole (structural parsing)
	binarySniff      = 8000     // bytes searched for a NUL, as git does
)

// Sizes say how items are cut. The zero value is unusable; Default holds
// the defaults.
type Sizes struct {
	Chunk   int   // bytes of new data per chunk
	Overlap int   // bytes each chunk shares with the next
	Whole   int64 // items up to this size are yielded whole
}

// Default are the sizes every source uses unless told otherwise.
var Default = Sizes{Chunk: DefaultChunkSize, Overlap: DefaultOverlap, Whole: DefaultWhole}

// Check validates sizes.
func (z Sizes) Check() error {
	if z.Chunk < 1024 || z.Overlap < 0 || z.Overlap >= z.Chunk || z.Whole < 0 {
		return fmt.Errorf("invalid chunking: chunk %d, overlap %d, whole %d", z.Chunk, z.Overlap, z.Whole)
	}
	return nil
}

type binariesKey struct{}

// WithBinaries returns a context under which Stream reads a binary item
// to its end, in chunks marked Skip "binary" that carry their bytes (for
// the known-secret sweep, which reads every byte), instead of yielding one
// empty chunk after the first megabyte. Items read whole carry their
// bytes either way.
func WithBinaries(ctx context.Context) context.Context {
	return context.WithValue(ctx, binariesKey{}, true)
}

func binaries(ctx context.Context) bool {
	v, _ := ctx.Value(binariesKey{}).(bool)
	return v
}

// Whole yields an item held whole in data: decoded to UTF-8 when it is
// UTF-16, counted as skipped when it is binary.
func Whole(data []byte, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	switch c := sniff(data); c {
	case contentBinary:
		// the pattern rules skip it; the known-secret sweep reads it
		return yield(credscan.Chunk{Origin: o, Skip: "binary", Data: data, Whole: true}, nil)
	case contentUTF16LE, contentUTF16BE:
		data = decodeUTF16(data, c)
	}
	return yield(credscan.Chunk{Origin: o, Data: data, StartLine: 1, Whole: true}, nil)
}

// Stream yields r in chunks of about chunkSize new bytes. Each chunk ends
// at a line end when it can; the next starts with the last overlap bytes
// of the previous one (moved forward to a line start when that keeps at
// least half of them), so a finding near a boundary is whole, with context
// on both sides, in the chunk that owns it (credscan.Chunk.Owns).
func (s Sizes) Stream(ctx context.Context, r io.Reader, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	buf := make([]byte, s.Chunk+s.Overlap+s.Chunk)
	data := buf[:0]
	carryOverlap := 0
	startLine := 1
	lineOffset := 0
	var offset int64
	first := true
	binary := false
	eof := false
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := len(data) + s.Chunk
		if want > len(buf) {
			want = len(buf)
		}
		n, err := io.ReadFull(r, buf[len(data):want])
		data = buf[:len(data)+n]
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			eof = true
		case err != nil:
			return &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading at line %d: %w", startLine, unwrapPath(err))}
		}
		if first {
			first = false
			switch c := sniff(data); c {
			case contentBinary:
				if !binaries(ctx) {
					return yield(credscan.Chunk{Origin: o, Skip: "binary"}, nil)
				}
				binary = true
			case contentUTF16LE, contentUTF16BE:
				// read again through a decoder: what was read, then the rest
				read := append([]byte(nil), data...)
				return s.Stream(ctx, utf16Reader(io.MultiReader(bytes.NewReader(read), r), c), o, yield)
			}
		}
		end := len(data)
		if !eof {
			if i := bytes.LastIndexByte(data[carryOverlap:], '\n'); i >= 0 {
				end = carryOverlap + i + 1
			}
		}
		if end <= carryOverlap && !eof {
			end = len(data)
		}
		// the next chunk starts with the last overlap bytes of this one,
		// from a line start when one leaves at least half of them
		ovStart := max(0, end-s.Overlap)
		if i := bytes.IndexByte(data[ovStart:max(ovStart, end-s.Overlap/2)], '\n'); i >= 0 {
			ovStart += i + 1
		}
		ch := credscan.Chunk{Origin: o, Data: data[:end], StartLine: startLine, Overlap: carryOverlap, Offset: offset, LineOffset: lineOffset}
		if binary {
			ch.Skip = "binary"
		}
		if !eof {
			ch.Tail = end - ovStart
		}
		if err := yield(ch, nil); err != nil {
			return err
		}
		if eof {
			break
		}
		if nl := bytes.LastIndexByte(data[:ovStart], '\n'); nl >= 0 {
			lineOffset = ovStart - nl - 1
		} else {
			lineOffset += ovStart
		}
		startLine += bytes.Count(data[:ovStart], []byte{'\n'})
		offset += int64(ovStart)
		carryOverlap = end - ovStart
		n = copy(buf, data[ovStart:])
		data = buf[:n]
	}
	return nil
}

// Reader yields the chunks of one item of known size read from r (a git
// blob, an image layer's file), as the directory source does for a file:
// whole when it is small, streamed in overlapping chunks when it is not,
// and skipped (counted) when it is binary.
func (s Sizes) Reader(ctx context.Context, r io.Reader, size int64, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	if size > s.Whole {
		return s.Stream(ctx, r, o, yield)
	}
	// the size is known: one allocation, no growth (a reader that holds
	// more than it said is read on to its end)
	data := make([]byte, size, size+1)
	n, err := io.ReadFull(r, data)
	data = data[:n]
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
	case err != nil:
		return &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading: %w", err)}
	default:
		rest, err := io.ReadAll(io.LimitReader(r, s.Whole+1-size))
		if err != nil {
			return &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading: %w", err)}
		}
		data = append(data, rest...)
	}
	if int64(len(data)) > s.Whole {
		return s.Stream(ctx, io.MultiReader(bytes.NewReader(data), r), o, yield)
	}
	return s.Bytes(ctx, data, o, yield)
}

// Bytes yields the chunks of an item already in memory (a git blob
// go-git holds): whole when it is small, in overlapping chunks when it is
// not, skipped (counted) when it is binary. data is read, never written
// or kept.
func (s Sizes) Bytes(ctx context.Context, data []byte, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	if int64(len(data)) > s.Whole {
		return s.Stream(ctx, bytes.NewReader(data), o, yield)
	}
	return Whole(data, o, yield)
}

// unwrapPath drops an *fs.PathError's path (the origin names the item).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
