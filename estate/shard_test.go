package estate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/report"
)

// generatedEstate writes an estate of n apps shaped like a real one:
// config files of every kind, a password shared by apps far apart (its
// credential spans shards), a bare copy of one app's password in another
// (joined to its credential only when both are seen), binaries, jars, a
// broken archive, CI pipelines, git histories, and images sharing a base
// layer across apps.
func generatedEstate(t *testing.T, n int) *manifest.Manifest {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	write := func(p string, data []byte) { t.Helper(); writeFile(t, filepath.Join(root, p), data) }
	shared := "Sh4red-ARP-pw-91x" // in many apps: one credential
	var apps strings.Builder
	for i := range n {
		app := fmt.Sprintf("app-%03d", i)
		pw := fmt.Sprintf("Pw-%03d-q8Zr!t", i)
		dir := app + "/src"
		switch i % 7 {
		case 0:
			write(dir+"/.env", []byte("DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\nDB_PASSWORD="+shared+"\n"))
		case 1:
			write(dir+"/config/application.properties", []byte("spring.datasource.url=jdbc:postgresql://otc-db.prod.internal:5432/otc\nspring.datasource.username=svc"+app+"\nspring.datasource.password="+pw+"\n"))
			write(dir+"/config/settings.yaml", []byte("database:\n  password: ${DB_PASSWORD}\n"))
		case 2:
			write(dir+"/deploy/secret.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  DATABASE_URL: postgres://arp_app:"+shared+"@arp-db.prod.internal:5432/arp\n"))
			write(dir+"/bin/tool", append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0, 1, 2}, 500)...))
		case 3:
			write(dir+"/lib/app.jar", zipOf(t, map[string][]byte{"BOOT-INF/classes/application.properties": []byte("spring.datasource.url=jdbc:mysql://gps-db.prod.internal/gps\nspring.datasource.username=gps\nspring.datasource.password=" + pw + "\n")}))
			write(dir+"/lib/broken.zip", []byte("PK\x03\x04 this is no zip"))
		case 4:
			// the bare copy: a generic password whose credential another
			// app's config names
			write(dir+"/scripts/check.py", []byte(fmt.Sprintf("secret = %q\n", fmt.Sprintf("Pw-%03d-q8Zr!t", (i+4)%n))))
			write(dir+"/notes.md", []byte("connect with `psql \"host=arp-db.prod.internal user=arp_app password=<password>\"`\n"))
		case 5:
			write(dir+"/.gitlab-ci.yml", []byte("variables:\n  PGHOST: arp-db.prod.internal\n  PGUSER: arp_app\n  PGPASSWORD: \""+pw+"\"\ndeploy:\n  script: [\"./deploy.sh\"]\n  variables:\n    DB_PASSWORD: $ARP_DB_PASSWORD\n"))
		case 6:
			write(dir+"/docker-compose.yml", []byte("services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: "+pw+"\n      POSTGRES_USER: arp_app\n"))
		}
		fmt.Fprintf(&apps, "  - name: %s\n    sources:\n      - dir: %s\n", app, dir)
		if i%7 == 5 {
			fmt.Fprintf(&apps, "      - ci: %s/src\n", app)
		}
	}
	// git histories: a password committed then removed
	if _, err := exec.LookPath("git"); err == nil {
		for i := 0; i < n; i += 40 {
			repo := filepath.Join(root, fmt.Sprintf("app-%03d", i), "repo")
			git := func(args ...string) { t.Helper(); gitIn(t, repo, args...) }
			write(filepath.Join(fmt.Sprintf("app-%03d", i), "repo", "config.ini"), []byte("[db]\nhost=arp-db.prod.internal\nuser=arp_app\npassword="+shared+"\n"))
			git("init", "-q")
			git("add", ".")
			git("commit", "-q", "-m", "config")
			write(filepath.Join(fmt.Sprintf("app-%03d", i), "repo", "config.ini"), []byte("[db]\nhost=arp-db.prod.internal\nuser=arp_app\npassword=${DB_PASSWORD}\n"))
			git("commit", "-q", "-am", "from the environment")
			fmt.Fprintf(&apps, "  - name: app-%03d-history\n    sources:\n      - git: app-%03d/repo\n", i, i)
		}
	}
	// images: two apps (in different shards for every N tried) share a
	// base layer holding a .pgpass
	base := scantest.TarLayer(t, map[string][]byte{"root/.pgpass": []byte("arp-db.prod.internal:5432:arp:arp_app:" + shared + "\n"), "etc/os-release": []byte("ID=debian\n")})
	for k, app := range []string{"img-a", "img-b"} {
		top := scantest.TarLayer(t, map[string][]byte{fmt.Sprintf("srv/%s/app.env", app): []byte(fmt.Sprintf("PGPASSWORD=Img-%d-pw-k2\nPGHOST=arp-db.prod.internal\nPGUSER=arp_app\n", k))})
		img, err := mutate.AppendLayers(empty.Image, base, top)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, app)
		lp, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := lp.AppendImage(img); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&apps, "  - name: %s\n    sources:\n      - image: oci:%s\n", app, app)
	}
	if err := os.WriteFile(filepath.Join(root, "credscan.yaml"), []byte(`version: 1
targets:
  - name: ARP
    hosts: ["arp-db.prod.internal"]
    users: [arp_app]
  - name: OTC
    hosts: ["otc-db.prod.internal"]
  - name: GPS
    hosts: ["gps-db.prod.internal"]
allowlist:
  paths: ["(^|/)notes\\.md$"]
apps:
`+apps.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(root, "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonOf renders a report as the JSON format writes it.
func jsonOf(t *testing.T, rep *report.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, "json", rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A split run merged is the run: the same JSON report, byte for byte,
// for N = 1, 3 and 7 shards, on the example estate and on a generated
// estate of 200 apps (with credentials spanning shards, a bare copy joined
// to another shard's credential, image layers shared across shards, item
// errors, CI pipelines and git histories).
func TestShardsMergeIntoTheRun(t *testing.T) {
	example, err := manifest.Load("../examples/estate/credscan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		m    func(t *testing.T) *manifest.Manifest
	}{
		{"example", func(t *testing.T) *manifest.Manifest {
			t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
			return example
		}},
		{"generated-200", func(t *testing.T) *manifest.Manifest { return generatedEstate(t, 200) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m(t)
			ctx := context.Background()
			single, err := estate.Run(ctx, m, estate.Options{Workers: 2, Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			want := jsonOf(t, single.Report("credscan", "test"))
			if c.name == "generated-200" {
				// the estate is what it says: the merge has something to do
				if single.Stats.Errors == 0 || len(single.CISecrets) == 0 || single.Stats.Credentials < 100 || len(single.Layers) != 3 || single.Stats.Referenced["app-001"] == 0 {
					t.Fatalf("the generated estate lacks what it should hold: %d layers, %+v", len(single.Layers), single.Stats)
				}
				joined := false
				for _, c := range credscan.Group(single.Findings) {
					for _, f := range c.Findings {
						if f.Origin.App == "app-004" && f.Origin.Path == "scripts/check.py" && c.Target == "OTC" && slices.Contains(c.Apps(), "app-008") {
							joined = true
						}
					}
				}
				if !joined {
					t.Fatal("app-004's bare copy of app-008's password did not join its credential")
				}
				t.Logf("%d apps: %d findings, %d credentials, %d items, %d errors, %d layers", len(m.Apps), single.Stats.Findings, single.Stats.Credentials, single.Stats.Items, single.Stats.Errors, len(single.Layers))
			}
			for _, n := range []int{1, 3, 7} {
				var parts []report.Part
				apps := map[string]int{}
				for i := range n {
					res, err := estate.Run(ctx, m, estate.Options{Workers: 2, Version: "test", Shard: estate.Shard{Index: i, Total: n}})
					if err != nil {
						t.Fatal(err)
					}
					// through the JSON file, as shards on other machines would
					jr, err := report.ReadJSON(bytes.NewReader(jsonOf(t, res.Report("credscan", "test"))))
					if err != nil {
						t.Fatal(err)
					}
					for _, a := range jr.Shard.Apps {
						apps[a]++
					}
					parts = append(parts, report.Part{Name: fmt.Sprintf("shard-%d.json", i), Report: jr})
				}
				if len(apps) != len(m.Apps) {
					t.Fatalf("N=%d: the shards scanned %d of %d apps", n, len(apps), len(m.Apps))
				}
				for a, k := range apps {
					if k != 1 {
						t.Fatalf("N=%d: app %s is in %d shards", n, a, k)
					}
				}
				merged, err := report.Merge(parts)
				if err != nil {
					t.Fatal(err)
				}
				got := jsonOf(t, merged)
				if !bytes.Equal(got, want) {
					diffJSON(t, fmt.Sprintf("N=%d", n), got, want)
				}
				if (estate.Outcome(merged) == nil) != (single.Err() == nil) {
					t.Errorf("N=%d: merged outcome %v, the run's %v", n, estate.Outcome(merged), single.Err())
				}
				leakcheck.AssertNone(t, "merged report", got, "Sh4red-ARP-pw-91x", "Pw-003-q8Zr!t")
			}
		})
	}
}

// diffJSON fails with the first top-level field that differs.
func diffJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w map[string]json.RawMessage
	_ = json.Unmarshal(got, &g)
	_ = json.Unmarshal(want, &w)
	for k := range w {
		if !bytes.Equal(g[k], w[k]) {
			gs, ws := string(g[k]), string(w[k])
			for i := 0; i < len(gs) && i < len(ws); i++ {
				if gs[i] != ws[i] {
					from := max(0, i-300)
					t.Fatalf("%s: merged %q differs from the run's at byte %d:\nmerged: %s\nrun:    %s", what, k, i, gs[from:min(len(gs), i+200)], ws[from:min(len(ws), i+200)])
				}
			}
			t.Fatalf("%s: merged %q differs from the run's (lengths %d, %d)", what, k, len(gs), len(ws))
		}
	}
	t.Fatalf("%s: the merged report differs from the run's", what)
}

// Merge refuses what would not give the run's report, naming the files.
func TestMergeRefuses(t *testing.T) {
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	m, err := manifest.Load("../examples/estate/credscan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	shard := func(i, n int, o estate.Options) *report.JSONReport {
		o.Workers, o.Shard = 2, estate.Shard{Index: i, Total: n}
		res, err := estate.Run(ctx, m, o)
		if err != nil {
			t.Fatal(err)
		}
		jr, err := report.ReadJSON(bytes.NewReader(jsonOf(t, res.Report("credscan", "test"))))
		if err != nil {
			t.Fatal(err)
		}
		return jr
	}
	s0, s1 := shard(0, 2, estate.Options{}), shard(1, 2, estate.Options{})
	dbOnly := shard(1, 2, estate.Options{Rules: "db"})
	for _, c := range []struct {
		parts []report.Part
		want  string
	}{
		{[]report.Part{{Name: "a.json", Report: s0}}, "shard 1/2 missing"},
		{[]report.Part{{Name: "a.json", Report: s0}, {Name: "b.json", Report: s0}}, "a.json and b.json are both shard 0/2"},
		{[]report.Part{{Name: "a.json", Report: s0}, {Name: "db.json", Report: dbOnly}}, "a.json and db.json were scanned with different rule sets"},
		{[]report.Part{{Name: "a.json", Report: s0}, {Name: "c.json", Report: shard(1, 3, estate.Options{})}}, "c.json is shard 1/3"},
	} {
		if _, err := report.Merge(c.parts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "another-key-0123456789abcdef")
	other := shard(1, 2, estate.Options{})
	if _, err := report.Merge([]report.Part{{Name: "a.json", Report: s0}, {Name: "k.json", Report: other}}); err == nil || !strings.Contains(err.Error(), "different keys") {
		t.Errorf("a report of another fingerprint key was merged: %v", err)
	}
	if _, err := report.Merge([]report.Part{{Name: "a.json", Report: s0}, {Name: "b.json", Report: s1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := estate.Run(ctx, m, estate.Options{Sweep: true, Shard: estate.Shard{Index: 0, Total: 2}}); err == nil || !strings.Contains(err.Error(), "--known-from-vault") {
		t.Errorf("--sweep with --shard: %v", err)
	}
}
