package rules

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Differential: on real structured files (Go's source tree: JSON, YAML,
// XML, properties, TOML; the escape corpus and every rule test's
// documents), skipping the structural parse of documents mayAssemble
// passes over finds exactly what parsing every document finds.
func TestMayAssembleLosesNothing(t *testing.T) {
	var docs []struct{ path, data string }
	goroot, _ := exec.Command("go", "env", "GOROOT").Output()
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= 3000 {
			return nil
		}
		if DetectFormat(p).Structured() {
			if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
				docs = append(docs, struct{ path, data string }{p, string(b)})
				n++
			}
		}
		return nil
	})
	// documents that hold credentials in every structured shape the tests use
	for _, c := range []string{
		"application.yml|spring:\n  datasource:\n    url: jdbc:postgresql://arp-db:5432/arp\n    username: arp_app\n    password: \"Spr1ngY4ml\"\n",
		"ormconfig.json|{\"type\": \"postgres\", \"host\": \"arp-db\", \"username\": \"orm\", \"password\": \"T0rmPw9x\"}",
		"app.json|{\"url\": \"postgres:\\/\\/app:Esc4ped9@arp-db\\/arp\"}",
		"context.xml|<Resource url=\"jdbc:mysql://h/d?user=u&amp;password=Xm1Ent9x\"/>",
		"deploy.yaml|env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: arp\n",
		"values.yaml|db:\n  url: >\n    postgres://app:F0lded9x@arp-db/arp\n",
		"robo3t.json|{\"connections\": [{\"serverHost\": \"mongo1\", \"credentials\": [{\"userName\": \"robo\", \"userPassword\": \"Robo3tPw9\"}]}]}",
		"my.cnf|[client]\nuser=u\npassword=MyCnfPw9x\n",
	} {
		p, d, _ := strings.Cut(c, "|")
		docs = append(docs, struct{ path, data string }{p, d})
	}
	if n == 0 {
		t.Log("no Go source tree: the fixtures only")
	}
	compared := 0
	for _, d := range docs {
		parseAlways = false
		fast := scanText(t, d.path, d.data)
		parseAlways = true
		full := scanText(t, d.path, d.data)
		parseAlways = false
		if a, b := fmt.Sprint(fast.Candidates, fast.References), fmt.Sprint(full.Candidates, full.References); a != b {
			t.Errorf("%s: skipping the parse changes what is found (%d candidates and %d references against %d and %d)",
				d.path, len(fast.Candidates), len(fast.References), len(full.Candidates), len(full.References))
		}
		compared++
	}
	t.Logf("%d documents compared", compared)
}

// endsInPasswordWord's two-letter gate turns away only what the words
// themselves would: it agrees with trying every word.
func TestPasswordWordGate(t *testing.T) {
	every := endsInWord
	pieces := []string{"pass", "PASS", "word", "Word", "wd", "WD", "pw", "Pw", "d", "s", "db", "DB", "secret", "Secret", "phrase", "PHRASE", "_", "-", ".", "x", "a", "e", "t", "r", "sw", "ps"}
	r := rand.New(rand.NewPCG(3, 3))
	hits := 0
	for range 200000 {
		var b []byte
		for range 1 + r.IntN(5) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		want := every(b)
		if got := endsInPasswordWord(b); got != want {
			t.Fatalf("%q: %v, every word says %v", b, got, want)
		}
		if want {
			hits++
		}
	}
	if hits < 1000 {
		t.Fatalf("only %d password words made", hits)
	}
}
