// Package helm holds the credscan Helm chart (credscan/) and its check
// (chartcheck/, a module of its own so that Helm and the Kubernetes API
// stay out of credscan's dependencies). This test runs that check.
package helm

import (
	"os"
	"os/exec"
	"testing"
)

// TestChart renders the chart with Helm's engine, decodes every object
// strictly with the Kubernetes API types, and runs the pods' commands as
// local processes (see chartcheck).
func TestChart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Helm and the Kubernetes API types")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(goBin, "test", "-count=1", "./...")
	cmd.Dir = "chartcheck"
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CREDSCAN_CACHE=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chartcheck: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
