//go:build !unix

package pgbouncer

import "os"

// ownLike keeps the new file's owner where files have no Unix owner.
func ownLike(*os.File, string) error { return nil }
