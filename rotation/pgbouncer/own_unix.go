//go:build unix

package pgbouncer

import (
	"os"
	"syscall"
)

// ownLike gives f the owner and group of the file at path, when it exists
// and they differ from ours (PgBouncer's account must read it).
func ownLike(f *os.File, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid()) {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
