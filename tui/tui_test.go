package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/estate"
	"github.com/credscan/credscan/internal/leakcheck"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync/kv"
)

// t0 is the fixture's clock: the scan runs at t0, people tick after.
var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// flaky is the in-memory KV that a test can take down: an outage of the
// tracker's store.
type flaky struct {
	kv.KV
	down atomic.Bool
}

var errDown = &credscan.Error{Code: credscan.CodeUnavailable, Op: "reading the tracker", Err: errors.New("connection refused")}

func (f *flaky) Get(ctx context.Context, path string) (*kv.Secret, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.KV.Get(ctx, path)
}

func (f *flaky) Put(ctx context.Context, path string, data map[string]any, cas int) (int, error) {
	if f.down.Load() {
		return 0, errDown
	}
	return f.KV.Put(ctx, path, data, cas)
}

type fixture struct {
	o       Options
	kv      *flaky
	tr      *tracker.Tracker
	audit   string
	secrets []string // every plaintext the scan found: no frame may hold one
}

// clock returns a clock that starts at start and moves a minute per call.
func clock(start time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return start.Add(time.Duration(n.Add(1)-1) * time.Minute) }
}

// newFixture scans the example estate into an in-memory tracker (the
// real scan: its occurrences are what a dev lead sees), then has people
// tick: billing-api's "reads from Vault" is ticked before the scan that
// still finds it hardcoded (contested); ledger-worker is ticked through
// deployed with a change, and a waiver; reports-web is untouched.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Setenv("CREDSCAN_FINGERPRINT_KEY", "test-key-0123456789abcdef")
	m, err := manifest.Load(filepath.Join("..", "examples", "estate", "credscan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{kv: &flaky{KV: kv.NewMemory()}, audit: filepath.Join(t.TempDir(), "audit.jsonl")}
	actor := audit.Actor{Vault: "token-dana", Entity: "6c1d-dana", Accessor: "acc-dana"}
	dana := audit.NewRecorder(audit.Open(f.audit), actor)
	before := tracker.New(tracker.NewKVStore(f.kv, ""), dana, tracker.WithClock(clock(t0.Add(-time.Hour))))
	ctx := context.Background()
	// a tick before the scan: the scan contests it
	if _, err := before.Tick(ctx, "billing-api", tracker.ReadsFromVault, "reads ARP from Vault Agent now", ""); err != nil {
		t.Fatal(err)
	}
	res, err := estate.Run(ctx, m, estate.Options{Tracker: before, Now: func() time.Time { return t0 }})
	if err != nil && !errors.Is(err, estate.ErrBlocking) {
		t.Fatal(err)
	}
	for _, fd := range res.Findings {
		if s := fd.Secret.Reveal(); len(s) >= 6 {
			f.secrets = append(f.secrets, s)
		}
	}
	if len(f.secrets) == 0 {
		t.Fatal("the example estate's scan found no secret")
	}
	later := tracker.New(tracker.NewKVStore(f.kv, ""), audit.NewRecorder(audit.Open(f.audit), audit.Actor{Vault: "token-lee", Entity: "9f2e-lee"}),
		tracker.WithClock(clock(t0.Add(2*time.Hour))))
	for _, step := range []struct {
		kind         tracker.EventKind
		step         tracker.Step
		note, change string
	}{
		{tracker.Tick, tracker.ReadsFromVault, "DATABASE_URL from Vault Agent template", ""},
		{tracker.Tick, tracker.Deployed, "rolled out to prod", "CHG-1042"},
		{tracker.Waive, tracker.Vaulted, "ledger's copy is a read replica login, vaulted by the DBA team", ""},
	} {
		var err error
		switch step.kind {
		case tracker.Tick:
			_, err = later.Tick(ctx, "ledger-worker", step.step, step.note, step.change)
		default:
			_, err = later.WaiveStep(ctx, "ledger-worker", step.step, step.note)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.tr = tracker.New(tracker.NewKVStore(f.kv, ""), dana, tracker.WithClock(clock(t0.Add(3*time.Hour))))
	f.o = Options{Manifest: m, Tracker: f.tr, Refresh: time.Hour, Now: func() time.Time { return t0.Add(3 * time.Hour) }}
	return f
}

// page is the TUI opened on app (--app), loaded, at 120x40.
func (f *fixture) page(t *testing.T, app string) Model {
	t.Helper()
	o := f.o
	o.App = app
	return loaded(t, New(o), 120, 40)
}

// frame is what the screen shows: the view without styles.
func frame(m Model) string { return ansi.Strip(m.View().Content) }

// loaded returns m after its first load and size.
func loaded(t *testing.T, m Model, w, h int) Model {
	t.Helper()
	m = update(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return update(t, m, m.load()())
}

func update(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	next, _ := m.Update(msg)
	return next.(Model)
}

// keyMsg is a key press as the terminal sends it.
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// press sends keys (a name as above, or text typed one rune at a time)
// and returns the model and the last command.
func press(t *testing.T, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		var next tea.Model
		next, cmd = m.Update(keyMsg(k))
		m = next.(Model)
	}
	return m, cmd
}

func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m, _ = press(t, m, string(r))
	}
	return m
}

// leakFree fails when a frame holds any form of a secret the scan found.
func (f *fixture) leakFree(t *testing.T, what, frame string) {
	t.Helper()
	leakcheck.AssertNone(t, what, []byte(frame), f.secrets...)
}

func TestOverviewGroupsByWave(t *testing.T) {
	f := newFixture(t)
	m := loaded(t, New(f.o), 100, 30)
	got := frame(m)
	f.leakFree(t, "overview", got)
	for _, want := range []string{"WAVE 1  2 app(s), 0 done, 1 contested", "WAVE 2", "WAVE 3", "billing-api", "team-billing", "contested", "waived", "blocked"} {
		if !strings.Contains(got, want) {
			t.Errorf("the overview lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "ledger-worker") < strings.Index(got, "billing-api") || strings.Index(got, "reports-web") < strings.Index(got, "WAVE 2") {
		t.Errorf("apps not in wave and name order:\n%s", got)
	}
}

func TestFilterTakesQAsText(t *testing.T) {
	f := newFixture(t)
	m := loaded(t, New(f.o), 100, 30)
	m, _ = press(t, m, "/")
	m = typeText(t, m, "query")
	if m.quitting {
		t.Fatal("typing q in the filter quit the TUI")
	}
	if got := m.overview.filter.Value(); got != "query" {
		t.Fatalf("filter %q", got)
	}
	m, _ = press(t, m, "esc")
	m = typeText(t, m, "/ledger")
	m, _ = press(t, m, "enter")
	got := frame(m)
	if !strings.Contains(got, "1 of 4 apps") || strings.Contains(got, "billing-api") || !strings.Contains(got, "ledger-worker") {
		t.Fatalf("filter ledger:\n%s", got)
	}
	// by owner and by state
	for filter, want := range map[string]string{"team-reports": "reports-web", "contested": "billing-api", "wave 3": "ops-scripts"} {
		m, _ := press(t, loaded(t, New(f.o), 100, 30), "/")
		m = typeText(t, m, filter)
		if vis := m.overview.visible(); len(vis) != 1 || vis[0].Name != want {
			t.Errorf("filter %q shows %v, want %s", filter, vis, want)
		}
	}
	// q quits once the filter is closed
	m, cmd := press(t, m, "q")
	if !m.quitting || cmd == nil {
		t.Error("q did not quit outside the filter")
	}
}

func TestOwnerAndAppNarrow(t *testing.T) {
	f := newFixture(t)
	o := f.o
	o.Owner = "team-ledger"
	m := loaded(t, New(o), 100, 30)
	if got := frame(m); !strings.Contains(got, "ledger-worker") || strings.Contains(got, "billing-api") {
		t.Fatalf("--owner team-ledger:\n%s", got)
	}
	o = f.o
	o.App = "reports-web"
	m = loaded(t, New(o), 100, 30)
	if m.screen != detailScreen || !strings.Contains(frame(m), "CHECKLIST") {
		t.Fatalf("--app opens the app:\n%s", frame(m))
	}
}

func TestDetailShowsChecklistOccurrencesAndHistory(t *testing.T) {
	f := newFixture(t)
	m := loaded(t, New(f.o), 160, 60)
	m, _ = press(t, m, "enter") // billing-api
	got := frame(m)
	f.leakFree(t, "detail", got)
	for _, want := range []string{
		"billing-api  owner team-billing  wave 1",
		"[x] inventoried", "auto: scan of 2026-11-30 09:00",
		"[!] reads from Vault",
		"tick by token-dana 2026-11-30 08:00: reads ARP from Vault Agent now",
		"CONTESTED: the scan of 2026-11-30 09:00 still finds",
		"OCCURRENCES (redacted)", "****",
		"CI SECRETS", "HISTORY (newest first)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the detail lacks %q:\n%s", want, got)
		}
	}
	m, _ = press(t, m, "esc")
	if m.screen != overviewScreen {
		t.Error("esc did not go back")
	}
}

func TestOccurrenceMarks(t *testing.T) {
	f := newFixture(t)
	m := loaded(t, New(f.o), 200, 80)
	var all strings.Builder
	for i := range len(m.c.apps) {
		mm := m
		mm.overview.cursor = i
		mm, _ = press(t, mm, "enter")
		all.WriteString(frame(mm))
	}
	got := all.String()
	f.leakFree(t, "details", got)
	for _, want := range []string{"dir ", "docker-compose.yml:7", "****"} {
		if !strings.Contains(got, want) {
			t.Errorf("no app's occurrences show %q", want)
		}
	}
}

func TestPlaceMarksHistoryAndDeletedLayers(t *testing.T) {
	for o, want := range map[tracker.Occurrence]string{
		{Rule: "postgres-uri", Kind: "git", Path: "config/db.yml", Line: 3, Commit: "0123456789abcdef0123", HistoryOnly: true}:                                       "postgres-uri             git    config/db.yml:3 commit 0123456789ab (history only)",
		{Rule: "db-env-password", Kind: "image", Path: "app/.env", Line: 1, Layer: "sha256:00aa11bb22cc33dd44ee", DeletedLater: true, DB: "arp_app@arp-db:5432/arp"}: "db-env-password          image  app/.env:1 layer sha256:00aa11bb22cc (deleted in a later layer)  arp_app@arp-db:5432/arp",
		{Rule: "x", Kind: "dir", Path: "a\x1b[31mb"}: "x                        dir    a\\x1b[31mb",
	} {
		if got := place(o); got != want {
			t.Errorf("place:\n got %q\nwant %q", got, want)
		}
	}
}

func TestTickWithNoteRecordsWhoAndWhen(t *testing.T) {
	f := newFixture(t)
	m := loaded(t, New(f.o), 120, 40)
	m, _ = press(t, m, "down", "down", "enter") // reports-web (wave 2)
	if m.detail.app != "reports-web" {
		t.Fatalf("opened %q", m.detail.app)
	}
	m, _ = press(t, m, "down", "down", "space") // reads from Vault
	if m.detail.dialog == nil || m.detail.dialog.kind != tracker.Tick {
		t.Fatalf("space opened no tick dialog:\n%s", frame(m))
	}
	if got := frame(m); !strings.Contains(got, `Tick "reads from Vault" of reports-web as token-dana?`) {
		t.Errorf("the dialog:\n%s", got)
	}
	if m.c.keys.Tick.Enabled() || !m.c.keys.Confirm.Enabled() {
		t.Error("the dialog's keys")
	}
	m = typeText(t, m, "qa: env from Vault Agent")
	if m.quitting {
		t.Fatal("q in the note quit")
	}
	m, cmd := press(t, m, "enter")
	if m.detail.dialog != nil || cmd == nil {
		t.Fatal("enter did not confirm")
	}
	msg := cmd().(actionMsg)
	if msg.err != nil {
		t.Fatal(msg.err)
	}
	m = update(t, m, msg)
	if !strings.Contains(m.c.notice, "tick of reports-web saved") {
		t.Errorf("notice %q", m.c.notice)
	}
	st, err := f.tr.Load(context.Background(), "reports-web")
	if err != nil {
		t.Fatal(err)
	}
	e := st.History[len(st.History)-1]
	if e.Kind != tracker.Tick || e.Step != tracker.ReadsFromVault || e.Note != "qa: env from Vault Agent" || e.Actor.Vault != "token-dana" || e.At.IsZero() {
		t.Errorf("stored %+v", e)
	}
	recs, problem, err := audit.VerifyFile(f.audit)
	if err != nil || problem != nil {
		t.Fatal(err, problem)
	}
	last := recs[len(recs)-1]
	if last.Actor.Vault != "token-dana" || !strings.Contains(last.Action, "tick") {
		t.Errorf("audit %+v", last)
	}
	if got := frame(m); !strings.Contains(got, "[x] reads from Vault") || !strings.Contains(got, "tick by token-dana") {
		t.Errorf("after the tick:\n%s", got)
	}
	// space on a ticked step unticks, after a dialog
	m, _ = press(t, m, "space")
	if m.detail.dialog == nil || m.detail.dialog.kind != tracker.Untick {
		t.Fatal("space on a ticked step is no untick")
	}
	m, _ = press(t, m, "esc")
	if m.detail.dialog != nil || m.screen != detailScreen {
		t.Fatal("esc did not cancel the dialog only")
	}
}

func TestDeployedNeedsAChange(t *testing.T) {
	f := newFixture(t)
	m := f.page(t, "reports-web")
	m, _ = press(t, m, "down", "down", "down", "space") // deployed
	m = typeText(t, m, "rolled out")
	m, _ = press(t, m, "enter") // on to the change field
	if m.detail.dialog == nil || m.detail.dialog.field != 1 {
		t.Fatal("enter did not move to the change field")
	}
	m, cmd := press(t, m, "enter")
	if cmd != nil || m.detail.dialog == nil || !strings.Contains(frame(m), "deployed needs a change reference") {
		t.Fatalf("a deploy without a change was accepted:\n%s", frame(m))
	}
	m = typeText(t, m, "CHG-7")
	m, cmd = press(t, m, "enter")
	msg := cmd().(actionMsg)
	if msg.err != nil {
		t.Fatal(msg.err)
	}
	m = update(t, m, msg)
	if !strings.Contains(frame(m), "[CHG-7]") {
		t.Errorf("the change is not shown:\n%s", frame(m))
	}
}

func TestAutomaticStepsSayWhereTheirEvidenceIs(t *testing.T) {
	f := newFixture(t)
	m := f.page(t, "reports-web")
	m, _ = press(t, m, "down", "space") // vaulted
	if m.detail.dialog != nil {
		t.Fatal("an automatic step opened a tick dialog")
	}
	if !strings.Contains(m.c.notice, "vaulted is automatic: it comes from the last Vault push") {
		t.Errorf("notice %q", m.c.notice)
	}
	m, _ = press(t, m, "w") // waiving needs a reason
	m, cmd := press(t, m, "enter")
	if cmd != nil || !strings.Contains(frame(m), "a waiver needs a reason") {
		t.Errorf("a waiver without a reason:\n%s", frame(m))
	}
}

func TestConflictReappliesAndSaysSo(t *testing.T) {
	f := newFixture(t)
	m := f.page(t, "reports-web")
	m, _ = press(t, m, "down", "down", "space")
	m = typeText(t, m, "mine")
	m, cmd := press(t, m, "enter")
	// someone else ticks another step of the app first
	other := tracker.New(tracker.NewKVStore(f.kv, ""), audit.NewRecorder(audit.Open(f.audit), audit.Actor{Vault: "token-sam"}))
	if _, err := other.Tick(context.Background(), "reports-web", tracker.VerifiedOnGreen, "theirs", ""); err != nil {
		t.Fatal(err)
	}
	msg := cmd().(actionMsg)
	if msg.err != nil {
		t.Fatal(msg.err)
	}
	m = update(t, m, msg)
	m = update(t, m, m.load()())
	got := frame(m)
	if msg.res.Retried && !strings.Contains(m.c.notice, "someone else changed reports-web meanwhile") {
		t.Errorf("notice %q", m.c.notice)
	}
	if !strings.Contains(got, "tick by token-sam") || !strings.Contains(got, "tick by token-dana") {
		t.Errorf("a tick was lost:\n%s", got)
	}
}

func TestOutageBannerKeepsStateAndRecovers(t *testing.T) {
	f := newFixture(t)
	m := f.page(t, "reports-web")
	f.kv.down.Store(true)
	m = update(t, m, m.load()())
	got := frame(m)
	if !strings.Contains(got, "TRACKER OUTAGE") || !strings.Contains(got, "ticking is off") || !strings.Contains(got, "CHECKLIST") {
		t.Fatalf("outage:\n%s", got)
	}
	if m.c.keys.Tick.Enabled() || strings.Contains(got, "tick/untick") {
		t.Error("ticking is on during an outage")
	}
	m, _ = press(t, m, "down", "down", "space")
	if m.detail.dialog != nil {
		t.Error("space opened a dialog during an outage")
	}
	f.kv.down.Store(false)
	m = update(t, m, m.load()())
	if m.c.outage != "" || !m.c.keys.Tick.Enabled() || !strings.Contains(m.c.notice, "the tracker is back") {
		t.Errorf("no recovery: %q %q", m.c.outage, m.c.notice)
	}
	// the refresh tick reloads on its own
	_, cmd := m.Update(refreshMsg(t0))
	if cmd == nil {
		t.Error("the refresh does not reload")
	}
}

func TestOutageDuringTickKeepsTheDialogsWorkOut(t *testing.T) {
	f := newFixture(t)
	m := f.page(t, "reports-web")
	m, _ = press(t, m, "down", "down", "space")
	m = typeText(t, m, "x")
	m, cmd := press(t, m, "enter")
	f.kv.down.Store(true)
	m = update(t, m, cmd())
	if m.c.outage == "" || !strings.Contains(m.c.notice, "not saved") {
		t.Errorf("a failed tick: outage %q notice %q", m.c.outage, m.c.notice)
	}
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t)
	o := f.o
	o.ReadOnly = true
	o.App = "reports-web"
	m := loaded(t, New(o), 120, 40)
	got := frame(m)
	if strings.Contains(got, "tick/untick") || strings.Contains(got, "waive") || !strings.Contains(got, "read-only") {
		t.Errorf("read-only help:\n%s", got)
	}
	m, _ = press(t, m, "down", "down", "space")
	if m.detail.dialog != nil {
		t.Error("read-only opened a dialog")
	}
	// an identity without update on the app's path
	o = f.o
	o.CanWrite = func(_ context.Context, app string) (bool, error) { return app == "billing-api", nil }
	m = New(o)
	m = loaded(t, m, 120, 40)
	m = update(t, m, m.checkWritable()())
	m, _ = press(t, m, "enter") // billing-api: writable
	if !m.c.keys.Tick.Enabled() {
		t.Error("billing-api is writable")
	}
	m, _ = press(t, m, "esc", "down", "enter") // ledger-worker: not
	if m.c.keys.Tick.Enabled() || !strings.Contains(frame(m), "read-only: this identity may not update this app") {
		t.Errorf("ledger-worker is not writable:\n%s", frame(m))
	}
}

func TestHelpAndResize(t *testing.T) {
	f := newFixture(t)
	m := loaded(t, New(f.o), 80, 24)
	m, _ = press(t, m, "?")
	if got := frame(m); !strings.Contains(got, "open") || !strings.Contains(got, "reload") {
		t.Errorf("full help:\n%s", got)
	}
	for _, size := range [][2]int{{80, 24}, {40, 10}, {200, 60}, {20, 5}} {
		m = update(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, screen := range []string{"overview", "detail"} {
			mm := m
			if screen == "detail" {
				mm, _ = press(t, m, "enter")
			}
			lines := strings.Split(frame(mm), "\n")
			if len(lines) != size[1] {
				t.Errorf("%s at %dx%d: %d lines", screen, size[0], size[1], len(lines))
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%s at %dx%d: a line of %d cells: %q", screen, size[0], size[1], w, l)
				}
			}
		}
	}
}

func TestNoColor(t *testing.T) {
	f := newFixture(t)
	o := f.o
	o.Color = false
	m := loaded(t, New(o), 100, 30)
	if got := m.View().Content; strings.Contains(got, "\x1b[3") || strings.Contains(got, "\x1b[9") {
		t.Errorf("NO_COLOR frame has colours: %q", got)
	}
	o.Color = true
	m = loaded(t, New(o), 100, 30)
	if got := m.View().Content; !strings.Contains(got, "\x1b[") {
		t.Error("the colour frame has no styles")
	}
}

func TestManyAppsScrollWithTheCursor(t *testing.T) {
	f := newFixture(t)
	o := f.o
	o.Manifest = manyApps(300)
	m := loaded(t, New(o), 100, 24)
	for range 250 {
		m, _ = press(t, m, "down")
	}
	got := frame(m)
	if want := m.overview.visible()[250].Name; !strings.Contains(got, "> "+want) || !strings.Contains(got, "WAVE") {
		t.Errorf("the cursor's row is not in view:\n%s", got)
	}
}

func manyApps(n int) *manifest.Manifest {
	m := &manifest.Manifest{}
	for i := range n {
		m.Apps = append(m.Apps, manifest.App{Name: fmt.Sprintf("app-%04d", i), Owner: fmt.Sprintf("team-%02d", i%40), Wave: 1 + i%5})
	}
	return m
}
