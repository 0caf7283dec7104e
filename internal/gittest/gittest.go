// Package gittest builds git repositories for tests with go-git: commits
// at fixed, increasing times, branches, and staged but uncommitted files.
package gittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a work tree with its repository.
type Repo struct {
	T    testing.TB
	Dir  string
	Repo *gogit.Repository
	WT   *gogit.Worktree
	When time.Time
}

// New initialises a repository in a temporary directory.
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{T: t, Dir: dir, Repo: repo, WT: wt, When: time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)}
}

// Write writes files (content "" deletes) and stages them.
func (r *Repo) Write(files map[string]string) {
	r.T.Helper()
	for p, c := range files {
		if c == "" {
			if _, err := r.WT.Remove(p); err != nil {
				r.T.Fatal(err)
			}
			continue
		}
		full := filepath.Join(r.Dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.T.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.T.Fatal(err)
		}
		if _, err := r.WT.Add(p); err != nil {
			r.T.Fatal(err)
		}
	}
}

// Commit writes files and commits the index as author, an hour after the
// previous commit; it returns the commit's SHA.
func (r *Repo) Commit(author string, files map[string]string) string {
	r.T.Helper()
	r.Write(files)
	r.When = r.When.Add(time.Hour)
	sig := &object.Signature{Name: author, Email: strings.ToLower(author) + "@example.com", When: r.When}
	h, err := r.WT.Commit("change by "+author, &gogit.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		r.T.Fatal(err)
	}
	return h.String()
}

// Checkout switches to branch, creating it at HEAD when create is set.
func (r *Repo) Checkout(branch string, create bool) {
	r.T.Helper()
	if err := r.WT.Checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create}); err != nil {
		r.T.Fatal(err)
	}
}

// Branch points branch at HEAD without switching to it.
func (r *Repo) Branch(branch string) {
	r.T.Helper()
	head, err := r.Repo.Head()
	if err != nil {
		r.T.Fatal(err)
	}
	if err := r.Repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), head.Hash())); err != nil {
		r.T.Fatal(err)
	}
}

// Merge writes files and commits the index as a merge of branch into
// HEAD (its parents: HEAD, then branch's tip); it returns the commit's SHA.
func (r *Repo) Merge(author, branch string, files map[string]string) string {
	r.T.Helper()
	head, err := r.Repo.Head()
	if err != nil {
		r.T.Fatal(err)
	}
	other, err := r.Repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		r.T.Fatal(err)
	}
	r.Write(files)
	r.When = r.When.Add(time.Hour)
	sig := &object.Signature{Name: author, Email: strings.ToLower(author) + "@example.com", When: r.When}
	h, err := r.WT.Commit("merge "+branch+" by "+author, &gogit.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true,
		Parents: []plumbing.Hash{head.Hash(), other.Hash()}})
	if err != nil {
		r.T.Fatal(err)
	}
	return h.String()
}
