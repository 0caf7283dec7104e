package rotation_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/rotation/rotationtest"
	"github.com/credscan/credscan/vaultsync/kv"
)

// readyRig is a rig through verify, provision-green and pointer, with the
// pointer app at reads-from-vault: ready for a cutover.
func readyRig(t *testing.T) (*rotationtest.Rig, *rotation.Rotator, *bytes.Buffer) {
	t.Helper()
	rig := rotationtest.New(t, time.Second)
	var out bytes.Buffer
	o := rig.Options()
	o.Out = &out
	rot := rig.Rotator(o)
	ctx := context.Background()
	for _, stage := range []func(context.Context) (*rotation.Result, error){rot.Verify, rot.ProvisionGreen, rot.Pointer} {
		if res, err := stage(ctx); err != nil {
			t.Fatalf("%s: %v", res.Stage, err)
		}
	}
	rig.TickReadsFromVault()
	return rig, rot, &out
}

// consistent fails unless the broker is resumed and it and the pointer
// point at side, and no operation is in progress.
func consistent(t *testing.T, rig *rotationtest.Rig, rot *rotation.Rotator, side rotation.Side) {
	t.Helper()
	want := rig.Blue.Port
	if side == rotation.Green {
		want = rig.Green.Port
	}
	port, paused := brokerPoints(t, rig)
	ps, _ := pointerSide(t, rig)
	st, err := rot.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if port != want || paused || ps != string(side) || st.Live != side || st.Op != nil {
		t.Fatalf("not consistent on %s: broker on %d (want %d) paused %v, pointer %q, state live %q op %+v", side, port, want, paused, ps, st.Live, st.Op)
	}
}

func TestCutoverRefusedWhenGreenIsDown(t *testing.T) {
	rig, rot, _ := readyRig(t)
	rig.Green.Stop()
	res, err := rot.Cutover(context.Background())
	if credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "green login") {
		t.Fatalf("cutover with green down: %v", err)
	}
	if len(res.Steps) != 0 {
		t.Errorf("something was switched: %+v", res.Steps)
	}
	consistent(t, rig, rot, rotation.Blue)
}

func TestCutoverRefusedWhenTheBrokerIsUnreachable(t *testing.T) {
	rig, rot, _ := readyRig(t)
	rig.Broker.Stop()
	_, err := rot.Cutover(context.Background())
	if credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "broker") {
		t.Fatalf("cutover with the broker down: %v", err)
	}
	rig.Broker.Restart()
	consistent(t, rig, rot, rotation.Blue)
}

// Vault sealed while the broker is paused: the broker goes back to blue
// and is resumed at once; resume, with Vault back, releases the lease.
func TestVaultSealedBetweenPauseAndResume(t *testing.T) {
	rig, _, _ := readyRig(t)
	o := rig.Options()
	o.Hook = func(step string) {
		if step == "cutover/paused" {
			if err := rig.Client().Sys().Seal(); err != nil {
				t.Errorf("sealing: %v", err)
			}
		}
	}
	rot := rig.Rotator(o)
	l := startLoads(rig)
	defer l.stop()
	time.Sleep(200 * time.Millisecond)
	l.mark("sealed")
	start := time.Now()
	_, err := rot.Cutover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "back on blue") {
		t.Fatalf("cutover with Vault sealed mid-way: %v", err)
	}
	t.Logf("aborted in %v: %v", time.Since(start), err)
	// the broker is resumed on blue while Vault is still sealed
	if port, paused := brokerPoints(t, rig); port != rig.Blue.Port || paused {
		t.Fatalf("the broker is on %d, paused %v", port, paused)
	}
	time.Sleep(300 * time.Millisecond)
	rig.Vault.Unseal()
	plain := rig.Rotator(rig.Options())
	if _, err := plain.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	consistent(t, rig, plain, rotation.Blue)
	l.mark("end")
	time.Sleep(100 * time.Millisecond)
	l.stop()
	s := l.broker.Stage("sealed")
	t.Logf("clients of the broker meanwhile: %d transactions, worst wait %v", s.Transactions, s.WorstWait.Round(time.Millisecond))
	if s.FailedLogins > 0 || s.FailedTx > 0 {
		t.Errorf("clients of the broker failed while it was put back: %+v", s)
	}
	// and the cutover then works
	if _, err := plain.Cutover(context.Background()); err != nil {
		t.Fatal(err)
	}
	consistent(t, rig, plain, rotation.Green)
}

// A pointer changed by hand is a check-and-set conflict: refused, the
// broker back on blue.
func TestPointerChangedByHand(t *testing.T) {
	rig, rot, _ := readyRig(t)
	ctx := context.Background()
	k := rig.KV()
	cur, err := k.Get(ctx, "arp/current/"+rotationtest.Role)
	if err != nil {
		t.Fatal(err)
	}
	hand := map[string]any{}
	for key, v := range cur.Data {
		hand[key] = v
	}
	hand["side"], hand["host"] = "somewhere-else", "10.9.9.9"
	if _, err := k.Put(ctx, "arp/current/"+rotationtest.Role, hand, kv.Any); err != nil {
		t.Fatal(err)
	}
	_, err = rot.Cutover(ctx)
	if credscan.CodeOf(err) != credscan.CodeConflict || !strings.Contains(err.Error(), "changed by hand") {
		t.Fatalf("cutover with a pointer changed by hand: %v", err)
	}
	if port, paused := brokerPoints(t, rig); port != rig.Blue.Port || paused {
		t.Fatalf("the broker is on %d, paused %v", port, paused)
	}
	if _, err := k.Put(ctx, "arp/current/"+rotationtest.Role, cur.Data, kv.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := rot.Cutover(ctx); err != nil {
		t.Fatal(err)
	}
	consistent(t, rig, rot, rotation.Green)

	// revoke-legacy reading the wrong file as blue's log: refused, since
	// credscan's own login is not in it
	m := *rig.Manifest
	m.Rotation.Blue.Logs = []string{rig.Green.LogPath}
	o := rig.Options()
	o.Window = time.Millisecond
	wrong, err := rotation.New(&m, rotationtest.Role, o)
	if err != nil {
		t.Fatal(err)
	}
	rig.MigrateApps()
	if _, err := wrong.RevokeLegacy(ctx); credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "blue's log is read") {
		t.Fatalf("revoke reading the wrong log: %v", err)
	}
}

// Wrong administrator credentials: a clear error that names the side and
// never the password.
func TestWrongAdminCredentials(t *testing.T) {
	rig := rotationtest.New(t, time.Second)
	ctx := context.Background()
	rot := rig.Rotator(rig.Options())
	if _, err := rot.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	wrong := "Wr" + leakcheck.Marker(t)
	if _, err := rig.KV().Put(ctx, "credscan/admin/green", map[string]any{"dsn": rig.Green.DSN(rig.Green.SuperUser, wrong, "postgres")}, kv.Any); err != nil {
		t.Fatal(err)
	}
	_, err := rot.ProvisionGreen(ctx)
	if credscan.CodeOf(err) != credscan.CodeUnauthorized || !strings.Contains(err.Error(), "green") {
		t.Fatalf("provision with a wrong green admin password: %v", err)
	}
	leakcheck.AssertNone(t, "the error", []byte(err.Error()), append(rig.Secrets(), wrong)...)
	if _, err := rig.KV().Put(ctx, "credscan/admin/green", map[string]any{"dsn": "postgres://%zz"}, kv.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := rot.ProvisionGreen(ctx); credscan.CodeOf(err) != credscan.CodeInvalid {
		t.Fatalf("an admin DSN that does not parse: %v", err)
	}
}

// Verify tries no host outside the target's, and refuses when more than
// one discovered password logs in; a rotation refuses to start when Vault
// has no audit device.
func TestVerifyHostsAndSeveralLive(t *testing.T) {
	rig := rotationtest.New(t, time.Second)
	ctx := context.Background()
	k := rig.KV()
	// a copy that points at a host outside the manifest's, and a second
	// copy of the live password under another fingerprint
	for path, host := range map[string]string{"arp/legacy/arp_app/0ff51de00000": "198.51.100.7", "arp/legacy/arp_app/5ec0nd000000": "127.0.0.1"} {
		pw := rig.Stale
		if host == "127.0.0.1" {
			pw = rig.Legacy
		}
		if _, err := k.Put(ctx, path, map[string]any{"password": pw, "user": "arp_app", "host": host, "port": fmt.Sprint(rig.Blue.Port), "database": "arp"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	rot := rig.Rotator(rig.Options())
	res, err := rot.Verify(ctx)
	if credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "2 log in") {
		t.Fatalf("verify with two live copies: %v", err)
	}
	var outside *rotation.LoginCheck
	for i, c := range res.Checks {
		if c.Host == "198.51.100.7" {
			outside = &res.Checks[i]
		}
	}
	if outside == nil || outside.Result != "refused" || !strings.Contains(outside.Detail, "no login attempted") {
		t.Fatalf("the host outside the manifest: %+v", outside)
	}
	md, err := k.Metadata(ctx, "arp/legacy/arp_app/0ff51de00000")
	if err != nil || md.Custom["verified"] != "" {
		t.Errorf("a refused host was recorded as tried: %v %v", md, err)
	}
	// without an audit device nothing starts
	if err := rig.Client().Sys().DisableAudit("file"); err != nil {
		t.Fatal(err)
	}
	if _, err := rot.Verify(ctx); credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "audit") {
		t.Fatalf("verify without an audit device: %v", err)
	}
}

// The readiness gate reads logical replication: green's subscription and
// blue's slot, within max_lag_bytes.
func TestReadinessReplicationLag(t *testing.T) {
	rig := rotationtest.NewWith(t, rotationtest.Config{Window: time.Second, Replicate: true})
	ctx := context.Background()
	o := rig.Options()
	rot := rig.Rotator(o)
	for _, stage := range []func(context.Context) (*rotation.Result, error){rot.Verify, rot.ProvisionGreen, rot.Pointer} {
		if res, err := stage(ctx); err != nil {
			t.Fatalf("%s: %v", res.Stage, err)
		}
	}
	rig.TickReadsFromVault()
	rig.Blue.Exec("arp", "INSERT INTO orders SELECT g, g FROM generate_series(501, 600) g")
	o.DryRun = true
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := rig.Rotator(o).Cutover(ctx)
		if err == nil {
			var lag *rotation.Gate
			for i, g := range res.Gates {
				if g.Name == "replication lag" {
					lag = &res.Gates[i]
				}
			}
			if lag == nil || !lag.OK {
				t.Fatalf("the lag gate: %+v", res.Gates)
			}
			t.Logf("replication lag: %s", lag.Detail)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the readiness gates never passed (rows replicate?): %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
