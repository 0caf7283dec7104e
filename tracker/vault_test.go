//go:build linux

package tracker_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/internal/testenv"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/tracker/trackertest"
	"github.com/credscan/credscan/vaultsync/kv"
)

// The suite against the real Vault server, each subtest under its own
// prefix, each store with its own client.
func TestKVStoreConformanceVault(t *testing.T) {
	v := testenv.StartVault(t)
	var n atomic.Int32
	trackertest.Run(t, func(t *testing.T) func() tracker.Store {
		prefix := fmt.Sprintf("suite%d", n.Add(1))
		return func() tracker.Store { return tracker.NewKVStore(kv.NewVault(v.Client(v.RootToken), "secret"), prefix) }
	})
	// max_versions is set on the app's path
	md, err := kv.NewVault(v.Client(v.RootToken), "secret").Metadata(context.Background(), "suite5/credscan/apps/ledger")
	if err != nil || md.MaxVersions != tracker.MaxVersions {
		t.Errorf("metadata %+v %v", md, err)
	}
}

// Vault goes away in the middle of ticking and comes back: the tick made
// while it is down fails as unavailable (nothing half written), the next
// ones succeed, and the history holds every tick that succeeded.
func TestVaultRestartMidTick(t *testing.T) {
	v := testenv.StartVaultPersistent(t)
	ctx := context.Background()
	tr := tracker.New(tracker.NewKVStore(kv.NewVault(v.Client(v.RootToken), "secret"), ""), audit.NewRecorder(audit.Open(t.TempDir()+"/audit.jsonl"), audit.Actor{Vault: "alice"}))
	if _, err := tr.Tick(ctx, "billing-api", tracker.ReadsFromVault, "before", ""); err != nil {
		t.Fatal(err)
	}
	v.Kill()
	_, err := tr.Tick(ctx, "billing-api", tracker.VerifiedOnGreen, "during", "")
	if credscan.CodeOf(err) != credscan.CodeUnavailable {
		t.Fatalf("a tick while Vault is down: %v", err)
	}
	v.Restart()
	if _, err := tr.Tick(ctx, "billing-api", tracker.VerifiedOnGreen, "after", ""); err != nil {
		t.Fatal(err)
	}
	st, err := tr.Load(ctx, "billing-api")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.History) != 2 || st.History[0].Note != "before" || st.History[1].Note != "after" {
		t.Fatalf("history %+v", st.History)
	}
}
