package rotation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/internal/loadgen"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/rotation/rotationtest"
	"github.com/credscan/credscan/tracker"
)

const query = "SELECT count(*) FROM orders"

// loads are the clients of a rig: through the broker, through the
// pointer.
type loads struct{ broker, pointer *loadgen.Group }

func startLoads(rig *rotationtest.Rig) *loads {
	return &loads{
		broker:  loadgen.Start(20, rig.BrokerClient("billing-api"), query, 5*time.Millisecond),
		pointer: loadgen.Start(4, rig.PointerClient("ledger-worker"), query, 5*time.Millisecond),
	}
}

func (l *loads) mark(stage string) { l.broker.Mark(stage); l.pointer.Mark(stage) }

func (l *loads) stop() { l.broker.Stop(); l.pointer.Stop() }

// assertClean fails when a stage had a failed login or transaction.
func (l *loads) assertClean(t *testing.T, stages ...string) {
	t.Helper()
	for _, s := range stages {
		for name, g := range map[string]*loadgen.Group{"broker": l.broker, "pointer": l.pointer} {
			st := g.Stage(s)
			t.Logf("%-10s %-8s %5d transactions, %d failed logins, %d failed transactions, worst wait %v", s, name, st.Transactions, st.FailedLogins, st.FailedTx, st.WorstWait.Round(time.Millisecond))
			if st.FailedLogins > 0 || st.FailedTx > 0 {
				t.Errorf("%s through the %s: %d failed logins, %d failed transactions (last: %s)", s, name, st.FailedLogins, st.FailedTx, st.LastError)
			}
			if st.Transactions == 0 {
				t.Errorf("%s through the %s: no transaction ran", s, name)
			}
		}
	}
}

func brokerPoints(t *testing.T, rig *rotationtest.Rig) (port int, paused bool) {
	t.Helper()
	d := rig.BrokerEntry()
	return d.Port, d.Paused
}

func pointerSide(t *testing.T, rig *rotationtest.Rig) (side, user string) {
	t.Helper()
	sec, err := rig.KV().Get(context.Background(), "arp/current/"+rotationtest.Role)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := sec.Data["side"].(string)
	u, _ := sec.Data["user"].(string)
	return s, u
}

// The whole rotation with load running throughout: verify → provision →
// pointer → cutover → rollback → cutover → revoke (refused while a
// straggler logs in to blue with the legacy password, naming it; allowed
// once it stops) → alternating rotations. Zero failed logins and zero
// failed transactions through the broker and through the pointer during
// every switch; the green password nowhere but in Vault and the broker's
// 0600 file.
func TestRotationEndToEnd(t *testing.T) {
	rig := rotationtest.New(t, 2*time.Second)
	ctx := context.Background()
	var out bytes.Buffer
	o := rig.Options()
	o.Out = &out
	rot := rig.Rotator(o)
	var results []*rotation.Result
	must := func(res *rotation.Result, err error) *rotation.Result {
		t.Helper()
		results = append(results, res)
		if err != nil {
			t.Fatalf("%s: %v", res.Stage, err)
		}
		return res
	}

	// 0 verify: the live password is of record, the stale copy is dead
	res := must(rot.Verify(ctx))
	counts := map[string]int{}
	for _, c := range res.Checks {
		counts[c.Result]++
	}
	if counts["live"] != 1 || counts["dead"] != 1 {
		t.Fatalf("verify: %+v", res.Checks)
	}
	// 1 provision green, 2 pointer
	must(rot.ProvisionGreen(ctx))
	green := rig.GreenPassword(rotationtest.Role)
	if len(green) != 32 {
		t.Fatalf("the green password in Vault has %d characters", len(green))
	}
	must(rot.Pointer(ctx))
	if side, _ := pointerSide(t, rig); side != "blue" {
		t.Fatalf("the pointer says %q", side)
	}

	l := startLoads(rig)
	defer l.stop()
	time.Sleep(300 * time.Millisecond)

	// 3 cutover: refused while the pointer app has not reached
	// reads-from-vault; then done
	if res, err := rot.Cutover(ctx); credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "ledger-worker") {
		t.Fatalf("cutover before the pointer app reads from Vault: %v %+v", err, res.Gates)
	}
	rig.TickReadsFromVault()
	l.mark("cutover")
	start := time.Now()
	must(rot.Cutover(ctx))
	t.Logf("cutover in %v", time.Since(start))
	time.Sleep(300 * time.Millisecond)
	if port, paused := brokerPoints(t, rig); port != rig.Green.Port || paused {
		t.Fatalf("after the cutover the broker points at %d (paused %v), want green %d", port, paused, rig.Green.Port)
	}
	if side, _ := pointerSide(t, rig); side != "green" {
		t.Fatalf("after the cutover the pointer says %q", side)
	}
	for _, app := range []string{"billing-api", "ledger-worker"} {
		st, err := rig.Tracker().Load(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rotation == nil || st.Rotation.OnGreen.IsZero() {
			t.Errorf("the tracker has no on-green evidence for %s", app)
		}
	}

	// 4 rollback
	l.mark("rollback")
	start = time.Now()
	res = must(rot.Rollback(ctx, "error rate on green"))
	t.Logf("rollback in %v", time.Since(start))
	if len(res.Timeline) < 3 {
		t.Errorf("the rollback's timeline: %+v", res.Timeline)
	}
	time.Sleep(300 * time.Millisecond)
	if port, _ := brokerPoints(t, rig); port != rig.Blue.Port {
		t.Fatalf("after the rollback the broker points at %d", port)
	}
	l.mark("cutover2")
	must(rot.Cutover(ctx))
	time.Sleep(300 * time.Millisecond)

	// 5 revoke: refused while a straggler logs in to blue with the legacy
	// password (and while the apps still hardcode it), naming it
	l.mark("revoke")
	straggler := loadgen.Start(1, rig.Straggler("nightly-report"), "SELECT 1", 100*time.Millisecond)
	time.Sleep(2500 * time.Millisecond) // the window since the cutover
	_, err := rot.RevokeLegacy(ctx)
	if credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "nightly-report") || !strings.Contains(err.Error(), "hardcoded") {
		t.Fatalf("revoke with a straggler: %v", err)
	}
	straggler.Stop()
	rig.MigrateApps()
	// its logins leave the window: allowed then (a loaded machine may need
	// a little longer than the window for the broker's old connections to
	// blue to close)
	time.Sleep(2500 * time.Millisecond)
	for deadline := time.Now().Add(20 * time.Second); ; {
		res, err := rot.RevokeLegacy(ctx)
		if err == nil {
			results = append(results, res)
			break
		}
		if credscan.CodeOf(err) != credscan.CodeRefused || time.Now().After(deadline) {
			t.Fatalf("revoke once the straggler stopped: %v", err)
		}
		t.Logf("revoke refused again: %v", err)
		time.Sleep(500 * time.Millisecond)
	}
	if c, err := rig.Straggler("after")(ctx); err == nil {
		c.Close(ctx)
		t.Error("the legacy password still logs in to blue after the revocation")
	}
	// an incident after the revocation: the rollback enables the legacy
	// login again (from Vault's copy), then the cutover goes forward again
	l.mark("rollback-after-revoke")
	must(rot.Rollback(ctx, "incident after the revocation"))
	if c, err := rig.Straggler("after-rollback")(ctx); err != nil {
		t.Errorf("the legacy password does not log in to blue after the rollback: %v", err)
	} else {
		c.Close(ctx)
	}
	must(rot.Cutover(ctx))
	time.Sleep(300 * time.Millisecond)

	// 6 alternating rotations
	l.mark("password")
	must(rot.RotatePassword(ctx, rotation.Alternating))
	time.Sleep(300 * time.Millisecond)
	if _, user := pointerSide(t, rig); user != rotation.AltUser(rotationtest.Role) {
		t.Fatalf("after the first alternating rotation the pointer gives %q", user)
	}
	must(rot.RotatePassword(ctx, rotation.Alternating))
	time.Sleep(300 * time.Millisecond)
	if _, user := pointerSide(t, rig); user != rotationtest.Role {
		t.Fatalf("after the second alternating rotation the pointer gives %q", user)
	}
	if rig.GreenPassword(rotationtest.Role) == green {
		t.Error("the second rotation did not change arp_app's password")
	}
	l.mark("end")
	time.Sleep(200 * time.Millisecond)
	l.stop()
	l.assertClean(t, "cutover", "rollback", "cutover2", "revoke", "rollback-after-revoke", "password")

	// single, in place, after the load: the pointer's new password logs in
	must(rot.RotatePassword(ctx, rotation.Single))
	if c, err := rig.PointerClient("after-single")(ctx); err != nil {
		t.Errorf("the pointer after a single rotation: %v", err)
	} else {
		c.Close(ctx)
	}

	// the audit chain, the tracker, and no secret anywhere but Vault and
	// the broker's file
	recs, problem, err := audit.VerifyFile(rig.AuditPath)
	if err != nil || problem != nil {
		t.Fatalf("the audit log: %v %v", err, problem)
	}
	actions := map[string]bool{}
	for _, r := range recs {
		actions[r.Action] = true
	}
	for _, a := range []string{"rotate.verify", "rotate.provision-green", "rotate.pointer", "rotate.cutover", "rotate.rollback", "rotate.rollback.timeline", "rotate.revoke-legacy", "rotate.password"} {
		if !actions[a] {
			t.Errorf("no %s in the audit log", a)
		}
	}
	st, err := rig.Tracker().Load(ctx, "billing-api")
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Status(); s[len(s)-1].Step != tracker.LegacyRevoked || s[len(s)-1].State != tracker.Done {
		t.Errorf("legacy-revoked in the tracker: %+v", s[len(s)-1])
	}
	js, _ := json.Marshal(results)
	secrets := rig.Secrets()
	leakcheck.AssertNone(t, "the rotator's output", out.Bytes(), secrets...)
	leakcheck.AssertNone(t, "the results", js, secrets...)
	for _, f := range []string{rig.AuditPath, rig.Blue.LogPath, rig.Green.LogPath, rig.Broker.LogPath} {
		b, _ := os.ReadFile(f)
		leakcheck.AssertNone(t, filepath.Base(f), b, secrets...)
	}
	if fi, err := os.Stat(rig.Broker.DatabasesFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the broker's databases file: %v %v", fi.Mode(), err)
	}
	t.Logf("output:\n%s", out.String())
}
