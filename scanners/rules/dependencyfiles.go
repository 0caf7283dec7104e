package rules

import "path"

// dependencyFiles are the files package managers write: lock files
// (package names, versions, checksums and registry URLs) and Go's module
// files (module paths and versions, replace and exclude directives), in
// formats with no place for a credential. gitleaks' default configuration
// skips the same files by path (its global allowlist lists all but the
// last five).
var dependencyFiles = map[string]bool{
	"go.mod":              true,
	"go.sum":              true,
	"go.work":             true,
	"go.work.sum":         true,
	"package-lock.json":   true,
	"npm-shrinkwrap.json": true,
	"yarn.lock":           true,
	"pnpm-lock.yaml":      true,
	"deno.lock":           true,
	"gradle.lockfile":     true,
	"Cargo.lock":          true,
	"composer.lock":       true,
	"Gemfile.lock":        true,
	"poetry.lock":         true,
	"Pipfile.lock":        true,
}

// DependencyFile reports whether the file at p (slash-separated) is a
// package manager's lock file or a Go module file, which the pack does
// not read: nothing in it is a database credential, and a history holds
// hundreds of versions of each (a quarter of the bytes of
// prometheus/prometheus' history, a fifth of etcd-io/etcd's).
func DependencyFile(p string) bool { return dependencyFiles[path.Base(p)] }
