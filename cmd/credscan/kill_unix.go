//go:build unix

package main

import (
	"os"
	"syscall"
	"time"
)

// killSelf dies at once, without cleanup (SIGKILL): the crash tests' hook.
func killSelf() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute)
}
