package manifest

import (
	"os"
	"strings"
	"testing"
)

// The manifest documented in docs/manifest.md parses, with every source kind.
func TestREADMEManifestParses(t *testing.T) {
	b, err := os.ReadFile("../docs/manifest.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "# The estate manifest")
	if i < 0 {
		t.Fatal("docs/manifest.md has no manifest section")
	}
	s = s[i:]
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("README manifest section has no yaml block")
	}
	m, err := Parse([]byte(s[start+8 : start+8+end]))
	if err != nil {
		t.Fatalf("README manifest: %v", err)
	}
	kinds := map[string]bool{}
	for _, a := range m.Apps {
		for _, src := range a.Sources {
			kinds[string(src.Kind())] = true
			if src.CI != nil {
				if _, err := src.CISource(); err != nil {
					t.Error(err)
				}
			}
		}
	}
	for _, k := range []string{"dir", "git", "image", "civars"} {
		if !kinds[k] {
			t.Errorf("README manifest lists no %s source", k)
		}
	}
	if m.CI.GitLabURL == "" || m.CI.GitHubURL == "" {
		t.Errorf("README manifest has no ci: base URLs")
	}
}

func TestCISourceForms(t *testing.T) {
	for _, bad := range []string{
		"ci: {gitlab_project: a/b, github_repo: a/b}",
		"ci: {gitlab_projekt: a/b}",
		"ci: {url: https://x}",
		"ci: ''",
	} {
		doc := "version: 1\napps:\n  - name: a\n    sources:\n      - " + bad + "\n"
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	doc := "version: 1\napps:\n  - name: a\n    sources:\n      - ci: {github_org: acme, url: 'https://ghe/api/v3/'}\n"
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := m.Apps[0].Sources[0].CISource()
	if err != nil || cs.GitHubOrg != "acme" || cs.URL != "https://ghe/api/v3/" {
		t.Errorf("got %+v, %v", cs, err)
	}
}

// A source's spelling in messages and the audit log holds no URL token.
func TestSpecDropsURLToken(t *testing.T) {
	s := Source{Git: "https://ci:glpat-Tk0123456789@git.example.com/team/app.git"}
	if s.Spec() != "https://git.example.com/team/app.git" {
		t.Errorf("Spec() kept the URL's user information (not shown)")
	}
}

// A host written as an IP address or CIDR that does not parse is an error
// naming its line (it used to be taken as a name and match nothing).
func TestInvalidAddressesAreRejected(t *testing.T) {
	for _, h := range []string{"10.20.30.0/33", "10.20.30.999", "10.20.30", "fe80::1::2", "300.1.1.1/8"} {
		_, err := Parse([]byte("version: 1\ntargets:\n  - name: ARP\n    hosts:\n      - arp-db.prod.internal\n      - \"" + h + "\"\n"))
		if err == nil || !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "not a valid IP address or CIDR") {
			t.Errorf("%s: %v", h, err)
		}
	}
	for _, h := range []string{"10.20.30.0/24", "10.20.30.4", "fe80::1", "10.20.*", "arp-db-*.prod.internal", "db1"} {
		if _, err := Parse([]byte("version: 1\ntargets:\n  - name: ARP\n    hosts: [\"" + h + "\"]\n")); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
}

// A type error names the line, never the value (yaml.v3 quotes its first
// characters).
func TestTypeErrorDoesNotQuoteTheValue(t *testing.T) {
	_, err := Parse([]byte("version: 1\napps:\n  - name: a\n    wave: Zq8-UNIQUE-VALUE\n"))
	if err == nil || strings.Contains(err.Error(), "Zq8") || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("%v", err)
	}
}
