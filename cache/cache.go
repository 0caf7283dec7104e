// Package cache remembers which content a scan found clean, so the next
// scan skips it. An entry is a 16-byte key, derived with SHA-256 from the
// scan's configuration (credscan's version, rules, gitleaks config,
// decoding depth, targets, the set of known secrets swept for) and the
// content's identity (a git blob ID and its path, or a file's path and
// the SHA-256 of its bytes), with what the item counted (its size, binary
// or not) and when it was last used. Content that produced anything (a
// finding, a suppressed finding, a reference, a problem, an error) is
// never entered as clean: it is scanned again, since the plaintext is
// needed and never stored. For such an item the cache may hold a Hint
// instead: which of the scan's detector units produced something there
// (a 64-bit mask) and whether the decoding passes did, so the next scan
// of the same bytes runs only those. The cache holds no secret, no
// redacted line, no path, no place in a file: a change of configuration
// changes every key, which invalidates it by construction.
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
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

// Hint is what a scan of an item that produced something (a finding, a
// reference) learned for the next scan of the same bytes under the same
// configuration: which detector units produced there (unit u is bit
// u%64, so a set bit may stand for several units; a unit whose findings
// the report drops for another's may be left out) and whether the
// decoding passes did. Units outside it, run again on the same bytes,
// would change nothing in the report. It names no secret and no place.
type Hint struct {
	Units   uint64
	Decoded bool
}

type record struct {
	Entry
	used uint32 // hours since epoch
	// hint is set on a Hint's record (its Units are where a clean
	// entry's Bytes are)
	hint    bool
	decoded bool
}

const (
	flagBinary  = 1 << 0
	flagHint    = 1 << 1
	flagDecoded = 1 << 2
)

// Store is a cache file opened by one process. It is safe for
// concurrent use.
//
// The file's records are kept as loaded, sorted by key (a lookup is a
// binary search; loading is reading and checking the file, not building
// a map of a million entries), with last uses moved in place; what this
// process enters that the file did not hold is kept aside.
type Store struct {
	dir string
	max int64
	log *slog.Logger
	now func() time.Time
	mu  sync.Mutex
	// base is the file's records as loaded, sorted by key; touched marks
	// those this process used or entered (bit i: record i): they are
	// written back
	base    []byte
	touched []uint64
	baseSum [sha256.Size]byte // the loaded file's checksum
	// over holds what this process entered that base does not hold
	over map[Key]record
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
	s := &Store{dir: dir, max: maxBytes, log: log, now: time.Now, over: map[Key]record{}}
	recs, sum, err := load(filepath.Join(dir, fileName))
	if err != nil {
		log.Warn("the scan cache is damaged: discarded (the scan reads everything)", "file", filepath.Join(dir, fileName), "error", err.Error())
		recs, sum = nil, [sha256.Size]byte{}
	}
	s.base, s.baseSum = recs, sum
	s.touched = make([]uint64, (len(recs)/recordSize+63)/64)
	return s, nil
}

// Len is the number of entries.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.base)/recordSize + len(s.over)
}

// find is the index of k's record in recs (sorted records), or -1.
// Keys are SHA-256 digests, spread evenly: the search starts where k's
// first 8 bytes say it lies and widens from there, a few steps rather
// than a binary search's twenty.
func find(recs []byte, k Key) int {
	n := len(recs) / recordSize
	if n == 0 {
		return -1
	}
	at := func(i int) uint64 { return binary.BigEndian.Uint64(recs[i*recordSize:]) }
	want := binary.BigEndian.Uint64(k[:])
	hi, _ := bits.Mul64(want, uint64(n))
	guess := int(hi) // ⌊want·n / 2^64⌋ < n
	// widen a window around the guess until it holds k's place
	// (the records before lo are below k, and the one at up, if any, above)
	lo, up := guess, guess
	for step := 1; lo > 0 && at(lo-1) >= want; step *= 2 {
		lo = max(0, lo-step)
	}
	for step := 1; up < n && at(up) <= want; step *= 2 {
		up = min(n, up+step)
	}
	i := lo + sort.Search(up-lo, func(j int) bool { return bytes.Compare(recs[(lo+j)*recordSize:(lo+j)*recordSize+16], k[:]) >= 0 })
	if i < n && bytes.Equal(recs[i*recordSize:i*recordSize+16], k[:]) {
		return i
	}
	return -1
}

// lookup returns k's record and its index in base (-1: in over). (s.mu held)
func (s *Store) lookup(k Key) (record, int, bool) {
	if r, ok := s.over[k]; ok {
		return r, -1, true
	}
	if i := find(s.base, k); i >= 0 {
		return decode(s.base[i*recordSize:]), i, true
	}
	return record{}, -1, false
}

// set writes r as k's record (at base index i, or in over when i < 0)
// and marks it to be written back. (s.mu held)
func (s *Store) set(k Key, i int, r record) {
	if i < 0 {
		s.over[k] = r
		return
	}
	encode(s.base[i*recordSize:], k, r)
	s.touched[i/64] |= 1 << (i % 64)
}

// Get says whether k's item is known clean, and what it counted.
func (s *Store) Get(k Key) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, i, ok := s.lookup(k)
	if !ok || r.hint {
		return Entry{}, false
	}
	s.use(k, i, r)
	return r.Entry, true
}

// use moves k's last use (its record r at base index i) to this hour.
// (s.mu held)
func (s *Store) use(k Key, i int, r record) {
	if h := s.hour(); h != r.used {
		r.used = h
		s.changed = true
	}
	s.set(k, i, r)
}

// GetHint returns the hint entered for k's item (PutHint).
func (s *Store) GetHint(k Key) (Hint, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, i, ok := s.lookup(k)
	if !ok || !r.hint {
		return Hint{}, false
	}
	s.use(k, i, r)
	return Hint{Units: uint64(r.Bytes), Decoded: r.decoded}, true
}

// PutHint enters h for k's item, an item that produced something (its
// key must not be one a clean item could have: Config.ContentKeys).
func (s *Store) PutHint(k Key, h Hint) {
	s.put(k, record{Entry: Entry{Bytes: int64(h.Units)}, hint: true, decoded: h.Decoded})
}

// Put enters k's item as clean.
func (s *Store) Put(k Key, e Entry) {
	s.put(k, record{Entry: e})
}

func (s *Store) put(k Key, r record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.used = s.hour()
	old, i, ok := s.lookup(k)
	if !ok || old != r {
		s.changed = true
	}
	s.set(k, i, r)
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
	if !s.changed {
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
	// ours: what this process entered or used, sorted by key
	ours := make([]byte, len(s.over)*recordSize)
	i := 0
	for k, r := range s.over {
		encode(ours[i*recordSize:], k, r)
		i++
	}
	sortRecords(ours)
	var merged []byte
	theirs, sum, err := load(path)
	switch {
	case err != nil:
		s.log.Warn("the scan cache is damaged: rewritten from this run's entries", "file", path, "error", err.Error())
		merged = s.used(ours)
	case sum == s.baseSum && len(theirs) == len(s.base):
		// the file is as this process loaded it: base holds it, with
		// this process's uses
		merged = mergeRecords(s.base, ours)
	default:
		merged = mergeRecords(theirs, s.used(ours))
	}
	if limit := int((s.max - int64(len(magic)) - 8 - sha256.Size) / recordSize); len(merged)/recordSize > limit {
		merged = evict(merged, max(limit, 0))
	}
	buf := make([]byte, 0, len(magic)+8+len(merged)+sha256.Size)
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(merged)/recordSize))
	buf = append(buf, merged...)
	all := sha256.Sum256(buf)
	buf = append(buf, all[:]...)
	if err := atomicfile.Write(path, buf); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	s.base, s.baseSum = merged, all
	s.touched = make([]uint64, (len(merged)/recordSize+63)/64)
	s.over = map[Key]record{}
	s.changed = false
	return nil
}

// used merges ours (sorted records) with the records of base this
// process used or entered.
func (s *Store) used(ours []byte) []byte {
	var mine []byte
	for w, word := range s.touched {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			i := w*64 + b
			mine = append(mine, s.base[i*recordSize:(i+1)*recordSize]...)
		}
	}
	return mergeRecords(mine, ours)
}

// mergeRecords merges two sorted lists of records into a new one; of a
// key in both, the record last used later is kept (b's on a tie).
func mergeRecords(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch c := bytes.Compare(a[:16], b[:16]); {
		case c < 0:
			out, a = append(out, a[:recordSize]...), a[recordSize:]
		case c > 0:
			out, b = append(out, b[:recordSize]...), b[recordSize:]
		default:
			if binary.LittleEndian.Uint32(a[24:]) > binary.LittleEndian.Uint32(b[24:]) {
				out = append(out, a[:recordSize]...)
			} else {
				out = append(out, b[:recordSize]...)
			}
			a, b = a[recordSize:], b[recordSize:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}

// evict keeps the limit records last used latest (ties by key, so every
// process agrees), sorted by key.
func evict(recs []byte, limit int) []byte {
	n := len(recs) / recordSize
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	used := func(i int) uint32 { return binary.LittleEndian.Uint32(recs[i*recordSize+24:]) }
	slices.SortFunc(idx, func(a, b int) int {
		if ua, ub := used(a), used(b); ua != ub {
			return int(int64(ub) - int64(ua))
		}
		return a - b // records are sorted by key
	})
	idx = idx[:limit]
	slices.Sort(idx)
	out := make([]byte, 0, limit*recordSize)
	for _, i := range idx {
		out = append(out, recs[i*recordSize:(i+1)*recordSize]...)
	}
	return out
}

// sortRecords sorts records by key, in place.
func sortRecords(recs []byte) {
	n := len(recs) / recordSize
	sort.Sort(recordSlice{recs, n})
}

type recordSlice struct {
	b []byte
	n int
}

func (r recordSlice) Len() int { return r.n }
func (r recordSlice) Less(i, j int) bool {
	return bytes.Compare(r.b[i*recordSize:i*recordSize+16], r.b[j*recordSize:j*recordSize+16]) < 0
}
func (r recordSlice) Swap(i, j int) {
	var t [recordSize]byte
	copy(t[:], r.b[i*recordSize:])
	copy(r.b[i*recordSize:(i+1)*recordSize], r.b[j*recordSize:])
	copy(r.b[j*recordSize:], t[:])
}

// encode writes k's record r at rec[:recordSize].
func encode(rec []byte, k Key, r record) {
	copy(rec[:16], k[:])
	binary.LittleEndian.PutUint64(rec[16:], uint64(r.Bytes))
	binary.LittleEndian.PutUint32(rec[24:], r.used)
	var flags uint32
	if r.Binary {
		flags |= flagBinary
	}
	if r.hint {
		flags |= flagHint
	}
	if r.decoded {
		flags |= flagDecoded
	}
	binary.LittleEndian.PutUint32(rec[28:], flags)
}

// decode reads the record at rec[:recordSize].
func decode(rec []byte) record {
	flags := binary.LittleEndian.Uint32(rec[28:])
	return record{Entry: Entry{Bytes: int64(binary.LittleEndian.Uint64(rec[16:])), Binary: flags&flagBinary != 0},
		used: binary.LittleEndian.Uint32(rec[24:]), hint: flags&flagHint != 0, decoded: flags&flagDecoded != 0}
}

var errDamaged = errors.New("not a credscan scan cache, or a damaged one")

// load reads the cache file's records (sorted by key) and its checksum;
// a missing file is an empty cache.
func load(path string) ([]byte, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, sum, nil
	}
	if err != nil {
		return nil, sum, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<31))
	if err != nil {
		return nil, sum, err
	}
	if len(data) < len(magic)+8+sha256.Size || string(data[:len(magic)]) != magic {
		return nil, sum, errDamaged
	}
	body := data[:len(data)-sha256.Size]
	copy(sum[:], data[len(data)-sha256.Size:])
	if got := sha256.Sum256(body); got != sum {
		return nil, sum, fmt.Errorf("%w (checksum mismatch)", errDamaged)
	}
	n := binary.LittleEndian.Uint64(body[len(magic):])
	recs := body[len(magic)+8:]
	if uint64(len(recs)) != n*recordSize {
		return nil, sum, fmt.Errorf("%w (%d entries said, %d bytes)", errDamaged, n, len(recs))
	}
	for i := recordSize; i < len(recs); i += recordSize {
		if bytes.Compare(recs[i-recordSize:i-recordSize+16], recs[i:i+16]) >= 0 {
			return nil, sum, fmt.Errorf("%w (records out of order)", errDamaged)
		}
	}
	return recs, sum, nil
}

// Config is a scan configuration's part of every key.
type Config [32]byte

// NewConfig derives a configuration from its parts (each written with
// its length, so no two lists of parts give the same configuration).
func NewConfig(parts ...string) Config {
	return Config(hashParts(nil, parts))
}

// hashParts is SHA-256 over prefix and each part with its length. It
// runs once per item looked up (tens of thousands in a history): one
// buffer, no reflection.
func hashParts(prefix []byte, parts []string) [sha256.Size]byte {
	n := len(prefix)
	for _, p := range parts {
		n += 8 + len(p)
	}
	var small [512]byte // most keys: no allocation
	buf := small[:0]
	if n > len(small) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, prefix...)
	for _, p := range parts {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(p)))
		buf = append(buf, p...)
	}
	return sha256.Sum256(buf)
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
	k, _ := c.ContentKeys(kind, path, data)
	return k
}

// ContentKeys are Content's key and the key of the item's Hint (hashing
// the bytes once).
func (c Config) ContentKeys(kind, path string, data []byte) (clean, hint Key) {
	sum := sha256.Sum256(data)
	return c.key("content", kind, path, string(sum[:])), c.key("hint", kind, path, string(sum[:]))
}

func (c Config) key(parts ...string) Key {
	sum := hashParts(c[:], parts)
	return Key(sum[:16])
}
