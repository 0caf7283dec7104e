// Package manifest reads the estate manifest (credscan.yaml): the
// databases credentials belong to (targets), the apps, their sources and
// waves, and the allowlist. It classifies a database identity to a target.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/redact"
	"github.com/credscan/credscan/internal/regular"
)

// Manifest is a parsed credscan.yaml.
type Manifest struct {
	Version     int         `yaml:"version"`
	Fingerprint Fingerprint `yaml:"fingerprint"`
	Targets     []Target    `yaml:"targets"`
	Apps        []App       `yaml:"apps"`
	Allowlist   Allowlist   `yaml:"allowlist"`
	Policy      Policy      `yaml:"policy"`
	CI          CIDefaults  `yaml:"ci"`
	Approvals   Approvals   `yaml:"approvals"`
	Vault       Vault       `yaml:"vault"`
	Audit       AuditLog    `yaml:"audit"`
	Tracker     Tracker     `yaml:"tracker"`
	Rotation    Rotation    `yaml:"rotation"`

	dir string // the manifest's directory; relative paths resolve from here
}

// Fingerprint configures the per-estate fingerprint key.
type Fingerprint struct {
	KeyFile string `yaml:"key_file"` // relative to the manifest; $CREDSCAN_FINGERPRINT_KEY wins
}

// Target is a database credentials may belong to.
type Target struct {
	Name      string   `yaml:"name"`
	Hosts     []string `yaml:"hosts"`     // host names with * globs, IPs, CIDRs
	Databases []string `yaml:"databases"` // database names
	Users     []string `yaml:"users"`     // classifies credentials that carry no host

	prefixes []netip.Prefix
	globs    []string
}

// App is one application and where its code, images and CI live.
type App struct {
	Name    string   `yaml:"name"`
	Owner   string   `yaml:"owner"`
	Wave    int      `yaml:"wave"`
	Sources []Source `yaml:"sources"`
	// Connects says how the app follows a cutover: broker (it connects to
	// PgBouncer) or pointer (it reads <target>/current/<role> from Vault);
	// "" when neither (still hardcoded to an address).
	Connects string `yaml:"connects"`
	// Addresses are the app's client addresses, to name it in the
	// connection evidence.
	Addresses []string `yaml:"addresses"`
}

// Source is one place an app's credentials may hide. Exactly one kind is set.
type Source struct {
	Dir   string `yaml:"dir"`
	Git   string `yaml:"git"`
	Ref   string `yaml:"ref"`
	Image string `yaml:"image"`
	// CI is a pipeline file or directory (a string), or a variable store:
	// {gitlab_project: group/app}, {gitlab_group: g}, {github_repo:
	// org/app} or {github_org: org}, with an optional url for a
	// self-managed GitLab or GitHub Enterprise.
	CI any `yaml:"ci"`
	// Approval "required" makes scans of this source need an approval.
	Approval string `yaml:"approval"`

	Line int `yaml:"-"`
}

// Approvals say which source kinds always need an approval.
type Approvals struct {
	Required []string `yaml:"required"` // kinds: dir, git, image, ci, verify
}

// Vault is where credentials are pushed (DESIGN.md, "Vault layout").
type Vault struct {
	Mount     string `yaml:"mount"`     // KV v2 mount (default secret)
	Prefix    string `yaml:"prefix"`    // prepended to every path
	Migrating string `yaml:"migrating"` // the target being migrated (default ARP): its credentials go to <target>/legacy/
}

// AuditLog configures credscan's own audit trail.
type AuditLog struct {
	File   string `yaml:"file"`   // relative to the manifest (default .credscan-audit.jsonl)
	Mirror bool   `yaml:"mirror"` // also write each line to Vault KV credscan/audit/
}

// Tracker says where the migration tracker keeps apps' checklists: a
// local file (the default, .credscan/tracker.json beside the manifest) or
// Vault KV v2 (credscan/apps/<app> under the mount and prefix).
type Tracker struct {
	File  string        `yaml:"file"`
	Vault *TrackerVault `yaml:"vault"`
}

// TrackerVault is the tracker's place in Vault.
type TrackerVault struct {
	Mount  string `yaml:"mount"`  // default: the manifest's vault.mount, else secret
	Prefix string `yaml:"prefix"` // default: the manifest's vault.prefix
}

// TrackerFile is the tracker's file (resolved), "" when the tracker is in
// Vault.
func (m *Manifest) TrackerFile() string {
	if m == nil || m.Tracker.Vault != nil {
		return ""
	}
	if m.Tracker.File == "" {
		return m.Resolve(filepath.Join(".credscan", "tracker.json"))
	}
	return m.Resolve(m.Tracker.File)
}

// App returns the app named name.
func (m *Manifest) App(name string) (*App, bool) {
	if m == nil {
		return nil, false
	}
	for i := range m.Apps {
		if m.Apps[i].Name == name {
			return &m.Apps[i], true
		}
	}
	return nil, false
}

// AuditFile is the audit log the manifest names (resolved), or "".
func (m *Manifest) AuditFile() string {
	if m == nil || m.Audit.File == "" {
		return ""
	}
	return m.Resolve(m.Audit.File)
}

// ApprovalKinds are the source kinds an approval may cover.
var ApprovalKinds = []string{"dir", "git", "image", "ci", "verify", "rotate"}

// Spec renders the source as the manifest writes it, less any token a
// repository URL carries.
func (s Source) Spec() string {
	switch {
	case s.Dir != "":
		return s.Dir
	case s.Git != "":
		return credscan.RedactURL(s.Git)
	case s.Image != "":
		return s.Image
	}
	if c, err := s.CISource(); err == nil {
		for _, v := range []string{c.Path, c.GitLabProject, c.GitLabGroup, c.GitHubRepo, c.GitHubOrg} {
			if v != "" {
				return v
			}
		}
	}
	return ""
}

// CIDefaults are the API base URLs of the estate's GitLab and GitHub.
type CIDefaults struct {
	GitLabURL string `yaml:"gitlab_url"`
	GitHubURL string `yaml:"github_url"`
}

// CISource is a parsed ci: source: a path, or one variable store.
type CISource struct {
	Path          string `yaml:"-"`
	GitLabProject string `yaml:"gitlab_project"`
	GitLabGroup   string `yaml:"gitlab_group"`
	GitHubRepo    string `yaml:"github_repo"`
	GitHubOrg     string `yaml:"github_org"`
	URL           string `yaml:"url"` // API base URL; default: the manifest's ci: block, else the public service
}

// CISource parses the source's ci: value.
func (s Source) CISource() (CISource, error) {
	switch v := s.CI.(type) {
	case string:
		if v == "" {
			return CISource{}, errors.New("ci: empty path")
		}
		return CISource{Path: v}, nil
	case map[string]any:
		b, _ := yaml.Marshal(v)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		var c CISource
		if err := dec.Decode(&c); err != nil {
			return CISource{}, fmt.Errorf("ci: %v (want a path, or one of gitlab_project, gitlab_group, github_repo, github_org, with an optional url)", err)
		}
		n := 0
		for _, x := range []string{c.GitLabProject, c.GitLabGroup, c.GitHubRepo, c.GitHubOrg} {
			if x != "" {
				n++
			}
		}
		if n != 1 {
			return CISource{}, errors.New("ci: exactly one of gitlab_project, gitlab_group, github_repo, github_org is required")
		}
		return c, nil
	}
	return CISource{}, fmt.Errorf("ci: want a path or a mapping, got %T", s.CI)
}

// Kind names the source's kind.
func (s Source) Kind() credscan.Kind {
	switch {
	case s.Dir != "":
		return credscan.KindDir
	case s.Git != "":
		return credscan.KindGit
	case s.Image != "":
		return credscan.KindImage
	case s.CI != nil:
		return credscan.KindCIVars
	}
	return ""
}

// Allowlist suppresses findings by path or secret pattern.
type Allowlist struct {
	Paths        []string `yaml:"paths"`        // regular expressions over the origin path
	Regexes      []string `yaml:"regexes"`      // regular expressions over the secret
	Fingerprints []string `yaml:"fingerprints"` // fingerprints (or unique prefixes of at least 12 hex digits)
}

// Policy says what blocks (exit code 1).
type Policy struct {
	// Block lists what blocks: "database" (DB pack findings with a real
	// secret) and "gitleaks" (gitleaks findings). Default: both.
	Block []string `yaml:"block"`
}

// Load reads and validates the manifest at file. Unknown keys and malformed
// YAML are errors that name the line.
func Load(file string) (*Manifest, error) {
	b, err := regular.ReadFile(file)
	if err != nil {
		return nil, credscan.UsageError("reading manifest: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, credscan.UsageError("%s: %v", file, err)
	}
	abs, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, credscan.UsageError("resolving manifest directory: %v", err)
	}
	m.dir = abs
	return m, nil
}

// Parse parses and validates manifest bytes.
func Parse(b []byte) (*Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty manifest")
		}
		// yaml.v3's type errors quote the value's first characters
		return nil, fmt.Errorf("parsing manifest: %s", redact.Message(err.Error()))
	}
	var root yaml.Node
	_ = yaml.Unmarshal(b, &root)
	if err := m.validate(&root); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) validate(root *yaml.Node) error {
	if m.Version != 1 {
		return fmt.Errorf("version: want 1, got %d", m.Version)
	}
	seen := map[string]bool{}
	for i := range m.Targets {
		t := &m.Targets[i]
		if t.Name == "" {
			return fmt.Errorf("targets[%d]: name is required", i)
		}
		if seen[strings.ToLower(t.Name)] {
			return fmt.Errorf("targets[%d]: duplicate target %q", i, t.Name)
		}
		seen[strings.ToLower(t.Name)] = true
		for k, h := range t.Hosts {
			h = strings.ToLower(strings.TrimSpace(h))
			if p, err := netip.ParsePrefix(h); err == nil {
				t.prefixes = append(t.prefixes, p)
				continue
			}
			if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
				t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
			if looksLikeAddress(h) {
				// 10.20.30.0/33 or 10.20.30.999 would match nothing
				return fmt.Errorf("targets[%d] (%s) hosts[%d]%s: %q is not a valid IP address or CIDR", i, t.Name, k, hostLine(root, i, k), h)
			}
			if _, err := path.Match(h, "x"); err != nil {
				return fmt.Errorf("targets[%d] (%s): bad host pattern %q: %v", i, t.Name, h, err)
			}
			t.globs = append(t.globs, h)
		}
	}
	apps := map[string]bool{}
	for i := range m.Apps {
		a := &m.Apps[i]
		if a.Name == "" {
			return fmt.Errorf("apps[%d]: name is required", i)
		}
		if apps[a.Name] {
			return fmt.Errorf("apps[%d]: duplicate app %q", i, a.Name)
		}
		apps[a.Name] = true
		for j, s := range a.Sources {
			n := 0
			for _, set := range []bool{s.Dir != "", s.Git != "", s.Image != "", s.CI != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("apps[%d] (%s) sources[%d]%s: exactly one of dir, git, image, ci is required", i, a.Name, j, lineOf(root, i, j))
			}
			if s.Approval != "" && s.Approval != "required" {
				return fmt.Errorf("apps[%d] (%s) sources[%d]%s: approval: want required", i, a.Name, j, lineOf(root, i, j))
			}
			if s.CI != nil {
				if _, err := s.CISource(); err != nil {
					return fmt.Errorf("apps[%d] (%s) sources[%d]%s: %v", i, a.Name, j, lineOf(root, i, j), err)
				}
			}
		}
	}
	for _, list := range [][]string{m.Allowlist.Paths, m.Allowlist.Regexes} {
		for _, r := range list {
			if _, err := regexp.Compile(r); err != nil {
				return fmt.Errorf("allowlist: bad regular expression: %v", err)
			}
		}
	}
	for _, k := range m.Approvals.Required {
		if !slices.Contains(ApprovalKinds, k) {
			return fmt.Errorf("approvals.required: unknown kind %q (want one of %s)", k, strings.Join(ApprovalKinds, ", "))
		}
	}
	if m.Tracker.File != "" && m.Tracker.Vault != nil {
		return fmt.Errorf("tracker: file and vault are exclusive")
	}
	for _, b := range m.Policy.Block {
		if b != "database" && b != "gitleaks" {
			return fmt.Errorf("policy.block: unknown %q (want database or gitleaks)", b)
		}
	}
	return m.validateRotation()
}

// looksLikeAddress says a host pattern is written as an IP address or a
// CIDR (digits and dots, an IPv6 form, or a prefix length), not as a name
// or a glob.
func looksLikeAddress(h string) bool {
	if strings.ContainsAny(h, "*?[") {
		return false
	}
	if strings.Contains(h, "/") {
		return true
	}
	v4, v6 := true, strings.Count(h, ":") >= 2
	for _, c := range h {
		isDigit := '0' <= c && c <= '9'
		if !isDigit && c != '.' {
			v4 = false
		}
		if !isDigit && c != ':' && c != '.' && !('a' <= c && c <= 'f') && c != '[' && c != ']' {
			v6 = false
		}
	}
	return v4 && strings.Contains(h, ".") || v6
}

// hostLine finds " (line N)" of targets[i].hosts[k] in the YAML tree.
func hostLine(root *yaml.Node, i, k int) string {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if ts := mapGet(n, "targets"); ts != nil && i < len(ts.Content) {
		if hs := mapGet(ts.Content[i], "hosts"); hs != nil && k < len(hs.Content) {
			return fmt.Sprintf(" (line %d)", hs.Content[k].Line)
		}
	}
	return ""
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	for k := 0; n != nil && k+1 < len(n.Content); k += 2 {
		if n.Content[k].Value == key {
			return n.Content[k+1]
		}
	}
	return nil
}

// lineOf finds " (line N)" of apps[i].sources[j] in the YAML tree.
func lineOf(root *yaml.Node, i, j int) string {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	get := mapGet
	apps := get(n, "apps")
	if apps == nil || i >= len(apps.Content) {
		return ""
	}
	srcs := get(apps.Content[i], "sources")
	if srcs == nil || j >= len(srcs.Content) {
		return ""
	}
	return fmt.Sprintf(" (line %d)", srcs.Content[j].Line)
}

// Dir is the directory relative paths resolve from.
func (m *Manifest) Dir() string { return m.dir }

// Resolve makes a manifest-relative path absolute.
func (m *Manifest) Resolve(p string) string {
	if filepath.IsAbs(p) || m.dir == "" {
		return p
	}
	return filepath.Join(m.dir, p)
}

// KeyFile returns the fingerprint key file: the manifest's, else the user's default.
func (m *Manifest) KeyFile() string {
	if m != nil && m.Fingerprint.KeyFile != "" {
		return m.Resolve(m.Fingerprint.KeyFile)
	}
	return credscan.DefaultKeyFile()
}

// TargetNames lists the targets' names, lower-cased.
func (m *Manifest) TargetNames() []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, t := range m.Targets {
		out = append(out, strings.ToLower(t.Name))
	}
	return out
}

// Classify returns the target the identity belongs to: by host first
// (globs, IPs, CIDRs; a database name then breaks ties), else by database,
// else by user. It returns "" when nothing matches.
func (m *Manifest) Classify(db *credscan.DBIdentity) string {
	if m == nil || db == nil {
		return ""
	}
	var byHost []*Target
	for i := range m.Targets {
		t := &m.Targets[i]
		for _, h := range db.AllHosts() {
			if t.matchHost(h) {
				byHost = append(byHost, t)
				break
			}
		}
	}
	if len(byHost) == 1 {
		return byHost[0].Name
	}
	for _, t := range byHost {
		if db.Database != "" && containsFold(t.Databases, db.Database) {
			return t.Name
		}
	}
	if len(byHost) > 0 {
		return byHost[0].Name
	}
	if len(db.AllHosts()) > 0 && !isLocal(db.AllHosts()[0]) {
		// a known host that matches no target is some other database
		return ""
	}
	for i := range m.Targets {
		if db.Database != "" && containsFold(m.Targets[i].Databases, db.Database) {
			return m.Targets[i].Name
		}
	}
	for i := range m.Targets {
		if db.User != "" && containsFold(m.Targets[i].Users, db.User) {
			return m.Targets[i].Name
		}
	}
	return ""
}

func isLocal(h string) bool {
	h = strings.ToLower(h)
	return h == "" || h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "/")
}

func (t *Target) matchHost(h string) bool {
	h = strings.ToLower(strings.Trim(h, "[] "))
	if a, err := netip.ParseAddr(h); err == nil {
		for _, p := range t.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	for _, g := range t.globs {
		if ok, _ := path.Match(g, h); ok {
			return true
		}
		// '*' in a host glob also spans dots: *.rds.amazonaws.com matches a.b.rds.amazonaws.com
		if strings.HasPrefix(g, "*.") && strings.HasSuffix(h, g[1:]) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
