package git

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks for a pipe buffer of pipeSize bytes. (A pipe the system
// will not grow keeps its size: only slower.)
func growPipe(w *os.File) {
	_, _ = unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, pipeSize)
}
