// Package depcheck holds the test that keeps credscan's layers apart (in
// the spirit of go-containerregistry's depcheck): who may import whom.
package depcheck

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/credscan/credscan"

type pkg struct {
	ImportPath string
	Imports    []string // direct, without tests
	Deps       []string // every package it links
	Standard   bool
}

func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", mod+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	pkgs := map[string]*pkg{}
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// under says whether path is pkg or below it.
func under(path, pkg string) bool {
	return path == mod+"/"+pkg || strings.HasPrefix(path, mod+"/"+pkg+"/")
}

func isStd(path string) bool {
	first := strings.SplitN(path, "/", 2)[0]
	return !strings.Contains(first, ".")
}

// The layers (DESIGN.md "Packages"), each rule with its reason:
//   - the root package is domain types and typed errors: the standard
//     library only;
//   - scanners (sources, engine, rules) find things: they never reach
//     Vault, the runner, reports, the tracker, the rotation or the TUI;
//   - sources do not link gitleaks: only the engine does;
//   - report renders findings: it never talks to Vault;
//   - vaultsync stores what it is given: it makes no policy decision
//     (approvals are their own package) and runs no scan;
//   - the TUI shows state: it never scans in-process, even through the
//     runner;
//   - policy decides: it writes to no store.
func TestLayers(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	forbid := func(p *pkg, deps []string, what, why string, bad func(string) bool) {
		for _, d := range deps {
			if bad(d) {
				t.Errorf("%s imports %s (%s): %s", strings.TrimPrefix(p.ImportPath, mod+"/"), d, what, why)
			}
		}
	}
	for path, p := range pkgs {
		switch {
		case path == mod:
			forbid(p, p.Imports, "outside the standard library", "the root package holds domain types only", func(d string) bool { return !isStd(d) })
		case under(path, "scanners"):
			forbid(p, p.Imports, "an upper layer", "scanners find; they do not store, render, track or rotate", func(d string) bool {
				for _, up := range []string{"vaultsync", "rotation", "tracker", "tui", "estate", "report", "policy"} {
					if under(d, up) {
						return true
					}
				}
				return false
			})
			if !under(path, "scanners/engine") && !under(path, "scanners/rules") {
				forbid(p, p.Deps, "gitleaks", "only the engine links gitleaks", func(d string) bool { return strings.HasPrefix(d, "github.com/zricethezav/gitleaks") })
			}
		case under(path, "report"):
			forbid(p, p.Imports, "vaultsync", "reports render; they never talk to Vault", func(d string) bool { return under(d, "vaultsync") })
		case under(path, "vaultsync"):
			forbid(p, p.Imports, "policy or a scanner", "vaultsync stores what it is given", func(d string) bool { return d == mod+"/policy" || under(d, "scanners") || under(d, "estate") })
		case under(path, "tui"):
			forbid(p, p.Deps, "a scanner or the runner", "the TUI reads state and never scans in-process", func(d string) bool { return under(d, "scanners") || under(d, "estate") })
		case under(path, "policy"):
			forbid(p, p.Imports, "a store", "policy decides and writes nothing", func(d string) bool { return under(d, "vaultsync") || under(d, "tracker") })
		}
	}
}
