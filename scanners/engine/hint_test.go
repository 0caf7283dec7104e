package engine_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/cache"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// files is a Source of whole files (path → content), as a directory's
// scan yields them.
type files map[string][]byte

func (fs files) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	for _, p := range slices.Sorted(func(f func(string) bool) {
		for p := range fs {
			if !f(p) {
				return
			}
		}
	}) {
		if err := yield(credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, App: "app", Path: p}, Data: fs[p], StartLine: 1, Whole: true}, nil); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// summary is everything a report says of res but the cache's count, one
// line per finding.
func summary(res *engine.Results) string {
	var b strings.Builder
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "%s %s:%d:%d %s %s\n", f.RuleID, f.Origin.Path, f.Origin.Line, f.Column, f.Fingerprint, f.Redacted)
	}
	for _, f := range res.SuppressedFindings {
		fmt.Fprintf(&b, "suppressed %s %s:%d %s\n", f.RuleID, f.Origin.Path, f.Origin.Line, f.Fingerprint)
	}
	for _, r := range res.References {
		fmt.Fprintf(&b, "ref %s:%d %s\n", r.Origin.Path, r.Origin.Line, r.Key)
	}
	st := res.Stats
	st.Cached = 0
	fmt.Fprintf(&b, "stats %+v\n", st)
	return b.String()
}

// hintCorpus is real text that the rules find things in (Go's crypto
// tree: keys, test vectors) and files written to reach each part of the
// engine a hint narrows: a secret only decoded text holds (on a short
// line and on a long one, which runs in windows), a line where a
// specific rule's finding drops generic-api-key's, a PEM block, and
// files where only the DB pack finds something, or where gitleaks finds
// only what the DB pack does.
func hintCorpus(t *testing.T) files {
	t.Helper()
	out := files{}
	root := scantest.GoSrc(t, "crypto")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out["crypto/"+rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(18, 19))
	word := func(n int) string {
		const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, n)
		for i := range b {
			b[i] = abc[rng.IntN(len(abc))]
		}
		return string(b)
	}
	b64 := base64.StdEncoding.EncodeToString
	apiKey := func() string { return `api_key = "` + word(32) + `"` }
	noise := func(n int) string { return b64([]byte(word(n))) }
	out["written/decoded.yaml"] = []byte("kind: Recording\nbody: " + b64([]byte(apiKey())) + "\nnote: nothing here\nother: " + noise(60) + "\n")
	out["written/decoded-long.json"] = []byte(`{"body": "` + noise(1500) + " " + b64([]byte(apiKey())) + " " + noise(900) + "\"}\n" +
		`{"plain": "` + noise(2000) + "\"}\n")
	out["written/both.env"] = []byte("github_token = \"ghp_" + word(36) + "\"\nregion=eu\n")
	out["written/key.pem"] = []byte("-----BEGIN RSA PRIVATE KEY-----\n" + b64([]byte(word(300))) + "\n-----END RSA PRIVATE KEY-----\n")
	out["written/db.env"] = []byte("DATABASE_URL=postgres://arp_app:" + word(20) + "@arp-db.prod.internal:5432/arp\n")
	out["written/pgpass"] = []byte("arp-db.prod.internal:5432:arp:arp_app:" + word(20) + "\n")
	// generic-api-key finds the DB pack's password again (its unit is left
	// out of the hint), and beside it a key only it finds
	out["written/dominated.env"] = []byte("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD=" + word(18) + "\n")
	out["written/beside.env"] = []byte("DB_PASSWORD=" + word(18) + "\napi_key = \"" + word(28) + "\"\n")
	out["written/mixed.go"] = []byte("package x\n\nconst dsn = \"postgresql://report:" + word(18) + "@10.20.30.40:5432/reports\"\n\n// api_key = \"" + word(32) + "\"\nvar enc = \"" + b64([]byte(apiKey())) + "\"\n")
	return out
}

// A file that produced something is scanned again on the next run (its
// plaintext is needed and never kept), with only the gitleaks units that
// produced there before and the decoding passes only when they did (the
// hint the cache keeps): the report is the whole scan's. The hints are
// checked to narrow (most files' masks are small, and emptying them
// loses findings) so the comparison is not between two whole scans.
func TestHintedScanIsTheScan(t *testing.T) {
	src := hintCorpus(t)
	newEngine := func() *engine.Engine { return decodingEngine(t) }
	whole := scantest.Scan(t, newEngine(), src)
	want := summary(whole)
	if len(whole.Findings) < 50 {
		t.Fatalf("the corpus yields %d findings: too few to tell", len(whole.Findings))
	}
	dir := t.TempDir()
	cfg := cache.NewConfig("hint-test")
	scan := func() *engine.Results {
		t.Helper()
		st, err := cache.Open(dir, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := newEngine()
		e.SetCache(st, cfg)
		res := scantest.Scan(t, e, src)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := summary(scan()); got != want { // cold: enters hints
		t.Fatalf("the first cached scan differs from the uncached one:\n%s", diffLines(want, got))
	}
	// every file that produced has a hint; most are narrow
	st, err := cache.Open(dir, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	produced := map[string]bool{}
	for _, f := range whole.Findings {
		produced[f.Origin.Path] = true
	}
	var hinted []cache.Key
	narrow, decoded, none := 0, 0, 0
	for p := range produced {
		_, hk := cfg.ContentKeys(string(credscan.KindDir), p, src[p])
		h, ok := st.GetHint(hk)
		if !ok {
			t.Fatalf("%s produced findings and left no hint", p)
		}
		hinted = append(hinted, hk)
		if bits.OnesCount64(h.Units) <= 3 {
			narrow++
		}
		if h.Decoded {
			decoded++
		}
		if h.Units == 0 {
			none++
		}
	}
	if narrow < len(produced)*9/10 || decoded == 0 || none == 0 {
		t.Fatalf("hints: %d of %d narrow, %d with decoding, %d with no gitleaks unit: the corpus does not reach what hints narrow", narrow, len(produced), decoded, none)
	}
	st.Close()
	for round := range 2 { // hinted, and again (a hinted scan leaves the hints as they are)
		if got := summary(scan()); got != want {
			t.Fatalf("round %d: the hinted scan differs from the whole one:\n%s", round, diffLines(want, got))
		}
	}
	// a hint that leaves units out loses their findings: the scans above
	// did run narrowed
	st, _ = cache.Open(dir, 0, nil)
	for _, hk := range hinted {
		st.PutHint(hk, cache.Hint{})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if got := scan(); len(got.Findings) >= len(whole.Findings) {
		t.Fatalf("empty hints lost nothing (%d findings, %d whole): hints are not used", len(got.Findings), len(whole.Findings))
	}
}

// diffLines lists the lines only one of a and b holds (no secret: the
// summaries hold fingerprints and redacted lines).
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// Items met while the rules still load are kept aside (a bounded few) and
// scanned once the source is walked: a scan started at once reports what
// a scan started once the rules are loaded does.
func TestScanWhileRulesLoad(t *testing.T) {
	src := hintCorpus(t)
	newEngine := func() *engine.Engine { return decodingEngine(t) }
	early := summary(scantest.Scan(t, newEngine(), src))
	e := newEngine()
	e.RuleDescriptions() // waits for the rules
	if late := summary(scantest.Scan(t, e, src)); late != early {
		t.Fatalf("a scan started while the rules loaded differs:\n%s", diffLines(late, early))
	}
}

// decodingEngine is an engine over every rule with gitleaks' five
// decoding passes (its CLI's), whose rules are still loading.
func decodingEngine(t *testing.T) *engine.Engine {
	t.Helper()
	fp, err := credscan.NewFingerprinter([]byte("test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Fingerprinter: fp, MaxDecodeDepth: 5, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startsReused is files whose chunks carry their line starts in one
// slice that the source writes over once yield returns, as the git source
// reuses it: a chunk the engine keeps aside while its rules load keeps
// its own copy, as it does of Data.
type startsReused files

func (fs startsReused) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	var st []int
	for _, p := range slices.Sorted(func(f func(string) bool) {
		for p := range fs {
			if !f(p) {
				return
			}
		}
	}) {
		b := fs[p]
		st = append(st[:0], 0)
		for i, c := range b {
			if c == '\n' && i+1 < len(b) {
				st = append(st, i+1)
			}
		}
		ch := credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, App: "app", Path: p}, Data: b, StartLine: 1, Whole: true, LineStarts: st}
		if err := yield(ch, nil); err != nil {
			return err
		}
		for i := range st {
			st[i] = 0 // (what the next item's would be)
		}
	}
	return ctx.Err()
}

// A scan started while the rules load reports what one started after
// does when the source reuses its chunks' line starts.
func TestScanWhileRulesLoadLineStarts(t *testing.T) {
	src := startsReused(hintCorpus(t))
	early := summary(scantest.Scan(t, decodingEngine(t), src))
	e := decodingEngine(t)
	e.RuleDescriptions() // waits for the rules
	late := summary(scantest.Scan(t, e, src))
	if late != early {
		t.Fatalf("a scan started while the rules loaded differs:\n%s", diffLines(late, early))
	}
	if !strings.Contains(late, ":") {
		t.Fatal("nothing found")
	}
}
