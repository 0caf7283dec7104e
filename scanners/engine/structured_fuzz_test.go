package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// The structured walkers' fuzz targets. Each builds a document of its
// format whose password is written with escapes the fuzzer picks, between
// fixed markers, and checks that no finding's redacted line holds a
// marker or the decoded secret; then it scans the fuzzer's bytes as a
// document of the format and checks that memory stays linear in its size.
// Run one with: go test -run x -fuzz FuzzRedactJSON -fuzztime 60s ./scanners/

var fuzzMarkers = []string{"QmkA7", "ZrqB9", "WvxC3"}

// escaper writes one rune of a password inside a value of a format, in
// one of its ways picked by k.
type escaper func(r rune, k byte) string

// fuzzFormat is a format's document around an escaped password.
type fuzzFormat struct {
	path   string
	doc    func(pw string) string
	escape escaper
}

var fuzzFormats = map[string]fuzzFormat{
	"json": {"db/config.json",
		func(pw string) string {
			return "{\n  \"database\": {\n    \"host\": \"arp-db.prod.internal\",\n    \"user\": \"arp_app\",\n    \"password\": \"" + pw + "\"\n  }\n}\n"
		},
		func(r rune, k byte) string {
			switch {
			case k%4 == 0 || r < 0x20 || r == '"' || r == '\\':
				if r > 0xffff {
					hi, lo := utf16Pair(r)
					return fmt.Sprintf(`\u%04x\u%04x`, hi, lo)
				}
				return fmt.Sprintf(`\u%04x`, r)
			case k%4 == 1 && r == '/':
				return `\/`
			}
			return string(r)
		}},
	"yaml": {"db/config.yml",
		func(pw string) string {
			return "database:\n  host: arp-db.prod.internal\n  user: arp_app\n  password: \"" + pw + "\"\n  port: 5432\n"
		},
		func(r rune, k byte) string {
			switch {
			case r == '"' || r == '\\' || r < 0x20 || r == 0x7f || k%5 == 0:
				if r <= 0xff && k%2 == 0 {
					return fmt.Sprintf(`\x%02x`, r)
				}
				if r > 0xffff {
					return fmt.Sprintf(`\U%08x`, r)
				}
				return fmt.Sprintf(`\u%04x`, r)
			case k%5 == 1:
				return "\\\n      " + string(r) // an escaped line break: nothing
			}
			return string(r)
		}},
	"yaml-single": {"db/single.yaml",
		func(pw string) string {
			return "database:\n  host: arp-db.prod.internal\n  user: arp_app\n  password: '" + pw + "'\n  port: 5432\n"
		},
		func(r rune, k byte) string {
			if r == '\'' {
				return "''"
			}
			return string(r)
		}},
	"xml": {"db/hibernate.cfg.xml",
		func(pw string) string {
			return "<session-factory>\n  <property name=\"hibernate.connection.url\">jdbc:postgresql://arp-db.prod.internal/arp</property>\n  <property name=\"hibernate.connection.username\">arp_app</property>\n  <property name=\"hibernate.connection.password\">" + pw + "</property>\n  <add key=\"DbPassword\" value=\"" + pw + "\"/>\n</session-factory>\n"
		},
		func(r rune, k byte) string {
			switch {
			case r == '&', r == '<', r == '>', r == '"', r == '\'', k%3 == 0:
				if k%2 == 0 {
					return fmt.Sprintf("&#%d;", r)
				}
				return fmt.Sprintf("&#x%x;", r)
			}
			return string(r)
		}},
	"properties": {"db/application.properties",
		func(pw string) string {
			return "spring.datasource.url=jdbc:postgresql://arp-db.prod.internal:5432/arp\nspring.datasource.username=arp_app\nspring.datasource.password=" + pw + "\nspring.jpa.open-in-view=false\n"
		},
		func(r rune, k byte) string {
			switch {
			case r == '\\' || r == '=' || r == ':' || r == '#' || r == '!' || r == ' ':
				return `\` + string(r)
			case r > 0x7e || r < 0x20 || k%4 == 0:
				if r > 0xffff {
					hi, lo := utf16Pair(r)
					return fmt.Sprintf(`\u%04x\u%04x`, hi, lo)
				}
				return fmt.Sprintf(`\u%04x`, r)
			case k%4 == 1:
				return "\\\n    " + string(r) // a continuation line
			}
			return string(r)
		}},
	"toml": {"db/config.toml",
		func(pw string) string {
			return "[database]\nhost = \"arp-db.prod.internal\"\nuser = \"arp_app\"\npassword = \"" + pw + "\"\nport = 5432\n"
		},
		func(r rune, k byte) string {
			switch {
			case r == '"' || r == '\\' || r < 0x20 || k%3 == 0:
				if r > 0xffff {
					return fmt.Sprintf(`\U%08x`, r)
				}
				return fmt.Sprintf(`\u%04x`, r)
			}
			return string(r)
		}},
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// passwordFrom builds a password from the fuzzer's bytes: the markers
// with runes between them, and the password as the format writes it.
func passwordFrom(chars, ways []byte, esc escaper) (decoded, written string) {
	var d, w strings.Builder
	runes := []rune(strings.ToValidUTF8(string(chars), ""))
	per := len(runes)/len(fuzzMarkers) + 1
	for i, m := range fuzzMarkers {
		d.WriteString(m)
		w.WriteString(m)
		for j := i * per; j < min(len(runes), (i+1)*per); j++ {
			r := runes[j]
			if r == '\n' || r == '\r' || r == 0 || r == utf8.RuneError {
				continue
			}
			k := byte(j)
			if len(ways) > 0 {
				k = ways[j%len(ways)]
			}
			d.WriteRune(r)
			w.WriteString(esc(r, k))
		}
	}
	return d.String(), w.String()
}

func fuzzRedaction(f *testing.F, name string) {
	ff := fuzzFormats[name]
	f.Add([]byte(`a"b\c/d`), []byte{0, 1, 2, 3}, []byte("password: x\n"))
	f.Add([]byte("é\t'&<>=:#! ü日本😀"), []byte{5, 4, 3, 2, 1, 0}, []byte(ff.doc("plain")))
	f.Add([]byte("$${VAR}%40%3A"), []byte{}, []byte("{"))
	e := scantest.Engine(f, "")
	f.Fuzz(func(t *testing.T, chars, ways, doc []byte) {
		if len(chars) > 256 || len(doc) > 64<<10 {
			return
		}
		decoded, written := passwordFrom(chars, ways, ff.escape)
		scan := func(data []byte) []*credscan.Finding {
			res := engine.NewResults()
			e.ScanChunk(context.Background(), credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: ff.path}, Data: data, StartLine: 1, Whole: true}, res)
			return res.Findings
		}
		for _, fd := range scan([]byte(ff.doc(written))) {
			for i, m := range fuzzMarkers {
				if strings.Contains(fd.Redacted, m) {
					t.Fatalf("%s %s:%d: marker #%d in the redacted line %q (password as written %q)", fd.RuleID, fd.Origin.Path, fd.Origin.Line, i, fd.Redacted, written)
				}
			}
			if len(decoded) >= 4 && strings.Contains(fd.Redacted, decoded) {
				t.Fatalf("%s: the decoded secret in the redacted line", fd.RuleID)
			}
		}
		// the fuzzer's bytes as a document: memory linear in its size
		if containsMarker(doc) {
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		scan(doc)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(400*len(doc))+16<<20 {
			t.Fatalf("%d-byte document: %d MB allocated", len(doc), alloc>>20)
		}
	})
}

func containsMarker(b []byte) bool {
	for _, m := range fuzzMarkers {
		if strings.Contains(string(b), m) {
			return true
		}
	}
	return false
}

func FuzzRedactJSON(f *testing.F)       { fuzzRedaction(f, "json") }
func FuzzRedactYAML(f *testing.F)       { fuzzRedaction(f, "yaml") }
func FuzzRedactYAMLSingle(f *testing.F) { fuzzRedaction(f, "yaml-single") }
func FuzzRedactXML(f *testing.F)        { fuzzRedaction(f, "xml") }
func FuzzRedactProperties(f *testing.F) { fuzzRedaction(f, "properties") }
func FuzzRedactTOML(f *testing.F)       { fuzzRedaction(f, "toml") }

// The fuzz targets' documents are found: a password of every format with
// escapes yields a finding (so the redaction check is not vacuous).
func TestFuzzDocumentsAreFound(t *testing.T) {
	e := scantest.Engine(t, "")
	for name, ff := range fuzzFormats {
		_, written := passwordFrom([]byte(`a"b\c/d é&<'=:日😀`), []byte{0, 1, 2, 3, 4, 5, 6}, ff.escape)
		res := engine.NewResults()
		e.ScanChunk(context.Background(), credscan.Chunk{Origin: credscan.Origin{Kind: credscan.KindDir, Path: ff.path}, Data: []byte(ff.doc(written)), StartLine: 1, Whole: true}, res)
		if len(res.Findings) == 0 {
			t.Errorf("%s: no finding in\n%s", name, ff.doc(written))
		}
	}
}
