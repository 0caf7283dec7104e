package dir_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/dir"
	"github.com/credscan/credscan/scanners/engine"
)

func newEngine(t testing.TB, rules engine.RuleSet) *engine.Engine {
	t.Helper()
	fp, err := credscan.NewFingerprinter([]byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Rules: rules, Fingerprinter: fp, MaxDecodeDepth: 5})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func scan(t testing.TB, e *engine.Engine, roots []string, opts ...dir.Option) *engine.Results {
	t.Helper()
	src, err := dir.New(roots, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return scantest.Scan(t, e, src)
}

// filler is real-looking text with no credential.
func filler(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "func handler%d(w http.ResponseWriter, r *http.Request) { log.Printf(\"served %%d\", %d) }\n", i, i)
	}
	return b.Bytes()
}

func TestSecretAcrossEveryChunkBoundary(t *testing.T) {
	e := newEngine(t, engine.RulesDB)
	secretLine := "DATABASE_URL=postgres://arp_app:Bnd9ryPw77@arp-db/arp\n"
	const chunk = 4096
	// slide the secret line across the first chunk boundary byte by byte
	for shift := chunk - len(secretLine) - 2; shift <= chunk+2; shift += 7 {
		d := t.TempDir()
		pre := filler(shift)[:shift]
		if i := bytes.LastIndexByte(pre, '\n'); i >= 0 {
			pre = pre[:i+1]
		}
		content := append(append(append([]byte{}, pre...), secretLine...), filler(3*chunk)...)
		if err := os.WriteFile(filepath.Join(d, "big.txt"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		res := scan(t, e, []string{d}, dir.WithChunking(chunk, 512, 0))
		if len(res.Findings) != 1 {
			t.Fatalf("shift %d: %d findings, want 1", shift, len(res.Findings))
		}
		wantLine := bytes.Count(pre, []byte{'\n'}) + 1
		if got := res.Findings[0].Origin.Line; got != wantLine {
			t.Fatalf("shift %d: line %d, want %d", shift, got, wantLine)
		}
	}
}

func TestLargeFileIsStreamedWithExactLines(t *testing.T) {
	e := newEngine(t, engine.RulesDB)
	d := t.TempDir()
	f, err := os.Create(filepath.Join(d, "huge.log"))
	if err != nil {
		t.Fatal(err)
	}
	block := filler(1 << 20)
	lines := 0
	for i := 0; i < 24; i++ { // ~24 MiB, past the whole-file limit
		f.Write(block)
		lines += bytes.Count(block, []byte{'\n'})
	}
	fmt.Fprintf(f, "export PGPASSWORD=Str3amPw99\n")
	f.Close()
	res := scan(t, e, []string{d})
	if len(res.Findings) != 1 || res.Findings[0].Origin.Line != lines+1 {
		t.Fatalf("findings %d, want 1 at line %d", len(res.Findings), lines+1)
	}
}

func TestBadInputDoesNotStopTheScan(t *testing.T) {
	e := newEngine(t, engine.RulesAll)
	d := t.TempDir()
	write := func(name string, b []byte) {
		p := filepath.Join(d, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/app.bin", append([]byte("ELF\x00\x01\x02"), []byte("PGPASSWORD=Bin4ryPw9\n")...))
	write("bad.yml", []byte("db:\n  password: Br0kenYaml9\n  user: [unclosed\n"))
	write("bad.json", []byte(`{"db": {"password": "Br0kenJs0n9", }`))
	write("bad.xml", []byte("<db>\n<password>Br0kenXml9</password>\n<b>"))
	write("long.txt", append(bytes.Repeat([]byte("x"), 3<<20), []byte(" postgres://u:L0ngL1ne9@db/arp\n")...))
	write("utf8.txt", []byte("\xff\xfe PGPASSWORD=Inv4lidUtf9\n"))
	write("ok/.env", []byte("PGPASSWORD=G00dPw99x\n"))
	if err := os.Symlink(d, filepath.Join(d, "loop")); err != nil {
		t.Fatal(err)
	}
	res := scan(t, e, []string{d})
	found := map[string]bool{}
	for _, f := range res.Findings {
		found[f.Origin.Path] = true
		if strings.Contains(f.Redacted, "Pw9") {
			t.Errorf("%s: redacted line holds the secret", f.Origin.Path)
		}
	}
	for _, p := range []string{"bad.yml", "bad.json", "bad.xml", "long.txt", "utf8.txt", "ok/.env"} {
		if !found[p] {
			t.Errorf("%s: not found", p)
		}
	}
	if found["bin/app.bin"] || res.Stats.Binary != 1 {
		t.Errorf("binary: found %v, stats %d", found["bin/app.bin"], res.Stats.Binary)
	}
	if len(res.Stats.Problems) < 2 {
		t.Errorf("problems %v: want the malformed YAML and XML named", res.Stats.Problems)
	}
}

func TestGitleaksFindingsHaveExactLines(t *testing.T) {
	e := newEngine(t, engine.RulesGitleaks)
	d := t.TempDir()
	tok := "ghp_1aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3"
	os.WriteFile(filepath.Join(d, "first.txt"), []byte("token = \""+tok+"\"\nnext\n"), 0o644)
	os.WriteFile(filepath.Join(d, "third.txt"), []byte("a\nb\ntoken = \""+tok+"\"\n"), 0o644)
	res := scan(t, e, []string{d})
	want := map[string]int{"first.txt": 1, "third.txt": 3}
	for _, f := range res.Findings {
		if f.RuleID != "github-pat" {
			continue
		}
		if want[f.Origin.Path] != f.Origin.Line {
			t.Errorf("%s: line %d, want %d", f.Origin.Path, f.Origin.Line, want[f.Origin.Path])
		}
		if strings.Contains(f.Redacted, tok) {
			t.Errorf("%s: token in redacted line", f.Origin.Path)
		}
		delete(want, f.Origin.Path)
	}
	if len(want) != 0 {
		t.Errorf("not found: %v", want)
	}
}
