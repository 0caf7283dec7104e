package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/rotation/pgbouncer"
	"github.com/credscan/credscan/rotation/postgres"
	"github.com/credscan/credscan/tracker"
)

// Limits of a switch's steps.
var (
	PauseTimeout = 30 * time.Second // PAUSE waits for running transactions
	DrainTimeout = 10 * time.Second // no server connection running or logging in
	// LoginsSettle bounds the wait, before PAUSE, for no server login in
	// flight (see settleLogins); past it, PAUSE goes ahead.
	LoginsSettle = 2 * time.Second
	// LoginHoldMax bounds the pause's hold after PAUSE closed a server
	// login in flight (see loginHold).
	LoginHoldMax = 20 * time.Second
)

// appsOfRole are the apps that hold the role's credentials: the apps the
// push recorded on each discovered password's metadata, then the apps of
// the manifest that say how they connect.
func (r *Rotator) appsOfRole(ctx context.Context) ([]string, error) {
	names, err := r.o.KV.List(ctx, r.legacyDir())
	if err != nil && credscan.CodeOf(err) != credscan.CodeNotFound {
		return nil, err
	}
	set := map[string]bool{}
	for _, n := range names {
		md, err := r.o.KV.Metadata(ctx, r.legacyDir()+"/"+strings.TrimSuffix(n, "/"))
		if err != nil {
			continue
		}
		for _, a := range strings.Split(md.Custom["apps"], ",") {
			if a = strings.TrimSpace(a); a != "" {
				set[a] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// appsGate checks that every app using the role follows the cutover:
// behind the broker, or reading the pointer with "reads from Vault"
// reached in the tracker, or waived by name with a reason.
func (r *Rotator) appsGate(ctx context.Context, res *Result) {
	apps, err := r.appsOfRole(ctx)
	if err != nil {
		res.gate("apps follow the cutover", false, "listing the apps that use %s: %v", r.role, err)
		return
	}
	var behind []string
	for _, name := range apps {
		a, ok := r.m.App(name)
		connects := ""
		if ok {
			connects = a.Connects
		}
		switch {
		case r.o.Waive[name] != "":
			res.Notes = append(res.Notes, fmt.Sprintf("%s waived: %s", name, r.o.Waive[name]))
		case connects == manifest.ConnectsBroker:
		case connects == manifest.ConnectsPointer:
			if r.o.Tracker == nil {
				behind = append(behind, name+" (reads the pointer; no tracker to say it reads from Vault)")
				continue
			}
			st, err := r.o.Tracker.Load(ctx, name)
			if err != nil {
				behind = append(behind, fmt.Sprintf("%s (the tracker cannot be read: %v)", name, err))
			} else if !st.Reached(tracker.ReadsFromVault) {
				behind = append(behind, fmt.Sprintf("%s (reads the pointer, but has not reached reads-from-vault: at %s)", name, st.Current()))
			}
		default:
			behind = append(behind, name+" (neither behind the broker nor reading the pointer: still hardcoded to blue's address?)")
		}
	}
	if len(behind) > 0 {
		res.gate("apps follow the cutover", false, "%s; or waive by name with --waive APP=REASON", strings.Join(behind, "; "))
		return
	}
	res.gate("apps follow the cutover", true, "%d app(s): %s", len(apps), strings.Join(apps, ", "))
}

// readiness checks replication lag and row counts when the manifest asks.
func (r *Rotator) readiness(ctx context.Context, blue, green *postgres.Admin, res *Result) {
	rd := r.cfg.Readiness
	if rd.MaxLagBytes > 0 {
		// green's subscriptions against blue's position, and blue's
		// logical slots: the worst of both
		lsn, err := blue.WALPosition(ctx)
		var subLag, slotLag int64
		var subOK, slotOK bool
		if err == nil {
			subLag, subOK, err = green.SubscriptionLag(ctx, lsn)
		}
		if err == nil {
			slotLag, slotOK, err = blue.SlotLag(ctx)
		}
		switch {
		case err != nil:
			res.gate("replication lag", false, "%v", err)
		case !subOK || !slotOK:
			res.gate("replication lag", false, "no logical replication from blue to green (pg_stat_subscription on green: %v, a logical slot on blue: %v)", subOK, slotOK)
		default:
			lag := max(subLag, slotLag)
			res.gate("replication lag", lag <= rd.MaxLagBytes, "%d bytes behind blue (subscription %d, slot %d; at most %d)", lag, subLag, slotLag, rd.MaxLagBytes)
		}
	}
	if len(rd.Tables) == 0 {
		return
	}
	bdb, err := blue.Database(ctx, r.cfg.Database)
	if err != nil {
		res.gate("row counts", false, "%v", err)
		return
	}
	defer bdb.Close()
	gdb, err := green.Database(ctx, r.cfg.Database)
	if err != nil {
		res.gate("row counts", false, "%v", err)
		return
	}
	defer gdb.Close()
	var diffs, same []string
	for _, t := range rd.Tables {
		b, err1 := bdb.RowCount(ctx, r.cfg.Database, t)
		g, err2 := gdb.RowCount(ctx, r.cfg.Database, t)
		switch {
		case err1 != nil || err2 != nil:
			diffs = append(diffs, fmt.Sprintf("%s (%v)", t, errors.Join(err1, err2)))
		case b != g:
			diffs = append(diffs, fmt.Sprintf("%s: blue %d, green %d", t, b, g))
		default:
			same = append(same, fmt.Sprintf("%s %d", t, b))
		}
	}
	if len(diffs) > 0 {
		res.gate("row counts", false, "%s", strings.Join(diffs, "; "))
		return
	}
	res.gate("row counts", true, "%s", strings.Join(same, ", "))
}

// Cutover moves the role's applications from blue to green: after its
// gates (approval, green login, apps, readiness, the broker), the broker
// pauses the database, the old side is confirmed drained, the databases
// file is swapped to green, the broker reloads and resumes, and the
// pointer is switched by check-and-set; then a login through each path.
// A failure before the pointer moves puts the broker back on blue and
// resumes it: nothing is left paused or half-switched.
func (r *Rotator) Cutover(ctx context.Context) (*Result, error) {
	res := &Result{Stage: StageCutover, Role: r.role, DryRun: r.o.DryRun}
	r.checkAudit(ctx, res)
	r.checkApproval(ctx, "rotate", res)
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	res.require("green provisioned", st.Green != nil, "run credscan rotate provision-green first")
	res.require("pointer", st.Pointer != nil, "run credscan rotate pointer first")
	if st.Op != nil {
		res.gate("nothing in progress", false, "a %s is in progress (step %s): credscan rotate resume", st.Op.Name, st.Op.Step)
	}
	if err := res.refused(); err != nil {
		r.record(ctx, StageCutover, "refused", err.Error(), nil)
		return res, err
	}
	if st.Live == Green {
		res.Notes = append(res.Notes, "already on green: nothing to do")
		return res, nil
	}
	if c, err := r.credentialOf(ctx, st, Green); err != nil {
		res.gate("green login", false, "%v", err)
	} else if lr, err := postgres.Login(ctx, r.endpoint(Green), c.User, c.Password); err != nil {
		return res, err
	} else {
		res.gate("green login", lr == postgres.Live, "%s at %s: %s", c.User, r.endpoint(Green), lr)
	}
	r.appsGate(ctx, res)
	if r.cfg.Readiness.MaxLagBytes > 0 || len(r.cfg.Readiness.Tables) > 0 {
		blue, err1 := r.admin(ctx, Blue)
		green, err2 := r.admin(ctx, Green)
		if err1 != nil || err2 != nil {
			res.gate("readiness", false, "%v", errors.Join(err1, err2))
		} else {
			r.readiness(ctx, blue, green, res)
		}
		if blue != nil {
			blue.Close()
		}
		if green != nil {
			green.Close()
		}
	}
	if r.cfg.Broker != nil {
		r.brokerGate(ctx, Blue, res)
	}
	if err := res.refused(); err != nil {
		r.record(ctx, StageCutover, "refused", err.Error(), nil)
		return res, err
	}
	if r.o.DryRun {
		res.Notes = append(res.Notes, r.switchPlan(Blue, Green)...)
		return res, nil
	}
	return r.switchTo(ctx, StageCutover, Blue, Green, res)
}

// brokerGate checks the broker answers and its entry points at from.
func (r *Rotator) brokerGate(ctx context.Context, from Side, res *Result) {
	b, err := r.broker(ctx)
	if err != nil {
		res.gate("broker", false, "%v", err)
		return
	}
	defer b.Close()
	dbs, err := b.Databases(ctx)
	if err != nil {
		res.gate("broker", false, "%v", err)
		return
	}
	d, ok := pgbouncer.Points(dbs, r.cfg.Broker.Database)
	e := r.endpoint(from)
	switch {
	case !ok:
		res.gate("broker", false, "PgBouncer has no database entry %q", r.cfg.Broker.Database)
	case d.Paused:
		res.gate("broker", false, "%q is paused already: someone else is switching it", d.Name)
	case d.Host != e.Host || d.Port != e.Port:
		res.gate("broker", false, "%q points at %s:%d, not at %s (%s:%d): changed by hand?", d.Name, d.Host, d.Port, from, e.Host, e.Port)
	default:
		res.gate("broker", true, "%q points at %s (%s:%d)", d.Name, from, e.Host, e.Port)
	}
}

func (r *Rotator) switchPlan(from, to Side) []string {
	var out []string
	if b := r.cfg.Broker; b != nil {
		out = append(out, fmt.Sprintf("PAUSE %s at the broker (clients wait; nothing fails)", b.Database),
			fmt.Sprintf("confirm no server connection to %s (%s) is active (SHOW SERVERS)", from, r.endpoint(from)),
			fmt.Sprintf("replace %s (0600) with the entry for %s (%s)", b.DatabasesFile, to, r.endpoint(to)),
			"RELOAD", "RESUME "+b.Database)
	}
	out = append(out, fmt.Sprintf("point %s at %s (check-and-set)", r.pointerPath(), to), "log in through each path")
	return out
}

// switchTo moves the broker and the pointer from one side to the other.
func (r *Rotator) switchTo(ctx context.Context, stage string, from, to Side, res *Result) (*Result, error) {
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	cFrom, err := r.credentialOf(ctx, st, from)
	if err != nil {
		return res, err
	}
	cTo, err := r.credentialOf(ctx, st, to)
	if err != nil {
		return res, err
	}
	// everything Vault must give is read before the broker pauses
	var fromFile, toFile credscan.Secret
	if r.cfg.Broker != nil {
		if fromFile, err = r.render(from, cFrom, nil); err != nil {
			return res, err
		}
		if toFile, err = r.render(to, cTo, nil); err != nil {
			return res, err
		}
	}
	pointerData := r.pointerData(to, cTo)
	if to == Blue && st.Pointer != nil && st.Pointer.BlueVersion > 0 {
		// the rollback restores the version that pointed at blue
		if prev, err := r.o.KV.GetVersion(ctx, r.pointerPath(), st.Pointer.BlueVersion); err == nil {
			pointerData = prev.Data
		}
	}
	u, err := r.begin(ctx, stage, from, to, res)
	if err != nil {
		return res, err
	}
	start := time.Now()
	r.say("%s of %s: %s → %s", stage, r.role, from, to)
	var b *pgbouncer.Admin
	if r.cfg.Broker != nil {
		db := r.cfg.Broker.Database
		if b, err = r.broker(ctx); err != nil {
			return res, u.abort(ctx, nil, fromFile, err)
		}
		defer func() { b.Close() }()
		minPool, err := r.minPoolOff(ctx, u, b, from, cFrom)
		if err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if minPool > 0 {
			// the switch's entry keeps min_pool_size 0; the abort's has
			// the database's own again (assigned only once rendered: the
			// abort writes it)
			zero := 0
			f, err := r.render(from, cFrom, &minPool)
			if err == nil {
				toFile, err = r.render(to, cTo, &zero)
			}
			if err != nil {
				return res, u.abort(ctx, b, fromFile, err)
			}
			fromFile = f
		}
		if err := r.settleLogins(ctx, b); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		pctx, cancel := timeout(ctx, PauseTimeout)
		paused := time.Now()
		pools, err := b.PauseSeen(pctx, db)
		cancel()
		if err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		what := "PAUSE " + db + ": the broker holds new transactions"
		var holdUntil time.Time
		if n := pgbouncer.Logins(pools, db); n > 0 {
			var note string
			holdUntil, note = r.loginHold(ctx, b, paused, n)
			what += "; " + note
		}
		if err := u.step(ctx, StepPaused, what); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if err := r.drained(ctx, b, from); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if err := u.step(ctx, StepDrained, fmt.Sprintf("no active server connection to %s, none logging in", from)); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if err := pgbouncer.WriteFile(r.cfg.Broker.DatabasesFile, toFile); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		u.st.Op.Step = StepSwapped // the file is swapped whether or not the state says so
		if err := u.step(ctx, StepSwapped, fmt.Sprintf("%s points at %s", r.cfg.Broker.DatabasesFile, to)); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if d := time.Until(holdUntil); d > 0 {
			select {
			case <-ctx.Done():
				return res, u.abort(ctx, b, fromFile, ctx.Err())
			case <-time.After(d):
			}
		}
		if err := b.ReloadResume(ctx, db); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if err := u.step(ctx, StepReloaded, "RELOAD, in one write with RESUME"); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if err := u.step(ctx, StepResumed, "RESUME "+db+": clients go on, to "+string(to)); err != nil {
			return res, u.abort(ctx, b, fromFile, err)
		}
		if minPool > 0 {
			// the switch is done: a failure here is told, not undone
			final, err := r.render(to, cTo, &minPool)
			if err == nil {
				err = pgbouncer.WriteFile(r.cfg.Broker.DatabasesFile, final)
			}
			if err == nil {
				err = b.Reload(ctx)
			}
			what := fmt.Sprintf("min_pool_size of %s back to %d (RELOAD)", db, minPool)
			if err != nil {
				what = fmt.Sprintf("min_pool_size of %s is still 0: putting %d back failed: %v", db, minPool, err)
				res.Notes = append(res.Notes, what)
			}
			u.note(what)
			r.say("  %s", what)
		}
	}
	v, err := r.point(ctx, from, to, pointerData)
	if err != nil {
		return res, u.abort(ctx, b, fromFile, err)
	}
	u.st.Op.Step = StepPointed
	if err := u.step(ctx, StepPointed, fmt.Sprintf("%s (version %d) points at %s", r.pointerPath(), v, to)); err != nil {
		// the switch is complete; only its record failed: resume records it
		return res, fmt.Errorf("%s of %s is complete, but its state could not be saved (run credscan rotate resume --role %s): %w", stage, r.role, r.role, err)
	}
	total := time.Since(start)
	r.settle(u.st, stage, to, v)
	u.note(fmt.Sprintf("%s complete in %d ms", stage, total.Milliseconds()))
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	r.say("  %s complete in %d ms", stage, total.Milliseconds())
	r.evidence(ctx, stage, res)
	r.checkPaths(ctx, to, res)
	r.record(ctx, stage, "ok", fmt.Sprintf("%s → %s in %d ms: %s", from, to, total.Milliseconds(), stepsDetail(res.Steps)), map[string]int{"ms": int(total.Milliseconds())})
	return res, res.checksFailed(stage)
}

// settle marks the state switched to side.
func (r *Rotator) settle(st *State, stage string, to Side, pointerVersion int) {
	st.Live = to
	if st.Pointer == nil {
		st.Pointer = &PointerRecord{}
	}
	if to == Green {
		st.CutoverAt, st.Pointer.GreenVersion = r.now(), pointerVersion
	} else {
		st.RolledBackAt, st.Pointer.BlueVersion = r.now(), pointerVersion
	}
}

// checksFailed is the error when a post-switch login failed.
func (res *Result) checksFailed(stage string) error {
	for _, g := range res.Gates {
		if !g.OK && strings.HasPrefix(g.Name, "login through") {
			return credscan.Errorf(credscan.CodeRefused, "%s is complete, but %s failed (%s): roll back with credscan rotate rollback --role %s if clients fail", stage, g.Name, g.Detail, res.Role)
		}
	}
	return nil
}

func stepsDetail(steps []Event) string {
	var parts []string
	for _, s := range steps {
		if s.Millis > 0 || strings.HasPrefix(s.What, "PAUSE") {
			parts = append(parts, fmt.Sprintf("%s %dms", strings.Fields(s.What)[0], s.Millis))
		}
	}
	return strings.Join(parts, ", ")
}

// settleLogins waits, up to LoginsSettle, until the broker's database is
// quiet (no server logging in, no client waiting for one, an idle server
// for the next transaction when clients are connected: pgbouncer.Quiet)
// on two checks in a row. PAUSE closes a server login in flight (so does
// a RELOAD that changes the entry), and PgBouncer (1.18 to this day:
// disconnect_server) then marks the pool's logins as failing: after
// RESUME, with the pool emptied by the pause, it refuses clients ("server
// login has been failing", server_login_retry) until a login succeeds,
// and tries none for server_login_retry. A login that starts between the
// last check and PAUSE still can be closed: the idle server makes that
// take more transactions at once than the pool has idle servers, where
// without it the next transaction was enough (1 end-to-end run in 15 had
// a refused client before the idle-server condition, 0 in 42 after).
func (r *Rotator) settleLogins(ctx context.Context, b *pgbouncer.Admin) error {
	deadline := time.Now().Add(LoginsSettle)
	quiet := 0
	for quiet < 2 && time.Now().Before(deadline) {
		pools, err := b.Pools(ctx)
		if err != nil {
			return err
		}
		if pgbouncer.Quiet(pools, r.cfg.Broker.Database) {
			quiet++
		} else {
			quiet = 0
		}
		if quiet < 2 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return nil
}

// render is the databases file with the one entry of side, with
// min_pool_size minPool when it is set.
func (r *Rotator) render(side Side, c credential, minPool *int) (credscan.Secret, error) {
	e := r.entry(side, c)
	e.MinPoolSize = minPool
	return pgbouncer.Render([]pgbouncer.Entry{e})
}

// minPoolOff returns the database's min_pool_size at the broker and, when
// it is not 0, sets it to 0 on the entry of from (RELOAD; a change of
// min_pool_size alone closes no server connection). PgBouncer's
// maintenance (every third of a second) logs servers in up to
// min_pool_size even while the database is paused, and the pause closes
// each of them at once: every pause longer than a third of a second then
// marks the pool's logins as failing, and a client that asks after RESUME,
// before a login succeeds, is refused (see pgbouncer.PauseSeen).
func (r *Rotator) minPoolOff(ctx context.Context, u *run, b *pgbouncer.Admin, from Side, c credential) (int, error) {
	dbs, err := b.Databases(ctx)
	if err != nil {
		return 0, err
	}
	d, ok := pgbouncer.Points(dbs, r.cfg.Broker.Database)
	if !ok || d.MinPoolSize <= 0 {
		return 0, nil
	}
	zero := 0
	f, err := r.render(from, c, &zero)
	if err != nil {
		return 0, err
	}
	// recorded first: a resume after a crash puts it back
	u.st.Op.MinPoolSize = d.MinPoolSize
	sctx, cancel := context.WithTimeout(ctx, StepSaveTimeout)
	err = u.save(sctx)
	cancel()
	if err != nil {
		return 0, err
	}
	u.touched = true
	if err := pgbouncer.WriteFile(r.cfg.Broker.DatabasesFile, f); err != nil {
		return 0, err
	}
	if err := b.Reload(ctx); err != nil {
		return 0, err
	}
	what := fmt.Sprintf("min_pool_size of %s is %d: 0 for the switch (RELOAD), or PgBouncer logs servers in while it is paused and the pause closes them", r.cfg.Broker.Database, d.MinPoolSize)
	u.note(what)
	r.say("  %s", what)
	return d.MinPoolSize, nil
}

// loginHold is how long a cutover holds the pause when PAUSE closed n
// server logins in flight (see pgbouncer.PauseSeen): until
// server_login_retry has passed since the pause, so that the first
// waiting client after RESUME starts a login at once, and only a client
// arriving during that one login is refused, where without the hold every
// client finding no server is, until server_login_retry has passed. At
// most LoginHoldMax; the note says what was done.
func (r *Rotator) loginHold(ctx context.Context, b *pgbouncer.Admin, paused time.Time, n int) (time.Time, string) {
	retry, err := b.LoginRetry(ctx)
	if err != nil {
		retry = 15 * time.Second // PgBouncer's default
	}
	hold := retry + 100*time.Millisecond
	what := fmt.Sprintf("it closed %d server login(s) in flight, after which PgBouncer refuses clients until a login succeeds: held for server_login_retry (%v)", n, retry)
	if hold > LoginHoldMax {
		hold = LoginHoldMax
		what = fmt.Sprintf("it closed %d server login(s) in flight, after which PgBouncer refuses clients until a login succeeds: held %v, not server_login_retry (%v): lower it", n, LoginHoldMax, retry)
	}
	return paused.Add(hold), what
}

// drained waits until no server connection of the broker's database is
// running a transaction or logging in (to either side).
func (r *Rotator) drained(ctx context.Context, b *pgbouncer.Admin, from Side) error {
	deadline := time.Now().Add(DrainTimeout)
	for {
		servers, err := b.Servers(ctx)
		if err != nil {
			return err
		}
		active := pgbouncer.Busy(servers, r.cfg.Broker.Database)
		if len(active) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return credscan.Errorf(credscan.CodeUnavailable, "%d server connection(s) to %s still busy %s after PAUSE", len(active), from, DrainTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// point moves the pointer from one side to the other with check-and-set:
// a pointer changed by hand (not at from) is a conflict.
func (r *Rotator) point(ctx context.Context, from, to Side, data map[string]any) (int, error) {
	cur, err := r.o.KV.Get(ctx, r.pointerPath())
	if err != nil {
		return 0, fmt.Errorf("reading the pointer: %w", err)
	}
	switch str(cur.Data["side"]) {
	case string(to):
		return cur.Version, nil // a re-run after a crash
	case string(from):
	default:
		return 0, credscan.Errorf(credscan.CodeConflict, "%s points at %q, not at %s: it was changed by hand", r.pointerPath(), str(cur.Data["side"]), from)
	}
	v, err := r.o.KV.Put(ctx, r.pointerPath(), data, cur.Version)
	if err != nil {
		return 0, fmt.Errorf("switching the pointer: %w", err)
	}
	return v, nil
}

// abort undoes a switch that failed before it completed: the broker's
// file back on from (when it was swapped), RELOAD, RESUME; the pointer is
// not moved. It uses its own context: the caller's may be what failed.
// When the state cannot be saved (Vault gone), the op stays recorded and
// resume finds the broker already consistent.
func (u *run) abort(_ context.Context, b *pgbouncer.Admin, fromFile credscan.Secret, cause error) error {
	r := u.r
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	op := *u.st.Op
	var problems []string
	if r.cfg.Broker != nil && op.Reached(StepBegun) {
		if b == nil {
			var err error
			if b, err = r.broker(ctx); err != nil {
				// the broker may be unreachable: it was never paused then
				if op.Reached(StepPaused) {
					problems = append(problems, "the broker could not be reached to resume it: "+err.Error())
				}
			}
		}
		if b != nil {
			if op.Reached(StepSwapped) || op.Step == StepDrained || u.touched {
				// the file may have been replaced before the step was saved
				if err := pgbouncer.WriteFile(r.cfg.Broker.DatabasesFile, fromFile); err != nil {
					problems = append(problems, err.Error())
					if err := resume(ctx, r, b); err != nil {
						problems = append(problems, err.Error())
					}
				} else if err := reloadResume(ctx, r, b); err != nil {
					problems = append(problems, err.Error())
				}
			} else if err := resume(ctx, r, b); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	what := fmt.Sprintf("%s aborted after step %q (%v): back on %s", u.name, op.Step, cause, op.From)
	if len(problems) > 0 {
		what = fmt.Sprintf("%s aborted after step %q (%v); putting it back failed: %s", u.name, op.Step, cause, strings.Join(problems, "; "))
	}
	r.say("  %s", what)
	u.note(what)
	u.st.Op = nil
	saveErr := u.save(ctx)
	result := "failed"
	r.record(ctx, u.name, result, what, nil)
	code := credscan.CodeOf(cause)
	if code == credscan.CodeUnknown {
		code = credscan.CodeUnavailable
	}
	if len(problems) > 0 {
		return credscan.Errorf(code, "%s; run credscan rotate resume --role %s when the parts are back", what, r.role)
	}
	if saveErr != nil {
		return credscan.Errorf(code, "%s (the state could not be saved: run credscan rotate resume --role %s when Vault is back)", what, r.role)
	}
	return credscan.Errorf(code, "%s", what)
}

// resume RESUMEs the broker's database; one that is not paused is fine.
func resume(ctx context.Context, r *Rotator, b *pgbouncer.Admin) error {
	return onBroker(ctx, r, b, func(a *pgbouncer.Admin) error { return a.Resume(ctx, r.cfg.Broker.Database) })
}

// reloadResume RELOADs and RESUMEs the broker's database in one write
// (pgbouncer.ReloadResume); one that is not paused is fine.
func reloadResume(ctx context.Context, r *Rotator, b *pgbouncer.Admin) error {
	return onBroker(ctx, r, b, func(a *pgbouncer.Admin) error { return a.ReloadResume(ctx, r.cfg.Broker.Database) })
}

// onBroker runs do on b and, when it fails, once more on a new
// connection (b's may be broken); a database that is not paused is fine.
func onBroker(ctx context.Context, r *Rotator, b *pgbouncer.Admin, do func(*pgbouncer.Admin) error) error {
	err := do(b)
	if err != nil && !strings.Contains(err.Error(), "not paused") {
		nb, err2 := r.broker(ctx)
		if err2 != nil {
			return err
		}
		defer nb.Close()
		err = do(nb)
	}
	if err != nil && strings.Contains(err.Error(), "not paused") {
		return nil
	}
	return err
}

// evidence records the switch in the tracker for each app of the role.
func (r *Rotator) evidence(ctx context.Context, stage string, res *Result) {
	if r.o.Tracker == nil {
		return
	}
	apps, err := r.appsOfRole(ctx)
	if err != nil {
		res.Notes = append(res.Notes, "the tracker was not updated: "+err.Error())
		return
	}
	now := r.now()
	for _, a := range apps {
		if _, ok := r.m.App(a); !ok {
			continue
		}
		err := r.o.Tracker.RecordRotation(ctx, a, fmt.Sprintf("%s of %s", stage, r.role), func(e *tracker.RotationEvidence) {
			e.Role = r.role
			switch stage {
			case StageCutover:
				e.OnGreen = now
			case StageRollback:
				e.RolledBack = now
			case StageRevoke:
				e.Revoked = now
			}
		})
		if err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("the tracker was not updated for %s: %v", a, err))
		}
	}
}

// checkPaths logs in through each path after a switch: the broker (with
// the manifest's check client, landing on to's port) and the pointer.
func (r *Rotator) checkPaths(ctx context.Context, to Side, res *Result) {
	want := r.endpoint(to)
	if b := r.cfg.Broker; b != nil && b.Check != "" {
		pw, sec, err := r.secret(ctx, b.Check, "password")
		if err != nil {
			res.gate("login through the broker", false, "reading the check client: %v", err)
		} else {
			port, err := serverPort(ctx, postgres.Endpoint{Host: b.Host, Port: b.Port, Database: b.Database}, str(sec.Data["user"]), pw)
			res.gate("login through the broker", err == nil && port == want.Port, "%s", portDetail(port, want.Port, to, err))
		}
	}
	cur, err := r.o.KV.Get(ctx, r.pointerPath())
	if err != nil {
		res.gate("login through the pointer", false, "reading the pointer: %v", err)
		return
	}
	port, err := serverPort(ctx, postgres.Endpoint{Host: str(cur.Data["host"]), Port: atoi(str(cur.Data["port"])), Database: str(cur.Data["database"])},
		str(cur.Data["user"]), credscan.NewSecret(str(cur.Data["password"])))
	res.gate("login through the pointer", err == nil && port == want.Port, "%s", portDetail(port, want.Port, to, err))
}

func portDetail(got, want int, to Side, err error) string {
	if err != nil {
		return err.Error()
	}
	if got != want {
		return fmt.Sprintf("landed on port %d, not on %s's %d", got, to, want)
	}
	return fmt.Sprintf("on %s (port %d)", to, got)
}

// serverPort logs in and asks the server which port it serves.
func serverPort(ctx context.Context, e postgres.Endpoint, user string, pw credscan.Secret) (int, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s user=%s sslmode=disable connect_timeout=5", e.Host, e.Port, e.Database, user))
	if err != nil {
		return 0, credscan.UsageError("the endpoint %s does not parse", e)
	}
	cfg.Password = pw.Reveal()
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ctx, cancel := context.WithTimeout(ctx, postgres.LoginTimeout)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("login as %s at %s: %s", user, e, postgres.Describe(err))
	}
	defer c.Close(context.Background())
	var port int
	if err := c.QueryRow(ctx, "SELECT current_setting('port')::int").Scan(&port); err != nil {
		return 0, fmt.Errorf("query as %s at %s: %s", user, e, postgres.Describe(err))
	}
	return port, nil
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Rollback moves the role's applications back to blue: the legacy login
// enabled again if it was revoked (from Vault's copy, which never
// changed), then the same switch in reverse, and the pointer back to the
// version that pointed at blue. Green's data is not touched. The incident
// timeline (what was switched when, by whom, why) goes to the audit log
// and the result.
func (r *Rotator) Rollback(ctx context.Context, reason string) (*Result, error) {
	res := &Result{Stage: StageRollback, Role: r.role, DryRun: r.o.DryRun}
	r.checkAudit(ctx, res)
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	if st.Op != nil {
		res.gate("nothing in progress", false, "a %s is in progress (step %s): credscan rotate resume finishes or undoes it", st.Op.Name, st.Op.Step)
	}
	if st.Live != Green {
		res.Notes = append(res.Notes, fmt.Sprintf("the live side is %q: nothing to roll back", st.Live))
		return res, res.refused()
	}
	res.require("reason", strings.TrimSpace(reason) != "", "a rollback needs --reason (it goes to the incident timeline)")
	if r.cfg.Broker != nil {
		r.brokerGate(ctx, Green, res)
	}
	if err := res.refused(); err != nil {
		return res, err
	}
	if r.o.DryRun {
		if st.Revoked != nil {
			res.Notes = append(res.Notes, "ALTER ROLE "+r.role+" LOGIN on blue (it was revoked)")
		}
		res.Notes = append(res.Notes, r.switchPlan(Green, Blue)...)
		return res, nil
	}
	started := r.now()
	r.record(ctx, StageRollback, "started", "reason: "+reason, nil)
	if st.Revoked != nil {
		blue, err := r.admin(ctx, Blue)
		if err != nil {
			return res, err
		}
		err = blue.SetLogin(ctx, r.role, true)
		blue.Close()
		if err != nil {
			return res, err
		}
		if err := r.update(ctx, func(st *State) {
			st.Revoked = nil
			st.Timeline = append(st.Timeline, Event{At: r.now(), Stage: StageRollback, What: "legacy login of " + r.role + " enabled again on blue", By: r.by()})
		}); err != nil {
			return res, err
		}
	}
	res, err = r.switchTo(ctx, StageRollback, Green, Blue, res)
	if st2, lerr := r.State(ctx); lerr == nil {
		// the incident: from the start of the last cutover to now
		from := len(st2.Timeline)
		for i := len(st2.Timeline) - 1; i >= 0; i-- {
			if st2.Timeline[i].Stage == StageCutover {
				from = i
				for from > 0 && st2.Timeline[from-1].Stage == StageCutover {
					from--
				}
				break
			}
		}
		res.Timeline = append([]Event{}, st2.Timeline[min(from, len(st2.Timeline)):]...)
		res.Timeline = append(res.Timeline, Event{At: started, Stage: StageRollback, What: "rollback requested: " + reason, By: r.by()})
		slices.SortStableFunc(res.Timeline, func(a, b Event) int { return a.At.Compare(b.At) })
		var lines []string
		for _, e := range res.Timeline {
			lines = append(lines, fmt.Sprintf("%s %s %s (%s)", e.At.Format("15:04:05.000"), e.Stage, e.What, e.By))
		}
		r.record(ctx, StageRollback+".timeline", "ok", strings.Join(lines, " | "), nil)
	}
	return res, err
}

// update applies change to the stored state with check-and-set.
func (r *Rotator) update(ctx context.Context, change func(*State)) error {
	st, v, err := r.st.load(ctx, r.role)
	if err != nil {
		return err
	}
	change(st)
	_, err = r.st.save(ctx, st, v)
	return err
}
