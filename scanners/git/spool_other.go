//go:build !linux

package git

import (
	"errors"
	"os"
	"syscall"
)

// openSpool: git writes to a pipe on other systems.
func openSpool(bool) (w, r *os.File, err error) { return nil, nil, errors.New("no spool here") }

func spoolProcAttr() *syscall.SysProcAttr { return nil }

func punchHole(*os.File, int64, int64) {}

func pauseProcess(*os.Process, bool) error { return errors.New("no pausing here") }
