// Package civars is the CI source: pipeline definitions (GitHub Actions,
// GitLab CI, Jenkins, CircleCI, Azure Pipelines, Bitbucket Pipelines,
// Travis) parsed structurally, and the CI/CD variable stores of GitLab and
// GitHub read through their official clients. Every finding names the CI
// system, the file (or project), the job or step and the variable; values
// that point at the CI's own secret store are counted as references, and
// the secret names pipelines depend on are listed.
package civars

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/credscan/credscan/internal/redact"
)

// System is a CI system.
type System string

// CI systems: pipeline definitions, then variable stores.
const (
	GitHubActions  System = "github-actions"
	GitLabCI       System = "gitlab-ci"
	Jenkins        System = "jenkins"
	CircleCI       System = "circleci"
	AzurePipelines System = "azure-pipelines"
	Bitbucket      System = "bitbucket-pipelines"
	Travis         System = "travis"
	GitLabStore    System = "gitlab"
	GitHubStore    System = "github"
)

// DetectSystem names the CI system of a pipeline file from its
// slash-separated path, or "" when the path is no known pipeline file.
func DetectSystem(p string) System {
	base := path.Base(p)
	lower := strings.ToLower(p)
	ext := path.Ext(base)
	yml := ext == ".yml" || ext == ".yaml"
	switch {
	case yml && (strings.Contains(lower, ".github/workflows/") || strings.HasPrefix(lower, "workflows/") && strings.Contains(lower, ".github")):
		return GitHubActions
	case base == ".gitlab-ci.yml" || base == ".gitlab-ci.yaml" || strings.HasSuffix(base, ".gitlab-ci.yml"):
		return GitLabCI
	case base == "Jenkinsfile" || strings.HasPrefix(base, "Jenkinsfile.") && !docExt[strings.ToLower(ext)] || strings.HasSuffix(base, ".jenkinsfile") || strings.HasSuffix(base, ".Jenkinsfile"):
		return Jenkins
	case yml && strings.HasSuffix(lower, ".circleci/"+strings.ToLower(base)) && strings.HasPrefix(base, "config"):
		return CircleCI
	case base == "azure-pipelines.yml" || base == "azure-pipelines.yaml" || yml && (strings.Contains(lower, ".azure-pipelines/") || strings.Contains(lower, ".azuredevops/")):
		return AzurePipelines
	case base == "bitbucket-pipelines.yml":
		return Bitbucket
	case base == ".travis.yml" || base == ".travis.yaml":
		return Travis
	}
	return ""
}

// docExt are extensions of documents about a pipeline, not pipelines.
var docExt = map[string]bool{".md": true, ".txt": true, ".rst": true, ".adoc": true, ".html": true, ".png": true, ".svg": true}

// Loc is where in a pipeline something is: the line and the job, step and
// variable it belongs to (each "" when not applicable).
type Loc struct {
	Line     int
	Job      string
	Step     string
	Variable string
}

// Item is one line of shell the pipeline runs or sets (a variable as
// NAME='value', a script line), mapped back to where it is written.
type Item struct {
	Loc
	Text string
}

// Ref is a secret of the CI's store that the pipeline depends on.
type Ref struct {
	Loc
	Name  string // the secret's name in the store
	Store string // "secrets", "vars", "credentials", "variable group", "context", "variables", "encrypted"
}

// Pipeline is what a pipeline file sets, runs and references.
type Pipeline struct {
	System System
	// Groups are the variables and script lines of each job (with the
	// global ones repeated), scanned as one shell file each, so a job's
	// PGHOST, PGUSER and PGPASSWORD assemble into one credential.
	Groups [][]Item
	Refs   []Ref
	// Includes are local files the pipeline includes (GitLab
	// include:local), relative to the repository root.
	Includes []string
	locs     []Loc // by line, 1-based (locs[0] unused)
}

// At returns the job, step and variable of a line of the file.
func (p *Pipeline) At(line int) Loc {
	if line <= 0 || line >= len(p.locs) {
		return Loc{Line: line}
	}
	l := p.locs[line]
	l.Line = line
	return l
}

// Parse parses a pipeline file of a known system. A malformed file is an
// error naming the line; what was parsed before it is not returned.
func Parse(sys System, data []byte) (*Pipeline, error) {
	p := &Pipeline{System: sys, locs: make([]Loc, strings.Count(string(data), "\n")+2)}
	if sys == Jenkins {
		parseJenkins(p, string(data))
		return p, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(err)
	}
	w := &walker{p: p, sys: sys, spec: specs[sys], defined: map[string]bool{}}
	for _, doc := range root.Content {
		w.node(doc, nil)
	}
	if w.tooDeep {
		return nil, &parseError{msg: fmt.Sprintf("nesting deeper than %d levels", maxDepth)}
	}
	w.finish()
	return p, nil
}

// yamlError keeps the YAML parser's message (it names the line, never a
// value beyond the offending token's kind).
func yamlError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i > 0 {
		msg = msg[:i]
	}
	return &parseError{msg: redact.Message(msg)}
}

type parseError struct{ msg string }

func (e *parseError) Error() string { return "malformed pipeline YAML: " + e.msg }

// spec says, for one YAML CI system, which keys hold variables and which
// hold shell, and how jobs and steps are named.
type spec struct {
	vars    map[string]bool // mapping keys whose entries are variables
	scripts map[string]bool // keys whose string or list values are shell
	job     func(fr []frame) (job, step string)
	shellRe *regexp.Regexp // how scripts and values reference store variables
	// varsDeep: everything below a vars key is variables (Travis env:
	// {global: [...], jobs: [...]})
	varsDeep bool
}

type frame struct {
	key   string // the mapping key, or "" in a sequence
	index int    // the index in a sequence
	node  *yaml.Node
}

func set(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

var (
	dollarRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	azureRef  = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.]*)\)|\bvariables(?:\.([A-Za-z_][A-Za-z0-9_.]*)|\['([^']+)'\])`)
	ghRef     = regexp.MustCompile(`\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)|\b(secrets|vars)\[\s*'([^']+)'\s*\]`)
)

// gitlabReserved are GitLab CI's global keywords: every other top-level
// key is a job.
var gitlabReserved = set("default", "include", "stages", "variables", "workflow", "image", "services", "cache",
	"before_script", "after_script", "spec", "pages:deploy")

// bitbucketLeaf are Bitbucket keys below a step, not pipeline names.
var bitbucketLeaf = set("variables", "script", "after-script", "services", "caches", "artifacts", "name", "image", "deployment", "condition", "trigger", "size")

var specs = map[System]spec{
	GitHubActions: {
		vars:    set("env", "with", "credentials"),
		scripts: set("run"),
		job: func(fr []frame) (string, string) {
			var job, step string
			if len(fr) > 1 && fr[0].key == "jobs" {
				job = fr[1].key
			}
			for i := 1; i < len(fr); i++ {
				if fr[i-1].key == "steps" && fr[i].key == "" {
					step = label(fr[i].node, fr[i].index, "name", "id", "uses")
				}
			}
			if len(fr) > 3 && fr[2].key == "services" {
				step = "service " + fr[3].key
			}
			return job, step
		},
	},
	GitLabCI: {
		vars:    set("variables"),
		scripts: set("script", "before_script", "after_script"),
		shellRe: dollarRef,
		job: func(fr []frame) (string, string) {
			if len(fr) > 0 && !gitlabReserved[fr[0].key] {
				return fr[0].key, ""
			}
			return "", ""
		},
	},
	CircleCI: {
		vars:    set("environment", "auth"),
		scripts: set("run", "command"),
		shellRe: dollarRef,
		job: func(fr []frame) (string, string) {
			var job, step string
			if len(fr) > 1 {
				switch fr[0].key {
				case "jobs":
					job = fr[1].key
				case "executors", "commands":
					job = strings.TrimSuffix(fr[0].key, "s") + " " + fr[1].key
				}
			}
			for i := 1; i < len(fr); i++ {
				if fr[i-1].key == "steps" && fr[i].key == "" {
					step = "#" + strconv.Itoa(fr[i].index+1)
					if run := mapGet(fr[i].node, "run"); run != nil {
						step = label(run, fr[i].index, "name")
					}
				}
			}
			return job, step
		},
	},
	AzurePipelines: {
		vars:    set("variables", "env"),
		scripts: set("script", "bash", "powershell", "pwsh", "inlineScript"),
		job: func(fr []frame) (string, string) {
			var parts []string
			var step string
			for i := 1; i < len(fr); i++ {
				if fr[i].key != "" {
					continue
				}
				switch fr[i-1].key {
				case "stages":
					parts = append(parts, label(fr[i].node, fr[i].index, "stage", "displayName", "template"))
				case "jobs":
					parts = append(parts, label(fr[i].node, fr[i].index, "job", "deployment", "displayName", "template"))
				case "steps":
					step = label(fr[i].node, fr[i].index, "displayName", "name", "task", "template")
				}
			}
			return strings.Join(parts, "/"), step
		},
	},
	Bitbucket: {
		vars:    set("variables"),
		scripts: set("script", "after-script"),
		shellRe: dollarRef,
		job: func(fr []frame) (string, string) {
			if len(fr) > 2 && fr[0].key == "definitions" && fr[1].key == "services" {
				return "service " + fr[2].key, ""
			}
			if len(fr) > 0 && fr[0].key == "pipelines" {
				var parts []string
				for i := 1; i < len(fr); i++ {
					switch k := fr[i].key; {
					case k == "step":
						parts = append(parts, label(fr[i].node, -1, "name"))
					case k == "parallel" || k == "steps" || k == "stage": // structure, not names
					case k != "" && len(parts) < 2 && !bitbucketLeaf[k]:
						parts = append(parts, k)
					}
				}
				return strings.Join(parts, "/"), ""
			}
			return "", ""
		},
	},
	Travis: {
		vars:     set("env"),
		scripts:  set("script", "before_script", "install", "before_install", "after_success", "after_failure", "after_script", "before_deploy", "after_deploy"),
		shellRe:  dollarRef,
		varsDeep: true,
		job: func(fr []frame) (string, string) {
			for i := 1; i < len(fr); i++ {
				if fr[i].key == "" && (fr[i-1].key == "include" || fr[i-1].key == "matrix") {
					return label(fr[i].node, fr[i].index, "name", "stage"), ""
				}
			}
			return "", ""
		},
	},
}

// label names a sequence item by the first of keys it has, else "#N".
func label(n *yaml.Node, index int, keys ...string) string {
	for _, k := range keys {
		if v := mapGet(n, k); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
			return v.Value
		}
	}
	if index < 0 {
		return ""
	}
	return "#" + strconv.Itoa(index+1)
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

type walker struct {
	p       *Pipeline
	sys     System
	spec    spec
	global  []Item
	jobs    map[string][]Item
	order   []string
	defined map[string]bool // variables the file defines itself
	cands   []Ref           // $NAME references, kept when not defined in the file
	tooDeep bool            // the document nests deeper than maxDepth
}

// maxDepth is the deepest nesting a pipeline is walked to: each level
// holds its path, so depth must be bounded for memory to stay linear.
const maxDepth = 256

func (w *walker) loc(fr []frame, line int, variable string) Loc {
	job, step := w.spec.job(fr)
	return Loc{Line: line, Job: job, Step: step, Variable: variable}
}

// mark records the job, step and variable of the lines from..to.
func (w *walker) mark(l Loc, from, to int) {
	for i := max(from, 1); i <= to && i < len(w.p.locs); i++ {
		w.p.locs[i] = Loc{Job: l.Job, Step: l.Step, Variable: l.Variable}
	}
}

func (w *walker) add(it Item) {
	if it.Job == "" {
		w.global = append(w.global, it)
		return
	}
	if w.jobs == nil {
		w.jobs = map[string][]Item{}
	}
	if _, ok := w.jobs[it.Job]; !ok {
		w.order = append(w.order, it.Job)
	}
	w.jobs[it.Job] = append(w.jobs[it.Job], it)
}

func (w *walker) node(n *yaml.Node, fr []frame) {
	if len(fr) > maxDepth {
		w.tooDeep = true
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.node(c, fr)
		}
	case yaml.AliasNode:
		// anchors are walked where they are defined
	case yaml.MappingNode:
		inVars := w.inVars(fr)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue
			}
			sub := append(fr[:len(fr):len(fr)], frame{key: k.Value, node: v})
			l := w.loc(sub, k.Line, "")
			w.mark(l, k.Line, k.Line)
			switch {
			case inVars:
				w.variable(sub, k, v)
			case w.spec.scripts[k.Value] && (v.Kind == yaml.ScalarNode || v.Kind == yaml.SequenceNode):
				w.script(sub, v)
			case w.sys == CircleCI && k.Value == "context":
				w.contexts(sub, v)
			case w.sys == AzurePipelines && k.Value == "group" && v.Kind == yaml.ScalarNode:
				w.p.Refs = append(w.p.Refs, Ref{Loc: w.loc(sub, v.Line, ""), Name: v.Value, Store: "variable group"})
			case w.sys == GitLabCI && k.Value == "include":
				w.includes(v)
				w.node(v, sub)
			default:
				w.node(v, sub)
			}
		}
	case yaml.SequenceNode:
		inVars := w.inVars(fr)
		for i, c := range n.Content {
			sub := append(fr[:len(fr):len(fr)], frame{index: i, node: c})
			switch {
			case inVars && w.sys == AzurePipelines && c.Kind == yaml.MappingNode && mapGet(c, "name") != nil:
				name, val := mapGet(c, "name"), mapGet(c, "value")
				if val != nil {
					w.variable(sub, name, val)
				}
			case inVars && c.Kind == yaml.ScalarNode && strings.Contains(c.Value, "="):
				w.envString(sub, c) // Travis "A=1 B=2", Jenkins-like lists
			default:
				w.node(c, sub)
			}
		}
	case yaml.ScalarNode:
		if w.inVars(fr) && strings.Contains(n.Value, "=") {
			w.envString(fr, n) // Travis env: "A=1 B=2"
			return
		}
		l := w.loc(fr, n.Line, "")
		w.refs(l, n.Value)
		w.mark(l, n.Line, n.Line+strings.Count(n.Value, "\n"))
	}
}

// inVars reports whether the node under frames fr holds variables.
func (w *walker) inVars(fr []frame) bool {
	if len(fr) == 0 {
		return false
	}
	if w.spec.vars[fr[len(fr)-1].key] {
		return true
	}
	if w.spec.varsDeep {
		for _, f := range fr {
			if w.spec.vars[f.key] {
				return true
			}
		}
	}
	return false
}

// variable records NAME: value (or GitLab's NAME: {value: …}).
func (w *walker) variable(fr []frame, k, v *yaml.Node) {
	name := k.Value
	switch {
	case v.Kind == yaml.MappingNode && mapGet(v, "value") != nil:
		v = mapGet(v, "value") // GitLab: {value, description, options, expand}
	case w.sys == Travis && name == "secure":
		w.p.Refs = append(w.p.Refs, Ref{Loc: w.loc(fr, k.Line, ""), Name: "(encrypted value)", Store: "encrypted"})
		return
	case v.Kind != yaml.ScalarNode:
		w.node(v, fr)
		return
	}
	if len(fr) > 1 && fr[len(fr)-2].key == "credentials" || len(fr) > 1 && fr[len(fr)-2].key == "auth" {
		name = "registry_" + name
	}
	w.defined[name] = true
	l := w.loc(fr, k.Line, name)
	start := v.Line
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		start++
	}
	w.mark(l, k.Line, start+strings.Count(v.Value, "\n"))
	for i, line := range strings.Split(v.Value, "\n") {
		it := Item{Loc: l, Text: line}
		it.Line = start + i
		if i == 0 {
			it.Line = v.Line
			it.Text = shellName(name) + "=" + shellQuote(line)
		}
		w.add(it)
	}
	w.refs(l, v.Value)
}

// envString records "A=1 B=2" (Travis env entries).
func (w *walker) envString(fr []frame, n *yaml.Node) {
	l := w.loc(fr, n.Line, "")
	if i := strings.IndexByte(n.Value, '='); i > 0 {
		l.Variable = strings.TrimSpace(n.Value[:i])
		w.defined[l.Variable] = true
	}
	w.mark(l, n.Line, n.Line)
	w.add(Item{Loc: l, Text: n.Value})
	w.refs(l, n.Value)
}

// script records the lines of a script (a string or a list of strings).
func (w *walker) script(fr []frame, v *yaml.Node) {
	if v.Kind == yaml.SequenceNode {
		for i, c := range v.Content {
			sub := append(fr[:len(fr):len(fr)], frame{index: i, node: c})
			switch c.Kind {
			case yaml.SequenceNode, yaml.ScalarNode:
				w.script(sub, c)
			case yaml.MappingNode:
				w.node(c, sub) // a Bitbucket pipe: {pipe: …, variables: {…}}
			}
		}
		return
	}
	if v.Kind != yaml.ScalarNode {
		return
	}
	l := w.loc(fr, v.Line, "")
	start := v.Line
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		start++
	}
	lines := strings.Split(strings.TrimRight(v.Value, "\n"), "\n")
	w.mark(l, v.Line, start+len(lines)-1)
	for i, line := range lines {
		it := Item{Loc: l, Text: line}
		it.Line = start + i
		w.add(it)
		w.refs(it.Loc, line)
	}
}

func (w *walker) contexts(fr []frame, v *yaml.Node) {
	var names []*yaml.Node
	if v.Kind == yaml.ScalarNode {
		names = append(names, v)
	}
	if v.Kind == yaml.SequenceNode {
		names = append(names, v.Content...)
	}
	for _, n := range names {
		if n.Kind == yaml.ScalarNode {
			w.p.Refs = append(w.p.Refs, Ref{Loc: w.loc(fr, n.Line, ""), Name: n.Value, Store: "context"})
		}
	}
}

// includes collects GitLab include:local files.
func (w *walker) includes(v *yaml.Node) {
	add := func(s string) {
		if s != "" && !strings.Contains(s, "://") && !strings.ContainsAny(s, "*$") {
			w.p.Includes = append(w.p.Includes, strings.TrimPrefix(s, "/"))
		}
	}
	switch v.Kind {
	case yaml.ScalarNode:
		add(v.Value)
	case yaml.MappingNode:
		if l := mapGet(v, "local"); l != nil {
			add(l.Value)
		}
	case yaml.SequenceNode:
		for _, c := range v.Content {
			if c.Kind == yaml.ScalarNode || mapGet(c, "local") != nil {
				w.includes(c)
			}
		}
	}
}

// refs records the store secrets a value or script line references.
func (w *walker) refs(l Loc, s string) {
	if !strings.ContainsAny(s, "$.") {
		return
	}
	switch w.sys {
	case GitHubActions:
		if !strings.Contains(s, "${{") {
			return
		}
		for _, m := range ghRef.FindAllStringSubmatch(s, -1) {
			store, name := m[1], m[2]
			if store == "" {
				store, name = m[3], m[4]
			}
			if name == "GITHUB_TOKEN" {
				continue // issued per run, not stored
			}
			w.p.Refs = append(w.p.Refs, Ref{Loc: l, Name: name, Store: store})
		}
	case AzurePipelines:
		for _, m := range azureRef.FindAllStringSubmatch(s, -1) {
			name := m[1] + m[2] + m[3]
			if !predefined(name) {
				w.cands = append(w.cands, Ref{Loc: l, Name: name, Store: "variables"})
			}
		}
	default:
		if w.spec.shellRe == nil {
			return
		}
		for _, m := range w.spec.shellRe.FindAllStringSubmatch(s, -1) {
			if !predefined(m[1]) {
				w.cands = append(w.cands, Ref{Loc: l, Name: m[1], Store: "variables"})
			}
		}
	}
}

// finish keeps the $NAME references that are neither defined in the file
// nor predefined and that name a secret (or are a password variable's
// whole value), and builds the per-job groups.
func (w *walker) finish() {
	for _, r := range w.cands {
		if w.defined[r.Name] || !(secretish(r.Name) || r.Variable != "" && secretish(r.Variable)) {
			continue
		}
		w.p.Refs = append(w.p.Refs, r)
	}
	w.p.Refs = dedupeRefs(w.p.Refs)
	w.p.Groups = groups(w.global, w.jobs, w.order)
	carry(w.p.locs)
}

func groups(global []Item, jobs map[string][]Item, order []string) [][]Item {
	var out [][]Item
	if len(order) == 0 && len(global) > 0 {
		out = append(out, global)
	}
	for _, j := range order {
		g := append(append([]Item(nil), global...), jobs[j]...)
		out = append(out, g)
	}
	return out
}

// carry gives lines with no context of their own (block-scalar bodies,
// comments) the context of the line above, within the same job.
func carry(locs []Loc) {
	for i := 2; i < len(locs); i++ {
		if locs[i] == (Loc{}) {
			locs[i] = locs[i-1]
		}
	}
}

func dedupeRefs(rs []Ref) []Ref {
	seen := map[Ref]bool{}
	var out []Ref
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// predefined are variables the CI or the shell sets itself.
func predefined(name string) bool {
	u := strings.ToUpper(name)
	for _, p := range []string{"CI_", "GITLAB_", "GITHUB_", "RUNNER_", "CIRCLE_", "BITBUCKET_", "TRAVIS_", "BUILD_", "SYSTEM_", "AGENT_", "PIPELINE_", "RELEASE_", "JENKINS_", "JOB_", "NODE_", "BRANCH_", "WORKSPACE", "HOME", "PATH", "PWD", "USER", "SHELL", "HOSTNAME", "TMPDIR"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// secretish reports whether a variable name names a secret.
func secretish(name string) bool {
	u := strings.ToUpper(name)
	for _, w := range []string{"PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "TOKEN", "CREDENTIAL", "CREDS", "DSN", "DATABASE_URL", "DB_URL", "CONNECTION_STRING", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	return false
}

// shellName makes a variable name usable as a shell name (inputs such as
// db-password become db_password).
func shellName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || '0' <= b[0] && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
