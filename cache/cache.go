// Package cache remembers which content a scan found clean, so the next
// scan skips it. An entry is a 16-byte key, derived with SHA-256 from the
// scan's configuration (credscan's version, rules, gitleaks config,
// decoding depth, targets, the set of known secrets swept for) and the
// content's identity (a git blob ID and its path, or a file's path and
// the SHA-256 of its bytes), with what the item counted (its size, binary
// or not) and when it was last used. Content that produced anything (a
// finding, a suppressed finding, a reference, a problem, an error) is
// never entered: it is scanned again, since the plaintext is needed and
// never stored. The cache holds no secret, no redacted line, no path: a
// change of configuration changes every key, which invalidates it by
// construction.
//
// The store is one file, loaded whole when opened and written back
// (merged with what other processes wrote meanwhile, under a file lock,
// by an atomic rename) when closed, bounded by evicting the least
// recently used entries. A damaged file is discarded with a warning: a
// cache can only make a scan skip work, never change its result.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/credscan/credscan/internal/atomicfile"
	"github.com/credscan/credscan/internal/flock"
)

// Key identifies one item under one configuration.
type Key [16]byte

// Entry is what a clean item counted when it was scanned.
type Entry struct {
	Bytes  int64
	Binary bool
}

const (
	fileName   = "credscan-scan-cache.v1"
	lockName   = "credscan-scan-cache.lock"
	magic      = "CSCACHE1"
	recordSize = 32 // key 16, bytes 8, last used 4 (hours since 2020), flags 4
	// DefaultMaxBytes bounds the file (about 2 million entries).
	DefaultMaxBytes = 64 << 20
)

var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

type record struct {
	Entry
	used uint32 // hours since epoch
}

// Store is a cache file opened by one process. It is safe for
// concurrent use.
type Store struct {
	dir  string
	max  int64
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex
	m    map[Key]record
	adds map[Key]bool // entered or used by this process: written back
	// changed says an entry was entered, or its last use moved to a later
	// hour: when nothing changed, Close writes nothing
	changed bool
}

// DefaultDir is the cache directory under the user's cache directory.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "credscan"), nil
}

// Open loads the cache in dir (created when missing). maxBytes bounds the
// file (0: DefaultMaxBytes). A damaged or foreign file is discarded with
// a warning on log.
func Open(dir string, maxBytes int64, log *slog.Logger) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	s := &Store{dir: dir, max: maxBytes, log: log, now: time.Now, adds: map[Key]bool{}}
	m, err := load(filepath.Join(dir, fileName))
	if err != nil {
		log.Warn("the scan cache is damaged: discarded (the scan reads everything)", "file", filepath.Join(dir, fileName), "error", err.Error())
		m = map[Key]record{}
	}
	s.m = m
	return s, nil
}

// Len is the number of entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Get says whether k's item is known clean, and what it counted.
func (s *Store) Get(k Key) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[k]
	if !ok {
		return Entry{}, false
	}
	if h := s.hour(); h != r.used {
		r.used = h
		s.m[k] = r
		s.changed = true
	}
	s.adds[k] = true
	return r.Entry, true
}

// Put enters k's item as clean.
func (s *Store) Put(k Key, e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.m[k]; !ok || r.Entry != e || r.used != s.hour() {
		s.changed = true
	}
	s.m[k] = record{Entry: e, used: s.hour()}
	s.adds[k] = true
}

func (s *Store) hour() uint32 {
	h := s.now().Sub(epoch).Hours()
	if h < 0 {
		return 0
	}
	return uint32(h)
}

// Close writes what this process entered or used back to the file:
// under the lock, the file is read again (other processes may have
// written since Open), merged, cut to the size bound (least recently used
// first) and replaced atomically.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.adds) == 0 || !s.changed {
		// (what this process used is in the file as it is, unless
		// another process evicted it since: then it is found again)
		return nil
	}
	lf, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer lf.Close()
	if err := flock.Lock(lf); err != nil {
		return fmt.Errorf("cache: locking: %w", err)
	}
	defer flock.Unlock(lf)
	path := filepath.Join(s.dir, fileName)
	merged, err := load(path)
	if err != nil {
		s.log.Warn("the scan cache is damaged: rewritten from this run's entries", "file", path, "error", err.Error())
		merged = map[Key]record{}
	}
	for k := range s.adds {
		if r, ok := merged[k]; !ok || r.used < s.m[k].used {
			merged[k] = s.m[k]
		}
	}
	keys := make([]Key, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	if limit := int((s.max - int64(len(magic)) - 8 - sha256.Size) / recordSize); len(keys) > limit {
		// least recently used out; ties by key, so every process agrees
		slices.SortFunc(keys, func(a, b Key) int {
			if ua, ub := merged[a].used, merged[b].used; ua != ub {
				return int(int64(ub) - int64(ua))
			}
			return bytes.Compare(a[:], b[:])
		})
		keys = keys[:max(limit, 0)]
	}
	slices.SortFunc(keys, func(a, b Key) int { return bytes.Compare(a[:], b[:]) })
	var buf bytes.Buffer
	buf.Grow(len(magic) + 8 + len(keys)*recordSize + sha256.Size)
	buf.WriteString(magic)
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(keys)))
	var rec [recordSize]byte
	for _, k := range keys {
		r := merged[k]
		copy(rec[:16], k[:])
		binary.LittleEndian.PutUint64(rec[16:], uint64(r.Bytes))
		binary.LittleEndian.PutUint32(rec[24:], r.used)
		var flags uint32
		if r.Binary {
			flags |= 1
		}
		binary.LittleEndian.PutUint32(rec[28:], flags)
		buf.Write(rec[:])
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	s.adds = map[Key]bool{}
	s.changed = false
	return nil
}

var errDamaged = errors.New("not a credscan scan cache, or a damaged one")

// load reads the cache file; a missing file is an empty cache.
func load(path string) (map[Key]record, error) {
	m := map[Key]record{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<31))
	if err != nil {
		return nil, err
	}
	if len(data) < len(magic)+8+sha256.Size || string(data[:len(magic)]) != magic {
		return nil, errDamaged
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w (checksum mismatch)", errDamaged)
	}
	n := binary.LittleEndian.Uint64(body[len(magic):])
	recs := body[len(magic)+8:]
	if uint64(len(recs)) != n*recordSize {
		return nil, fmt.Errorf("%w (%d entries said, %d bytes)", errDamaged, n, len(recs))
	}
	for i := 0; i < len(recs); i += recordSize {
		var k Key
		copy(k[:], recs[i:i+16])
		m[k] = record{Entry: Entry{Bytes: int64(binary.LittleEndian.Uint64(recs[i+16:])), Binary: binary.LittleEndian.Uint32(recs[i+28:])&1 != 0},
			used: binary.LittleEndian.Uint32(recs[i+24:])}
	}
	return m, nil
}

// Config is a scan configuration's part of every key.
type Config [32]byte

// NewConfig derives a configuration from its parts (each written with
// its length, so no two lists of parts give the same configuration).
func NewConfig(parts ...string) Config {
	var c Config
	copy(c[:], hashParts(nil, parts))
	return c
}

// hashParts is SHA-256 over prefix and each part with its length. It
// runs once per item looked up (tens of thousands in a history): one
// buffer, no reflection.
func hashParts(prefix []byte, parts []string) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += 8 + len(p)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, prefix...)
	for _, p := range parts {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(p)))
		buf = append(buf, p...)
	}
	sum := sha256.Sum256(buf)
	return sum[:]
}

// With derives a configuration from c and more parts (the sweep's set of
// known secrets).
func (c Config) With(parts ...string) Config {
	return NewConfig(append([]string{string(c[:])}, parts...)...)
}

// Blob is the key of a git blob scanned at path.
func (c Config) Blob(blob, path string) Key {
	return c.key("blob", blob, path)
}

// Version is the key of an item of kind at path in a version its source
// names without reading it (a file's device, inode, size and times).
func (c Config) Version(kind, path, version string) Key {
	return c.key("version", kind, path, version)
}

// Content is the key of an item of kind at path with these bytes.
func (c Config) Content(kind, path string, data []byte) Key {
	sum := sha256.Sum256(data)
	return c.key("content", kind, path, string(sum[:]))
}

func (c Config) key(parts ...string) Key {
	var k Key
	copy(k[:], hashParts(c[:], parts))
	return k
}
