package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/credscan/credscan/scanners/engine/internal/accel"
)

// fillerLines are real source lines, to build long lines from.
func fillerLines(t *testing.T) []string {
	t.Helper()
	root, err := goRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "src", "net", "http", "*.go"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	if len(out) < 1000 {
		// no Go source tree here: code-like lines of the same make
		r := rand.New(rand.NewPCG(1, 2))
		words := []string{"func", "return", "if", "err", "!=", "nil", "{", "}", "(", ")", ":=", "ctx", "w.Header().Set", "\"Content-Type\"",
			"r.URL.Path", "strings.TrimPrefix", "for", "range", "http.StatusOK", "len(b)", "0x7f", "case", "default:", "//", "the", "request"}
		for len(out) < 5000 {
			var b strings.Builder
			for n := 3 + r.IntN(12); n > 0; n-- {
				b.WriteString(words[r.IntN(len(words))])
				b.WriteByte(' ')
			}
			out = append(out, strings.TrimSpace(b.String()))
		}
	}
	return out
}

const alnumChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// pick returns n bytes drawn from alphabet.
func pick(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// On long lines, rules run on windows around their anchors; the findings
// (rule, line, column, secret: what the engine keeps) must be exactly
// those of the whole line, wherever the secrets sit (window edges and
// line breaks included), or the whole line is run.
func TestLongLineWindowsMatchWholeLine(t *testing.T) {
	g, err := newGLDetector("", 0)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(7, uint64(len(filler))))
	hex := func(n int) string { return pick(r, "0123456789abcdef", n) }
	alnum := func(n int) string { return pick(r, alnumChars, n) }
	secrets := []func() string{
		func() string { return "AKIA" + strings.ToUpper(alnum(16)) },
		func() string { return `github_token = "ghp_` + alnum(36) + `"` },
		func() string { return "xoxb-" + hex(10) + "-" + hex(12) + "-" + alnum(24) },
		func() string { return `stripe_key = "sk_live_` + alnum(24) + `"` },
		func() string { return `api_key = "` + alnum(32) + `"` },
		func() string { return `okta_token = "00` + alnum(40) + `"` },
		func() string { return "glpat-" + alnum(20) },
		func() string { return `twilio = "SK` + hex(32) + `"` },
		func() string { return `password = "` + alnum(3000) + `"` },   // runs past a window's edge
		func() string { return "sentry_token\n  = " + hex(64) + " " }, // across a line break
		func() string { return "okta_key = \n00" + alnum(40) + ";" },
		// a token of kilobytes, whose match no window around its anchor
		// holds (an Azure Key Vault recording's JWT)
		func() string { return `"value": "eyJ` + alnum(1500) + ".eyJ" + alnum(3000) + "." + alnum(300) + `"` },
	}
	ctx := context.Background()
	compared, fellBack, matches := 0, 0, 0
	for trial := 0; trial < 300; trial++ {
		var b strings.Builder
		for b.Len() < longLine+r.IntN(20000) {
			if r.IntN(12) == 0 {
				b.WriteString(secrets[r.IntN(len(secrets))]())
			} else {
				b.WriteString(filler[r.IntN(len(filler))])
			}
			b.WriteString(" ")
			if r.IntN(40) == 0 {
				b.WriteString(strings.Repeat("x", winAfter-r.IntN(20))) // push the next secret to an edge
			}
		}
		line := b.String()
		if trial%3 == 0 {
			// a line and the next: matches may cross the line break
			line += "\n" + secrets[r.IntN(len(secrets))]() + " " + filler[r.IntN(len(filler))]
		}
		var woken []int
		g.kw.Each([]byte(line), func(units []int) bool {
			woken = append(woken, units...)
			return false
		})
		for _, u := range woken {
			un := g.unit(u)
			if un.anchors == nil {
				continue
			}
			win, ok := longLineWindows(ctx, un, "", []byte(line), 1)
			if !ok {
				fellBack++
				continue
			}
			compared++
			whole := glDetect(ctx, un.plain.get(), "", line, 1)
			matches += len(whole)
			if a, bb := findingKeys(whole, nil), findingKeys(win, nil); a != bb {
				t.Fatalf("trial %d, unit %d: windows found %v, the whole line %v", trial, u, bb, a)
			}
		}
	}
	t.Logf("%d unit runs compared (%d findings), %d fell back to the whole line", compared, matches, fellBack)
	if compared == 0 || matches < 100 {
		t.Fatal("too little compared")
	}
}

// On long lines, the decoding passes run on windows around the segments
// that may decode; what they find in decoded text (rule, column, secret)
// must be exactly what the passes find on the whole line, or the whole
// line is run.
func TestDeepWindowsMatchWholeLine(t *testing.T) {
	g, err := newGLDetector("", 5)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(11, uint64(len(filler))))
	alnum := func(n int) string { return pick(r, alnumChars, n) }
	secrets := []func() string{
		func() string { return "AKIA" + strings.ToUpper(alnum(16)) },
		func() string { return `github_token = "ghp_` + alnum(36) + `"` },
		func() string { return `api_key = "` + alnum(32) + `"` },
		func() string { return "glpat-" + alnum(20) },
		func() string { return `stripe_key = "sk_live_` + alnum(24) + `"` },
	}
	encode := func(s string) string {
		switch r.IntN(7) {
		case 0, 1:
			return base64.StdEncoding.EncodeToString([]byte(s))
		case 2, 3:
			return hex.EncodeToString([]byte(s))
		case 4:
			return url.QueryEscape(s)
		case 5:
			var u strings.Builder
			for _, c := range s {
				fmt.Fprintf(&u, "\\u%04x", c)
			}
			return u.String()
		}
		// twice
		return base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(s))))
	}
	ctx := context.Background()
	rawAll := detect.NewDetector(g.allRules()) // every rule on the raw text
	rawAll.MaxDecodeDepth = 0
	compared, fellBack, matches, withEscapes, skipped := 0, 0, 0, 0, 0
	for trial := 0; trial < 800; trial++ {
		var b strings.Builder
		for b.Len() < longLine+r.IntN(60000) {
			switch k := r.IntN(60); {
			case k == 0:
				b.WriteString(encode(secrets[r.IntN(len(secrets))]()))
			case k == 1 && trial%2 == 0:
				b.WriteString(secrets[r.IntN(len(secrets))]()) // raw: found by the accel.Keyword windows, not here
			case k == 2 && trial%3 == 0, k == 3 && trial%5 == 2:
				b.WriteString([]string{"%9C", "%2B", "100%25", "url(data:image/svg+xml,%3csvg%20fill=%27%23fff%27%3e)", "%3C%2Fpath%3E", `"Key":"\u0000\u0000"`, `token \u0000\u0041\u0042`}[r.IntN(7)]) // a stray escape
			default:
				b.WriteString(filler[r.IntN(len(filler))])
			}
			b.WriteString(" ")
			if r.IntN(40) == 0 {
				b.WriteString(strings.Repeat("x", deepMargin-r.IntN(20))) // push the next one to an edge
			}
		}
		if trial%4 == 1 {
			// a secret in base64, then one in escapes, then an escape of
			// a byte that is not accel.Printable, far from the others: the
			// line's percent segment, from the first escape to that one,
			// decodes to nothing
			b.WriteString(" " + base64.StdEncoding.EncodeToString([]byte(secrets[r.IntN(len(secrets))]())) + strings.Repeat(" filler", 200))
			b.WriteString(" " + url.QueryEscape(secrets[r.IntN(len(secrets))]()) + strings.Repeat(" filler", 200) + " %9C")
		}
		line := []byte(b.String())
		var dl deepLine
		needed := g.deepSpans(line, g.kw.Any(line), &dl)
		escapes := dl.pct[0] >= 0
		var woken []int
		g.decodedUnits(string(line), func(u int) {
			if !slices.Contains(woken, u) {
				woken = append(woken, u)
			}
		}, nil)
		slices.Sort(woken)
		var whole []report.Finding
		if len(woken) > 0 {
			whole = glDetect(ctx, g.deepFor(woken), "", string(line), 1)
		}
		var win []report.Finding
		if needed { // else the engine runs no decoding pass on the line
			var ok bool
			if win, ok = g.deepWindows(ctx, "", line, &dl, unitMask{}, 1); !ok {
				fellBack++
				continue
			}
			compared++
			if escapes {
				withEscapes++
			}
		} else {
			skipped++
		}
		// the decoded copies of what the raw text holds are the raw
		// windows' (Results keeps the raw one); gitleaks puts a match
		// inside a decoded segment at the segment's start, so a copy is
		// known by its rule and secret
		raw := map[string]bool{}
		if len(woken) > 0 {
			for _, f := range glDetect(ctx, rawAll, "", string(line), 1) {
				raw[f.RuleID+" "+f.Secret] = true
			}
		}
		newOnly := func(fs []report.Finding) string {
			return findingKeys(fs, func(f report.Finding) bool { return isDecoded(f) && !raw[f.RuleID+" "+f.Secret] })
		}
		want := newOnly(whole)
		matches += len(strings.Fields(want))
		if got := newOnly(win); got != want {
			t.Fatalf("trial %d: windows found %v, the whole line %v", trial, got, want)
		}
	}
	t.Logf("%d lines compared (%d decoded findings, %d lines with percent escapes), %d fell back to the whole line, %d with nothing for the decoding passes", compared, matches, withEscapes, fellBack, skipped)
	if compared < 300 || matches < 600 || withEscapes < 150 {
		t.Fatal("too little compared")
	}
}

// A gated rule runs on the pieces of a window its gate passes, between
// bytes no match can hold; what it finds (rule, line, column, secret) must
// be exactly what it finds on the whole window, whatever sits around the
// secrets: values too plain to report that a match still consumes,
// keywords inside other matches' values, stoppers right before and after
// them, line breaks inside matches, long and multi-line windows.
func TestPieceWindowsMatchWholeWindow(t *testing.T) {
	g, err := newGLDetector("", 0)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(13, uint64(len(filler))))
	alnum := func(n int) string { return pick(r, alnumChars, n) }
	letters := func(n int) string { return pick(r, "abcdefghijklmnopqrstuvwxyz", n) }
	stop := func() string { return string("(){}[]<>*&!@#$%^~"[r.IntN(17)]) }
	secrets := []func() string{
		func() string { return `api_key = "` + alnum(32) + `"` },
		func() string { return "token: " + alnum(20) },
		func() string { return stop() + `"secret":"` + alnum(24) + `"` + stop() },
		func() string { return "auth: " + letters(100) + "key := " + alnum(18) },      // a key inside a plain value
		func() string { return "password = \n  " + alnum(16) + ";" },                  // across a line break
		func() string { return "access_token" + stop() + "= " + alnum(30) },           // a stopper between key and value
		func() string { return "creds=" + alnum(12) + letters(400) },                  // long value
		func() string { return "vault s." + alnum(24) + " hvs." + alnum(95) + "\n" },  // another gated rule
		func() string { return "--mount=type=secret,id=token=" + alnum(20) },          // a line allowlist
		func() string { return "--mount=type=secret,id=x (token=" + alnum(20) + ")" }, // ... seen whole
		func() string { return "token = " + alnum(20) + stop() },                      // no match: a stopper ends it
		func() string { return "KEY=" + alnum(14) + "\\n" + "apiKey: '" + alnum(22) + "'" },
		func() string { return `{"auth":{"token":"` + alnum(40) + `"}}` },
	}
	ctx := context.Background()
	compared, fellBack, matches := 0, 0, 0
	for trial := 0; trial < 400; trial++ {
		var b strings.Builder
		size := pieceMin + r.IntN(4000)
		if trial%5 == 0 {
			size += r.IntN(60000)
		}
		for b.Len() < size {
			if r.IntN(6) == 0 {
				b.WriteString(secrets[r.IntN(len(secrets))]())
			} else {
				b.WriteString(filler[r.IntN(len(filler))])
			}
			if r.IntN(3) == 0 {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
		}
		text := b.String()
		var woken []int
		g.kw.Each([]byte(text), func(units []int) bool {
			woken = append(woken, units...)
			return false
		})
		slices.Sort(woken)
		for _, u := range slices.Compact(woken) {
			un := g.unit(u)
			if un.stoppers == nil {
				continue
			}
			first := 1 + r.IntN(50)
			got, ok := pieceWindows(ctx, un, "", []byte(text), first)
			if !ok {
				fellBack++
				continue
			}
			compared++
			whole := glDetect(ctx, un.plain.get(), "", text, first)
			matches += len(whole)
			if a, b := findingKeys(whole, nil), findingKeys(got, nil); a != b {
				t.Fatalf("trial %d, unit %d: pieces found %v, the whole window %v", trial, u, b, a)
			}
		}
	}
	t.Logf("%d unit runs compared (%d findings), %d fell back to the whole window", compared, matches, fellBack)
	if compared < 200 || matches < 200 {
		t.Fatal("too little compared")
	}
}

// Stoppers are the bytes outside every literal and class of an
// expression, case folding included.
func TestStopBytes(t *testing.T) {
	s := accel.StopBytes(`(?i)key\s*[=:]\s*([a-z0-9]{8,})`)
	for _, c := range "kKeEyY=: \t\n\r0aZ" {
		if s[c] {
			t.Errorf("%q is a stopper", c)
		}
	}
	for _, c := range "(){}#-." {
		if !s[c] {
			t.Errorf("%q is not a stopper", c)
		}
	}
	if n := accel.StopBytes(`a.b`); n == nil || !n['\n'] || n['('] || accel.StopBytes(`(?s)a.b`) != nil {
		t.Error("an expression with . has no stoppers but the line break at most")
	}
	if !accel.AssertionFree(nil) || accel.AssertionFree([]*regexp.Regexp{regexp.MustCompile(`^x`)}) || accel.AssertionFree([]*regexp.Regexp{regexp.MustCompile(`\bx`)}) {
		t.Error("accel.AssertionFree is wrong")
	}
}

// A line whose percent segment (first escape to last) holds an escape of
// a byte that is not accel.Printable decodes to nothing there, in gitleaks:
// when everything else on it that may decode sits inside that segment,
// the engine does not run the decoding passes on it. They must indeed
// find nothing in decoded text; and with that one escape accel.Printable, they
// must find something, or the test proves nothing.
func TestPercentSpanThatFailsDecodesNothing(t *testing.T) {
	g, err := newGLDetector("", 5)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(17, uint64(len(filler))))
	alnum := func(n int) string { return pick(r, alnumChars, n) }
	secrets := []func() string{
		func() string { return `github_token = "ghp_` + alnum(36) + `"` },
		func() string { return `api_key = "` + alnum(32) + `"` },
		func() string { return "AKIA" + strings.ToUpper(alnum(16)) },
	}
	ctx := context.Background()
	decoded := func(line string) int {
		var woken []int
		g.decodedUnits(line, func(u int) {
			if !slices.Contains(woken, u) {
				woken = append(woken, u)
			}
		}, nil)
		if len(woken) == 0 {
			return 0
		}
		slices.Sort(woken)
		n := 0
		for _, f := range glDetect(ctx, g.deepFor(woken), "", line, 1) {
			if isDecoded(f) {
				n++
			}
		}
		return n
	}
	skipped, teeth := 0, 0
	for trial := 0; trial < 300; trial++ {
		var b strings.Builder
		b.WriteString(filler[r.IntN(len(filler))] + " %2F")
		for k := r.IntN(6); k >= 0; k-- {
			switch r.IntN(3) {
			case 0:
				b.WriteString(base64.StdEncoding.EncodeToString([]byte(secrets[r.IntN(len(secrets))]())))
			case 1:
				b.WriteString(url.QueryEscape(secrets[r.IntN(len(secrets))]()))
			default:
				b.WriteString(filler[r.IntN(len(filler))])
			}
			b.WriteString(" ")
		}
		bad := fmt.Sprintf("%%%02X", []byte{0x01, 0x08, 0x7f, 0x80, 0x9c, 0xff}[r.IntN(6)])
		b.WriteString(bad + " %41")
		line := b.String()
		from, to, ok := accel.PercentSpan([]byte(line))
		if ok {
			t.Fatalf("trial %d: the span decodes despite %s", trial, bad)
		}
		inside := true
		accel.ProbeDecode([]byte(line), func(_ []byte, a, z int) bool {
			inside = inside && a >= from && z <= to
			return false
		})
		if !inside {
			continue
		}
		skipped++
		if n := decoded(line); n != 0 {
			t.Fatalf("trial %d: %d findings in decoded text on a line whose percent segment fails", trial, n)
		}
		if decoded(strings.Replace(line, bad, "%2B", 1)) > 0 {
			teeth++
		}
	}
	t.Logf("%d lines skipped, %d of which hold findings once their escape is accel.Printable", skipped, teeth)
	if skipped < 100 || teeth < 50 {
		t.Fatal("too little compared")
	}
}

// The assignment gate passes every line a match of a templated rule
// starts on, wherever blanks, quotes, line breaks and operators sit
// around the rule's names; and it turns lines away.
func TestAssignmentGateMissesNoMatch(t *testing.T) {
	cfg, err := loadGitleaksConfig("")
	if err != nil {
		t.Fatal(err)
	}
	type gated struct {
		id   string
		ids  []string
		gate func([]byte, int, int) (int, bool)
	}
	var rs []gated
	for id, r := range cfg.Rules {
		if r.Regex == nil {
			continue
		}
		if ids := assignmentIDs(r.Regex.String()); ids != nil {
			rs = append(rs, gated{id, ids, assignmentGate(ids)})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].id < rs[j].id })
	if len(rs) < 80 {
		t.Fatalf("only %d rules use the assignment template", len(rs))
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(19, uint64(len(filler))))
	matches, turned := 0, 0
	for trial := 0; trial < 3000; trial++ {
		g := rs[trial%len(rs)]
		rule := cfg.Rules[g.id]
		if rule.Regex == nil {
			continue
		}
		var b strings.Builder
		for k := 0; k < 6; k++ {
			b.WriteString(filler[r.IntN(len(filler))])
			b.WriteString(pick(r, " \n", 1))
			name := g.ids[r.IntN(len(g.ids))]
			if r.IntN(2) == 0 {
				name = strings.ToUpper(name)
			}
			b.WriteString(pick(r, "ab_.-", r.IntN(4)) + name + pick(r, " \t_-.aZ9'\"\n", r.IntN(26)))
			b.WriteString([]string{"=", ">", ":=", "::=", "||", ":", "=>", "?=", ",", "(", "", "+"}[r.IntN(12)])
			b.WriteString(pick(r, " '\"`=\n", r.IntN(6)) + pick(r, "abcdef0123456789", 8+r.IntN(60)) + pick(r, "'\" ;\n", 1))
		}
		data := []byte(b.String())
		// the rule's own names and operator, and a value of any length:
		// the gate looks at what comes before the value
		expr := rule.Regex.String()
		expr = expr[:strings.Index(expr, assignmentOp)+len(assignmentOp)] + `[\x60'"\s=]{0,5}([a-z0-9]{8,80})(?:[\x60'"\s;]|\\[nr]|$)`
		for _, m := range regexp.MustCompile(expr).FindAllIndex(data, -1) {
			ls := bytes.LastIndexByte(data[:m[0]], '\n') + 1
			le := len(data)
			if k := bytes.IndexByte(data[m[0]:], '\n'); k >= 0 {
				le = m[0] + k
			}
			matches++
			if _, ok := g.gate(data, ls, le); !ok {
				t.Fatalf("trial %d: %s: the gate turns away the line a match starts on (match at %d-%d of %d bytes)", trial, g.id, m[0], m[1], len(data))
			}
		}
		turned += linesTurnedAway(data, func(ls, le int) bool { _, ok := g.gate(data, ls, le); return ok })
	}
	t.Logf("%d matches, all on lines the gate passed; %d lines turned away", matches, turned)
	if matches < 1000 || turned < 1000 {
		t.Fatal("too little compared")
	}
}

// linesTurnedAway counts the lines of data (from ls to le, its line break
// excluded) that pass turns away.
func linesTurnedAway(data []byte, pass func(ls, le int) bool) int {
	turned := 0
	for ls := 0; ls < len(data); {
		le := bytes.IndexByte(data[ls:], '\n')
		if le < 0 {
			le = len(data)
		} else {
			le += ls
		}
		if !pass(ls, le) {
			turned++
		}
		ls = le + 1
	}
	return turned
}

// findingKeys is what the window tests compare of the findings keep passes
// (nil: all): rule, line, column and a hash of the secret (never the
// secret itself), sorted.
func findingKeys(fs []report.Finding, keep func(report.Finding) bool) string {
	var out []string
	for _, f := range fs {
		if keep == nil || keep(f) {
			end := "" // where a match on one line ends (narrow looks for the secret up to there)
			if f.StartLine == f.EndLine && f.EndColumn > 0 {
				end = fmt.Sprintf("-%d", f.EndColumn)
			}
			out = append(out, fmt.Sprintf("%s@%d.%d%s %x", f.RuleID, f.StartLine, f.StartColumn, end, sha256.Sum256([]byte(f.Secret))))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// isDecoded says whether f was found in decoded text.
func isDecoded(f report.Finding) bool {
	return slices.ContainsFunc(f.Tags, func(t string) bool { return strings.HasPrefix(t, "decoded:") })
}

// A unit woken by decoded text whose gate fails on the text of every
// decoding depth (and the raw line) finds nothing there: dropping it
// (gatedOut) loses nothing. Checked on random lines of base64 that decode
// to text with generic-api-key's keywords, with and without something it
// reports, against running every woken unit.
func TestGatedOutLosesNothing(t *testing.T) {
	g, err := newGLDetector("", 5)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(23, 23))
	alnum := func(n int) string { return pick(r, alnumChars, n) }
	words := []string{"the key", "tokens", "secret", "password", "auth", "api", "access", "client", "Key:", "token ="}
	ctx := context.Background()
	dropped, found := 0, 0
	for trial := 0; trial < 300; trial++ {
		var plain strings.Builder
		for plain.Len() < 200+r.IntN(3000) {
			plain.WriteString(words[r.IntN(len(words))] + " " + alnum(r.IntN(12)) + " ")
			if r.IntN(40) == 0 {
				plain.WriteString(`api_key = "` + alnum(32) + `" `)
			}
		}
		line := "blob: " + base64.StdEncoding.EncodeToString([]byte(plain.String()))
		if r.IntN(2) == 0 { // nested once more
			line = "blob: " + base64.StdEncoding.EncodeToString([]byte(line))
		}
		var woken []int
		texts := []string{line}
		g.decodedUnits(line, func(u int) {
			if !slices.Contains(woken, u) {
				woken = append(woken, u)
			}
		}, func(cur string) { texts = append(texts, cur) })
		slices.Sort(woken)
		all := append([]int(nil), woken...)
		gated := g.gatedOut(woken, texts)
		if len(gated) < len(all) {
			dropped++
		}
		count := func(units []int) (n int) {
			if len(units) == 0 {
				return 0
			}
			for _, f := range glDetect(ctx, g.deepFor(units), "", line, 1) {
				if isDecoded(f) {
					n++
				}
			}
			return n
		}
		a, b := count(all), count(gated)
		if a != b {
			t.Fatalf("trial %d: %d decoded findings with every woken unit, %d with the gated ones", trial, a, b)
		}
		if a > 0 {
			found++
		}
	}
	if dropped == 0 || found == 0 {
		t.Fatalf("units dropped on %d lines, decoded findings on %d: the test has no teeth", dropped, found)
	}
	t.Logf("a gated unit dropped on %d of 300 lines; decoded findings on %d", dropped, found)
}

// The generic gate passes every line a generic-api-key finding starts on,
// whatever stands around the rule's keywords, operators and values
// (blanks, quotes, line breaks, slashes, values too short, too plain or
// cut by what cannot follow them); and it turns lines away, among them
// the JSON keys whose values are paths (etcd's robustness test data).
func TestGenericGateMissesNoFinding(t *testing.T) {
	g, err := newGLDetector("", 0)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := g.unitOf["generic-api-key"]
	if !ok {
		t.Fatal("no generic-api-key unit")
	}
	un := g.unit(u)
	if un.gate == nil {
		t.Fatal("generic-api-key has no gate")
	}
	for _, line := range []string{
		`{"Key":"/registry/pods/default/068rn","Value":{"Value":"2","Hash":0},"ModRevision":3}`,
		`	apiKey := strings.TrimSpace(os.Getenv("API_KEY_2"))`,
		`token: +abcdef0123456789`,
	} {
		if _, ok := un.gate([]byte(line), 0, len(line)); ok {
			t.Errorf("the gate passes %q", line)
		}
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(29, uint64(len(filler))))
	ctx := context.Background()
	keywords := []string{"access", "auth", "api", "API", "Api", "credential", "creds", "key", "passwd", "password", "secret", "token", "KEY", "Token"}
	found, turned := 0, 0
	for trial := 0; trial < 3000; trial++ {
		var b strings.Builder
		for k := 0; k < 12; k++ {
			b.WriteString(filler[r.IntN(len(filler))])
			b.WriteString(pick(r, " \n", 1))
			b.WriteString(pick(r, "ab_.-/", r.IntN(4)) + keywords[r.IntN(len(keywords))] + pick(r, " \t_-.aZ9'\"\n", r.IntN(6)))
			b.WriteString([]string{"=", ">", ":=", "::=", ":::=", "||", ":", "=>", "?=", ",", "(", "", "+", "/"}[r.IntN(14)])
			b.WriteString(pick(r, " '\"`=\n/+(:|>", r.IntN(7)))
			b.WriteString(pick(r, []string{"abcdef0123456789", "abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=", "abcdefXYZ", "abc0123+/", "a1_.-=", "A1b2/+=", "xyz"}[r.IntN(8)], 6+r.IntN(40)))
			b.WriteString(pick(r, "'\" ;\n`\\/),:+", r.IntN(3)))
		}
		data := []byte(b.String())
		for _, f := range glDetect(ctx, un.plain.get(), "", string(data), 1) {
			if f.RuleID != "generic-api-key" {
				continue
			}
			found++
			ls := 0
			for l := 1; l < f.StartLine; l++ {
				ls += bytes.IndexByte(data[ls:], '\n') + 1
			}
			le := len(data)
			if k := bytes.IndexByte(data[ls:], '\n'); k >= 0 {
				le = ls + k
			}
			if _, ok := un.gate(data, ls, le); !ok {
				t.Fatalf("trial %d: the gate turns away line %d, where a finding starts (column %d, %d bytes)", trial, f.StartLine, f.StartColumn, len(f.Match))
			}
		}
		turned += linesTurnedAway(data, func(ls, le int) bool { _, ok := un.gate(data, ls, le); return ok })
	}
	t.Logf("%d findings, all on lines the gate passed; %d lines turned away", found, turned)
	if found < 600 || turned < 1000 {
		t.Fatal("too little compared")
	}
}

// A window the curl gate turns away holds no match of gitleaks' curl
// rules: random curl commands (flags, quotes, headers, users, blank lines
// between the word and the flag, near misses) are run through each rule
// and the gate must pass every text a rule finds something in; and it
// turns most texts away.
func TestCurlGateMissesNoMatch(t *testing.T) {
	g, err := newGLDetector("", 0)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillerLines(t)
	r := rand.New(rand.NewPCG(31, uint64(len(filler))))
	ctx := context.Background()
	for _, id := range []string{"curl-auth-header", "curl-auth-user"} {
		u, ok := g.unitOf[id]
		if !ok {
			t.Fatalf("no %s unit", id)
		}
		un := g.unit(u)
		if un.textGate == nil {
			t.Fatalf("%s has no text gate", id)
		}
		found, turned := 0, 0
		for trial := 0; trial < 20000; trial++ {
			var b strings.Builder
			for k := 0; k < 1+r.IntN(2); k++ {
				b.WriteString(filler[r.IntN(len(filler))] + "\n")
				b.WriteString([]string{"curl", "curl", "Curl", "xcurl", "curl_", "$ curl"}[r.IntN(6)])
				b.WriteString(pick(r, " \t-Lsk", r.IntN(8)))
				for n := r.IntN(4); n > 0; n-- {
					l := filler[r.IntN(len(filler))]
					b.WriteString(pick(r, "\n\r \\", 1+r.IntN(3)) + l[:r.IntN(min(10, len(l)))])
				}
				b.WriteString(pick(r, " \t\n\r", 1))
				flags := []string{"-H", "--header", "-h", "--head"}
				if id == "curl-auth-user" {
					flags = []string{"-u", "--user", "-U", "--use"}
				}
				b.WriteString(flags[r.IntN(len(flags))])
				b.WriteString([]string{"", " ", "=", "  ", "\t", "      ", " = "}[r.IntN(7)])
				q := []string{`"`, `'`, ``, `(`}[r.IntN(4)]
				b.WriteString(q)
				b.WriteString([]string{"Authorization: Bearer ", "authorization: basic ", "Authorization: ", "X-Api-Key: ", "x-auth-token:", "Token: ", "Key:", "Content-Type: ", "admin:", "user:", ":", "api-", "", "Accept: "}[r.IntN(14)])
				b.WriteString(pick(r, "abcdefXYZ0123456789+/=_.-", 2+r.IntN(16)))
				if r.IntN(3) == 0 {
					b.WriteString(pick(r, ":@$", 1) + pick(r, "abcdefXYZ0123456789", r.IntN(8)))
				}
				if r.IntN(4) != 0 {
					b.WriteString(q)
				}
				b.WriteString(pick(r, `"' `+"\n", r.IntN(3)))
			}
			text := b.String()
			n := 0
			for _, f := range glDetect(ctx, un.plain.get(), "", text, 1) {
				if f.RuleID == id {
					n++
				}
			}
			pass := un.textGate([]byte(text))
			if n > 0 {
				found++
				if !pass {
					t.Fatalf("%s: trial %d: the gate turns away a text holding %d matches", id, trial, n)
				}
			}
			if !pass {
				turned++
			}
		}
		t.Logf("%s: %d texts with matches, all passed; %d of 20000 turned away", id, found, turned)
		if found < 200 || turned < 5000 {
			t.Fatalf("%s: too little compared", id)
		}
	}
}

// The twilio and Kubernetes Secret gates pass every text their rule
// matches in: random text around near misses (lower-case "sk", short or
// non-hex keys; Secret manifests with the kind or data missing, quoted,
// in other cases, in either order).
func TestTwilioAndSecretGatesMissNoMatch(t *testing.T) {
	g, err := newGLDetector("", 0)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(43, 47))
	ctx := context.Background()
	type gated struct {
		id, path string
		make     func() string
		pass     func(un *glUnit, text string) bool
	}
	hexish := "0123456789abcdefABCDEFgxz"
	cases := []gated{
		{"twilio-api-key", "", func() string {
			return pick(r, "ab ", r.IntN(6)) + []string{"SK", "SK", "sk", "Sk", "TASK", "S K"}[r.IntN(6)] + pick(r, []string{"0123456789abcdefABCDEF", hexish}[r.IntN(2)], 28+r.IntN(8)) + pick(r, " \n", 1)
		}, func(un *glUnit, text string) bool {
			for ls := 0; ls < len(text); {
				le := strings.IndexByte(text[ls:], '\n')
				if le < 0 {
					le = len(text)
				} else {
					le += ls
				}
				if _, ok := un.gate([]byte(text), ls, le); ok {
					return true
				}
				ls = le + 1
			}
			return false
		}},
		{"kubernetes-secret-yaml", "x.yaml", func() string {
			kind := []string{"kind: Secret", "Kind: 'secret'", "kind:\t\"Secret\"", "kind: ConfigMap", "kind: secrets", "kind:Secret", "KIND: SECRET"}[r.IntN(7)]
			data := []string{"data:", "DATA:", "stringData:", "metadata:", "data :"}[r.IntN(5)]
			entry := "\n  " + pick(r, "abc.-_", 1+r.IntN(8)) + ": " + pick(r, "abcdefXYZ0123456789+/", 6+r.IntN(20)) + "\n"
			parts := []string{kind + "\n", data + entry}
			if r.IntN(2) == 0 {
				parts[0], parts[1] = parts[1], parts[0]
			}
			return "apiVersion: v1\n" + parts[0] + pick(r, "ab \n", r.IntN(40)) + parts[1]
		}, func(un *glUnit, text string) bool { return un.textGate([]byte(text)) }},
	}
	for _, c := range cases {
		un := g.unit(g.unitOf[c.id])
		found, turned := 0, 0
		for trial := 0; trial < 4000; trial++ {
			text := c.make()
			n := 0
			for _, f := range glDetect(ctx, un.plain.get(), c.path, text, 1) {
				if f.RuleID == c.id {
					n++
				}
			}
			pass := c.pass(un, text)
			if n > 0 && !pass {
				t.Fatalf("%s: trial %d: the gate turns away a text holding %d matches", c.id, trial, n)
			}
			if n > 0 {
				found++
			}
			if !pass {
				turned++
			}
		}
		t.Logf("%s: %d texts with matches, all passed; %d of 4000 turned away", c.id, found, turned)
		if found < 200 || turned < 1000 {
			t.Fatalf("%s: too little compared", c.id)
		}
	}
}
