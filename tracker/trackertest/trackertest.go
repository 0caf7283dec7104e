// Package trackertest is the conformance suite every tracker.Store passes:
// the file store, and the Vault store against the in-memory KV and the
// real Vault server.
package trackertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/tracker"
)

// Open prepares an empty backing (a file, a Vault prefix) and returns how
// to open a store on it: each call is a new client of the same backing,
// as another process would be.
type Open func(t *testing.T) func() tracker.Store

var ctx = context.Background()

// Run runs the suite.
func Run(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		f    func(t *testing.T, open func() tracker.Store)
	}{
		{"EmptyApp", emptyApp},
		{"CheckAndSet", checkAndSet},
		{"Apps", apps},
		{"BadNames", badNames},
		{"Ticks", ticks},
		{"ConcurrentTicks", concurrentTicks},
		{"Evidence", evidence},
		{"RecordScans", recordScans},
		{"RepeatedScans", repeatedScans},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, open(t)) })
	}
}

func code(t *testing.T, what string, err error, want credscan.Code) {
	t.Helper()
	if got := credscan.CodeOf(err); got != want {
		t.Fatalf("%s: %v (%v), want %v", what, got, err, want)
	}
}

func emptyApp(t *testing.T, open func() tracker.Store) {
	st, v, err := open().Load(ctx, "billing-api")
	if err != nil || v != 0 || st == nil || len(st.History) != 0 {
		t.Fatalf("%+v %d %v", st, v, err)
	}
	if st.Current() != tracker.Inventoried {
		t.Errorf("current step of a new app: %s", st.Current())
	}
}

func checkAndSet(t *testing.T, open func() tracker.Store) {
	s := open()
	st := &tracker.AppState{App: "a", History: []tracker.Event{{Step: tracker.Deployed, Kind: tracker.Tick, Note: "one", Change: "CHG-1", At: time.Unix(1, 0).UTC()}}}
	v, err := s.Save(ctx, "a", st, 0)
	if err != nil || v != 1 {
		t.Fatalf("create: %d %v", v, err)
	}
	_, err = s.Save(ctx, "a", st, 0)
	code(t, "a second create", err, credscan.CodeConflict)
	got, gv, err := open().Load(ctx, "a")
	if err != nil || gv != 1 || len(got.History) != 1 || got.History[0].Change != "CHG-1" || !got.History[0].At.Equal(st.History[0].At) {
		t.Fatalf("load: %+v %d %v", got, gv, err)
	}
	got.History = append(got.History, tracker.Event{Step: tracker.Deployed, Kind: tracker.Untick, Note: "two"})
	if v, err = s.Save(ctx, "a", got, 1); err != nil || v != 2 {
		t.Fatalf("cas 1: %d %v", v, err)
	}
	_, err = open().Save(ctx, "a", st, 1)
	code(t, "a stale cas", err, credscan.CodeConflict)
	if got, gv, _ := s.Load(ctx, "a"); gv != 2 || len(got.History) != 2 {
		t.Fatalf("a stale cas wrote: %d events, version %d", len(got.History), gv)
	}
}

func apps(t *testing.T, open func() tracker.Store) {
	s := open()
	for _, a := range []string{"zeta", "alpha", "mid"} {
		if _, err := s.Save(ctx, a, &tracker.AppState{App: a}, 0); err != nil {
			t.Fatal(err)
		}
	}
	got, err := open().Apps(ctx)
	if err != nil || fmt.Sprint(got) != "[alpha mid zeta]" {
		t.Fatalf("%v %v", got, err)
	}
}

func badNames(t *testing.T, open func() tracker.Store) {
	s := open()
	for _, a := range []string{"", "a/b", "..", "a\\b"} {
		_, _, err := s.Load(ctx, a)
		code(t, fmt.Sprintf("load %q", a), err, credscan.CodeInvalid)
		_, err = s.Save(ctx, a, &tracker.AppState{}, 0)
		code(t, fmt.Sprintf("save %q", a), err, credscan.CodeInvalid)
	}
}

func ticks(t *testing.T, open func() tracker.Store) {
	alice := tracker.New(open(), audit.NewRecorder(audit.Open(t.TempDir()+"/audit.jsonl"), audit.Actor{Vault: "alice", Entity: "e-alice"}))
	r, err := alice.Tick(ctx, "ledger", tracker.ReadsFromVault, "env from Vault Agent", "")
	if err != nil || r.Version != 1 {
		t.Fatalf("tick: %+v %v", r, err)
	}
	_, err = alice.Tick(ctx, "ledger", tracker.ReadsFromVault, "again", "")
	code(t, "a second tick", err, credscan.CodeConflict)
	_, err = alice.Tick(ctx, "ledger", tracker.Vaulted, "by hand", "")
	code(t, "ticking an automatic step", err, credscan.CodeRefused)
	_, err = alice.Tick(ctx, "ledger", tracker.Deployed, "shipped", "")
	code(t, "deployed without a change", err, credscan.CodeInvalid)
	if _, err := alice.Tick(ctx, "ledger", tracker.Deployed, "shipped", "CHG-42"); err != nil {
		t.Fatal(err)
	}
	_, err = alice.WaiveStep(ctx, "ledger", tracker.VerifiedOnGreen, "")
	code(t, "a waiver without a reason", err, credscan.CodeInvalid)
	if _, err := alice.WaiveStep(ctx, "ledger", tracker.VerifiedOnGreen, "batch job, no business flow"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Untick(ctx, "ledger", tracker.Deployed, "rolled back"); err != nil {
		t.Fatal(err)
	}
	_, err = alice.Untick(ctx, "ledger", tracker.Deployed, "twice")
	code(t, "untick of an unticked step", err, credscan.CodeConflict)
	st, err := tracker.New(open(), nil).Load(ctx, "ledger")
	if err != nil {
		t.Fatal(err)
	}
	want := map[tracker.Step]tracker.State{tracker.ReadsFromVault: tracker.Done, tracker.Deployed: tracker.Todo, tracker.VerifiedOnGreen: tracker.Waived, tracker.Vaulted: tracker.Todo}
	for _, s := range st.Status() {
		if w, ok := want[s.Step]; ok && s.State != w {
			t.Errorf("%s: %s, want %s", s.Step, s.State, w)
		}
	}
	if len(st.History) != 4 {
		t.Fatalf("history %+v", st.History)
	}
	for _, e := range st.History {
		if e.Actor.Vault != "alice" || e.Actor.Entity != "e-alice" || e.At.IsZero() {
			t.Errorf("event %+v: not signed", e)
		}
	}
	if st.History[1].Change != "CHG-42" || st.History[3].Kind != tracker.Untick || st.History[3].Note != "rolled back" {
		t.Errorf("history %+v", st.History)
	}
}

// Two clients (as two processes would) tick the same app at once: every
// tick is applied (reloaded and applied again after a conflict), and the
// history holds them all, each client's in its order.
func concurrentTicks(t *testing.T, open func() tracker.Store) {
	const rounds = 10
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	retried := make(chan bool, 4*rounds)
	for _, c := range []struct {
		who  string
		step tracker.Step
	}{{"alice", tracker.ReadsFromVault}, {"bob", tracker.VerifiedOnGreen}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := tracker.New(open(), audit.NewRecorder(audit.Open(t.TempDir()+"/audit.jsonl"), audit.Actor{Vault: c.who}))
			for i := 0; i < rounds; i++ {
				r, err := tr.Tick(ctx, "shared", c.step, fmt.Sprintf("%s tick %d", c.who, i), "")
				if err != nil {
					errs <- err
					return
				}
				retried <- r.Retried
				if r, err = tr.Untick(ctx, "shared", c.step, fmt.Sprintf("%s untick %d", c.who, i)); err != nil {
					errs <- err
					return
				}
				retried <- r.Retried
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(retried)
	for err := range errs {
		t.Fatal(err)
	}
	st, _, err := open().Load(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.History) != 4*rounds {
		t.Fatalf("%d events, want %d: a tick was lost", len(st.History), 4*rounds)
	}
	next := map[string]int{}
	for _, e := range st.History {
		who := e.Actor.Vault
		i := next[who] / 2
		want := fmt.Sprintf("%s tick %d", who, i)
		if next[who]%2 == 1 {
			want = fmt.Sprintf("%s untick %d", who, i)
		}
		if e.Note != want {
			t.Fatalf("%s's events out of order: %q, want %q", who, e.Note, want)
		}
		next[who]++
	}
}

// Scans and the rotation record evidence; the automatic steps follow it,
// and a scan after a tick that still finds hardcoded copies contests it.
func evidence(t *testing.T, open func() tracker.Store) {
	tr := tracker.New(open(), nil)
	now := time.Now().UTC()
	inv := tracker.Inventory{At: now.Add(-time.Hour), Hardcoded: 2, HistoryOnly: 1, Credentials: 1, Vaulted: 1, Pushed: true,
		Occurrences: []tracker.Occurrence{{Rule: "pg-env", Kind: "dir", Path: "run.sh", Line: 3, Redacted: "export PGPASSWORD='****'", AtTip: true},
			{Rule: "postgres-uri", Kind: "git", Path: "old.env", Line: 1, Commit: "abc", Redacted: "DATABASE_URL=postgres://u:****@h/db", HistoryOnly: true}}}
	if err := tr.RecordScan(ctx, "pay", inv); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Tick(ctx, "pay", tracker.ReadsFromVault, "done", ""); err != nil {
		t.Fatal(err)
	}
	st, _ := tr.Load(ctx, "pay")
	states := func(st *tracker.AppState) map[tracker.Step]tracker.State {
		m := map[tracker.Step]tracker.State{}
		for _, s := range st.Status() {
			m[s.Step] = s.State
		}
		return m
	}
	if s := states(st); s[tracker.Inventoried] != tracker.Done || s[tracker.Vaulted] != tracker.Done || s[tracker.ReadsFromVault] != tracker.Done {
		t.Fatalf("after a scan and a tick: %v", s)
	}
	inv.At = now.Add(time.Minute) // a later scan still finds them
	if err := tr.RecordScan(ctx, "pay", inv); err != nil {
		t.Fatal(err)
	}
	st, _ = tr.Load(ctx, "pay")
	if s := st.Status()[2]; s.State != tracker.Contested || len(s.Places) != 1 || s.Places[0].Path != "run.sh" {
		t.Fatalf("contested: %+v", s)
	}
	if err := tr.RecordRotation(ctx, "pay", "cutover", func(r *tracker.RotationEvidence) { r.Role, r.OnGreen = "arp_app", now }); err != nil {
		t.Fatal(err)
	}
	st, _ = tr.Load(ctx, "pay")
	if s := states(st); s[tracker.OnGreen] != tracker.Done || s[tracker.LegacyRevoked] != tracker.Todo {
		t.Fatalf("after the cutover: %v", s)
	}
	if st.Reached(tracker.OnGreen) {
		t.Error("reached on green with reads-from-vault contested and deployed to do")
	}
}

// An estate records every app's scan at once (one write of a file store):
// each app gets its inventory and its event, what others wrote meanwhile
// is kept, and a bad name fails alone.
func recordScans(t *testing.T, open func() tracker.Store) {
	tr := tracker.New(open(), nil)
	if _, err := tr.Tick(ctx, "app-1", tracker.ReadsFromVault, "before", ""); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	invs := map[string]tracker.Inventory{"../bad": {At: now}}
	for i := range 5 {
		invs[fmt.Sprintf("app-%d", i)] = tracker.Inventory{At: now, Hardcoded: i, Credentials: 1}
	}
	// others tick meanwhile: check-and-set keeps both
	var wg sync.WaitGroup
	for w, step := range []tracker.Step{tracker.Deployed, tracker.ReadsFromVault} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := tracker.New(open(), nil)
			for i := range 5 {
				app := fmt.Sprintf("app-%d", (i+w)%5)
				if step == tracker.ReadsFromVault && app == "app-1" {
					continue // ticked before
				}
				if _, err := other.Tick(ctx, app, step, "meanwhile", "CHG-1"); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	failed := tr.RecordScans(ctx, invs)
	wg.Wait()
	if len(failed) != 1 || failed["../bad"] == nil {
		t.Fatalf("failed: %v", failed)
	}
	for i := range 5 {
		app := fmt.Sprintf("app-%d", i)
		st, err := tr.Load(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		if st.Inventory == nil || st.Inventory.Hardcoded != i {
			t.Fatalf("%s: inventory %+v", app, st.Inventory)
		}
		scans, ticks := 0, 0
		for _, e := range st.History {
			switch {
			case e.Kind == tracker.Evidence && e.Step == tracker.Inventoried:
				scans++
			case e.Step == tracker.Deployed:
				ticks++
			}
		}
		if scans != 1 || ticks != 1 {
			t.Fatalf("%s: %d scan events, %d ticks meanwhile: %+v", app, scans, ticks, st.History)
		}
	}
	st, _ := tr.Load(ctx, "app-1")
	if st.Status()[2].State == tracker.Todo {
		t.Fatalf("app-1's earlier tick was lost: %+v", st.Status())
	}
}

// A scan that finds what the app's last event (a scan's) says adds no
// event, only the inventory's time moves; a scan with other figures, or
// one after a tick, does add one.
func repeatedScans(t *testing.T, open func() tracker.Store) {
	tr := tracker.New(open(), nil)
	now := time.Now().UTC()
	scans := func() int {
		t.Helper()
		st, err := tr.Load(ctx, "daily")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range st.History {
			if e.Kind == tracker.Evidence && e.Step == tracker.Inventoried {
				n++
			}
		}
		return n
	}
	inv := tracker.Inventory{Hardcoded: 2, Credentials: 1}
	for i := range 5 {
		inv.At = now.Add(time.Duration(i) * time.Hour)
		if err := tr.RecordScans(ctx, map[string]tracker.Inventory{"daily": inv, "other": inv}); len(err) > 0 {
			t.Fatal(err)
		}
	}
	if n := scans(); n != 1 {
		t.Fatalf("five scans that found the same: %d events, want 1", n)
	}
	if st, _ := tr.Load(ctx, "daily"); !st.Inventory.At.Equal(now.Add(4 * time.Hour)) {
		t.Fatalf("the inventory's time is %v, not the last scan's", st.Inventory.At)
	}
	inv.Hardcoded, inv.At = 1, now.Add(5*time.Hour)
	if err := tr.RecordScan(ctx, "daily", inv); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Tick(ctx, "daily", tracker.ReadsFromVault, "done", ""); err != nil {
		t.Fatal(err)
	}
	inv.At = now.Add(6 * time.Hour)
	if err := tr.RecordScan(ctx, "daily", inv); err != nil {
		t.Fatal(err)
	}
	if n := scans(); n != 3 {
		t.Fatalf("a scan with other figures and one after a tick: %d events, want 3", n)
	}
}
