package estate_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/scantest"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/report"
	"github.com/credscan/credscan/scanners/engine"
	"github.com/credscan/credscan/scanners/rules"
)

// zipOf builds a zip (a jar) of files.
func zipOf(t *testing.T, files map[string][]byte) []byte { return scantest.Zip(t, files) }

// bigBinary is a binary of more than 8 MiB (past what is read whole) with
// secret at byte at.
func bigBinary(secret string, at int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 12<<20)
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	data[0], data[1], data[2], data[3] = 0x7f, 'E', 'L', 'F'
	copy(data[at:], secret)
	return data
}

// archiveEstate writes one app whose ARP password the rules find in a
// Spring properties file inside a jar (deflated, so no rule could see it
// without opening the jar), and whose copies the sweep finds in a class
// file inside a war inside a zip, and in a 12 MiB binary at byte 10 MB.
// src is "dir" or "git" (the same files committed).
func archiveEstate(t *testing.T, src string) (*manifest.Manifest, string) {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	root := t.TempDir()
	app := filepath.Join(root, "app")
	write := func(p string, data []byte) { t.Helper(); writeFile(t, filepath.Join(app, p), data) }
	write("lib/app.jar", zipOf(t, map[string][]byte{
		"BOOT-INF/classes/application.properties": []byte("spring.datasource.url=jdbc:postgresql://arp-db.prod.internal:5432/arp\nspring.datasource.username=arp_app\nspring.datasource.password=" + sweptSecret + "\n"),
		"META-INF/MANIFEST.MF":                    []byte("Manifest-Version: 1.0\n"),
	}))
	class := append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d\x01\x00\x10"), sweptSecret...)
	write("dist/bundle.zip", zipOf(t, map[string][]byte{
		"legacy.war": zipOf(t, map[string][]byte{"WEB-INF/classes/com/acme/Db.class": append(class, 0, 1, 2)}),
	}))
	write("bin/arp-agent", bigBinary(sweptSecret, 10_000_003))
	spec := "{dir: app}"
	if src == "git" {
		git := func(args ...string) { t.Helper(); gitIn(t, app, args...) }
		git("init", "-q")
		git("add", ".")
		git("commit", "-q", "-m", "vendor")
		spec = "{git: app}"
	}
	if err := os.WriteFile(filepath.Join(root, "credscan.yaml"), []byte("version: 1\ntargets:\n  - name: ARP\n    hosts: [\"arp-db.prod.internal\"]\n    users: [arp_app]\napps:\n  - name: api\n    sources: ["+spec+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(root, "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m, app
}

// The sweep reaches every byte: members of archives (a jar in a
// directory or a git history, a class in a war in a zip) and binaries
// too large to read whole; the rules read archive members as files.
func TestSweepReachesArchiveMembersAndLargeBinaries(t *testing.T) {
	for _, src := range []string{"dir", "git"} {
		t.Run(src, func(t *testing.T) {
			if src == "git" {
				if _, err := exec.LookPath("git"); err != nil {
					t.Skip("no git")
				}
			}
			m, _ := archiveEstate(t, src)
			res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Sweep: true})
			if err != nil {
				t.Fatal(err)
			}
			type place struct {
				path string
				rule bool // found by a pattern rule, not the sweep
			}
			got := map[place][]*credscan.Finding{}
			for _, f := range res.Findings {
				got[place{f.Origin.Path, f.RuleID != rules.KnownSecret}] = append(got[place{f.Origin.Path, f.RuleID != rules.KnownSecret}], f)
				if src == "git" && f.Origin.Commit == "" {
					t.Errorf("%s: not attributed to a commit", f.Origin.Path)
				}
			}
			props := got[place{"lib/app.jar!BOOT-INF/classes/application.properties", true}]
			if len(props) != 1 || props[0].Origin.Line != 3 || props[0].Target != "ARP" || props[0].User() != "arp_app" {
				t.Fatalf("the jar's properties file: %d rule findings, want one at line 3 for ARP arp_app; all: %v", len(props), keys(got))
			}
			if len(got[place{"dist/bundle.zip!legacy.war!WEB-INF/classes/com/acme/Db.class", false}]) != 1 {
				t.Errorf("the class in the war in the zip was not swept; all: %v", keys(got))
			}
			bin := got[place{"bin/arp-agent", false}]
			if len(bin) != 1 || !strings.Contains(bin[0].Redacted, "at byte 10000003") {
				t.Fatalf("the 12 MiB binary's copy at byte 10000003: %d findings; all: %v", len(bin), keys(got))
			}
			if res.Stats.Binary != 2 { // the binary, the class
				t.Errorf("%d binaries counted, want 2 (a streamed binary is one item)", res.Stats.Binary)
			}
			for _, format := range report.Formats {
				var b bytes.Buffer
				if err := report.Write(&b, format, res.Report("credscan", "test")); err != nil {
					t.Fatal(err)
				}
				leakcheck.AssertNone(t, format+" report", b.Bytes(), sweptSecret)
			}
		})
	}
}

// A password known from outside (Vault) is swept for in the rules' own
// pass, which then reads large binaries to their end too.
func TestKnownSweepReadsLargeBinaries(t *testing.T) {
	m, _ := archiveEstate(t, "dir")
	res, err := estate.Run(context.Background(), m, estate.Options{Workers: 2, Known: []engine.Known{{Secret: sweptSecret, Target: "ARP"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.RuleID == rules.KnownSecret && f.Origin.Path == "bin/arp-agent" {
			if res.Stats.Binary != 2 {
				t.Errorf("%d binaries counted, want 2", res.Stats.Binary)
			}
			return
		}
	}
	t.Fatal("the copy in the 12 MiB binary was not found")
}

func keys[K comparable, V any](m map[K]V) []K {
	var out []K
	for k := range m {
		out = append(out, k)
	}
	return out
}
