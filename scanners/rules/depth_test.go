package rules

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// deepDocs are documents nested far past MaxDepth, with a credential at
// the top that the line rules still find.
func deepDocs(depth int) map[string]string {
	const cred = "DATABASE_URL=postgres://arp_app:Qw7deepK9x2@arp-db.prod.internal/arp"
	return map[string]string{
		"deep.json": `{"url": "postgres://arp_app:Qw7deepK9x2@arp-db.prod.internal/arp", "password": "${DB_PASSWORD}", "x": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "}\n",
		"deep.xml":  "<a url=\"postgres://arp_app:Qw7deepK9x2@arp-db.prod.internal/arp\" password=\"${DB_PASSWORD}\">" + strings.Repeat("<b>", depth) + strings.Repeat("</b>", depth) + "</a>\n",
		// yaml.v3 stops at 10,000 levels itself; below that, ours
		"deep.yaml": "url: postgres://arp_app:Qw7deepK9x2@arp-db.prod.internal/arp\npassword: ${DB_PASSWORD} # from the environment\nx: " + strings.Repeat("[", min(depth, 9000)) + strings.Repeat("]", min(depth, 9000)) + "\n# " + cred + "\n",
	}
}

// A document nested deeper than MaxDepth is scanned line by line, with the
// limit reported, in memory linear in its size (each level of a walk used
// to hold its whole key path: 20,000 levels took over 400 MB).
func TestDeepDocumentsBounded(t *testing.T) {
	for name, doc := range deepDocs(20000) {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := scanText(t, name, doc)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("%d KB document: %d MB allocated", len(doc)>>10, alloc>>20)
			}
			found := false
			for _, c := range r.Candidates {
				if c.Secret == "Qw7deepK9x2" {
					found = true
				}
			}
			if !found {
				t.Error("the credential at the top was not found")
			}
			limit := false
			for _, p := range r.Problems {
				if strings.Contains(p.Error(), "nesting deeper than") {
					limit = true
				}
			}
			if !limit {
				t.Errorf("no problem reports the depth limit: %v", r.Problems)
			}
		})
	}
}

// A walk stops when its context is canceled.
func TestStructuredWalkCancels(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 200000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"password": "Qw7deepK9x2", "host": "arp-db.prod.internal"}`)
	}
	b.WriteString("]\n")
	f := &File{Path: "big.json", Format: FormatJSON, Data: []byte(b.String()), StartLine: 1, Whole: true}
	var l Lines
	l.Reset(f.Data)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var r Result
	start := time.Now()
	New(Options{}).Scan(ctx, f, &l, []int{0}, &r)
	if len(r.Candidates) >= 200000 {
		t.Errorf("a canceled walk went on to the end (%d candidates, %v)", len(r.Candidates), time.Since(start))
	}
}

// yaml.v3 does not expand aliases into a Node, and the walk skips them: a
// billion-laughs document costs what its text does.
func TestYAMLAliasBombBounded(t *testing.T) {
	doc := `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
password: Qw7deepK9x2
host: arp-db.prod.internal
database: arp
`
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := scanText(t, "bomb.yaml", doc)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("alias bomb: %d MB allocated", alloc>>20)
	}
	if len(r.Candidates) != 1 {
		t.Errorf("%d candidates, want the password", len(r.Candidates))
	}
}

// Lines whose lower case is not as long as they are (invalid UTF-8, 'İ',
// the Kelvin sign) do not crash the line rules: indexes found in the lower
// case are indexes into the line. (strings.ToLower panicked the scan.)
func TestLowerCaseKeepsIndexes(t *testing.T) {
	for _, line := range []string{
		"0\xda\xda\xda\xda\xdapAssword=",
		"00\xb8\xb8\xb8\xb8\xb8\xb80000000://",
		"\u212a\u212a\u212a password=Qw7kelK9x2 host=arp-db.prod.internal://x",
		"\u0130\u0130\u0130 url: jdbc:postgresql://arp-db.prod.internal/arp?password=Qw7turK9x2",
	} {
		for _, path := range []string{"a.properties", "a.toml", "a.txt", "a.go"} {
			scanText(t, path, line+"\n")
		}
	}
}
