package git

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/archive"
)

// Change is a file a change adds lines to: its new content's blob and the
// (1-based) numbers of the lines added.
type Change struct {
	Path  string
	Blob  plumbing.Hash
	Added map[int]bool
}

// ChangeSet is what a change (base..HEAD, or the index) adds. It is a
// Source of the changed files' whole new content, so that parsers see
// each added line in its context; Keep then tells the findings on added
// lines from the others.
type ChangeSet struct {
	s       *Scanner
	Base    string // the commit compared with ("" for the index against HEAD)
	Head    string
	Changes []Change
	byPath  map[string]*Change
}

var _ scanners.Source = (*ChangeSet)(nil)

// maxDiffBytes bounds the files diffed line by line; a larger file's new
// content counts as added whole.
const maxDiffBytes = 8 << 20

// DiffBase returns the changes from the merge base of base and HEAD to
// HEAD, as a merge request shows them.
func (s *Scanner) DiffBase(ctx context.Context, base string) (*ChangeSet, error) {
	bh, err := s.repo.ResolveRevision(plumbing.Revision(base))
	if err != nil {
		return nil, credscan.UsageError("base %q: %v (in a shallow clone, fetch the base branch: actions/checkout with fetch-depth: 0, GIT_DEPTH: 0 on GitLab)", base, err)
	}
	head, err := s.repo.Head()
	if err != nil {
		return nil, credscan.UsageError("HEAD: %v", err)
	}
	bc, err := s.commit(*bh)
	if err != nil {
		return nil, err
	}
	hc, err := s.commit(head.Hash())
	if err != nil {
		return nil, err
	}
	if mb, err := bc.MergeBase(hc); err == nil && len(mb) > 0 {
		bc = mb[0]
	}
	bt, err := bc.Tree()
	if err != nil {
		return nil, err
	}
	ht, err := hc.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(ctx, bt, ht, &object.DiffTreeOptions{DetectRenames: true})
	if err != nil {
		return nil, fmt.Errorf("diffing %s..HEAD: %w", base, err)
	}
	cs := &ChangeSet{s: s, Base: bc.Hash.String(), Head: hc.Hash.String()}
	for _, ch := range changes {
		if ch.To.Name == "" || !ch.To.TreeEntry.Mode.IsFile() || ch.To.TreeEntry.Mode == filemode.Symlink {
			continue
		}
		var from plumbing.Hash
		if ch.From.Name != "" {
			from = ch.From.TreeEntry.Hash
		}
		if err := cs.add(ch.To.Name, from, ch.To.TreeEntry.Hash); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// DiffStaged returns what the index adds to HEAD (for a pre-commit hook).
func (s *Scanner) DiffStaged(context.Context) (*ChangeSet, error) {
	idx, err := s.repo.Storer.Index()
	if err != nil {
		return nil, credscan.UsageError("reading the index: %v", err)
	}
	cs := &ChangeSet{s: s}
	if head, err := s.repo.Head(); err == nil {
		cs.Head = head.Hash().String()
	}
	headFiles := s.tipFiles() // none before the first commit
	for _, e := range idx.Entries {
		if !e.Mode.IsFile() || e.Mode == filemode.Symlink || headFiles[e.Name] == e.Hash {
			continue
		}
		if err := cs.add(e.Name, headFiles[e.Name], e.Hash); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func (cs *ChangeSet) read(h plumbing.Hash) (string, int64, error) {
	if h.IsZero() {
		return "", 0, nil
	}
	b, err := cs.s.repo.BlobObject(h)
	if err != nil {
		return "", 0, err
	}
	if b.Size > maxDiffBytes {
		return "", b.Size, nil
	}
	r, err := b.Reader()
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	return string(data), b.Size, err
}

// add records the lines that to adds to from at path.
func (cs *ChangeSet) add(path string, from, to plumbing.Hash) error {
	newText, size, err := cs.read(to)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	c := Change{Path: path, Blob: to, Added: map[int]bool{}}
	if size > maxDiffBytes || archive.Kind(path) != "" {
		c.Added = nil // all of it (an archive's members have no lines to diff)
	} else {
		oldText, _, err := cs.read(from)
		if err != nil {
			return fmt.Errorf("reading the old %s: %w", path, err)
		}
		line := 1
		for _, d := range diff.Do(oldText, newText) {
			n := lineCount(d.Text)
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				line += n
			case diffmatchpatch.DiffInsert:
				for i := 0; i < n; i++ {
					c.Added[line+i] = true
				}
				line += n
			}
		}
		if len(c.Added) == 0 {
			return nil
		}
	}
	cs.Changes = append(cs.Changes, c)
	return nil
}

func lineCount(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// Chunks yields each changed file's new content.
func (cs *ChangeSet) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	commit := ""
	if cs.Base != "" {
		commit = cs.Head // the index is not a commit yet
	}
	for _, c := range cs.Changes {
		o := credscan.Origin{Kind: credscan.KindGit, App: cs.s.o.App, Target: cs.s.label, Path: c.Path, Blob: c.Blob.String(), Commit: commit}
		b, err := cs.s.repo.BlobObject(c.Blob)
		if err != nil {
			if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading blob: %w", err)}); err != nil {
				return err
			}
			continue
		}
		r, err := b.Reader()
		if err != nil {
			if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading blob: %w", err)}); err != nil {
				return err
			}
			continue
		}
		err = archive.Default.Chunks(ctx, r, b.Size, o, yield)
		r.Close()
		if ie, ok := err.(*credscan.ItemError); ok {
			err = yield(credscan.Chunk{}, ie)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Keep says whether a finding lies on a line the change adds.
func (cs *ChangeSet) Keep(f *credscan.Finding) bool {
	if cs.byPath == nil {
		cs.byPath = map[string]*Change{}
		for i := range cs.Changes {
			cs.byPath[cs.Changes[i].Path] = &cs.Changes[i]
		}
	}
	c, ok := cs.byPath[archive.Outer(f.Origin.Path)]
	if !ok {
		return false
	}
	return c.Added == nil || c.Added[f.Origin.Line]
}

// HasRevision says whether rev resolves in the repository.
func (s *Scanner) HasRevision(rev string) bool {
	_, err := s.repo.ResolveRevision(plumbing.Revision(rev))
	return err == nil
}

// DefaultBranch names the remote's default branch (origin/HEAD's target),
// else the first of origin/main, origin/master, main, master that exists.
func (s *Scanner) DefaultBranch() string {
	if ref, err := s.repo.Reference(plumbing.NewRemoteHEADReferenceName("origin"), false); err == nil && ref.Type() == plumbing.SymbolicReference {
		return ref.Target().Short()
	}
	for _, b := range []string{"origin/main", "origin/master", "main", "master"} {
		if s.HasRevision(b) {
			return b
		}
	}
	return ""
}

// CIBase picks the revision a change is compared with: flag (--base), else
// the CI's own variables (read through getenv), else the default branch
// (the merge base with HEAD is taken from there).
func (g *Scanner) CIBase(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA"); v != "" {
		return v, nil
	}
	for _, env := range []string{"GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "BITBUCKET_PR_DESTINATION_BRANCH", "SYSTEM_PULLREQUEST_TARGETBRANCH", "CHANGE_TARGET"} {
		v := strings.TrimPrefix(getenv(env), "refs/heads/")
		if v == "" {
			continue
		}
		for _, rev := range []string{"origin/" + v, v} {
			if g.HasRevision(rev) {
				return rev, nil
			}
		}
		return "", credscan.UsageError("$%s names branch %q, which this clone does not have (fetch it, e.g. actions/checkout with fetch-depth: 0)", env, v)
	}
	if b := g.DefaultBranch(); b != "" {
		return b, nil
	}
	return "", credscan.UsageError("no base to compare with: pass --base REV")
}
