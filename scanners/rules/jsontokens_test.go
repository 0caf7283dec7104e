package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fast JSON tokenizer reads what it accepts exactly as encoding/json
// does (the same entries, at the same lines), and accepts the well-formed
// text it is given: real JSON files, random documents (escapes, non-ASCII,
// numbers, empty keys, several values in a row) and random corruptions of
// them, which it must turn down whenever encoding/json does.
func TestJSONTokensAgree(t *testing.T) {
	var docs [][]byte
	if root, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		files, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(root)), "src", "*", "*", "testdata", "*.json"))
		more, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(root)), "src", "*", "testdata", "*.json"))
		for _, f := range append(files, more...) {
			if b, err := os.ReadFile(f); err == nil {
				docs = append(docs, b)
			}
		}
	}
	r := rand.New(rand.NewPCG(23, 5))
	strs := []string{"", "password", "db", "pass\\\"word", "h\\u00e9llo", "\\ud83d\\ude00", "caf\xc3\xa9", "bad\xff", "a\\/b", "tab\\t", "x\\u0000y", "postgres://u:p@h/d"}
	var gen func(depth int) string
	gen = func(depth int) string {
		switch k := r.IntN(9); {
		case k < 2 && depth < 6:
			var parts []string
			for range r.IntN(5) {
				parts = append(parts, `"`+strs[r.IntN(len(strs))]+`"`+pick(r, []string{"", " ", "\n"})+":"+pick(r, []string{"", " ", "\n\t"})+gen(depth+1))
			}
			return "{" + strings.Join(parts, ","+pick(r, []string{"", "\n", " "})) + "}"
		case k < 4 && depth < 6:
			var parts []string
			for range r.IntN(5) {
				parts = append(parts, gen(depth+1))
			}
			return "[" + strings.Join(parts, ", ") + "]"
		case k == 4:
			return pick(r, []string{"0", "-0", "12", "-3.5", "1e9", "2.5E-3", "0.0", "123456789012345678901234567890"})
		case k == 5:
			return pick(r, []string{"true", "false", "null"})
		}
		return `"` + strs[r.IntN(len(strs))] + `"`
	}
	for range 3000 {
		doc := gen(0)
		if r.IntN(4) == 0 {
			doc += pick(r, []string{" ", "\n", ""}) + gen(0) // a stream of values
		}
		docs = append(docs, []byte(doc))
	}
	n := len(docs)
	for i := range 6000 { // corruptions
		d := append([]byte(nil), docs[i%n]...)
		if len(d) == 0 {
			continue
		}
		switch p := r.IntN(len(d)); r.IntN(4) {
		case 0:
			d = d[:p]
		case 1:
			d[p] = "{}[]:,\"\\x0 \n"[r.IntN(12)]
		case 2:
			d = append(d[:p], d[p+1:]...)
		default:
			d = append(d[:p], append([]byte{"{}[]:,\"1e-"[r.IntN(10)]}, d[p:]...)...)
		}
		docs = append(docs, d)
	}
	fast, agreedErr := 0, 0
	for i, d := range docs {
		var lines Lines
		lines.Reset(d)
		f := &File{Path: "x.json", Format: FormatJSON, Data: d, StartLine: 1, Whole: true}
		dec := json.NewDecoder(bytes.NewReader(d))
		dec.UseNumber()
		want, werr := jsonWalk(context.Background(), f, &lines, dec)
		got, gerr := jsonWalk(context.Background(), f, &lines, newJSONTokens(d))
		if gerr != nil {
			if werr != nil {
				agreedErr++
			}
			continue
		}
		fast++
		if werr != nil {
			t.Fatalf("document %d (%d bytes): the fast tokenizer accepts what encoding/json turns down (%v)", i, len(d), werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("document %d: %d entries, encoding/json %d; they differ", i, len(got), len(want))
		}
	}
	t.Logf("%d documents: %d read by the fast tokenizer, %d turned down by both", len(docs), fast, agreedErr)
	if fast < 3000 || agreedErr < 1000 {
		t.Fatal("too little compared")
	}
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
