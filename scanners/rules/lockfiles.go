package rules

import "path"

// lockFiles are the lock files package managers write: package names,
// versions, checksums and registry URLs, in a format no one edits by
// hand. None can hold a database credential, and gitleaks' default
// configuration skips the same files by path (its global allowlist lists
// all but the last five).
var lockFiles = map[string]bool{
	"go.sum":              true,
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

// LockFile reports whether the file at p (slash-separated) is a package
// manager's lock file, which the pack does not read: nothing in it is a
// database credential, and a history holds hundreds of versions of each
// (a quarter of the bytes of prometheus/prometheus' history).
func LockFile(p string) bool { return lockFiles[path.Base(p)] }
