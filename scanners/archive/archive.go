// Package archive opens the archives a source meets (zip, jar, war, ear,
// tar, tar.gz) so that each member is scanned as an item of its own,
// named ARCHIVE!MEMBER (a member of a nested archive OUTER!INNER!MEMBER),
// within limits that stop decompression bombs. A file that is not an
// archive, or one deeper than the limits allow, is read as any item is
// (package chunk). Every source reads items through it.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/credscan/credscan"
	scancache "github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/scanners/chunk"
)

type versionKey struct{}

// WithVersion says, to Chunks, that the archive it reads is the file
// whose version (as the directory source names it by its status) is v:
// with a scan cache pass in ctx too, each member is named by v and its
// place in the archive, and a member the cache knows clean under that
// name is counted from its entry without being decompressed.
func WithVersion(ctx context.Context, v string) context.Context {
	if v == "" {
		return ctx
	}
	return context.WithValue(ctx, versionKey{}, v)
}

// Limits bound what archives are opened and how far they may expand.
type Limits struct {
	// MaxDepth is how many archives deep members are opened (an archive
	// at depth MaxDepth is read as a file); 0 opens none.
	MaxDepth int
	// MaxBytes is the largest archive opened (it is read whole) and the
	// most one archive's members may expand to.
	MaxBytes int64
	// MaxRatio bounds the members' total size to this many times the
	// archive's.
	MaxRatio int64
}

// Default are the limits every source uses unless told otherwise.
var Default = Limits{MaxDepth: 3, MaxBytes: 512 << 20, MaxRatio: 100}

// Kind says which archive format a path names by its extension: "zip"
// (also .jar, .war, .ear), "tgz", "tar", or "" when it is none.
func Kind(p string) string {
	lp := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lp, ".jar") || strings.HasSuffix(lp, ".war") || strings.HasSuffix(lp, ".ear") || strings.HasSuffix(lp, ".zip"):
		return "zip"
	case strings.HasSuffix(lp, ".tar.gz") || strings.HasSuffix(lp, ".tgz"):
		return "tgz"
	case strings.HasSuffix(lp, ".tar"):
		return "tar"
	}
	return ""
}

// Outer is the path of the outermost archive a member path names (the
// path itself when it names no member): "lib/app.jar!conf/db.properties"
// is in "lib/app.jar".
func Outer(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] == '!' && Kind(p[:i]) != "" {
			return p[:i]
		}
	}
	return p
}

// Member is what p names inside its outermost archive ("" when p names no
// member), so that Outer(p)+Member(p) == p.
func Member(p string) string { return p[len(Outer(p)):] }

// Chunks yields the chunks of one item of size bytes read from r, named
// by o: the chunks of each member, recursively, when o.Path names an
// archive within the limits, else the item's own (chunk.Sizes.Reader). An
// archive that cannot be opened or is over the limits is reported (an
// *credscan.ItemError yielded) and read as a file, so its bytes are still
// swept for known secrets; a bomb stops at the limit, its members before
// it scanned. Errors from yield and ctx are returned; item errors are
// yielded, never returned.
func (l Limits) Chunks(ctx context.Context, r io.Reader, size int64, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	return l.chunks(ctx, r, size, o, 0, yield)
}

func (l Limits) chunks(ctx context.Context, r io.Reader, size int64, o credscan.Origin, depth int, yield func(credscan.Chunk, error) error) error {
	kind := Kind(o.Path)
	if kind == "" || depth >= l.MaxDepth {
		return plain(ctx, r, size, o, yield)
	}
	if size > l.MaxBytes {
		if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("archive of %d bytes is over the %d-byte limit: its members are not opened (read as a file)", size, l.MaxBytes)}); err != nil {
			return err
		}
		return plain(ctx, r, size, o, yield)
	}
	// an archive the source can read at any offset (a file, a blob in
	// memory) is read in place; another (a member of an archive) is read
	// into memory first
	ra, ok := r.(io.ReaderAt)
	if !ok {
		data, err := io.ReadAll(io.LimitReader(r, size))
		if err != nil {
			return yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading the archive: %w", err)})
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	whole := func() io.Reader { return io.NewSectionReader(ra, 0, size) }
	budget := &bombBudget{max: min(l.MaxBytes, max(size, 1)*l.MaxRatio)}
	// the members of a file the cache can name by version (not those of
	// an archive inside it): member i is version v!i of its path
	pass, version := scancache.PassFrom(ctx), ""
	if v, ok := ctx.Value(versionKey{}).(string); ok && depth == 0 && pass != nil {
		version = v
	}
	// member i named name: its origin, and its version ("" when the
	// cache cannot name it: no version, or an archive inside)
	memberOf := func(i int, name string) (mo credscan.Origin, mv string) {
		mo = o
		mo.Path = o.Path + "!" + strings.TrimPrefix(path.Clean("/"+name), "/")
		if version != "" && Kind(mo.Path) == "" {
			mv = version + "!" + strconv.Itoa(i)
		}
		return mo, mv
	}
	// known says member i (of n bytes) is known clean: it is counted from
	// its entry, and not read
	known := func(i int, name string, n int64) (bool, error) {
		mo, mv := memberOf(i, name)
		if mv == "" {
			return false, nil
		}
		e, ok := pass.Lookup(pass.Config().Version(string(mo.Kind), mo.Path, mv))
		if !ok {
			return false, nil
		}
		if !budget.take(n) {
			return true, &bombError{o: o, limit: budget.max}
		}
		return true, yield(credscan.Chunk{Origin: mo, StartLine: 1, Whole: true, Cached: &credscan.CachedItem{Bytes: e.Bytes, Binary: e.Binary}}, nil)
	}
	member := func(i int, name string, rc io.Reader, n int64) error {
		mo, mv := memberOf(i, name)
		if !budget.take(n) {
			return &bombError{o: o, limit: budget.max}
		}
		y := yield
		if mv != "" {
			y = func(ch credscan.Chunk, err error) error {
				if err == nil && ch.Origin.Path == mo.Path {
					ch.Version = mv // entered under it when clean
				}
				return yield(ch, err)
			}
		}
		return l.chunks(ctx, io.LimitReader(rc, n), n, mo, depth+1, y)
	}
	// unopenable: said, then read as the bytes it is
	broken := func(err error) error {
		if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("opening the archive: %w (read as a file)", err)}); err != nil {
			return err
		}
		return plain(ctx, whole(), size, o, yield)
	}
	switch kind {
	case "zip":
		zr, err := zip.NewReader(ra, size)
		if err != nil {
			return broken(err)
		}
		for i, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			if ok, err := known(i, f.Name, int64(f.UncompressedSize64)); ok {
				if err != nil {
					return memberErr(err, yield)
				}
				continue
			}
			rc, err := f.Open()
			if err != nil {
				if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("member %s: %w", f.Name, err)}); err != nil {
					return err
				}
				continue
			}
			err = member(i, f.Name, rc, int64(f.UncompressedSize64))
			rc.Close()
			if err != nil {
				return memberErr(err, yield)
			}
		}
	case "tar", "tgz":
		src := whole()
		if kind == "tgz" {
			gz, err := gzip.NewReader(src)
			if err != nil {
				return broken(err)
			}
			defer gz.Close()
			src = gz
		}
		tr := tar.NewReader(src)
		for i := 0; ; i++ {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if i == 0 {
					return broken(err)
				}
				return yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading the archive: %w (the members before were scanned)", err)})
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			if ok, err := known(i, h.Name, h.Size); ok {
				if err != nil {
					return memberErr(err, yield)
				}
				continue // (its bytes are skipped, not hashed nor scanned)
			}
			if err := member(i, h.Name, tr, h.Size); err != nil {
				return memberErr(err, yield)
			}
		}
	}
	return nil
}

// plain yields a file that is not opened as an archive.
func plain(ctx context.Context, r io.Reader, size int64, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	err := chunk.Default.Reader(ctx, r, size, o, yield)
	var ie *credscan.ItemError
	if errors.As(err, &ie) {
		return yield(credscan.Chunk{}, err)
	}
	return err
}

// memberErr reports a decompression bomb (the rest of that archive is not
// scanned; the source's other items are) and passes other errors through.
func memberErr(err error, yield func(credscan.Chunk, error) error) error {
	var be *bombError
	if errors.As(err, &be) {
		return yield(credscan.Chunk{}, &credscan.ItemError{Origin: be.o, Err: be})
	}
	return err
}

type bombBudget struct {
	max, used int64
}

func (b *bombBudget) take(n int64) bool {
	b.used += n
	return b.used <= b.max
}

type bombError struct {
	o     credscan.Origin
	limit int64
}

func (e *bombError) Error() string {
	return fmt.Sprintf("archive expands past %d bytes (size and ratio limits): the rest of it is not scanned", e.limit)
}
