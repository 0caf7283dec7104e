//go:build linux

package kv_test

import (
	"testing"

	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/vaultsync/kv"
	"github.com/credscan/credscan/vaultsync/kv/kvtest"
)

// The same suite against the real Vault server's KV v2 mount.
func TestVaultConformance(t *testing.T) {
	v := testenv.StartVault(t)
	c := v.Client(v.RootToken)
	kvtest.Run(t, func(*testing.T) kv.KV { return kv.NewVault(c, "secret") })
	t.Run("DryRun", func(t *testing.T) { testDryRun(t, kv.NewVault(c, "secret")) })
}
