//go:build linux

package dir

import (
	"fmt"
	"syscall"
	"time"
)

func statVersion(st *syscall.Stat_t, before time.Time) string {
	m, c := time.Unix(st.Mtim.Unix()), time.Unix(st.Ctim.Unix())
	if !m.Before(before) || !c.Before(before) {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d:%d", st.Dev, st.Ino, st.Size, m.UnixNano(), c.UnixNano())
}
