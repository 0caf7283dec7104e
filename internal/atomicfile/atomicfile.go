// Package atomicfile writes a file whole or not at all: the bytes go to a
// temporary file beside it, which then replaces it by a rename, so a
// reader never sees half of it (a report another process waits for, the
// scan cache other processes read).
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path's content with data (mode 0600 for a new file). A
// path that exists and is not a regular file (a device such as /dev/null,
// a named pipe) is written into, never replaced.
func Write(path string, data []byte) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		fh, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := fh.Write(data); err != nil {
			fh.Close()
			return err
		}
		return fh.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a rename, nothing there
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
