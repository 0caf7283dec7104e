package civars

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/redact"
	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/scanners"
)

// maxPipelineFile is the largest pipeline file read; CI files are small,
// and a bigger one is reported, not read.
const maxPipelineFile = 8 << 20

// synthSep separates a file's path from the name of one of its derived
// shell chunks; it cannot occur in a path of a walked tree.
const synthSep = "#credscan-ci-"

// Options configure a Scanner.
type Options struct {
	App    string       // the app the sources belong to (from the manifest)
	Label  string       // the name reports give a single path (default: the path)
	Logger *slog.Logger // progress and rate-limit notices
	// GitLab and GitHub are the variable stores to read.
	GitLab *GitLabOptions
	GitHub *GitHubOptions
}

// Scanner scans pipeline files and CI variable stores. Run it through an
// Engine, then Attribute (findings) and AttributeRefs (references); its
// Secrets are the secret names pipelines depend on and stores hold.
type Scanner struct {
	o     Options
	files []pipelineFile

	mu      sync.Mutex
	derived map[string][]Item     // target \x00 derived path → the lines' places
	varAt   map[string]string     // target \x00 path \x00 line → the variable set there
	parsed  map[string]*parsedRef // target \x00 path → the parsed pipeline
	secrets []credscan.CISecret
	refs    []credscan.Reference
}

var (
	_ scanners.Source     = (*Scanner)(nil)
	_ scanners.Attributor = (*Scanner)(nil)
)

type pipelineFile struct {
	root, rel, target string
	sys               System
	includedBy        string // the file whose include:local names this one
}

type parsedRef struct {
	p     *Pipeline
	lines []string
}

// Known pipeline file locations, for the error that says a file is none.
const knownFiles = ".github/workflows/*.yml, .gitlab-ci.yml, Jenkinsfile, .circleci/config.yml, azure-pipelines.yml, bitbucket-pipelines.yml, .travis.yml"

// New returns a Scanner of paths: pipeline files, or directories searched
// for the known pipeline files (.github/workflows/*.yml, .gitlab-ci.yml,
// Jenkinsfile, .circleci/config.yml, azure-pipelines.yml,
// bitbucket-pipelines.yml, .travis.yml), plus the stores o names.
func New(paths []string, o Options) (*Scanner, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Scanner{o: o, derived: map[string][]Item{}, varAt: map[string]string{}, parsed: map[string]*parsedRef{}}
	for _, p := range paths {
		target := p
		if o.Label != "" && len(paths) == 1 {
			target = o.Label
		}
		target = filepath.ToSlash(target)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, credscan.UsageError("ci: %v", unwrapPath(err))
		}
		if !fi.IsDir() {
			sys := DetectSystem(filepath.ToSlash(p))
			if sys == "" {
				return nil, credscan.UsageError("ci: %s is not a known pipeline file (%s)", p, knownFiles)
			}
			s.files = append(s.files, pipelineFile{root: filepath.Dir(p), rel: filepath.Base(p), target: target, sys: sys})
			continue
		}
		found, err := findPipelines(p)
		if err != nil {
			return nil, credscan.UsageError("ci: %v", err)
		}
		for _, f := range found {
			s.files = append(s.files, pipelineFile{root: p, rel: f.rel, target: target, sys: f.sys})
		}
	}
	return s, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

type found struct {
	rel string
	sys System
}

// findPipelines walks root for pipeline files, leaving out .git,
// node_modules and vendor trees.
func findPipelines(root string) ([]found, error) {
	var out []found
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable corner: the directory source reports it
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "vendor", ".terraform":
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if sys := DetectSystem(rel); sys != "" && d.Type().IsRegular() {
			out = append(out, found{rel: rel, sys: sys})
		}
		return nil
	})
	return out, err
}

// SetLogger sets where progress and rate-limit notices go.
func (s *Scanner) SetLogger(l *slog.Logger) { s.o.Logger = l }

// Chunks yields each pipeline file whole, then its jobs' variables and
// scripts as derived shell chunks; then the variable stores.
func (s *Scanner) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	visited := map[string]bool{}
	queue := append([]pipelineFile(nil), s.files...)
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		key := filepath.Join(f.root, f.rel)
		if visited[key] {
			continue
		}
		visited[key] = true
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := s.scanFile(f, yield)
		if err != nil {
			return err
		}
		if p != nil && f.sys == GitLabCI {
			for _, inc := range p.Includes {
				queue = append(queue, pipelineFile{root: f.root, rel: path.Clean(inc), target: f.target, sys: GitLabCI, includedBy: f.rel})
			}
		}
	}
	if s.o.GitLab != nil {
		if err := s.gitlab(ctx, yield); err != nil {
			return err
		}
	}
	if s.o.GitHub != nil {
		if err := s.github(ctx, yield); err != nil {
			return err
		}
	}
	return nil
}

// scanFile yields one pipeline file and its derived chunks; it returns
// the parsed pipeline (nil when it could not be parsed).
func (s *Scanner) scanFile(f pipelineFile, yield func(credscan.Chunk, error) error) (*Pipeline, error) {
	o := credscan.Origin{Kind: credscan.KindCIVars, App: s.o.App, Target: f.target, Path: f.rel, CI: string(f.sys)}
	data, err := readLimited(filepath.Join(f.root, filepath.FromSlash(f.rel)))
	if err != nil {
		if f.includedBy != "" && errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("included by %s (include:local): not found in the repository", f.includedBy)
		}
		return nil, yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: err})
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, yield(credscan.Chunk{Origin: o, Skip: "binary"}, nil)
	}
	// the file itself, whole: every rule runs over it as over any file
	if err := yield(credscan.Chunk{Origin: o, Data: data, StartLine: 1, Whole: true}, nil); err != nil {
		return nil, err
	}
	p, perr := Parse(f.sys, data)
	if perr != nil {
		// the raw file was scanned; the structure could not be read
		return nil, yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: perr})
	}
	s.mu.Lock()
	s.parsed[o.Target+"\x00"+o.Path] = &parsedRef{p: p, lines: strings.Split(string(data), "\n")}
	for _, r := range p.Refs {
		ro := o
		ro.Line, ro.Job, ro.Step, ro.Variable = r.Line, r.Job, r.Step, r.Variable
		s.secrets = append(s.secrets, credscan.CISecret{Origin: ro, Name: r.Name, Store: r.Store, Use: "referenced"})
		key := r.Variable
		if key == "" {
			key = r.Name
		}
		s.refs = append(s.refs, credscan.Reference{Origin: ro, Key: key})
	}
	s.mu.Unlock()
	return p, s.yieldGroups(o, p.Groups, yield)
}

// yieldGroups yields each group of items as a derived shell chunk and
// remembers where each of its lines is.
func (s *Scanner) yieldGroups(o credscan.Origin, groups [][]Item, yield func(credscan.Chunk, error) error) error {
	for i, g := range groups {
		if len(g) == 0 {
			continue
		}
		var b strings.Builder
		for _, it := range g {
			b.WriteString(it.Text)
			b.WriteByte('\n')
		}
		d := o
		d.Path = o.Path + synthSep + strconv.Itoa(i) + ".sh"
		s.mu.Lock()
		s.derived[d.Target+"\x00"+d.Path] = g
		for _, it := range g {
			if it.Variable != "" && it.Line > 0 {
				s.varAt[d.Target+"\x00"+o.Path+"\x00"+strconv.Itoa(it.Line)] = it.Variable
			}
		}
		s.mu.Unlock()
		if err := yield(credscan.Chunk{Origin: d, Data: []byte(b.String()), StartLine: 1, Whole: true, Derived: true}, nil); err != nil {
			return err
		}
	}
	return nil
}

func readLimited(p string) ([]byte, error) {
	fh, err := regular.Open(p)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxPipelineFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", unwrapPath(err))
	}
	if len(data) > maxPipelineFile {
		return nil, fmt.Errorf("larger than %d MB: not a pipeline file, not read", maxPipelineFile>>20)
	}
	return data, nil
}

// place returns where a line of a scanned chunk is: a derived chunk's
// line maps back to the file (or store variable) it came from.
func (s *Scanner) place(o credscan.Origin) (credscan.Origin, *parsedRef, bool) {
	if o.Kind != credscan.KindCIVars {
		return o, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := strings.Index(o.Path, synthSep); i >= 0 {
		items := s.derived[o.Target+"\x00"+o.Path]
		if o.Line < 1 || o.Line > len(items) {
			return o, nil, false
		}
		it := items[o.Line-1]
		o.Path, o.Line = o.Path[:i], it.Line
		if it.Line == 0 && it.Variable != "" {
			o.Path += "/" + it.Variable // a store variable has no line
		}
		o.Job, o.Step, o.Variable = it.Job, it.Step, it.Variable
		return o, s.parsed[o.Target+"\x00"+o.Path], true
	}
	pr := s.parsed[o.Target+"\x00"+o.Path]
	if pr != nil {
		l := pr.p.At(o.Line)
		o.Job, o.Step, o.Variable = l.Job, l.Step, l.Variable
		if v := s.varAt[o.Target+"\x00"+o.Path+"\x00"+strconv.Itoa(o.Line)]; v != "" {
			o.Variable = v // the line sets this variable (withEnv, an env string)
		}
	}
	return o, pr, true
}

// Attribute maps findings of derived chunks back to the line of the file
// (or the store variable) they came from, with the line redacted as
// written there, and names the job, step and variable of every CI finding.
func (s *Scanner) Attribute(fs []*credscan.Finding) []*credscan.Finding {
	for _, f := range fs {
		derived := strings.Contains(f.Origin.Path, synthSep)
		o, pr, ok := s.place(f.Origin)
		if !ok {
			continue
		}
		f.Origin = o
		if derived && pr != nil && o.Line >= 1 && o.Line <= len(pr.lines) {
			f.Redacted = redact.Line(pr.lines[o.Line-1], nil, []string{f.Secret.Reveal(), f.Raw.Reveal()})
		}
	}
	return dropDirCopies(fs, func(f *credscan.Finding) credscan.Origin { return f.Origin }, func(f *credscan.Finding) string { return f.Fingerprint })
}

// dropDirCopies leaves out what a directory source of the same app found
// at the same place as this CI source: the CI finding names the job and
// the variable too.
func dropDirCopies[T any](xs []T, origin func(T) credscan.Origin, fp func(T) string) []T {
	type key struct {
		app, target, path, fp string
		line                  int
	}
	ci := map[key]bool{}
	for _, x := range xs {
		if o := origin(x); o.Kind == credscan.KindCIVars {
			ci[key{o.App, o.Target, o.Path, fp(x), o.Line}] = true
		}
	}
	if len(ci) == 0 {
		return xs
	}
	out := xs[:0]
	for _, x := range xs {
		if o := origin(x); o.Kind != credscan.KindDir || !ci[key{o.App, o.Target, o.Path, fp(x), o.Line}] {
			out = append(out, x)
		}
	}
	return out
}

// AttributeRefs maps references found in derived chunks back to their
// place, adds the pipeline's references to CI secret stores, and keeps one
// reference per place.
func (s *Scanner) AttributeRefs(refs []credscan.Reference) []credscan.Reference {
	out := make([]credscan.Reference, 0, len(refs)+len(s.refs))
	seen := map[credscan.Origin]bool{}
	for _, r := range append(refs, s.refs...) {
		if o, _, ok := s.place(r.Origin); ok {
			r.Origin = o
			key := o
			key.Job, key.Step, key.Variable = "", "", ""
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		out = append(out, r)
	}
	return dropDirCopies(out, func(r credscan.Reference) credscan.Origin { return r.Origin }, func(credscan.Reference) string { return "" })
}

// Secrets lists the CI secret names pipelines reference and stores hold,
// sorted by target, name and place.
func (s *Scanner) Secrets() []credscan.CISecret {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]credscan.CISecret(nil), s.secrets...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Origin.Target != b.Origin.Target {
			return a.Origin.Target < b.Origin.Target
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Origin.Path != b.Origin.Path {
			return a.Origin.Path < b.Origin.Path
		}
		return a.Origin.Line < b.Origin.Line
	})
	return out
}

// Link tells, for each secret name a pipeline references, whether a
// variable store of the same app holds it: the referenced entry gains the
// flag "in-store:<target>" and the store's flags (masked, protected …), or
// "not-in-scanned-stores" when stores of the app were scanned and none
// holds it. Stored entries pass unchanged.
func Link(secrets []credscan.CISecret) []credscan.CISecret {
	type key struct{ app, name string }
	stored := map[key][]credscan.CISecret{}
	storesOf := map[string]bool{}
	for _, s := range secrets {
		if s.Use == "stored" {
			stored[key{s.Origin.App, s.Name}] = append(stored[key{s.Origin.App, s.Name}], s)
			storesOf[s.Origin.App] = true
		}
	}
	out := make([]credscan.CISecret, len(secrets))
	for i, s := range secrets {
		out[i] = s
		if s.Use != "referenced" || !storesOf[s.Origin.App] {
			continue
		}
		held := stored[key{s.Origin.App, s.Name}]
		flags := append([]string(nil), s.Flags...)
		if len(held) == 0 {
			flags = append(flags, "not-in-scanned-stores")
		}
		for _, h := range held {
			flags = append(flags, "in-store:"+h.Origin.Target)
			for _, f := range h.Flags {
				if !slices.Contains(flags, f) {
					flags = append(flags, f)
				}
			}
		}
		out[i].Flags = flags
	}
	return out
}
