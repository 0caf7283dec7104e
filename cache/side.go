package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/credscan/credscan/internal/atomicfile"
)

// A side record is what a source keeps between scans besides the clean
// items (a history's listing: which commits it held, which blobs, under
// which keys): one file per record, named by a key, in the cache's
// "side" directory. Like the entries, it holds digests only. A damaged
// record is discarded with a warning; the records share the cache's size
// bound (a quarter of it), the least recently used removed first.

const (
	sideDir   = "side"
	sideMagic = "CSSIDE1\n"
)

func (s *Store) sidePath(k Key) string {
	return filepath.Join(s.dir, sideDir, hex.EncodeToString(k[:]))
}

// ReadSide returns the side record named k, or false when there is none
// (or a damaged one: discarded with a warning).
func (s *Store) ReadSide(k Key) ([]byte, bool) {
	path := s.sidePath(k)
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("a scan cache record cannot be read: not used", "file", path, "error", err.Error())
		}
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.sideBound()+1))
	if err == nil {
		data, err = checkSide(data)
	}
	if err != nil {
		s.log.Warn("a scan cache record is damaged: discarded", "file", path, "error", err.Error())
		_ = os.Remove(path)
		return nil, false
	}
	now := s.now()
	_ = os.Chtimes(path, now, now) // used: kept longest
	return data, true
}

func checkSide(data []byte) ([]byte, error) {
	if len(data) < len(sideMagic)+sha256.Size || string(data[:len(sideMagic)]) != sideMagic {
		return nil, errDamaged
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w (checksum mismatch)", errDamaged)
	}
	return body[len(sideMagic):], nil
}

// WriteSide replaces the side record named k with data (atomically), then
// removes the least recently used records past the bound.
func (s *Store) WriteSide(k Key, data []byte) error {
	if int64(len(data)) > s.sideBound() {
		return nil // larger than the bound: not kept
	}
	if err := os.MkdirAll(filepath.Join(s.dir, sideDir), 0o700); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	buf := make([]byte, 0, len(sideMagic)+len(data)+sha256.Size)
	buf = append(buf, sideMagic...)
	buf = append(buf, data...)
	sum := sha256.Sum256(buf)
	buf = append(buf, sum[:]...)
	if err := atomicfile.Write(s.sidePath(k), buf); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	s.pruneSide()
	return nil
}

func (s *Store) sideBound() int64 { return s.max / 4 }

// pruneSide removes the least recently used side records until the rest
// fit the bound.
func (s *Store) pruneSide() {
	des, err := os.ReadDir(filepath.Join(s.dir, sideDir))
	if err != nil {
		return
	}
	type rec struct {
		path string
		size int64
		used time.Time
	}
	var recs []rec
	var total int64
	for _, de := range des {
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		recs = append(recs, rec{filepath.Join(s.dir, sideDir, de.Name()), fi.Size(), fi.ModTime()})
		total += fi.Size()
	}
	slices.SortFunc(recs, func(a, b rec) int { return a.used.Compare(b.used) })
	for _, r := range recs {
		if total <= s.sideBound() {
			break
		}
		if os.Remove(r.path) == nil {
			total -= r.size
		}
	}
}

// Side is the key of a source's side record (a repository's history
// under this configuration).
func (c Config) Side(parts ...string) Key {
	return c.key(append([]string{"side"}, parts...)...)
}

// Dir is the directory the cache lives in (sources keep files of their
// own under it, such as a repository's commit-graph).
func (s *Store) Dir() string { return s.dir }
