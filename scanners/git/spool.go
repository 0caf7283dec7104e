package git

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// spool is the reading end of a file in memory (tmpfs) that git cat-file
// writes its answers to, instead of a pipe. Through a pipe, git and the
// reader wait on each other in 64 KiB steps, and moving 264 MB through it
// cost 0.4 s more system time than writing them to the file and reading
// them back (`git cat-file --batch` on the versions benchmark's blobs, to
// a pipe or to /dev/shm), and git and the workers now keep each other
// waiting less: the whole scan took 2.9 s instead of 3.6 s (medians of
// five runs each, alternated; $CREDSCAN_GIT_SPOOL=off makes git write to
// a pipe, as on other systems). The file is unlinked: nothing
// is left behind. What was read is cut out of it (holes punched), and git
// is paused (SIGSTOP) while more than spoolHigh bytes wait unread, until
// fewer than spoolLow do: at most about spoolHigh bytes of memory, however
// large a blob.
type spool struct {
	f      *os.File
	proc   *os.Process
	exited <-chan struct{}
	read   atomic.Int64 // bytes read
	cut    int64        // bytes cut out (from the start)
	// the scan's Limits: SpoolHigh, SpoolLow, SpoolCut
	high, low, step int64
	pauses          *atomic.Int64 // counts how often git was paused

	mu     sync.Mutex
	paused bool
}

func newSpool(f *os.File, proc *os.Process, exited <-chan struct{}, l Limits, pauses *atomic.Int64) *spool {
	s := &spool{f: f, proc: proc, exited: exited, high: l.SpoolHigh, low: l.SpoolLow, step: l.SpoolCut, pauses: pauses}
	go s.watch()
	return s
}

// Read reads what git has written, waiting for more while git runs.
func (s *spool) Read(p []byte) (int, error) {
	wait := 50 * time.Microsecond
	for {
		n, err := s.f.Read(p)
		if n > 0 {
			read := s.read.Add(int64(n))
			if read-s.cut >= s.step {
				punchHole(s.f, s.cut, read-s.cut)
				s.cut = read
			}
			s.flow()
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		select {
		case <-s.exited:
			// git has exited: all it wrote is in the file
			if n, _ := s.f.Read(p); n > 0 {
				s.read.Add(int64(n))
				return n, nil
			}
			return 0, io.EOF
		default:
		}
		s.resume() // nothing to read: git must not be paused
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Millisecond)
	}
}

// flow pauses git when too much waits unread, and resumes it once little
// does.
func (s *spool) flow() {
	fi, err := s.f.Stat()
	if err != nil {
		return
	}
	unread := fi.Size() - s.read.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.paused && unread > s.high:
		if pauseProcess(s.proc, true) == nil {
			s.paused = true
			s.pauses.Add(1)
		}
	case s.paused && unread < s.low:
		s.resumeLocked()
	}
}

// watch pauses git, while it runs, when the reader is not reading (the
// workers are busy): then the reader's own checks do not run.
func (s *spool) watch() {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.exited:
			return
		case <-t.C:
			s.flow()
		}
	}
}

// resume lets a paused git run again.
func (s *spool) resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resumeLocked()
}

func (s *spool) resumeLocked() {
	if s.paused {
		_ = pauseProcess(s.proc, false)
		s.paused = false
	}
}
