package tracker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
)

// Store keeps apps' states with check-and-set. Implementations are safe
// for concurrent use, by several processes at once.
type Store interface {
	// Load returns app's state and its version: an empty state and 0 when
	// none was saved.
	Load(ctx context.Context, app string) (*AppState, int, error)
	// Save writes st as app's state when its version is still version
	// (0: none saved yet) and returns the new version. A version that is
	// not current writes nothing and is credscan.CodeConflict.
	Save(ctx context.Context, app string, st *AppState, version int) (int, error)
	// Apps lists the apps that have a saved state, sorted.
	Apps(ctx context.Context) ([]string, error)
	// Where names the store for people (a file, a Vault mount and prefix).
	Where() string
}

// ManyStore is a Store that loads and saves several apps' states at once
// (a file read and written once for all of them, not once per app).
type ManyStore interface {
	Store
	// LoadMany is Load of each app.
	LoadMany(ctx context.Context, apps []string) (map[string]*AppState, map[string]int, error)
	// SaveMany saves each app's state when every app's version is still
	// the one given (all or nothing: one that is not current writes
	// nothing and is credscan.CodeConflict) and returns the new versions.
	SaveMany(ctx context.Context, states map[string]*AppState, versions map[string]int) (map[string]int, error)
}

// Tracker applies actions to apps' states: each is applied to the state
// as stored, written with check-and-set (reloaded and applied again when
// someone else wrote first, as long as it is still valid), and recorded
// in the audit log as the tracker's actor. It is safe for concurrent use.
type Tracker struct {
	store    Store
	recorder *audit.Recorder
	now      func() time.Time
}

// New returns a tracker over store that records through recorder (whose
// actor signs every event; nil records nothing and signs as the OS user).
func New(store Store, recorder *audit.Recorder, opts ...Option) *Tracker {
	t := &Tracker{store: store, recorder: recorder, now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Option configures a Tracker.
type Option func(*Tracker)

// WithClock makes now the tracker's clock (tests fix it).
func WithClock(now func() time.Time) Option { return func(t *Tracker) { t.now = now } }

// Store is the tracker's store.
func (t *Tracker) Store() Store { return t.store }

// Actor is who the tracker acts as.
func (t *Tracker) Actor() audit.Actor {
	if t.recorder == nil {
		return audit.LocalActor()
	}
	return t.recorder.Actor()
}

// Result says what an action did.
type Result struct {
	State   *AppState
	Version int
	// Retried: someone else wrote first; the state was reloaded and the
	// action applied again.
	Retried bool
}

// maxAttempts bounds how often an action is applied again after
// conflicts; between attempts the writer waits a random time that doubles
// each attempt (from 1 ms, capped at 250 ms), so two writers that keep
// colliding drift apart instead of one starving the other.
const maxAttempts = 12

// backoff waits before attempt+1, or returns ctx's error.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 8)
	if limit > 250*time.Millisecond {
		limit = 250 * time.Millisecond
	}
	timer := time.NewTimer(time.Duration(rand.Int64N(int64(limit)) + 1))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// update applies change to app's stored state with check-and-set.
// change returns an error when the action is not valid on the state (it
// is then not written).
func (t *Tracker) update(ctx context.Context, app string, change func(*AppState) error) (Result, error) {
	var res Result
	retried, err := checkAndSet(ctx, func() error {
		st, ver, err := t.store.Load(ctx, app)
		if err != nil {
			return err
		}
		if st.App == "" {
			st.App = app
		}
		if err := change(st); err != nil {
			return err
		}
		nv, err := t.store.Save(ctx, app, st, ver)
		if err == nil {
			res.State, res.Version = st, nv
		}
		return err
	})
	res.Retried = retried
	return res, err
}

// checkAndSet runs attempt (load, change, save with check-and-set) until
// it succeeds, fails with something other than a conflict, or has been
// tried maxAttempts times, backing off between tries; retried says a
// conflict was met.
func checkAndSet(ctx context.Context, attempt func() error) (retried bool, err error) {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || credscan.CodeOf(err) != credscan.CodeConflict || n == maxAttempts {
			return retried, err
		}
		retried = true
		if err := backoff(ctx, n); err != nil {
			return retried, err
		}
	}
}

// Tick ticks step of app, with a note (and a change reference, which
// deployed needs). Automatic steps cannot be ticked by hand.
func (t *Tracker) Tick(ctx context.Context, app string, step Step, note, change string) (Result, error) {
	info, ok := Info(step)
	if !ok {
		return Result{}, credscan.Errorf(credscan.CodeInvalid, "unknown step %q", step)
	}
	if !info.Manual {
		return Result{}, credscan.Errorf(credscan.CodeRefused, "%s is automatic: it is set by %s, not by hand", info.Title, info.Evidence)
	}
	if info.NeedsChange && strings.TrimSpace(change) == "" {
		return Result{}, credscan.Errorf(credscan.CodeInvalid, "%s needs a change reference (the change that was deployed)", info.Title)
	}
	return t.act(ctx, app, Event{Step: step, Kind: Tick, Note: note, Change: change}, func(st *AppState) error {
		if s := st.statusOf(step); s.State == Done && s.By != nil {
			return credscan.Errorf(credscan.CodeConflict, "%s of %s is ticked already (by %s at %s)", info.Title, app, s.By.Who(), s.By.At.Format(time.RFC3339))
		}
		return nil
	})
}

// Untick unticks step of app, with a note saying why.
func (t *Tracker) Untick(ctx context.Context, app string, step Step, note string) (Result, error) {
	info, ok := Info(step)
	if !ok {
		return Result{}, credscan.Errorf(credscan.CodeInvalid, "unknown step %q", step)
	}
	return t.act(ctx, app, Event{Step: step, Kind: Untick, Note: note}, func(st *AppState) error {
		if s := st.statusOf(step); s.By == nil || s.By.Kind != Tick {
			return credscan.Errorf(credscan.CodeConflict, "%s of %s is not ticked", info.Title, app)
		}
		return nil
	})
}

// WaiveStep waives step of app: it shows as waived, not done. A reason is
// required.
func (t *Tracker) WaiveStep(ctx context.Context, app string, step Step, reason string) (Result, error) {
	info, ok := Info(step)
	if !ok {
		return Result{}, credscan.Errorf(credscan.CodeInvalid, "unknown step %q", step)
	}
	if strings.TrimSpace(reason) == "" {
		return Result{}, credscan.Errorf(credscan.CodeInvalid, "a waiver needs a reason")
	}
	return t.act(ctx, app, Event{Step: step, Kind: Waive, Note: reason}, func(st *AppState) error {
		if st.statusOf(step).State == Waived {
			return credscan.Errorf(credscan.CodeConflict, "%s of %s is waived already", info.Title, app)
		}
		return nil
	})
}

// act appends e (signed by the tracker's actor, now) once valid says it
// may, and records it.
func (t *Tracker) act(ctx context.Context, app string, e Event, valid func(*AppState) error) (Result, error) {
	e.Actor, e.At = t.Actor(), t.now()
	res, err := t.update(ctx, app, func(st *AppState) error {
		if err := valid(st); err != nil {
			return err
		}
		st.History = append(st.History, e)
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, t.record(ctx, "tracker."+string(e.Kind), app, e)
}

func (t *Tracker) record(ctx context.Context, action, app string, e Event) error {
	if t.recorder == nil {
		return nil
	}
	detail := e.Note
	if e.Change != "" {
		detail = strings.TrimSpace("change " + e.Change + ": " + detail)
	}
	_, err := t.recorder.Record(ctx, audit.Record{Action: action, Scope: []string{app, string(e.Step)}, Result: "ok", Detail: detail})
	if err != nil {
		return fmt.Errorf("the %s is saved, but the audit log could not record it: %w", e.Kind, err)
	}
	return nil
}

// RecordScan stores a scan's evidence for app.
func (t *Tracker) RecordScan(ctx context.Context, app string, inv Inventory) error {
	_, err := t.update(ctx, app, func(st *AppState) error {
		recordInventory(st, inv, t.Actor())
		return nil
	})
	return err
}

// RecordScans is RecordScan for several apps, in one write of the store
// when it can (a ManyStore): an estate records every app's scan at once.
// It returns the apps it could not record, with why.
func (t *Tracker) RecordScans(ctx context.Context, invs map[string]Inventory) map[string]error {
	failed := map[string]error{}
	ms, ok := t.store.(ManyStore)
	if !ok || len(invs) < 2 {
		for app, inv := range invs {
			if err := t.RecordScan(ctx, app, inv); err != nil {
				failed[app] = err
			}
		}
		return failed
	}
	apps := make([]string, 0, len(invs))
	for app := range invs {
		if err := checkApp(app); err != nil {
			failed[app] = err
			continue
		}
		apps = append(apps, app)
	}
	sort.Strings(apps)
	_, err := checkAndSet(ctx, func() error {
		states, versions, err := ms.LoadMany(ctx, apps)
		if err != nil {
			return err
		}
		for _, app := range apps {
			if states[app].App == "" {
				states[app].App = app
			}
			recordInventory(states[app], invs[app], t.Actor())
		}
		_, err = ms.SaveMany(ctx, states, versions)
		return err
	})
	if err != nil {
		for _, app := range apps {
			failed[app] = err
		}
	}
	return failed
}

// recordInventory puts a scan's inventory in st, with its event. A scan
// that says what the app's last event says (a scan's, with the same
// figures) adds no event: a daily scan of an app nothing happens to
// would grow its history without end; the inventory holds the last
// scan's time.
func recordInventory(st *AppState, inv Inventory, actor audit.Actor) {
	st.Inventory = &inv
	e := Event{Kind: Evidence, Step: Inventoried, At: inv.At, Actor: actor,
		Note: fmt.Sprintf("scan: %d hardcoded at the tip, %d only in history or images, %d referenced; %d of %d credentials in Vault",
			inv.Hardcoded, inv.HistoryOnly, inv.Referenced, inv.Vaulted, inv.Credentials)}
	if n := len(st.History); n > 0 {
		if last := st.History[n-1]; last.Kind == e.Kind && last.Step == e.Step && last.Note == e.Note && last.Actor == e.Actor {
			return
		}
	}
	st.History = append(st.History, e)
}

// RecordRotation stores the rotation's evidence for app (change edits a
// copy of what is there).
func (t *Tracker) RecordRotation(ctx context.Context, app, note string, change func(*RotationEvidence)) error {
	res, err := t.update(ctx, app, func(st *AppState) error {
		r := RotationEvidence{}
		if st.Rotation != nil {
			r = *st.Rotation
		}
		change(&r)
		st.Rotation = &r
		st.History = append(st.History, Event{Kind: Evidence, Step: OnGreen, At: t.now(), Actor: t.Actor(), Note: note})
		return nil
	})
	if err != nil {
		return err
	}
	_ = res
	return t.record(ctx, "tracker.evidence", app, Event{Step: OnGreen, Kind: Evidence, Note: note})
}

// Load returns app's state.
func (t *Tracker) Load(ctx context.Context, app string) (*AppState, error) {
	st, _, err := t.store.Load(ctx, app)
	if err != nil {
		return nil, err
	}
	if st.App == "" {
		st.App = app
	}
	return st, nil
}

// LoadAll returns the states of apps, in order (an app never saved has an
// empty state).
func (t *Tracker) LoadAll(ctx context.Context, apps []string) ([]*AppState, error) {
	out := make([]*AppState, 0, len(apps))
	for _, a := range apps {
		st, err := t.Load(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// statusOf is step's status.
func (s *AppState) statusOf(step Step) StepStatus {
	i := slices.IndexFunc(Steps, func(x StepInfo) bool { return x.Step == step })
	return s.Status()[i]
}
