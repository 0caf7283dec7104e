package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/redact"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/chunk"
	"github.com/credscan/credscan/scanners/rules"
	"github.com/credscan/credscan/sweep"
)

// Known is a credential whose every copy the sweep finds: one the scan
// found, or one read from Vault. Its secret lives in memory only.
type Known struct {
	Secret string
	Target string
	DB     *credscan.DBIdentity // nil when unknown
}

// KnownSet is a compiled set of known credentials.
type KnownSet struct {
	m   *sweep.Matcher
	ks  []Known
	fps []string
	id  string // the sorted fingerprints, naming the set in cache keys
}

// Compile builds the sweep's matcher for ks. Secrets shorter than
// sweep.MinLen are not swept: skipped says which (by fingerprint, never
// the secret).
func (e *Engine) Compile(ks []Known) (set *KnownSet, skipped []string) {
	secrets := make([]string, len(ks))
	set = &KnownSet{ks: ks, fps: make([]string, len(ks))}
	for i, k := range ks {
		secrets[i] = k.Secret
		set.fps[i] = e.o.Fingerprinter.Of(k.Secret)
	}
	m, short := sweep.New(secrets)
	set.m = m
	ids := slices.Clone(set.fps)
	slices.Sort(ids)
	set.id = strings.Join(ids, ",")
	for _, i := range short {
		skipped = append(skipped, set.fps[i])
	}
	return set, skipped
}

// Len is the number of credentials in the set.
func (k *KnownSet) Len() int {
	if k == nil {
		return 0
	}
	return len(k.ks)
}

// SetKnown makes every later ScanChunk also sweep its bytes, binary
// items' included, for the credentials of set (nil stops it).
func (e *Engine) SetKnown(set *KnownSet) { e.known.Store(set) }

// Sweep reads src again and only sweeps it for set's credentials (the
// pass after the pattern rules, for credentials they found): nothing is
// counted twice, and what cannot be read was reported by the first pass.
func (e *Engine) Sweep(ctx context.Context, src scanners.Source, res scanners.Sink, set *KnownSet) error {
	pass := e.sweepPass(set)
	err := src.Chunks(withPass(chunk.WithBinaries(ctx), pass), func(ch credscan.Chunk, err error) error {
		if err != nil || ctx.Err() != nil {
			failed(pass, err)
			return ctx.Err()
		}
		if pass != nil && cached(ctx, pass, ch, noCount{res}, func(s scanners.Sink, _ *cache.Hint) (cache.Hint, bool) {
			e.sweepChunk(ch, set, s)
			return cache.Hint{}, false
		}) {
			return nil
		}
		e.sweepChunk(ch, set, res)
		return nil
	})
	if pass != nil {
		pass.End()
	}
	return err
}

// noCount is a Sink that counts nothing (the sweep's pass counted its
// items in the rules' pass).
type noCount struct{ scanners.Sink }

func (noCount) Count(credscan.Chunk) {}

// sweepChunk reports each copy of a known credential in ch as an
// occurrence of that credential (rule known-secret, tagged with how it
// is written).
func (e *Engine) sweepChunk(ch credscan.Chunk, set *KnownSet, res scanners.Sink) {
	if set == nil || len(ch.Data) == 0 {
		return
	}
	var hits []sweep.Hit
	set.m.Find(ch.Data, func(h sweep.Hit) {
		if ch.Owns(h.Start) {
			hits = append(hits, h)
		}
	})
	if len(hits) == 0 {
		return
	}
	slices.SortFunc(hits, func(a, b sweep.Hit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.Secret - b.Secret
	})
	binary := ch.Skip == "binary"
	// where each hit's line starts and which line it is on; every hit's
	// span on a line is masked in that line's redaction
	type placed struct {
		h               sweep.Hit
		line, lineStart int
	}
	var ps []placed
	line, lineStart, counted := ch.StartLine, 0, 0
	for i, h := range hits {
		if i > 0 && h.Start < hits[i-1].End && h.Secret == hits[i-1].Secret {
			continue // one copy matched by two encodings
		}
		if n := bytes.Count(ch.Data[counted:h.Start], []byte{'\n'}); n > 0 {
			line += n
			lineStart = bytes.LastIndexByte(ch.Data[:h.Start], '\n') + 1
		}
		counted = h.Start
		ps = append(ps, placed{h, line, lineStart})
	}
	masks := map[int][]redact.Span{}
	var secrets []string
	for _, p := range ps {
		from, to := p.h.Start-p.lineStart, p.h.End-p.lineStart
		if p.h.Encoding == sweep.Base64 || p.h.Encoding == sweep.Base64URL {
			// the characters on either side hold bits of the secret's
			// first and last bytes too
			from, to = max(0, from-1), to+1
			if e := bytes.IndexByte(ch.Data[p.h.End:], '\n'); e >= 0 && p.h.End+1 > p.h.End+e {
				to--
			}
		}
		masks[p.line] = append(masks[p.line], redact.Span{From: from, To: to})
		secrets = append(secrets, set.ks[p.h.Secret].Secret, string(ch.Data[p.h.Start:p.h.End]))
	}
	var out []*credscan.Finding
	for _, p := range ps {
		h := p.h
		k := set.ks[h.Secret]
		raw := string(ch.Data[h.Start:h.End])
		o := ch.Origin
		o.Line = p.line
		col := h.Start - p.lineStart + 1
		if p.line == ch.StartLine {
			col += ch.LineOffset
		}
		f := &credscan.Finding{
			RuleID: rules.KnownSecret, Origin: o, Secret: credscan.NewSecret(k.Secret), Raw: credscan.NewSecret(raw),
			Column: col, Fingerprint: set.fps[h.Secret], Database: true, Target: k.Target,
			Tags: []string{"encoding:" + h.Encoding},
		}
		if k.DB != nil {
			id := *k.DB
			f.DB = &id
		}
		var text string
		if binary {
			f.Redacted = fmt.Sprintf("[binary: %d bytes at byte %d, %s]", h.End-h.Start, ch.Offset+int64(h.Start), h.Encoding)
			f.Tags = append(f.Tags, "binary")
		} else {
			end := bytes.IndexByte(ch.Data[h.Start:], '\n')
			if end < 0 {
				end = len(ch.Data)
			} else {
				end += h.Start
			}
			text = string(ch.Data[p.lineStart:end])
			f.Redacted = redact.Line(text, masks[p.line], secrets)
		}
		if m := SuppressedBy(text); m != "" {
			f.Tags = append(f.Tags, "suppressed:"+m)
			res.Suppressed(f)
			continue
		}
		out = append(out, f)
	}
	res.Add(out)
}
