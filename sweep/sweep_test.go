package sweep

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestMatcherMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var secrets []string
	for i := 0; i < 1000; i++ {
		secrets = append(secrets, randomSecret(rng, 16))
	}
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	m, _ := New(secrets)
	runtime.GC()
	runtime.ReadMemStats(&b)
	if grew := int64(b.HeapAlloc) - int64(a.HeapAlloc); grew > 32<<20 {
		t.Fatalf("a matcher of %d patterns holds %d MB", m.Len(), grew>>20)
	}
	runtime.KeepAlive(m)
}

func found(m *Matcher, data []byte) map[string]int {
	out := map[string]int{}
	m.Find(data, func(h Hit) { out[h.Encoding]++ })
	return out
}

// Every encoding of a secret is found inside other bytes, base64 at each
// alignment inside a longer encoded blob.
func TestEveryEncodingFound(t *testing.T) {
	const secret = `hT8#k/q2@Zx!"$'`
	m, skipped := New([]string{secret, "short"})
	if len(skipped) != 1 || skipped[0] != 1 {
		t.Fatalf("skipped %v, want the 5-byte secret", skipped)
	}
	cases := map[string][]byte{
		Plain:       []byte("\x00\x01binary " + secret + " \xff"),
		Percent:     []byte("postgres://u:" + url.QueryEscape(secret) + "@h/db"),
		Hex:         []byte("x'" + hex.EncodeToString([]byte(secret)) + "'"),
		JSONEscape:  []byte(`{"pw": "hT8#k/q2@Zx!\"$'"}`),
		XMLEscape:   []byte(`<pw>hT8#k/q2@Zx!&quot;$&apos;</pw>`),
		ShellEscape: []byte(`export PW="hT8#k/q2@Zx!\"\$'"`),
	}
	for enc, data := range cases {
		if got := found(m, data); got[enc] == 0 {
			t.Errorf("%s: not found (found %v)", enc, got)
		}
	}
	for a := 0; a < 3; a++ {
		for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			blob := e.EncodeToString([]byte(strings.Repeat("k", a) + "user=arp password=" + secret + " end"))
			got := found(m, []byte("data: "+blob+"\n"))
			if got[Base64]+got[Base64URL] == 0 {
				t.Errorf("base64 alignment %d: not found", a)
			}
		}
	}
}

// Nothing is found where the secret is not: random and real bytes.
func TestNoFalseHits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var secrets []string
	for i := 0; i < 100; i++ {
		secrets = append(secrets, randomSecret(rng, 16))
	}
	m, _ := New(secrets)
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	n := 0
	m.Find(data, func(Hit) { n++ })
	if n != 0 {
		t.Fatalf("%d hits in random bytes", n)
	}
}

// The plaintext never leaves memory: the matcher's printed form holds
// no secret.
func TestMatcherPrintsNoSecret(t *testing.T) {
	const secret = "Qz7vN3kWp9RtX2mL"
	m, _ := New([]string{secret})
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%+v", *m), fmt.Sprintf("%#v", m)} {
		if strings.Contains(s, secret) {
			t.Fatal("the matcher prints its secret")
		}
	}
}

func randomSecret(rng *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&*+-=?@^_"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

// BenchmarkFind measures the sweep's throughput with 1 and 100 secrets
// over real text (the Go source tree) and compressed bytes: its cost
// must not grow with the number of secrets.
func BenchmarkFind(b *testing.B) {
	corpus := goSources(b, 32<<20)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(corpus[:8<<20])
	w.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 100} {
		var secrets []string
		for i := 0; i < n; i++ {
			secrets = append(secrets, randomSecret(rng, 16))
		}
		m, _ := New(secrets)
		for _, c := range []struct {
			name string
			data []byte
		}{{"go-source", corpus}, {"gzip", gz.Bytes()}} {
			b.Run(fmt.Sprintf("secrets=%d/%s", n, c.name), func(b *testing.B) {
				b.SetBytes(int64(len(c.data)))
				for b.Loop() {
					m.Find(c.data, func(Hit) {})
				}
			})
		}
	}
}

// goSources reads up to max bytes of .go files of the Go source tree.
func goSources(b *testing.B, max int) []byte {
	root := filepath.Join(os.Getenv("GOROOT"), "src")
	if os.Getenv("GOROOT") == "" {
		root = "/usr/local/go/src"
	}
	var buf bytes.Buffer
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || buf.Len() >= max {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			data, _ := os.ReadFile(p)
			buf.Write(data)
		}
		return nil
	})
	if buf.Len() == 0 {
		b.Skip("no Go source tree")
	}
	return buf.Bytes()
}

// The sampled index loses nothing and finds nothing twice: planted
// copies, at any offset including the first and last bytes, are found
// exactly as a brute-force search finds them.
func TestIndexAgreesWithBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		var secrets []string
		for i := 0; i < 1+rng.IntN(20); i++ {
			secrets = append(secrets, randomSecret(rng, MinLen+rng.IntN(20)))
		}
		m, _ := New(secrets)
		data := make([]byte, rng.IntN(4096))
		for i := range data {
			data[i] = "abc =:\"'\n%+/"[rng.IntN(12)]
		}
		for k := 0; k < 5; k++ {
			enc := Encode(secrets[rng.IntN(len(secrets))])
			e := enc[rng.IntN(len(enc))].Text
			at := rng.IntN(len(data) + 1)
			switch k {
			case 0:
				at = 0
			case 1:
				at = len(data)
			}
			data = append(data[:at], append([]byte(e), data[at:]...)...)
		}
		var want, got []Hit
		for _, p := range m.pats { // every occurrence, by brute force
			for off := 0; ; {
				k := bytes.Index(data[off:], p.text)
				if k < 0 {
					break
				}
				want = append(want, Hit{Secret: p.secret, Encoding: p.enc, Start: off + k, End: off + k + len(p.text)})
				off += k + 1
			}
		}
		m.Find(data, func(h Hit) { got = append(got, h) })
		Sorted(want)
		Sorted(got)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Fatalf("round %d: the index found %d hits, brute force %d", round, len(got), len(want))
		}
		if len(got) < 2 { // a plant may land inside another and break it, not the first and the last
			t.Fatalf("round %d: %d hits for 5 planted", round, len(got))
		}
	}
}

func TestWordlike(t *testing.T) {
	for s, want := range map[string]bool{
		"hashicorp": true, "Cassandra": true, "12345678": true, "password": true,
		"hunter2": false, "S3cr3t-Arp!": false, "p@ssword": false, "pass word": false, "": true,
	} {
		if got := Wordlike(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
}
