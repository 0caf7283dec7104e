//go:build linux

package dir

import (
	"strconv"
	"syscall"
	"time"
)

func statVersion(st *syscall.Stat_t, before time.Time) string {
	return version(uint64(st.Dev), st.Ino, st.Size, time.Unix(st.Mtim.Unix()), time.Unix(st.Ctim.Unix()), before)
}

// version names a file's content by its status: device, inode, size,
// modification and change times ("" when either time is not before
// before).
func version(dev, ino uint64, size int64, m, c time.Time, before time.Time) string {
	if !m.Before(before) || !c.Before(before) {
		return ""
	}
	b := make([]byte, 0, 80)
	b = strconv.AppendUint(b, dev, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, ino, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, m.UnixNano(), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, c.UnixNano(), 10)
	return string(b)
}
