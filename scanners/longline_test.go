package scanners

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// fillerLines are real source lines, to build long lines from.
func fillerLines(t *testing.T) []string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(root)), "src", "net", "http", "*.go"))
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
		t.Skip("Go's source tree is not here")
	}
	return out
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
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	hex := func(n int) string { return pick("0123456789abcdef", n) }
	alnum := func(n int) string { return pick("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n) }
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
		g.kw.each([]byte(line), func(units []int) bool {
			woken = append(woken, units...)
			return false
		})
		for _, u := range woken {
			un := &g.units[u]
			if un.anchors == nil {
				continue
			}
			win, ok := longLineWindows(ctx, un, "", []byte(line), 1)
			if !ok {
				fellBack++
				continue
			}
			compared++
			whole := glDetect(ctx, un.d, "", line, 1)
			var a, bb []string
			for _, f := range whole {
				a = append(a, fmt.Sprintf("%s@%d.%d %x", f.RuleID, f.StartLine, f.StartColumn, sha256.Sum256([]byte(f.Secret))))
			}
			for _, f := range win {
				bb = append(bb, fmt.Sprintf("%s@%d.%d %x", f.RuleID, f.StartLine, f.StartColumn, sha256.Sum256([]byte(f.Secret))))
			}
			matches += len(whole)
			sort.Strings(a)
			sort.Strings(bb)
			if strings.Join(a, " ") != strings.Join(bb, " ") {
				t.Fatalf("trial %d, unit %d: windows found %v, the whole line %v", trial, u, bb, a)
			}
		}
	}
	t.Logf("%d unit runs compared (%d findings), %d fell back to the whole line", compared, matches, fellBack)
	if compared == 0 || matches < 100 {
		t.Fatal("too little compared")
	}
}
