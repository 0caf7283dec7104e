package image

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/credscan/credscan/internal/testenv"
)

// startRegistry runs the real registry server of the Debian package
// docker-registry (.ci/run installs it) on a free loopback port with a
// temporary storage directory, and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	testenv.Short(t, "the docker-registry server")
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("CREDSCAN_REQUIRE_E2E") != "" {
			t.Fatalf("docker-registry not installed (apt-get install docker-registry): %v", err)
		}
		t.Skip("docker-registry not installed; .ci/run installs it")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfg)
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("registry on %s did not come up: %v\n%s", addr, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRealRegistryEndToEnd(t *testing.T) {
	addr := startRegistry(t)
	img, _, p := testImage(t)
	ref := addr + "/billing-api:1.4"
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	res := scanImages(t, []string{ref}, Options{Insecure: true})
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	for _, c := range []struct {
		path    string
		layer   int // -1: config
		deleted bool
	}{
		{"config/Env.env", -1, false},
		{"config/history.dockerfile", -1, false},
		{"app/config/application.properties", 0, false},
		{"app/app.jar!BOOT-INF/classes/application.properties", 0, false},
		{"root/.pgpass", 1, true},
	} {
		fs := findAt(res, ref, c.path)
		if len(fs) == 0 {
			t.Errorf("%s: not found", c.path)
			continue
		}
		f := fs[0]
		want := ""
		if c.layer >= 0 {
			d, _ := layers[c.layer].Digest()
			want = d.String()
		}
		if f.Origin.Layer != want {
			t.Errorf("%s: layer %q, want %q", c.path, f.Origin.Layer, want)
		}
		if slices.Contains(f.Tags, TagDeleted) != c.deleted {
			t.Errorf("%s: tags %v", c.path, f.Tags)
		}
		for _, s := range []string{p.env, p.props, p.jarPw, p.pgpass} {
			if strings.Contains(f.Redacted, s) {
				t.Errorf("%s: the redacted line holds a planted secret", c.path)
			}
		}
	}
}
