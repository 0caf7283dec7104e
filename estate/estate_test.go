package estate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
)

func exampleEstate(t *testing.T) *manifest.Manifest {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	m, err := manifest.Load(filepath.Join("..", "examples", "estate", "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func key(res *estate.Results) string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, fmt.Sprintf("%s %s %s:%d %s %v", f.RuleID, f.Origin.App, f.Origin.Path, f.Origin.Line, f.Fingerprint[:12], f.Blocking))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// Two runs at once (a TUI rescanning while another rescan runs) share no
// state: run under -race, and each finds what a run alone finds.
func TestTwoRunsAtOnce(t *testing.T) {
	m := exampleEstate(t)
	alone, err := estate.Run(context.Background(), m, estate.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(alone.Findings) == 0 {
		t.Fatal("the example estate has no finding")
	}
	var wg sync.WaitGroup
	results := make([]*estate.Results, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = estate.Run(context.Background(), m, estate.Options{Workers: 2})
		}()
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got, want := key(r), key(alone); got != want {
			t.Errorf("run %d found other things than a run alone:\n%s\n---\n%s", i, got, want)
		}
	}
}

// A run can rescan one app, or one kind of source.
func TestSelectAppsAndKinds(t *testing.T) {
	m := exampleEstate(t)
	res, err := estate.Run(context.Background(), m, estate.Options{Apps: []string{"ledger-worker"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatal("no finding for ledger-worker")
	}
	for _, f := range res.Findings {
		if f.Origin.App != "ledger-worker" {
			t.Errorf("a finding of %s in a rescan of ledger-worker", f.Origin.App)
		}
	}
	res, err = estate.Run(context.Background(), m, estate.Options{Kinds: []credscan.Kind{credscan.KindCIVars}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Origin.Kind != credscan.KindCIVars {
			t.Errorf("a %s finding in a CI-only run", f.Origin.Kind)
		}
	}
	if _, err := estate.Run(context.Background(), m, estate.Options{Apps: []string{"no-such-app"}}); credscan.CodeOf(err) != credscan.CodeNotFound {
		t.Errorf("an unknown app: %v", err)
	}
}

// A run is recorded once, as the recorder's actor, with what it covered.
func TestRunIsRecorded(t *testing.T) {
	m := exampleEstate(t)
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	rec := audit.NewRecorder(audit.Open(p), audit.Actor{Vault: "alice", Entity: "e-1"})
	res, err := estate.Run(context.Background(), m, estate.Options{Recorder: rec, Apps: []string{"billing-api"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != estate.ErrBlocking {
		t.Errorf("verdict %v, want blocking", res.Err())
	}
	recs, prob, err := audit.VerifyFile(p)
	if err != nil || prob != nil || len(recs) != 1 {
		t.Fatalf("%d records, %v %v", len(recs), prob, err)
	}
	r := recs[0]
	if r.Action != "scan estate" || r.Result != "blocked" || r.Actor.Vault != "alice" || len(r.Scope) != 2 || r.Counts["findings"] != res.Stats.Findings {
		t.Errorf("record %+v", r)
	}
}

// An interrupted run says so and is recorded as interrupted.
func TestInterruptedRun(t *testing.T) {
	m := exampleEstate(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	res, err := estate.Run(ctx, m, estate.Options{Recorder: audit.NewRecorder(audit.Open(p), audit.LocalActor())})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != estate.ErrInterrupted || res.Incomplete != "interrupted" {
		t.Errorf("%v %q", res.Err(), res.Incomplete)
	}
	recs, _, _ := audit.VerifyFile(p)
	if len(recs) != 1 || recs[0].Result != "interrupted" {
		t.Errorf("records %+v", recs)
	}
}

// A run's progress names the source and counts what it read, and the
// total of a source that knows it (a directory, once walked).
func TestProgress(t *testing.T) {
	m := exampleEstate(t)
	s, err := estate.NewSession(m, estate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Progress(); p.Source != "" || p.RunItems != 0 {
		t.Errorf("before: %+v", p)
	}
	if err := s.ScanDirs(context.Background(), []string{filepath.Join("..", "examples", "estate", "ledger-worker")}, "ledger-worker", "ledger-worker", false); err != nil {
		t.Fatal(err)
	}
	p := s.Progress()
	if p.Source != "dir ledger-worker" || p.Items == 0 || p.Items != p.TotalItems || !p.Final || p.RunBytes == 0 {
		t.Errorf("after: %+v", p)
	}
}

// A run records each scanned app's evidence in the tracker: its ARP copies
// at the tip and in history, its occurrences (redacted) and its CI secret
// names; a run of one app records that app only.
func TestRunRecordsInventories(t *testing.T) {
	m := exampleEstate(t)
	tr := tracker.New(tracker.NewFileStore(filepath.Join(t.TempDir(), "tracker.json")), nil)
	if _, err := estate.Run(context.Background(), m, estate.Options{Tracker: tr, Apps: []string{"billing-api"}}); err != nil {
		t.Fatal(err)
	}
	apps, _ := tr.Store().Apps(context.Background())
	if fmt.Sprint(apps) != "[billing-api]" {
		t.Fatalf("apps %v", apps)
	}
	st, err := tr.Load(context.Background(), "billing-api")
	if err != nil {
		t.Fatal(err)
	}
	inv := st.Inventory
	if inv == nil || inv.Hardcoded == 0 || inv.Credentials == 0 || inv.Pushed || len(inv.Occurrences) == 0 || len(inv.CISecrets) == 0 {
		t.Fatalf("inventory %+v", inv)
	}
	for _, o := range inv.Occurrences {
		if o.Redacted == "" || !strings.Contains(o.Redacted, "****") && o.Redacted != "[line redacted]" {
			t.Errorf("occurrence %+v not redacted", o)
		}
	}
	if s := st.Status(); s[0].State != tracker.Done || s[1].State != tracker.Todo {
		t.Errorf("inventoried %s, vaulted %s (not pushed)", s[0].State, s[1].State)
	}
}
