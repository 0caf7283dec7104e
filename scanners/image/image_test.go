package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/scanners/engine"
)

// ociLayout writes the image to an OCI layout
// directory and returns it.
func ociLayout(t testing.TB, img v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tarLayer(t testing.TB, files map[string][]byte) v1.Layer { return scantest.TarLayer(t, files) }

func jar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, c := range files {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(c))
	}
	zw.Close()
	return buf.Bytes()
}

type planted struct {
	env, props, jarPw, pgpass string
}

// testImage has: an ENV PGPASSWORD in its config and history, a Spring
// properties file and a jar holding one in layer 0, a .pgpass in layer 1
// that layer 2 deletes.
func testImage(t *testing.T) (v1.Image, v1.Layer, planted) {
	t.Helper()
	p := planted{env: leakcheck.Secret(t), props: leakcheck.Secret(t), jarPw: leakcheck.Secret(t), pgpass: leakcheck.Secret(t)}
	base := tarLayer(t, map[string][]byte{
		"app/config/application.properties": []byte("spring.datasource.url=jdbc:postgresql://arp-db.prod.internal:5432/arp\nspring.datasource.username=arp_app\nspring.datasource.password=" + p.props + "\n"),
		"app/app.jar":                       jar(t, map[string]string{"BOOT-INF/classes/application.properties": "spring.datasource.url=jdbc:postgresql://arp-db.prod.internal/arp\nspring.datasource.username=arp_app\nspring.datasource.password=" + p.jarPw + "\n"}),
	})
	pg := tarLayer(t, map[string][]byte{"root/.pgpass": []byte("arp-db.prod.internal:5432:arp:arp_backup:" + p.pgpass + "\n")})
	wh := tarLayer(t, map[string][]byte{"root/.wh..pgpass": nil})
	img, err := mutate.AppendLayers(empty.Image, base, pg, wh)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Env = []string{"PATH=/usr/bin", "PGHOST=arp-db.prod.internal", "PGUSER=arp_app", "PGPASSWORD=" + p.env}
	cf.History = []v1.History{{CreatedBy: "/bin/sh -c #(nop)  ENV PGPASSWORD=" + p.env}, {CreatedBy: "COPY app /app # buildkit"}, {CreatedBy: "RUN /bin/sh -c rm /root/.pgpass # buildkit"}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img, base, p
}

func scanImages(t *testing.T, refs []string, o Options) *engine.Results {
	t.Helper()
	e := scantest.Engine(t, "")
	s, err := New(refs, o)
	if err != nil {
		t.Fatal(err)
	}
	res := engine.NewResults()
	if err := e.Scan(context.Background(), s, res); err != nil {
		t.Fatal(err)
	}
	res.Findings = s.Attribute(res.Findings)
	res.Finish()
	return res
}

func findAt(res *engine.Results, target, path string) []*credscan.Finding {
	var out []*credscan.Finding
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Origin.Target, target) && f.Origin.Path == path {
			out = append(out, f)
		}
	}
	return out
}

func TestRegistryImage(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	img, base, p := testImage(t)
	ref := u.Host + "/billing-api:1.4"
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	// a second image shares the base layer
	other, err := mutate.AppendLayers(empty.Image, base)
	if err != nil {
		t.Fatal(err)
	}
	ref2 := u.Host + "/reports:2"
	r2, _ := name.ParseReference(ref2, name.Insecure)
	if err := remote.Write(r2, other); err != nil {
		t.Fatal(err)
	}
	baseDigest, _ := base.Digest()

	res := scanImages(t, []string{ref, ref2}, Options{Insecure: true})
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	check := func(target, path, layer string, deleted bool) {
		t.Helper()
		fs := findAt(res, target, path)
		if len(fs) == 0 {
			t.Fatalf("%s %s: no finding; all: %v", target, path, res.Findings)
		}
		f := fs[0]
		if layer != "" && f.Origin.Layer != layer {
			t.Errorf("%s: layer %s, want %s", path, f.Origin.Layer, layer)
		}
		if slices.Contains(f.Tags, TagDeleted) != deleted {
			t.Errorf("%s: tags %v, deleted want %v", path, f.Tags, deleted)
		}
		if !strings.Contains(f.Origin.Target, "@sha256:") {
			t.Errorf("%s: target %q has no digest", path, f.Origin.Target)
		}
	}
	check(ref, "app/config/application.properties", baseDigest.String(), false)
	check(ref, "app/app.jar!BOOT-INF/classes/application.properties", baseDigest.String(), false)
	check(ref, "root/.pgpass", "", true)
	check(ref, "config/Env.env", "", false)
	check(ref, "config/history.dockerfile", "", false)
	if h := findAt(res, ref, "config/history.dockerfile"); !slices.Contains(h[0].Tags, "image:history:0") {
		t.Errorf("history finding tags %v, want image:history:0", h[0].Tags)
	}
	// the shared layer was read once and attributed to both images
	check(ref2, "app/config/application.properties", baseDigest.String(), false)
	// layer items: 2 files and a jar member in the base layer, 1 file in
	// the next; config files: 4 for the first image, 2 for the second
	if res.Stats.Items > 4+4+2 {
		t.Errorf("read %d items: the shared layer was read twice?", res.Stats.Items)
	}
	var all bytes.Buffer
	for _, f := range res.Findings {
		all.WriteString(f.Redacted + f.Origin.String() + strings.Join(f.Tags, ","))
	}
	leakcheck.AssertNone(t, "findings", all.Bytes(), p.env, p.props, p.jarPw, p.pgpass)
}

func TestLayoutCorruptLayerAndBomb(t *testing.T) {
	img, _, _ := testImage(t)
	dir := ociLayout(t, img)
	// corrupt the .pgpass layer's blob
	layers, _ := img.Layers()
	d, _ := layers[1].Digest()
	if err := os.WriteFile(filepath.Join(dir, "blobs", d.Algorithm, d.Hex), []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := scanImages(t, []string{"oci:" + dir}, Options{})
	if len(findAt(res, "oci:", "app/config/application.properties")) == 0 {
		t.Errorf("the intact layer was not scanned: %v", res.Findings)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), d.String()) {
		t.Fatalf("want one error naming layer %s, got %v", d, res.Errors)
	}

	// a zip bomb inside a layer: the limit stops it, with a clear message
	bomb := jar(t, map[string]string{"big.txt": strings.Repeat("0", 4<<20)})
	bimg, err := mutate.AppendLayers(empty.Image, tarLayer(t, map[string][]byte{"app/bomb.jar": bomb}))
	if err != nil {
		t.Fatal(err)
	}
	bdir := t.TempDir()
	blp, _ := layout.Write(bdir, empty.Index)
	if err := blp.AppendImage(bimg); err != nil {
		t.Fatal(err)
	}
	res = scanImages(t, []string{"oci:" + bdir}, Options{MaxRatio: 10})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "ratio") {
		t.Fatalf("want a decompression-bomb error, got %v", res.Errors)
	}
}

func TestZstdLayer(t *testing.T) {
	pw := leakcheck.Secret(t)
	content := []byte("arp-db.prod.internal:5432:arp:arp_app:" + pw + "\n")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "root/.pgpass", Mode: 0o600, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write(content)
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := l.MediaType(); !strings.Contains(string(mt), "zstd") {
		t.Fatalf("layer media type %s is not zstd", mt)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, _ := layout.Write(dir, empty.Index)
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	res := scanImages(t, []string{"oci:" + dir}, Options{})
	if len(findAt(res, "oci:", "root/.pgpass")) != 1 || len(res.Errors) > 0 {
		t.Fatalf("zstd layer: findings %v, errors %v", res.Findings, res.Errors)
	}
}
