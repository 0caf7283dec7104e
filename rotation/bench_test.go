package rotation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/loadgen"
	"github.com/credscan/credscan/rotation"
	"github.com/credscan/credscan/rotation/pgbouncer"
	"github.com/credscan/credscan/rotation/rotationtest"
)

// BenchmarkRotation measures, on the real parts with 20 clients through
// PgBouncer and 4 through the Vault pointer reconnecting continuously:
//
//   - cutover: credscan rotate cutover end to end (its gates, the
//     switch of the broker and the pointer, the checks through each
//     path, the records), and rollback the same back;
//   - raw-switch: the peer, PAUSE, swap the file, RELOAD, RESUME to
//     green and back by hand, with no gate, no pointer and no record;
//   - revoke-refused: the refusal of revoke-legacy while a straggler logs
//     in to blue with the legacy password (reading the logs, a fresh
//     scan, the tracker).
//
// Each reports failed logins and transactions and the worst client wait
// over its iterations. Target: cutover and rollback each under 10 s.
//
//	go test -run x -bench Rotation -benchtime 5x ./rotation/
func BenchmarkRotation(b *testing.B) {
	rig := rotationtest.New(b, time.Second)
	ctx := context.Background()
	rot := rig.Rotator(rig.Options())
	for _, stage := range []func(context.Context) (*rotation.Result, error){rot.Verify, rot.ProvisionGreen, rot.Pointer} {
		if res, err := stage(ctx); err != nil {
			b.Fatalf("%s: %v", res.Stage, err)
		}
	}
	rig.TickReadsFromVault()
	broker := loadgen.Start(20, rig.BrokerClient("billing-api"), query, 5*time.Millisecond)
	pointer := loadgen.Start(4, rig.PointerClient("ledger-worker"), query, 5*time.Millisecond)
	defer broker.Stop()
	defer pointer.Stop()
	time.Sleep(300 * time.Millisecond)
	report := func(b *testing.B, stage string) {
		bs, ps := broker.Stage(stage), pointer.Stage(stage)
		b.ReportMetric(float64(bs.FailedLogins+bs.FailedTx), "broker-failures")
		b.ReportMetric(float64(ps.FailedLogins+ps.FailedTx), "pointer-failures")
		b.ReportMetric(float64(max(bs.WorstWait, ps.WorstWait).Milliseconds()), "worst-wait-ms")
		b.ReportMetric(float64(bs.Transactions+ps.Transactions)/b.Elapsed().Seconds(), "client-tx/s")
		if bs.LastError != "" || ps.LastError != "" {
			b.Logf("%s: last client errors: broker %q, pointer %q", stage, bs.LastError, ps.LastError)
		}
	}
	b.Run("cutover+rollback", func(b *testing.B) {
		stage := fmt.Sprintf("switch-%d", b.N)
		broker.Mark(stage)
		pointer.Mark(stage)
		var cut, back time.Duration
		var brokerMs, pointerMs int64
		paths := func(res *rotation.Result) {
			for _, s := range res.Steps {
				if strings.HasPrefix(s.What, "PAUSE") || strings.HasPrefix(s.What, "no active") || strings.Contains(s.What, "points at") && strings.Contains(s.What, ".ini") ||
					s.What == "RELOAD" || strings.HasPrefix(s.What, "RESUME") {
					brokerMs += s.Millis
				} else if strings.HasPrefix(s.What, "arp/current/") {
					pointerMs += s.Millis
				}
			}
		}
		for b.Loop() {
			start := time.Now()
			res, err := rot.Cutover(ctx)
			if err != nil {
				b.Fatal(err)
			}
			cut += time.Since(start)
			paths(res)
			start = time.Now()
			if res, err = rot.Rollback(ctx, "benchmark"); err != nil {
				b.Fatal(err)
			}
			back += time.Since(start)
			paths(res)
		}
		b.ReportMetric(float64(cut.Milliseconds())/float64(b.N), "cutover-ms")
		b.ReportMetric(float64(back.Milliseconds())/float64(b.N), "rollback-ms")
		b.ReportMetric(float64(brokerMs)/float64(2*b.N), "broker-switch-ms")
		b.ReportMetric(float64(pointerMs)/float64(2*b.N), "pointer-switch-ms")
		report(b, stage)
	})
	b.Run("raw-switch", func(b *testing.B) {
		stage := fmt.Sprintf("raw-%d", b.N)
		broker.Mark(stage)
		pointer.Mark(stage)
		adm, err := pgbouncer.Dial(ctx, credscan.NewSecret(rig.Broker.AdminDSN()))
		if err != nil {
			b.Fatal(err)
		}
		defer adm.Close()
		entry := func(port int, pw string) credscan.Secret {
			f, err := pgbouncer.Render([]pgbouncer.Entry{{Name: "arp", Host: "127.0.0.1", Port: port, DB: "arp", User: rotationtest.Role, Password: credscan.NewSecret(pw)}})
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
		blue, green := entry(rig.Blue.Port, rig.Legacy), entry(rig.Green.Port, rig.GreenPassword(rotationtest.Role))
		for b.Loop() {
			for _, f := range []credscan.Secret{green, blue} { // to green and back, as cutover+rollback
				if err := adm.Pause(ctx, "arp"); err != nil {
					b.Fatal(err)
				}
				if err := pgbouncer.WriteFile(rig.Broker.DatabasesFile, f); err != nil {
					b.Fatal(err)
				}
				if err := adm.Reload(ctx); err != nil {
					b.Fatal(err)
				}
				if err := adm.Resume(ctx, "arp"); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, stage)
	})
	b.Run("revoke-refused", func(b *testing.B) {
		if _, err := rot.Cutover(ctx); err != nil {
			b.Fatal(err)
		}
		straggler := loadgen.Start(1, rig.Straggler("nightly-report"), "SELECT 1", 100*time.Millisecond)
		defer straggler.Stop()
		time.Sleep(1200 * time.Millisecond) // the window since the cutover
		stage := fmt.Sprintf("revoke-%d", b.N)
		broker.Mark(stage)
		pointer.Mark(stage)
		for b.Loop() {
			if _, err := rot.RevokeLegacy(ctx); credscan.CodeOf(err) != credscan.CodeRefused || !strings.Contains(err.Error(), "nightly-report") {
				b.Fatalf("revoke with a straggler: %v", err)
			}
		}
		report(b, stage)
	})
}
