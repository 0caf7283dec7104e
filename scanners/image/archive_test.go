package image

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/credscan/credscan/internal/leakcheck"
)

// dropMember copies the tar at src to dst without the members whose
// names have the suffix.
func dropMember(t *testing.T, src, dst, suffix string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, suffix) {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// A docker-archive whose first or last layer file is missing: the missing
// layer is named (an item error), and the config and every other layer are
// scanned. (With the last missing nothing was reported; with the first,
// every other layer and the config were dropped.)
func TestDockerArchiveMissingLayer(t *testing.T) {
	img, _, p := testImage(t)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.tar")
	ref, _ := name.ParseReference("example.com/app:1")
	if err := tarball.WriteToFile(full, ref, img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	for _, c := range []struct {
		name  string
		index int
		want  []string // paths still found
	}{
		{"first", 0, []string{"root/.pgpass", "config/Env.env"}},
		{"last", len(layers) - 1, []string{"app/config/application.properties", "root/.pgpass", "config/Env.env"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, _ := layers[c.index].Digest()
			broken := filepath.Join(dir, c.name+".tar")
			dropMember(t, full, broken, d.Hex+".tar.gz")
			res := scanImages(t, []string{"docker-archive:" + broken}, Options{})
			for _, w := range c.want {
				if len(findAt(res, "docker-archive:", w)) == 0 {
					t.Errorf("%s: not found (errors %v)", w, res.Errors)
				}
			}
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), d.String()) {
				t.Errorf("want one error naming layer %s, got %v", d, res.Errors)
			}
			leakcheck.AssertNone(t, "errors", []byte(res.Errors[0].Error()), p.env, p.props, p.jarPw, p.pgpass)
		})
	}
}
