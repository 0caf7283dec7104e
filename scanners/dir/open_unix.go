//go:build unix

package dir

import (
	"io"
	"io/fs"
	"syscall"
	"time"
)

// openFile opens a regular file for one sequential read. It uses the
// system calls directly: os.Open would also try to register each file
// with the network poller (four fcntl calls and a failing epoll_ctl per
// file, a tenth of a scan's time on a tree of small files). It opens
// without blocking (a named pipe with no writer would block open for
// ever) and refuses what is not a regular file with an *irregularError
// naming its kind.
func openFile(path string) (file, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			syscall.Close(fd)
			return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			syscall.Close(fd)
			return nil, &irregularError{kind: modeKind(uint32(st.Mode) & syscall.S_IFMT)}
		}
		return &rawFile{fd: fd, path: path}, nil
	}
}

// modeKind names a file type from its stat mode bits.
func modeKind(ifmt uint32) string {
	switch ifmt {
	case syscall.S_IFIFO:
		return kindFIFO
	case syscall.S_IFSOCK:
		return kindSocket
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return kindDevice
	case syscall.S_IFDIR:
		return kindDir
	case syscall.S_IFLNK:
		return kindSymlink
	}
	return kindIrregular
}

type rawFile struct {
	fd   int
	path string
	st   syscall.Stat_t // as of the last Size
	stOK bool
}

func (f *rawFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.path, Err: err}
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// ReadAt reads len(p) bytes at off (pread), so an archive is opened in
// place rather than read into memory first.
func (f *rawFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Pread(f.fd, p[n:], off+int64(n))
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return n, &fs.PathError{Op: "read", Path: f.path, Err: err}
		case m == 0:
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

func (f *rawFile) Size() (int64, error) {
	if err := syscall.Fstat(f.fd, &f.st); err != nil {
		return 0, &fs.PathError{Op: "stat", Path: f.path, Err: err}
	}
	f.stOK = true
	return f.st.Size, nil
}

// Version names the file's content version without reading it (see
// file), from the status Size read.
func (f *rawFile) Version(before time.Time) string {
	if !f.stOK {
		return ""
	}
	return statVersion(&f.st, before)
}

func (f *rawFile) Close() error { return syscall.Close(f.fd) }

// pathVersion is Version of the regular file at path, from its status
// alone (one stat, following links as openFile does): "" for what is not
// a regular file, or when the status cannot name a version.
func pathVersion(path string, before time.Time) string {
	var st syscall.Stat_t
	for {
		err := syscall.Stat(path, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return ""
		}
		return statVersion(&st, before)
	}
}
