//go:build windows

package audit

import (
	"os"

	"golang.org/x/sys/windows"
)

// lock takes an exclusive lock on f, so appends from several processes
// stay one chain.
func lock(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, new(windows.Overlapped))
}

func unlock(f *os.File) {
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}
