package git

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openSpool creates an unlinked file in /dev/shm (when it is a tmpfs),
// open twice: w for git to write to, r to read from.
func openSpool(off bool) (w, r *os.File, err error) {
	if off {
		return nil, nil, errors.New("spool off")
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		return nil, nil, errors.New("no tmpfs at /dev/shm")
	}
	w, err = os.CreateTemp("/dev/shm", "credscan-git-")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(w.Name())
	if r, err = os.Open(w.Name()); err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, r, nil
}

// spoolProcAttr kills git when credscan dies (a paused git would otherwise
// wait forever).
func spoolProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// punchHole frees bytes [off, off+n) of f's memory.
func punchHole(f *os.File, off, n int64) {
	_ = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// pauseProcess stops (SIGSTOP) or continues (SIGCONT) p.
func pauseProcess(p *os.Process, pause bool) error {
	if pause {
		return p.Signal(syscall.SIGSTOP)
	}
	return p.Signal(syscall.SIGCONT)
}
