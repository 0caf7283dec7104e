package kv_test

import (
	"testing"

	"github.com/credscan/credscan/vaultsync/kv"
	"github.com/credscan/credscan/vaultsync/kv/kvtest"
)

func TestMemoryConformance(t *testing.T) {
	kvtest.Run(t, func(*testing.T) kv.KV { return kv.NewMemory() })
}

// A dry run over a store reads through it and writes nothing, and fails
// where the real run would (a stale check-and-set, metadata over limits).
func TestDryRunWritesNothing(t *testing.T) {
	testDryRun(t, kv.NewMemory())
}
