package git

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

func TestMatchLines(t *testing.T) {
	h := func(s string) []uint64 { return lineHashes([]byte(s)) }
	a := h("a\nb\nc\nd\ne\nf\ng\n")
	b := h("a\nb\nX\nd\ne\ng\nf\n")
	runs := matchLines(a, b)
	// every mapped line is equal, and the mapping keeps what it can
	mapped := 0
	for _, r := range runs {
		for k := int32(0); k < r.n; k++ {
			if a[r.a+k] != b[r.b+k] {
				t.Fatalf("run %+v maps unequal lines", r)
			}
			mapped++
		}
	}
	if mapped != 6 {
		t.Errorf("%d lines mapped, want 6 (all but X): %+v", mapped, runs)
	}
	d := &delta{runs: matchLines(h(strings.Repeat("x\n", 20)), h(strings.Repeat("x\n", 20)+"y\n")), na: 20, nb: 21}
	u := d.unchanged()
	for i, x := range u {
		// stable: from the file's start (same in both) to contextLines before the change
		if want := i < 20-contextLines; x != want {
			t.Errorf("line %d unchanged=%v, want %v", i, x, want)
		}
	}
}

// Scanning later versions only where they changed, and carrying the
// earlier version's findings over to the lines they keep, finds exactly
// what scanning every version whole finds: same rules, paths, lines,
// columns, commits, tags and redactions, over random histories of edits
// (lines added, deleted, changed, moved, files copied and reverted) to
// files holding secrets of the DB pack and of gitleaks' rules, raw and
// encoded.
func TestDeltaMatchesWholeScan(t *testing.T) {
	e := scantest.Engine(t, "")
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		alnum := alnumFrom(r)
		secrets := []func() string{
			func() string {
				return "DATABASE_URL=postgres://arp_app:" + alnum(20) + "@arp-db.prod.internal:5432/arp"
			},
			func() string { return "aws_access_key_id = AKIA" + strings.ToUpper(alnum(16)) },
			func() string { return `github_token = "ghp_` + alnum(36) + `"` },
			func() string { return `api_key = "` + alnum(32) + `"` },
			func() string { return "PGPASSWORD=" + alnum(18) },
			func() string { return "PGUSER=svc_" + alnum(4) },
			func() string { return "PGHOST=db-" + alnum(3) + ".internal" },
			// a key a structured document assembles: the versions that
			// hold one are read whole, the others line by line
			func() string { return "db_password: " + alnum(14) },
			func() string { return "  host: db-" + alnum(3) + ".internal" },
			func() string { return `  "url": "postgres://svc:` + alnum(12) + `@db.internal/app",` },
			func() string {
				return "blob: " + base64.StdEncoding.EncodeToString([]byte("password=postgres://svc:"+alnum(16)+"@db.internal/app"))
			},
			// matches over several lines
			func() string {
				return "curl https://api.example.com/v1/items \\\n  -H 'Accept: application/json' \\\n  -u admin:" + alnum(14)
			},
			func() string {
				key := "-----BEGIN RSA PRIVATE KEY-----\n"
				for range 5 {
					key += base64.StdEncoding.EncodeToString([]byte(alnum(48))) + "\n"
				}
				return key + "-----END RSA PRIVATE KEY-----"
			},
		}
		line := func() string {
			if r.IntN(6) == 0 {
				return secrets[r.IntN(len(secrets))]()
			}
			switch r.IntN(4) {
			case 0:
				return ""
			case 1:
				return "}"
			default:
				return fmt.Sprintf("value_%d := compute(%d) // key handling", r.IntN(50), r.IntN(9))
			}
		}
		files := map[string][]string{}
		for _, p := range []string{"app.env", "conf/app.yml", "src/main.go", "conf/db.properties", "conf/settings.json", "deploy/values.yaml"} {
			for range 30 + r.IntN(40) {
				files[p] = append(files[p], line())
			}
		}
		var history []map[string][]string
		b := newRepo(t)
		for c := range 30 {
			changes := map[string]string{}
			for p, ls := range files {
				switch k := r.IntN(9); {
				case k <= 2: // a few lines added
					at := r.IntN(len(ls) + 1)
					var add []string
					for range 1 + r.IntN(3) {
						add = append(add, line())
					}
					ls = slices.Insert(slices.Clone(ls), at, add...)
				case k == 3 && len(ls) > 10: // lines deleted
					at := r.IntN(len(ls) - 3)
					ls = slices.Delete(slices.Clone(ls), at, at+1+r.IntN(3))
				case k == 4 && len(ls) > 0: // a line changed
					ls = slices.Clone(ls)
					ls[r.IntN(len(ls))] = line()
				case k == 5 && len(ls) > 20: // a block moved
					ls = slices.Clone(ls)
					at, n := r.IntN(len(ls)-8), 2+r.IntN(6)
					block := slices.Clone(ls[at : at+n])
					ls = slices.Delete(ls, at, at+n)
					to := r.IntN(len(ls) + 1)
					ls = slices.Insert(ls, to, block...)
				case k == 6 && len(history) > 2: // back to an earlier version
					if old, ok := history[r.IntN(len(history))][p]; ok {
						ls = old
					}
				case k == 7: // copied elsewhere
					changes[fmt.Sprintf("copies/%d-%s", c, strings.ReplaceAll(p, "/", "-"))] = strings.Join(ls, "\n") + "\n"
				}
				files[p] = ls
				changes[p] = strings.Join(ls, "\n") + "\n"
			}
			snap := map[string][]string{}
			for p, ls := range files {
				snap[p] = ls
			}
			history = append(history, snap)
			b.Commit("Dev", changes)
		}
		matched, carried := deltaAgainstWhole(t, e, b.Dir, fmt.Sprintf("seed %d", seed))
		t.Logf("seed %d: %d blobs scanned as later versions, %d findings carried", seed, matched, carried)
	}
}

// alnumFrom returns a maker of random letters and digits drawn from r.
func alnumFrom(r *rand.Rand) func(n int) string {
	return func(n int) string {
		const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, n)
		for i := range b {
			b[i] = abc[r.IntN(len(abc))]
		}
		return string(b)
	}
}

// deltaAgainstWhole scans the history at dir with each version read whole,
// then with each version matched with the one before it (the changed lines
// scanned, the rest carried over), and fails unless the findings, their
// places, commits, fingerprints, tags, redactions and identities are the
// same. It returns how many versions were matched and findings carried.
func deltaAgainstWhole(t *testing.T, e *engine.Engine, dir, label string) (matched, carried int) {
	t.Helper()
	scanned := func(noDelta bool) (string, *Scanner, int) {
		res, s, carried := scanWith(t, e, dir, Options{}, func(s *Scanner) { s.noDelta = noDelta })
		var out []string
		for _, f := range res.Findings {
			tags := slices.Clone(f.Tags)
			sort.Strings(tags)
			id := ""
			if f.DB != nil {
				id = fmt.Sprintf("%+v", *f.DB)
			}
			out = append(out, fmt.Sprintf("%s %s:%d:%d %s %s %v %q %s", f.RuleID, f.Origin.Path, f.Origin.Line, f.Column, f.Origin.Commit[:7], f.Fingerprint[:12], tags, f.Redacted, id))
		}
		sort.Strings(out)
		return strings.Join(out, "\n"), s, carried
	}
	whole, _, _ := scanned(true)
	part, s, carried := scanned(false)
	if whole != part {
		t.Errorf("%s: whole-blob scan\n%s\n\nchanged lines only\n%s", label, whole, part)
	}
	if len(s.deltas) == 0 || carried == 0 {
		t.Errorf("%s: %d blobs scanned as later versions, %d findings carried: the test tests nothing", label, len(s.deltas), carried)
	}
	return len(s.deltas), carried
}

// A generated history with the shape of the real ones issue 18 measured
// (prometheus', etcd's): large generated files with many versions (a lock
// file of a thousand lines whose URLs hold the "://" keyword, a one-line
// source map full of SVG data URIs, test data of 1.3 KB lines full of
// \u0000), structured documents whose versions switch between being read
// whole and line by line, secrets coming and going in every encoding, a
// side branch merged back, a rename. Matching each version with the one
// before must give exactly what reading every version whole gives.
func TestDeltaMatchesWholeScanRealShape(t *testing.T) {
	e := scantest.Engine(t, "")
	r := rand.New(rand.NewPCG(7, 7))
	alnum := alnumFrom(r)
	lockEntry := func(i int) string {
		if r.IntN(2000) == 0 { // an entry a structured read assembles
			return fmt.Sprintf(`    "node_modules/db-%d": { "host": "db-%d.internal", "user": "svc", "password": "%s" },`, i, i, alnum(16))
		}
		v := fmt.Sprintf("%d.%d.%d", r.IntN(9), r.IntN(30), r.IntN(20))
		return fmt.Sprintf(`    "node_modules/pkg-%d": { "version": "%s", "resolved": "https://registry.npmjs.org/pkg-%d/-/pkg-%d-%s.tgz", "integrity": "sha512-%s" },`, i, v, i, i, v, alnum(86))
	}
	lock := make([]string, 800)
	for i := range lock {
		lock[i] = lockEntry(i)
	}
	lockFile := func() string {
		return "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n" + strings.Join(lock, "\n") + "\n  }\n}\n"
	}
	cssPart := func() string {
		switch r.IntN(40) {
		case 0:
			return url.QueryEscape(`api_key = "` + alnum(32) + `"`)
		case 1:
			return base64.StdEncoding.EncodeToString([]byte("password=postgres://svc:" + alnum(16) + "@db.internal/app"))
		case 2:
			return `\u0000\u0000 token: ghp_` + alnum(36)
		}
		return fmt.Sprintf(`.c%d{background:url(data:image/svg+xml,%%3csvg xmlns=%%27http://www.w3.org/2000/svg%%27 fill=%%27%%23%03x%%27%%3e%%3c/svg%%3e)}\n`, r.IntN(999), r.IntN(4096))
	}
	css := make([]string, 300)
	for i := range css {
		css[i] = cssPart()
	}
	cssMap := func() string {
		return `{"version":3,"sources":["app.css"],"sourcesContent":["` + strings.Join(css, "") + `"],"mappings":"AAAA,SAAS,CAAC;AACD"}` + "\n"
	}
	opLine := func(i int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `{"ClientId":%d,"Input":{"Type":"range","Range":{"Start":"/registry/pods/","Limit":10}},"Output":{"KVs":[`, i)
		for k := 0; k < 12; k++ {
			fmt.Fprintf(&b, `{"Key":"/registry/pods/default/%s","Value":{"Value":"\u0000\u0000%d","Hash":0}},`, alnum(5), k)
		}
		if r.IntN(60) == 0 {
			fmt.Fprintf(&b, `{"Key":"token","Value":{"Value":"ghp_%s"}},`, alnum(36))
		}
		b.WriteString("]}}")
		return b.String()
	}
	ops := make([]string, 120)
	for i := range ops {
		ops[i] = opLine(i)
	}
	conf := func() string {
		pw := "<secret>"
		if r.IntN(2) == 0 {
			pw = alnum(14)
		}
		return fmt.Sprintf("global:\n  scrape_interval: %ds\nscrape_configs:\n  - job_name: db\n    basic_auth:\n      username: svc\n      password: %s\n    static_configs:\n      - targets: ['db-%d.internal:9187']\n", 10+r.IntN(50), pw, r.IntN(9))
	}
	mainGo := make([]string, 200)
	goLine := func() string {
		if r.IntN(25) == 0 {
			return fmt.Sprintf(`	dsn := "postgres://arp_app:%s@arp-db.prod.internal:5432/arp"`, alnum(18))
		}
		return fmt.Sprintf("	v%d := compute(%d) // key handling", r.IntN(50), r.IntN(9))
	}
	for i := range mainGo {
		mainGo[i] = goLine()
	}
	confPath := "config/testdata/conf.good.yml"
	// change edits a few places of every file, as a commit of a real
	// project does, and returns the files to write
	change := func() map[string]string {
		out := map[string]string{}
		for range 1 + r.IntN(6) {
			lock[r.IntN(len(lock))] = lockEntry(r.IntN(len(lock)))
		}
		out["web/ui/package-lock.json"] = lockFile()
		if r.IntN(2) == 0 {
			css[r.IntN(len(css))] = cssPart()
			out["web/ui/static/app.css.map"] = cssMap()
		}
		if r.IntN(3) == 0 {
			ops[r.IntN(len(ops))] = opLine(r.IntN(999))
			out["tests/robustness/operations.json"] = strings.Join(ops, "\n") + "\n"
		}
		if r.IntN(3) == 0 {
			out[confPath] = conf()
		}
		if r.IntN(2) == 0 {
			mainGo[r.IntN(len(mainGo))] = goLine()
			at := r.IntN(len(mainGo))
			mainGo = slices.Insert(mainGo, at, goLine())
			out["cmd/server/main.go"] = strings.Join(mainGo, "\n") + "\n"
		}
		return out
	}
	b := newRepo(t)
	b.Commit("Dev", map[string]string{
		"web/ui/package-lock.json":         lockFile(),
		"web/ui/static/app.css.map":        cssMap(),
		"tests/robustness/operations.json": strings.Join(ops, "\n") + "\n",
		confPath:                           conf(),
		"cmd/server/main.go":               strings.Join(mainGo, "\n") + "\n",
	})
	for c := 1; c < 40; c++ {
		switch c {
		case 10: // a side branch, with commits of its own
			b.Checkout("side", true)
			var sideLock string
			for range 8 {
				ch := change()
				sideLock = ch["web/ui/package-lock.json"]
				b.Commit("Side", ch)
			}
			b.Checkout("master", false)
			// merged back: the side's lock file wins, the rest is main's
			b.Merge("Dev", "side", map[string]string{"web/ui/package-lock.json": sideLock})
		case 30: // a rename
			b.Commit("Dev", map[string]string{confPath: "", "config/testdata/renamed.yml": conf()})
			confPath = "config/testdata/renamed.yml"
		default:
			b.Commit("Dev", change())
		}
	}
	matched, carried := deltaAgainstWhole(t, e, b.Dir, "real shape")
	t.Logf("%d blobs scanned as later versions, %d findings carried", matched, carried)
}

// Past the budget of line hashes held at once, versions are scanned whole:
// the findings do not change, and every hash is given back.
func TestKeepBudget(t *testing.T) {
	e := scantest.Engine(t, "")
	b := newRepo(t)
	pw := strings.Repeat("x", 3) + "Zq9"
	for v := range 6 {
		files := map[string]string{}
		for f := range 8 {
			var body strings.Builder
			for l := range 40 {
				fmt.Fprintf(&body, "line %d of file %d\n", l, f)
			}
			fmt.Fprintf(&body, "DATABASE_URL=postgres://app:%s%d@db.internal/app\nversion %d\n", pw, f, v)
			files[fmt.Sprintf("f%d.env", f)] = body.String()
		}
		b.Commit("Dev", files)
	}
	run := func(budget int64) (string, *Scanner) {
		res, s, _ := scanWith(t, e, b.Dir, Options{}, func(s *Scanner) { s.keepBudget = budget })
		var out []string
		for _, f := range res.Findings {
			out = append(out, fmt.Sprintf("%s %s:%d %s %v", f.RuleID, f.Origin.Path, f.Origin.Line, f.Origin.Commit[:7], f.Tags))
		}
		sort.Strings(out)
		return strings.Join(out, "\n"), s
	}
	all, s1 := run(keepBudget)
	some, s2 := run(3 * 8 * 42) // three blobs' hashes at a time
	none, s3 := run(0)
	if all != some || all != none {
		t.Errorf("budgets change the findings:\n%s\n\n%s\n\n%s", all, some, none)
	}
	for _, s := range []*Scanner{s1, s2, s3} {
		if n := s.kept.n.Load(); n != 0 {
			t.Errorf("%d bytes of line hashes still counted as held after the scan", n)
		}
	}
	if len(s1.deltas) == 0 || len(s3.deltas) != 0 || len(s2.deltas) == 0 || len(s2.deltas) >= len(s1.deltas) && gitBinary("") != "" {
		t.Errorf("blobs matched with a version: %d with the full budget, %d with three blobs', %d with none", len(s1.deltas), len(s2.deltas), len(s3.deltas))
	}
}

// A version that cannot be read leaves the version matched with it to be
// scanned whole: nothing waits on it and nothing is lost.
func TestUnreadableBase(t *testing.T) {
	b := newRepo(t)
	pw := leakcheck.Secret(t)
	body := func(v int) string {
		var s strings.Builder
		for l := range 30 {
			fmt.Fprintf(&s, "line %d\n", l)
		}
		return s.String() + uri(pw) + fmt.Sprintf("version=%d\n", v)
	}
	c1 := b.Commit("Alice", map[string]string{"a.env": body(1)})
	b.Commit("Bob", map[string]string{"a.env": body(2)})
	b.Commit("Carol", map[string]string{"a.env": body(3)})
	// the newest version, scanned first and the base of the one before
	h := plumbing.ComputeHash(plumbing.BlobObject, []byte(body(3))).String()
	obj := filepath.Join(b.Dir, ".git", "objects", h[:2], h[2:])
	if err := os.Chmod(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(obj, []byte("not zlib"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var res *engine.Results
	go func() {
		defer close(done)
		res, _ = scan(t, b.Dir, Options{})
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the scan waits on an unreadable version")
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), h) {
		t.Errorf("want one error naming %s, got %v", h, res.Errors)
	}
	fs := find(res, "a.env", "postgres-uri")
	if len(fs) != 1 || fs[0].Origin.Commit != c1 {
		t.Errorf("a.env: %v, want the secret attributed to the first commit", fs)
	}
}

// matchLinesMap is matchLines as it was with a Go map, the reference the
// open-addressing table must agree with.
func matchLinesMap(a, b []uint64) []lineRun {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	var runs []lineRun
	if p > 0 {
		runs = append(runs, lineRun{0, 0, int32(p)})
	}
	am, bm := a[p:len(a)-s], b[p:len(b)-s]
	if len(am) > 0 && len(bm) > 0 {
		first, _ := mapPool.Get().(map[uint64]int32)
		if first == nil {
			first = make(map[uint64]int32, len(am))
		}
		defer func() {
			if len(first) <= 1<<16 { // a large one would cost more to clear than to make
				clear(first)
				mapPool.Put(first)
			}
		}()
		next := make([]int32, len(am))
		for i := len(am) - 1; i >= 0; i-- {
			if j, ok := first[am[i]]; ok {
				next[i] = j
			} else {
				next[i] = -1
			}
			first[am[i]] = int32(i)
		}
		cur := -1 // the open run's index in runs
		ca := int32(0)
		for i, h := range bm {
			if cur >= 0 && ca < int32(len(am)) && am[ca] == h {
				runs[cur].n++
				ca++
				continue
			}
			j, ok := first[h]
			if !ok {
				cur = -1
				continue
			}
			for k, c := 0, j; k < 64 && c >= 0; k, c = k+1, next[c] {
				if c >= ca {
					j = c
					break
				}
			}
			runs = append(runs, lineRun{int32(p + i), int32(p) + j, 1})
			cur = len(runs) - 1
			ca = j + 1
		}
	}
	if s > 0 {
		runs = append(runs, lineRun{int32(len(b) - s), int32(len(a) - s), int32(s)})
	}
	return runs
}

var mapPool sync.Pool

// matchLines gives the same runs as with a Go map, over random versions
// (lines repeated often, moved, deleted, inserted; tables reused across
// sizes).
// sameBlocks agrees with comparing, line by line, whether each shared
// line is in a block in the version and in its base.
func TestSameBlocksIsLineByLine(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 6))
	randBlocks := func(n int32) ([][2]int32, []bool) {
		in := make([]bool, n)
		var bs [][2]int32
		for i := int32(0); i < n; {
			j := i + 1 + r.Int32N(6)
			if r.IntN(3) == 0 {
				bs = append(bs, [2]int32{i, min(j, n)})
				for k := i; k < min(j, n); k++ {
					in[k] = true
				}
			}
			i = j + 1 + r.Int32N(4) // blocks are apart: a fence line between
		}
		return bs, in
	}
	for trial := range 5000 {
		na, nb := 1+r.Int32N(40), 1+r.Int32N(40)
		ablocks, ain := randBlocks(na)
		bblocks, bin := randBlocks(nb)
		var runs []lineRun
		for b := int32(0); b < nb; {
			n := 1 + r.Int32N(8)
			n = min(n, nb-b)
			a := r.Int32N(na)
			n = min(n, na-a)
			if r.IntN(4) > 0 {
				runs = append(runs, lineRun{b: b, a: a, n: n})
			}
			b += n + r.Int32N(3)
		}
		want := true
		for _, rn := range runs {
			for k := int32(0); k < rn.n; k++ {
				want = want && bin[rn.b+k] == ain[rn.a+k]
			}
		}
		if got := sameBlocks(runs, bblocks, ablocks); got != want {
			t.Fatalf("trial %d: runs %v, blocks %v, base blocks %v: sameBlocks %v, want %v", trial, runs, bblocks, ablocks, got, want)
		}
	}
}

func TestMatchLinesTableAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 41))
	compared := 0
	for trial := 0; trial < 3000; trial++ {
		alphabet := 1 + r.IntN(200)
		a := make([]uint64, r.IntN(400))
		for i := range a {
			a[i] = uint64(r.IntN(alphabet)) * 0x9e3779b97f4a7c15
		}
		b := append([]uint64(nil), a...)
		for e := r.IntN(12); e > 0 && len(b) > 0; e-- {
			k := r.IntN(len(b))
			switch r.IntN(4) {
			case 0:
				b = append(b[:k], b[k+1:]...)
			case 1:
				b = append(b[:k], append([]uint64{uint64(r.IntN(2*alphabet)) * 0x9e3779b97f4a7c15}, b[k:]...)...)
			case 2:
				b[k] = uint64(r.IntN(2*alphabet)) * 0x9e3779b97f4a7c15
			case 3:
				j := r.IntN(len(b))
				b[k], b[j] = b[j], b[k]
			}
		}
		want, got := matchLinesMap(a, b), matchLines(a, b)
		if !slices.Equal(want, got) {
			t.Fatalf("trial %d: %d and %d lines: runs %v, want %v", trial, len(a), len(b), got, want)
		}
		compared += len(got)
	}
	if compared < 10000 {
		t.Fatalf("only %d runs compared", compared)
	}
}

// The line starts the source hands the engine are those rules.Lines
// finds: empty data, a last line with and without a break, empty lines,
// carriage returns.
func TestLineIndexStartsAreLines(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 73))
	for trial := 0; trial < 2000; trial++ {
		b := make([]byte, r.IntN(60))
		for i := range b {
			b[i] = "ab\n\r \n"[r.IntN(6)]
		}
		data := b
		hashes, starts := lineIndex(data, true)
		var l rules.Lines
		l.Reset(data)
		var u rules.Lines
		u.Use(data, starts)
		if l.Len() != u.Len() || l.Len() != len(hashes) && len(data) > 0 {
			t.Fatalf("%q: %d lines, %d with the source's starts, %d hashes", data, l.Len(), u.Len(), len(hashes))
		}
		for i := 0; i < l.Len(); i++ {
			if l.Start(i) != u.Start(i) || !bytes.Equal(l.Bytes(i), u.Bytes(i)) {
				t.Fatalf("%q: line %d starts at %d, the source says %d", data, i, l.Start(i), u.Start(i))
			}
		}
	}
}

// changedSpans covers exactly the lines no run covers, with their breaks.
func TestChangedSpans(t *testing.T) {
	r := rand.New(rand.NewPCG(79, 83))
	for trial := 0; trial < 2000; trial++ {
		var b strings.Builder
		for n := r.IntN(30); n > 0; n-- {
			b.WriteString(strings.Repeat("x", r.IntN(4)))
			if n > 1 || r.IntN(2) == 0 {
				b.WriteByte('\n')
			}
		}
		data := []byte(b.String())
		hashes, starts := lineIndex(data, true)
		if len(data) == 0 {
			starts = nil
		}
		var runs []lineRun
		covered := make([]bool, len(hashes))
		for l := 0; l < len(hashes); {
			n := r.IntN(4)
			if r.IntN(2) == 0 && n > 0 && l+n <= len(hashes) {
				runs = append(runs, lineRun{b: int32(l), n: int32(n)})
				for k := l; k < l+n; k++ {
					covered[k] = true
				}
			}
			l += max(n, 1)
		}
		want := make([]bool, len(data))
		for l := range hashes {
			if !covered[l] {
				end := len(data)
				if l+1 < len(starts) {
					end = starts[l+1]
				}
				for k := starts[l]; k < end; k++ {
					want[k] = true
				}
			}
		}
		got := make([]bool, len(data))
		for _, s := range changedSpans(data, runs, starts) {
			for k := s[0]; k < s[1]; k++ {
				got[k] = true
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: %q with runs %v: spans cover %v, want %v", trial, data, runs, got, want)
		}
	}
}

// Scripts that write .pgpass lines (echo, heredocs) come and go in a
// file's versions, far from and near to its other changes: matching each
// version with the one before (which looks for a pgpass name only on the
// lines a version adds, when its base names none) finds what reading
// every version whole finds.
func TestDeltaPgpassScripts(t *testing.T) {
	e := scantest.Engine(t, "")
	// a heredoc's file turns into .pgpass: the line it writes, far below,
	// is a finding of the newer version only
	var filler []string
	for i := range 20 {
		filler = append(filler, fmt.Sprintf("run_step %d", i))
	}
	script := func(file string) string {
		ls := append(append(append([]string{}, filler[:5]...), "cat > $HOME/"+file+" <<EOF"), filler...)
		ls = append(append(ls, "db.internal:5432:*:app:Hd0cPgpassW0rd", "EOF"), filler...)
		return strings.Join(ls, "\n") + "\nexport PGPASSWORD=Zq8vTrailing1\n" // (carried)
	}
	b := newRepo(t)
	b.Commit("Dev", map[string]string{"scripts/setup.sh": script(".netrc")})
	b.Commit("Dev", map[string]string{"scripts/setup.sh": script(".pgpass")})
	b.Commit("Dev", map[string]string{"scripts/setup.sh": "# setup\n" + script(".pgpass")})
	deltaAgainstWhole(t, e, b.Dir, "a heredoc turned into .pgpass")
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 101))
		alnum := alnumFrom(r)
		filler := func() string {
			return fmt.Sprintf("run_step %d --flag=%d # setup", r.IntN(90), r.IntN(9))
		}
		var ls []string
		for range 60 {
			ls = append(ls, filler())
		}
		b := newRepo(t)
		for range 25 {
			ls = slices.Clone(ls)
			switch r.IntN(6) {
			case 0: // an echo of a .pgpass line appears
				ls = slices.Insert(ls, r.IntN(len(ls)+1), `echo "db-`+alnum(3)+`.internal:5432:app:svc:`+alnum(14)+`" >> ~/.pgpass`)
			case 1: // a heredoc that writes one, its body long
				at := r.IntN(len(ls) + 1)
				body := []string{"cat > $HOME/.pgpass <<EOF"}
				for range 3 + r.IntN(20) {
					body = append(body, filler())
				}
				body = append(body, "db.internal:5432:*:app:"+alnum(16), "EOF")
				ls = slices.Insert(ls, at, body...)
			case 2: // a heredoc's file changes (either way), or a line naming pgpass goes
				for i, l := range ls {
					switch {
					case strings.HasPrefix(l, "cat > $HOME/.netrc"):
						ls[i] = "cat > $HOME/.pgpass <<EOF"
					case strings.Contains(l, "pgpass") && r.IntN(2) == 0:
						ls[i] = "cat > $HOME/.netrc <<EOF"
					case strings.Contains(l, "pgpass"):
						ls = slices.Delete(ls, i, i+1)
					default:
						continue
					}
					break
				}
			case 3:
				ls = slices.Insert(ls, r.IntN(len(ls)+1), "export PGPASSWORD="+alnum(18))
			default: // elsewhere
				ls[r.IntN(len(ls))] = filler()
			}
			b.Commit("Dev", map[string]string{"scripts/setup.sh": strings.Join(ls, "\n") + "\n"})
		}
		matched, carried := deltaAgainstWhole(t, e, b.Dir, fmt.Sprintf("seed %d", seed))
		t.Logf("seed %d: %d blobs scanned as later versions, %d findings carried", seed, matched, carried)
	}
}

// A private key longer than the lines a change reaches: a version that
// changes a line of it far below its BEGIN line holds another key, and the
// key of the newer version must not be carried to the older one's BEGIN
// line. Likewise a Markdown code fence opened or closed far above a line:
// whether the line sits in a code block changes what the DB pack reads
// there.
func TestDeltaLongBlocks(t *testing.T) {
	e := scantest.Engine(t, "")
	r := rand.New(rand.NewPCG(7, 7))
	alnum := alnumFrom(r)
	var body []string
	for range 38 {
		body = append(body, base64.StdEncoding.EncodeToString([]byte(alnum(48))))
	}
	key := func(body []string) string {
		return "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Join(body, "\n") + "\n-----END RSA PRIVATE KEY-----\n"
	}
	tail := "\n" + strings.Repeat("# notes\n", 20) + "export PGPASSWORD=Zq8vTrailing1\n" // (carried)
	changed := slices.Clone(body)
	changed[30] = base64.StdEncoding.EncodeToString([]byte(alnum(48)))
	b := newRepo(t)
	b.Commit("Dev", map[string]string{"deploy/key.pem.txt": key(body) + tail, "deploy/notes.txt": "v1\n" + tail})
	b.Commit("Dev", map[string]string{"deploy/key.pem.txt": key(changed) + tail, "deploy/notes.txt": "v2\n" + tail})
	b.Commit("Dev", map[string]string{"deploy/key.pem.txt": "# the key\n" + key(changed) + tail, "deploy/notes.txt": "v3\n" + tail})
	deltaAgainstWhole(t, e, b.Dir, "a long private key")

	var doc []string
	for i := range 64 {
		doc = append(doc, fmt.Sprintf("Some text about step %d.", i))
	}
	sample := "DB_PASSWORD = Xv9dQ2mLp4Rt"
	withFence := func(open bool) string {
		ls := slices.Clone(doc)
		ls[30] = sample
		if open {
			ls[2], ls[60] = "```ini", "```"
		}
		return strings.Join(ls, "\n") + "\n" + strings.Repeat("More text.\n", 20) + "export PGPASSWORD=Zq8vTrailing1\n"
	}
	b = newRepo(t)
	b.Commit("Dev", map[string]string{"docs/setup.md": withFence(false)})
	b.Commit("Dev", map[string]string{"docs/setup.md": withFence(true)})
	b.Commit("Dev", map[string]string{"docs/setup.md": "# Setup\n" + withFence(true)})
	deltaAgainstWhole(t, e, b.Dir, "a code fence far above")

	// A CHANGELOG: each version adds a release at the top, some with an
	// example in a code block, and its many repeated lines (blank lines,
	// "* [BUGFIX]") match out of order. Every older line stays in or out
	// of its block: the versions are matched, not read whole.
	release := func(v int, example bool) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, "## %d.0.0\n\n", v)
		for i := range 4 {
			fmt.Fprintf(&sb, "* [BUGFIX] Fix %d.%d.\n* [BUGFIX]\n\n", v, i)
		}
		if example {
			fmt.Fprintf(&sb, "```ini\nDB_PASSWORD = Xv9dQ2mLp4R%d\n```\n\n", v)
		}
		return sb.String()
	}
	b = newRepo(t)
	log := ""
	for v := 1; v <= 6; v++ {
		log = release(v, v%2 == 0) + log
		b.Commit("Dev", map[string]string{"CHANGELOG.md": "# Changelog\n\n" + log})
	}
	// and a version that opens a block above the older releases, unclosed
	b.Commit("Dev", map[string]string{"CHANGELOG.md": "# Changelog\n\n```\n" + log})
	if matched, _ := deltaAgainstWhole(t, e, b.Dir, "a CHANGELOG"); matched != 5 {
		t.Errorf("%d versions of the CHANGELOG matched with another, want 5 (all but the first and the one that opens a block)", matched)
	}
}

// lineGroupsOf is a credscan.LineGrouper for tests: a line's byte is the
// sum of its bytes.
type lineGroupsOf struct{}

func (lineGroupsOf) LineGroups(data []byte, dst []uint8) []uint8 {
	dst = dst[:0]
	var sum uint8
	for i, c := range data {
		if c == '\n' {
			dst = append(dst, sum)
			sum = 0
			continue
		}
		sum += c
		if i == len(data)-1 {
			dst = append(dst, sum)
		}
	}
	return dst
}

// lineGroups gives every line of a version what the grouper gives it,
// whether copied from the base's for the lines a run shares or found.
func TestLineGroupsCopiedAreFound(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 7))
	var g lineGroupsOf
	words := []string{"a", "b", "password", "", "x y", "\r"}
	version := func(base []string) []string {
		v := slices.Clone(base)
		for range r.IntN(5) {
			switch k := r.IntN(len(v) + 1); r.IntN(3) {
			case 0:
				v = slices.Insert(v, k, words[r.IntN(len(words))]+words[r.IntN(len(words))])
			case 1:
				if k < len(v) {
					v = slices.Delete(v, k, k+1)
				}
			default:
				if k < len(v) {
					v[k] += "z"
				}
			}
		}
		return v
	}
	join := func(ls []string, end bool) []byte {
		s := strings.Join(ls, "\n")
		if end {
			s += "\n"
		}
		return []byte(s)
	}
	for trial := range 2000 {
		var a []string
		for range r.IntN(30) {
			a = append(a, words[r.IntN(len(words))])
		}
		ad, bd := join(a, r.IntN(2) == 0), join(version(a), r.IntN(2) == 0)
		if len(ad) == 0 || len(bd) == 0 {
			continue
		}
		ah, _ := lineIndex(ad, false)
		bh, starts := lineIndex(bd, true)
		runs := matchLines(ah, bh)
		base := g.LineGroups(ad, nil)
		got := lineGroups(g, bd, starts, runs, changedSpans(bd, runs, starts), base)
		if want := g.LineGroups(bd, nil); !slices.Equal(got, want) {
			t.Fatalf("trial %d: %q after %q: groups %v, want %v", trial, bd, ad, got, want)
		}
	}
}

// unchanged marks, run by run, exactly the lines stable says are: on
// random pairs of versions (lines kept, dropped, added, moved).
func TestUnchangedIsStable(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 73))
	marked := 0
	for trial := 0; trial < 3000; trial++ {
		a := make([]uint64, r.IntN(80))
		for i := range a {
			a[i] = uint64(r.IntN(40))
		}
		var b []uint64
		for _, x := range a {
			switch r.IntN(10) {
			case 0: // dropped
			case 1:
				b = append(b, uint64(100+r.IntN(5)), x)
			default:
				b = append(b, x)
			}
		}
		d := &delta{runs: matchLines(a, b), na: int32(len(a)), nb: int32(len(b))}
		got := d.unchanged()
		want := make([]bool, len(b))
		any := false
		for _, run := range d.runs {
			for k := run.b; k < run.b+run.n; k++ {
				if d.stable(run, k) {
					want[k], any = true, true
				}
			}
		}
		if !any {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: runs %+v (%d and %d lines): unchanged %v, stable %v", trial, d.runs, len(a), len(b), got, want)
		}
		for _, x := range got {
			if x {
				marked++
			}
		}
	}
	if marked < 10000 {
		t.Fatalf("only %d lines marked: the versions do not test it", marked)
	}
}
