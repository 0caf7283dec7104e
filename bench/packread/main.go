//go:build linux

// Command packread reads blobs straight from a repository's packs, in Go,
// the way an in-process reader would (packs mapped, .idx v2 searched,
// OFS_DELTA and REF_DELTA chains applied, bases kept in a bounded cache,
// one compress/flate reader reused), to compare its CPU with
// `git cat-file --batch` on the same list. It reads the object IDs of
// -list (one per line, blobs only), prints bytes read and bytes inflated,
// and holds no content beyond its cache. It measures; credscan does not
// use it. Loose objects, alternates and pack .idx v1 are not read.
//
//	G=/work/bench-repos/full/prometheus.git
//	git --git-dir=$G rev-list --objects --all | cut -d' ' -f1 |
//	  git --git-dir=$G cat-file --batch-check='%(objecttype) %(objectname)' |
//	  awk '$1=="blob"{print $2}' > blobs.txt
//	go build -o /tmp/packread ./bench/packread
//	/usr/bin/time /tmp/packread -git-dir $G -list blobs.txt
//	/usr/bin/time sh -c "git --git-dir=$G -c core.deltaBaseCacheLimit=32m cat-file --batch < blobs.txt | wc -c"
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

func main() {
	gitDir := flag.String("git-dir", "", "the repository's git directory")
	list := flag.String("list", "", "file of blob IDs, one per line")
	cacheMiB := flag.Int("cache-mib", 64, "bound of the delta-base cache")
	flag.Parse()
	if *gitDir == "" || *list == "" {
		log.Fatal("usage: packread -git-dir DIR -list FILE")
	}
	idxs, err := filepath.Glob(filepath.Join(*gitDir, "objects", "pack", "*.idx"))
	if err != nil || len(idxs) == 0 {
		log.Fatalf("no pack index under %s", *gitDir)
	}
	r := &reader{cache: map[cacheKey][]byte{}, limit: *cacheMiB << 20, br: bytes.NewReader(nil)}
	r.fr = flate.NewReader(r.br)
	for _, x := range idxs {
		p, err := openPack(x)
		if err != nil {
			log.Fatal(err)
		}
		r.packs = append(r.packs, p)
	}
	f, err := os.Open(*list)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, err := hex.DecodeString(strings.TrimSpace(sc.Text()))
		if err != nil || len(id) != 20 {
			log.Fatalf("not an object ID: line %q", sc.Text())
		}
		_, d, err := r.get(id)
		if err != nil {
			log.Fatal(err)
		}
		total += int64(len(d))
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes read, %d bytes inflated\n", total, r.inflated)
}

type pack struct {
	data []byte
	ids  []byte // 20 bytes each, sorted
	offs []uint64
}

func openPack(idxPath string) (*pack, error) {
	idx, err := os.ReadFile(idxPath)
	if err != nil {
		return nil, err
	}
	if len(idx) < 8+1024 || !bytes.Equal(idx[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		return nil, fmt.Errorf("%s: not a version 2 pack index", idxPath)
	}
	n := int(binary.BigEndian.Uint32(idx[8+255*4:]))
	ids := idx[8+1024 : 8+1024+20*n]
	offBase := 8 + 1024 + 24*n
	large := offBase + 4*n
	offs := make([]uint64, n)
	for i := range n {
		o := binary.BigEndian.Uint32(idx[offBase+4*i:])
		if o&0x80000000 != 0 {
			offs[i] = binary.BigEndian.Uint64(idx[large+8*int(o&0x7fffffff):])
		} else {
			offs[i] = uint64(o)
		}
	}
	f, err := os.Open(strings.TrimSuffix(idxPath, ".idx") + ".pack")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &pack{data: data, ids: ids, offs: offs}, nil
}

func (p *pack) find(id []byte) (uint64, bool) {
	n := len(p.offs)
	i := sort.Search(n, func(i int) bool { return bytes.Compare(p.ids[20*i:20*i+20], id) >= 0 })
	if i < n && bytes.Equal(p.ids[20*i:20*i+20], id) {
		return p.offs[i], true
	}
	return 0, false
}

type cacheKey struct {
	p   *pack
	off uint64
}

type reader struct {
	packs    []*pack
	cache    map[cacheKey][]byte // delta bases, first in first out
	order    []cacheKey
	cached   int
	limit    int
	fr       io.ReadCloser
	br       *bytes.Reader
	inflated int64
}

func (r *reader) get(id []byte) (int, []byte, error) {
	for _, p := range r.packs {
		if off, ok := p.find(id); ok {
			return r.object(p, off)
		}
	}
	return 0, nil, fmt.Errorf("object %x is in no pack", id)
}

var errCorrupt = errors.New("corrupt pack entry")

// object reads the entry at off: its type (1–4) and content.
func (r *reader) object(p *pack, off uint64) (int, []byte, error) {
	if d, ok := r.cache[cacheKey{p, off}]; ok {
		return 3, d, nil
	}
	if off >= uint64(len(p.data)) {
		return 0, nil, errCorrupt
	}
	d := p.data[off:]
	c := d[0]
	typ, size, i := int(c>>4)&7, int(c&15), 1
	for shift := 4; c&0x80 != 0; shift += 7 {
		if i >= len(d) {
			return 0, nil, errCorrupt
		}
		c = d[i]
		i++
		size |= int(c&0x7f) << shift
	}
	switch typ {
	case 1, 2, 3, 4:
		out, err := r.inflate(d[i:], size)
		return typ, out, err
	case 6: // OFS_DELTA: the base is the entry that many bytes before
		c = d[i]
		i++
		back := uint64(c & 127)
		for c&0x80 != 0 {
			c = d[i]
			i++
			back = ((back + 1) << 7) | uint64(c&127)
		}
		delta, err := r.inflate(d[i:], size)
		if err != nil {
			return 0, nil, err
		}
		bt, base, err := r.object(p, off-back)
		if err != nil {
			return 0, nil, err
		}
		r.put(cacheKey{p, off - back}, base)
		out, err := apply(base, delta)
		return bt, out, err
	case 7: // REF_DELTA: the base is named
		delta, err := r.inflate(d[i+20:], size)
		if err != nil {
			return 0, nil, err
		}
		bt, base, err := r.get(d[i : i+20])
		if err != nil {
			return 0, nil, err
		}
		out, err := apply(base, delta)
		return bt, out, err
	}
	return 0, nil, errCorrupt
}

// inflate reads size bytes from the zlib stream that starts src (its
// two-byte header skipped).
func (r *reader) inflate(src []byte, size int) ([]byte, error) {
	if len(src) < 2 {
		return nil, errCorrupt
	}
	r.br.Reset(src[2:])
	if err := r.fr.(flate.Resetter).Reset(r.br, nil); err != nil {
		return nil, err
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(r.fr, out); err != nil {
		return nil, err
	}
	r.inflated += int64(size)
	return out, nil
}

func (r *reader) put(k cacheKey, b []byte) {
	if _, ok := r.cache[k]; ok {
		return
	}
	r.cache[k] = b
	r.order = append(r.order, k)
	r.cached += len(b)
	for r.cached > r.limit && len(r.order) > 0 {
		old := r.order[0]
		r.order = r.order[1:]
		r.cached -= len(r.cache[old])
		delete(r.cache, old)
	}
}

func varint(d []byte) (int, []byte, error) {
	v := 0
	for s := 0; ; s += 7 {
		if len(d) == 0 {
			return 0, nil, errCorrupt
		}
		c := d[0]
		d = d[1:]
		v |= int(c&0x7f) << s
		if c&0x80 == 0 {
			return v, d, nil
		}
	}
}

// apply builds a delta's target from its base.
func apply(base, delta []byte) ([]byte, error) {
	_, delta, err := varint(delta) // the base's size
	if err != nil {
		return nil, err
	}
	n, delta, err := varint(delta)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, n)
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		if op&0x80 == 0 { // insert op bytes
			if int(op) > len(delta) || op == 0 {
				return nil, errCorrupt
			}
			out = append(out, delta[:op]...)
			delta = delta[op:]
			continue
		}
		var off, sz int
		var ok bool
		if off, delta, ok = copyField(delta, op, 0, 4); !ok {
			return nil, errCorrupt
		}
		if sz, delta, ok = copyField(delta, op, 4, 3); !ok {
			return nil, errCorrupt
		}
		if sz == 0 {
			sz = 0x10000
		}
		if off+sz > len(base) {
			return nil, errCorrupt
		}
		out = append(out, base[off:off+sz]...)
	}
	if len(out) != n {
		return nil, errCorrupt
	}
	return out, nil
}

// copyField reads a copy instruction's offset (bits 0-3 of op, n 4) or
// size (bits 4-6, n 3): a little-endian value of which only the bytes
// op's bits name follow, in order. ok is false when delta ends first.
func copyField(delta []byte, op byte, first, n int) (v int, rest []byte, ok bool) {
	for b := range n {
		if op&(1<<(first+b)) != 0 {
			if len(delta) == 0 {
				return 0, delta, false
			}
			v |= int(delta[0]) << (8 * b)
			delta = delta[1:]
		}
	}
	return v, delta, true
}
