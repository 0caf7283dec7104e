// Package audit is credscan's own audit trail: an append-only file of JSON
// lines, one per action (scan, push, approval, override, rotation step),
// each carrying the hash of the line before it, so an edited, deleted,
// inserted or reordered line is detected by Verify. Records never hold a
// secret: only names, counts, fingerprints and results.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/credscan/credscan/internal/flock"
	"github.com/credscan/credscan/internal/regular"
)

// Actor is who acted: the Vault token's display name and accessor when
// known, the OS user and the host.
type Actor struct {
	Vault    string `json:"vault,omitempty"`    // display name
	Accessor string `json:"accessor,omitempty"` // token accessor (not the token)
	Entity   string `json:"entity,omitempty"`
	OSUser   string `json:"os_user,omitempty"`
	Host     string `json:"host,omitempty"`
}

// Record is one line of the log.
type Record struct {
	Seq      int            `json:"seq"`
	Time     string         `json:"time"`
	Actor    Actor          `json:"actor"`
	Action   string         `json:"action"`          // scan, vault.push, approve, override, rotate.…
	Scope    []string       `json:"scope,omitempty"` // apps, kinds, sources, paths
	Approval string         `json:"approval,omitempty"`
	Result   string         `json:"result"` // ok, blocked, partial, failed, refused
	Counts   map[string]int `json:"counts,omitempty"`
	Detail   string         `json:"detail,omitempty"` // a reason, a ticket; never a value
	Prev     string         `json:"prev"`             // hash of the previous line ("" for the first)
	Hash     string         `json:"hash"`             // sha256 of this line without hash, hex
}

// hashOf computes a record's hash over its canonical JSON without Hash.
func hashOf(r Record) string {
	r.Hash = ""
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Log appends records to a file.
type Log struct {
	Path string
	// Mirror, when set, receives each appended record and the log's ID
	// (a copy in Vault KV).
	Mirror func(ctx context.Context, logID string, r Record) error
	now    func() time.Time
}

// Open returns the log at path (created on first Append).
func Open(path string) *Log { return &Log{Path: path, now: time.Now} }

// Append adds r as the next line: it takes an exclusive lock, reads the
// last line's sequence and hash, and writes the chained record. It
// returns the record as written. ctx bounds the mirror's write.
func (l *Log) Append(ctx context.Context, r Record) (Record, error) {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return r, fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(l.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return r, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	if err := flock.Lock(f); err != nil {
		return r, fmt.Errorf("audit log: locking: %w", err)
	}
	defer flock.Unlock(f)
	last, err := lastRecord(f)
	if err != nil {
		return r, fmt.Errorf("audit log %s: %w (run `credscan audit verify`)", l.Path, err)
	}
	r.Seq, r.Prev = 1, ""
	if last != nil {
		r.Seq, r.Prev = last.Seq+1, last.Hash
	}
	now := time.Now
	if l.now != nil {
		now = l.now
	}
	if r.Time == "" {
		r.Time = now().UTC().Format(time.RFC3339Nano)
	}
	r.Hash = hashOf(r)
	b, _ := json.Marshal(r)
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return r, fmt.Errorf("audit log: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return r, fmt.Errorf("audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return r, fmt.Errorf("audit log: %w", err)
	}
	if l.Mirror != nil {
		id := LogID(r)
		if r.Seq > 1 {
			first, err := firstRecord(f)
			if err != nil {
				return r, fmt.Errorf("audit log %s: %w", l.Path, err)
			}
			id = LogID(*first)
		}
		if err := l.Mirror(ctx, id, r); err != nil {
			return r, fmt.Errorf("audit log: mirroring line %d: %w", r.Seq, err)
		}
	}
	return r, nil
}

// LogID names a log by its first record: the first 16 hex digits of its hash.
func LogID(first Record) string {
	if len(first.Hash) < 16 {
		return first.Hash
	}
	return first.Hash[:16]
}

// firstRecord reads the first line of f.
func firstRecord(f *os.File) (*Record, error) {
	sc := bufio.NewScanner(io.NewSectionReader(f, 0, 1<<62))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	if !sc.Scan() {
		return nil, errors.New("empty log")
	}
	var r Record
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		return nil, errors.New("the first line is not a record")
	}
	return &r, nil
}

// lastRecord reads the last line of f.
func lastRecord(f *os.File) (*Record, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil, err
	}
	// read a tail big enough for one line
	size := min(st.Size(), 1<<20)
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, st.Size()-size); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = bytes.TrimRight(buf, "\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	}
	var r Record
	if err := json.Unmarshal(buf, &r); err != nil {
		return nil, errors.New("the last line is not a record")
	}
	return &r, nil
}

// Problem is the first bad line Verify found.
type Problem struct {
	Line   int    // 1-based line of the file
	Reason string // what is wrong with it
}

func (p *Problem) Error() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// Verify reads a log and checks every line: it parses, its hash is its
// content's, its sequence number follows the line before, and its prev is
// that line's hash. It returns the records and the first problem (nil
// when the chain is whole).
func Verify(r io.Reader) ([]Record, *Problem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []Record
	prev, seq := "", 0
	line := 0
	for sc.Scan() {
		line++
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return out, &Problem{line, "not a JSON record (edited or corrupt)"}, nil
		}
		switch {
		case rec.Hash != hashOf(rec):
			return out, &Problem{line, fmt.Sprintf("its content does not match its hash: record %d was edited", rec.Seq)}, nil
		case rec.Seq != seq+1 && rec.Seq <= seq:
			return out, &Problem{line, fmt.Sprintf("sequence %d after %d: a line was moved or inserted", rec.Seq, seq)}, nil
		case rec.Seq != seq+1:
			return out, &Problem{line, fmt.Sprintf("sequence %d after %d: a line before it was deleted or moved", rec.Seq, seq)}, nil
		case rec.Prev != prev:
			return out, &Problem{line, "its prev is not the hash of the line before: a line was replaced or inserted"}, nil
		}
		out = append(out, rec)
		prev, seq = rec.Hash, rec.Seq
	}
	if err := sc.Err(); err != nil {
		return out, nil, err
	}
	return out, nil, nil
}

// VerifyFile verifies the log at path.
func VerifyFile(path string) ([]Record, *Problem, error) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Verify(f)
}
