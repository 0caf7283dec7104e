package rotation_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/rotation/rotationtest"
)

// A broker entry with min_pool_size: PgBouncer's maintenance logs servers
// in while the database is paused and the pause closes them, after which
// it refuses clients. The switch runs with min_pool_size 0 and puts the
// database's own back: no client fails through a cutover and a rollback
// under load, and the entry has its min_pool_size again after each.
func TestSwitchWithMinPoolSize(t *testing.T) {
	rig := rotationtest.NewWith(t, rotationtest.Config{Window: time.Second, MinPoolSize: 3})
	ctx := context.Background()
	var out bytes.Buffer
	o := rig.Options()
	o.Out = &out
	// a client connected during the pause (PgBouncer logs it in without a
	// server: the pool's welcome is known) that asks right after RESUME:
	// with its pool marked failing and no server, PgBouncer refuses it.
	// (The load's clients all wait through the pause, and a client that
	// connects after the RELOAD waits for the new entry's first login,
	// which clears the mark: neither is refused.)
	probes := map[string]error{}
	var probe *pgx.Conn
	o.Hook = func(step string) {
		switch {
		case strings.HasSuffix(step, "/drained"):
			var err error
			if probe, err = rig.BrokerClient("probe")(ctx); err != nil {
				probes[step] = err
			}
			// a pause as long as a slow transaction makes it: PgBouncer's
			// maintenance runs at least once in it
			time.Sleep(400 * time.Millisecond)
		case strings.HasSuffix(step, "/resumed") && probe != nil:
			_, err := probe.Exec(ctx, "SELECT 1")
			probe.Close(ctx)
			probe = nil
			probes[step] = err
		}
	}
	rot := rig.Rotator(o)
	for _, stage := range []func(context.Context) (*rotation.Result, error){rot.Verify, rot.ProvisionGreen, rot.Pointer} {
		if res, err := stage(ctx); err != nil {
			t.Fatalf("%s: %v", res.Stage, err)
		}
	}
	rig.TickReadsFromVault()
	l := startLoads(rig)
	defer l.stop()
	time.Sleep(500 * time.Millisecond)
	minPool := func() int { return brokerMinPool(t, rig) }
	if n := minPool(); n != 3 {
		t.Fatalf("the rig's entry has min_pool_size %d", n)
	}
	// probed checks the client right after RESUME; a switch whose PAUSE
	// closed a login in flight (the hold, see TestRotationEndToEnd) can
	// refuse it during the first login, and is not counted
	probed := func(res *rotation.Result, step string) {
		t.Helper()
		for _, s := range res.Steps {
			if strings.Contains(s.What, "in flight") {
				t.Logf("%s: PAUSE closed a login in flight; the probe is not counted (%v)", step, probes[step])
				return
			}
		}
		if err, ok := probes[step]; !ok || err != nil {
			t.Errorf("a client right after %s: %v (probed %v)", step, err, ok)
		}
	}
	l.mark("cutover")
	res, err := rot.Cutover(ctx)
	if err != nil {
		t.Fatalf("cutover: %v", err)
	}
	probed(res, "cutover/resumed")
	time.Sleep(500 * time.Millisecond)
	if n := minPool(); n != 3 {
		t.Errorf("after the cutover the entry has min_pool_size %d", n)
	}
	l.mark("rollback")
	if res, err = rot.Rollback(ctx, "test"); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	probed(res, "rollback/resumed")
	time.Sleep(500 * time.Millisecond)
	l.mark("end")
	l.stop()
	if n := minPool(); n != 3 {
		t.Errorf("after the rollback the entry has min_pool_size %d", n)
	}
	l.assertClean(t, "cutover", "rollback")
	if !strings.Contains(out.String(), "min_pool_size of arp is 3: 0 for the switch") {
		t.Errorf("the output does not tell of min_pool_size:\n%s", out.String())
	}
	leakcheck.AssertNone(t, "the rotator's output", out.Bytes(), rig.Secrets()...)
	consistent(t, rig, rot, rotation.Blue)
}

// brokerMinPool is the broker's min_pool_size for arp.
func brokerMinPool(t *testing.T, rig *rotationtest.Rig) int {
	t.Helper()
	return rig.BrokerEntry().MinPoolSize
}

// The database's min_pool_size survives a switch that aborts (Vault sealed
// while paused: the abort cannot save, resume finishes from the recorded
// op) and the password rotations, which rewrite the entry.
func TestMinPoolSizeKeptThroughAbortResumeAndRotation(t *testing.T) {
	rig := rotationtest.NewWith(t, rotationtest.Config{Window: time.Second, MinPoolSize: 3})
	ctx := context.Background()
	plain := rig.Rotator(rig.Options())
	for _, stage := range []func(context.Context) (*rotation.Result, error){plain.Verify, plain.ProvisionGreen, plain.Pointer} {
		if res, err := stage(ctx); err != nil {
			t.Fatalf("%s: %v", res.Stage, err)
		}
	}
	rig.TickReadsFromVault()
	o := rig.Options()
	o.Hook = func(step string) {
		if step == "cutover/paused" {
			if brokerMinPool(t, rig) != 0 {
				t.Error("min_pool_size is not 0 while the switch runs")
			}
			if err := rig.Client().Sys().Seal(); err != nil {
				t.Errorf("sealing: %v", err)
			}
		}
	}
	if _, err := rig.Rotator(o).Cutover(ctx); err == nil || !strings.Contains(err.Error(), "back on blue") {
		t.Fatalf("cutover with Vault sealed mid-way: %v", err)
	}
	if n := brokerMinPool(t, rig); n != 3 {
		t.Errorf("after the abort min_pool_size is %d", n)
	}
	rig.Vault.Unseal()
	st, err := plain.State(ctx)
	if err != nil || st.Op == nil || st.Op.MinPoolSize != 3 {
		t.Fatalf("the recorded op: %+v %v", st.Op, err)
	}
	if _, err := plain.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	consistent(t, rig, plain, rotation.Blue)
	if n := brokerMinPool(t, rig); n != 3 {
		t.Errorf("after resume min_pool_size is %d", n)
	}
	if _, err := plain.Cutover(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{rotation.Alternating, rotation.Single} {
		if _, err := plain.RotatePassword(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if n := brokerMinPool(t, rig); n != 3 {
			t.Errorf("after the %s rotation min_pool_size is %d", s, n)
		}
	}
}
