//go:build unix && !linux

package dir

import (
	"syscall"
	"time"
)

// statVersion is "" outside Linux: the scan cache reads and hashes files.
func statVersion(*syscall.Stat_t, time.Time) string { return "" }
