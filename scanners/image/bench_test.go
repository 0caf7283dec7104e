package image

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// BenchmarkImage scans an OCI layout of four layers made of Go's net tree
// (real files, gzip layers), config included.
func BenchmarkImage(b *testing.B) {
	root := scantest.GoSrc(b, "net")
	var layers []v1.Layer
	var total int64
	for _, sub := range []string{"http", "netip", "smtp", "mail"} {
		files := map[string][]byte{}
		filepath.WalkDir(filepath.Join(root, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if data, err := os.ReadFile(p); err == nil {
					rel, _ := filepath.Rel(root, p)
					files["src/"+rel] = data
					total += int64(len(data))
				}
			}
			return nil
		})
		layers = append(layers, scantest.TarLayer(b, files))
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		b.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		b.Fatal(err)
	}
	fp, _ := credscan.NewFingerprinter([]byte("bench-key-0123456789"))
	for _, rs := range []engine.RuleSet{engine.RulesDB, engine.RulesAll} {
		b.Run(string(rs), func(b *testing.B) {
			e, err := engine.New(engine.Options{Rules: rs, Fingerprinter: fp})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total)
			for b.Loop() {
				s, _ := New([]string{"oci:" + dir}, Options{})
				res := engine.NewResults()
				if err := e.Scan(b.Context(), s, res); err != nil {
					b.Fatal(err)
				}
				res.Findings = s.Attribute(res.Findings)
				res.Finish()
			}
		})
	}
}
