//go:build !windows

package audit

import (
	"os"
	"syscall"
)

// lock takes an exclusive lock on f, so appends from several processes
// stay one chain.
func lock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

func unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
