package tracker_test

import (
	"path/filepath"
	"testing"

	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/tracker/trackertest"
	"github.com/credscan/credscan/vaultsync/kv"
)

func TestFileStoreConformance(t *testing.T) {
	trackertest.Run(t, func(t *testing.T) func() tracker.Store {
		p := filepath.Join(t.TempDir(), "tracker.json")
		return func() tracker.Store { return tracker.NewFileStore(p) }
	})
}

func TestKVStoreConformanceInMemory(t *testing.T) {
	trackertest.Run(t, func(t *testing.T) func() tracker.Store {
		m := kv.NewMemory()
		return func() tracker.Store { return tracker.NewKVStore(m, "") }
	})
}
