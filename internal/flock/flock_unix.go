//go:build !windows

// Package flock takes whole-file advisory locks, for files several processes
// write (the audit log, the tracker's file store).
package flock

import (
	"os"
	"syscall"
)

// Lock takes an exclusive lock on f (a whole-file advisory lock), so
// writers in several processes take turns; Unlock releases it.
func Lock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

func Unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
