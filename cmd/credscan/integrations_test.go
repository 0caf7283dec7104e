package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCIIntegrationsCallRealFlags parses the shipped GitHub Action,
// pre-commit hook and GitLab template and checks that the credscan
// command lines they run are accepted by the CLI.
func TestCIIntegrationsCallRealFlags(t *testing.T) {
	var action struct {
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Run  string `yaml:"run"`
				Uses string `yaml:"uses"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	readYAML(t, "../../action.yml", &action)
	if action.Runs.Using != "composite" {
		t.Errorf("action.yml runs.using = %q, want composite", action.Runs.Using)
	}
	var cmds []string
	uploads := false
	for _, s := range action.Runs.Steps {
		for _, l := range strings.Split(s.Run, "\n") {
			if i := strings.Index(l, "args=(ci "); i >= 0 {
				cmds = append(cmds, "ci "+strings.TrimSuffix(l[i+len("args=(ci "):], ")"))
			}
		}
		uploads = uploads || strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif")
	}
	if !uploads {
		t.Error("action.yml does not upload the SARIF")
	}
	var hooks []struct {
		ID    string `yaml:"id"`
		Entry string `yaml:"entry"`
	}
	readYAML(t, "../../.pre-commit-hooks.yaml", &hooks)
	for _, h := range hooks {
		cmds = append(cmds, strings.TrimPrefix(h.Entry, "credscan "))
	}
	var gl map[string]struct {
		Script []string `yaml:"script"`
	}
	readYAML(t, "../../ci/credscan.gitlab-ci.yml", &gl)
	for _, l := range gl["credscan"].Script {
		if strings.HasPrefix(l, "credscan ") {
			cmds = append(cmds, strings.TrimPrefix(l, "credscan "))
		}
	}
	if len(cmds) != 3 {
		t.Fatalf("found %d credscan command lines, want 3: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		args := strings.Fields(strings.NewReplacer(`"`, "", "$CREDSCAN_SARIF", "x.sarif").Replace(c))
		if _, stderr, code := run(t, append(args, "--help")...); code != exitOK {
			t.Errorf("credscan %s: exit %d: %s", c, code, stderr)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
