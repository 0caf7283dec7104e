package rotation

import (
	"context"
	"fmt"
	"strconv"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/rotation/pgbouncer"
	"github.com/credscan/credscan/rotation/postgres"
)

// Strategies of a password rotation after the migration.
const (
	// Alternating: two users, <role> and <role>_b (a member of <role>,
	// so it has its privileges); the idle one gets the new password, then
	// the pointer and the broker move to it. The active one keeps working
	// throughout: zero failed logins (AWS Secrets Manager's
	// alternating-users scheme).
	Alternating = "alternating"
	// Single: the active user's password changes in place. Clients that
	// hold the old password fail on their next login until they re-read
	// the pointer.
	Single = "single"
)

// AltUser is the clone role of the alternating strategy.
func AltUser(role string) string { return role + "_b" }

// RotatePassword rotates the role's green password with strategy.
func (r *Rotator) RotatePassword(ctx context.Context, strategy string) (*Result, error) {
	res := &Result{Stage: StagePassword, Role: r.role, DryRun: r.o.DryRun}
	if strategy != Alternating && strategy != Single {
		return res, credscan.UsageError("--strategy %q: want alternating or single", strategy)
	}
	r.checkAudit(ctx, res)
	r.checkApproval(ctx, "rotate", res)
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	res.require("on green", st.Live == Green && st.Op == nil, "the live side is %q: routine rotations come after the cutover", st.Live)
	if err := res.refused(); err != nil {
		r.record(ctx, StagePassword, "refused", err.Error(), nil)
		return res, err
	}
	active := r.role
	if st.Alternate != nil && st.Alternate.Active != "" {
		active = st.Alternate.Active
	}
	user := active
	if strategy == Alternating {
		user = AltUser(r.role)
		if active == user {
			user = r.role
		}
	} else {
		res.Notes = append(res.Notes, "single: clients that hold the old password fail on their next login until they re-read the pointer; alternating avoids it")
	}
	if r.o.DryRun {
		res.Notes = append(res.Notes, fmt.Sprintf("would set a new password for %s (in Vault at %s first), prove it, point %s at %s and reload the broker with it",
			user, r.greenUserPath(user), r.pointerPath(), user))
		return res, nil
	}
	green, err := r.admin(ctx, Green)
	if err != nil {
		return res, err
	}
	defer green.Close()
	if user != r.role {
		role, err := green.Role(ctx, user)
		if err != nil {
			return res, err
		}
		if !role.Exists {
			pw, err := Generate(r.cfg.Password.Length, r.cfg.Password.Alphabet)
			if err != nil {
				return res, err
			}
			if _, err := green.Ensure(ctx, cloneRole(user), pw); err != nil {
				return res, err
			}
		}
		if err := green.Grant(ctx, r.role, user); err != nil {
			return res, err
		}
	}
	u, err := r.begin(ctx, StagePassword, Green, Green, res)
	if err != nil {
		return res, err
	}
	u.st.Op.User, u.st.Op.Strategy = user, strategy
	pw, err := Generate(r.cfg.Password.Length, r.cfg.Password.Alphabet)
	if err != nil {
		return res, err
	}
	e := r.endpoint(Green)
	path := r.greenUserPath(user)
	cur, err := r.o.KV.Get(ctx, path)
	cas := 0
	if err == nil {
		cas = cur.Version
	} else if credscan.CodeOf(err) != credscan.CodeNotFound {
		return res, err
	}
	v, err := r.o.KV.Put(ctx, path, map[string]any{"user": user, "password": pw.Reveal(), "host": e.Host, "port": strconv.Itoa(e.Port),
		"database": e.Database, "dsn": postgres.URL(e, user, pw)}, cas)
	if err != nil {
		_ = u.finish(ctx)
		return res, fmt.Errorf("writing the new password of %s at %s: %w", user, path, err)
	}
	if err := u.step(ctx, "generated", fmt.Sprintf("new password of %s in Vault at %s (version %d)", user, path, v)); err != nil {
		return res, err
	}
	if err := r.applyPassword(ctx, u, user, pw); err != nil {
		return res, err
	}
	if u.st.Alternate == nil {
		u.st.Alternate = &Alternate{}
	}
	u.st.Alternate.Active, u.st.Alternate.At = user, r.now()
	u.st.Alternate.Rotations++
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	r.record(ctx, StagePassword, "ok", fmt.Sprintf("%s: %s has a new password; the pointer and the broker use %s", strategy, user, user), nil)
	return res, nil
}

func cloneRole(user string) postgres.Role {
	return postgres.Role{Name: user, Login: true, Inherit: true, ConnLimit: -1}
}

// applyPassword sets user's new password on green, proves it, points the
// pointer and the broker at user: the steps after "generated", also what
// Resume runs from Vault's copy.
func (r *Rotator) applyPassword(ctx context.Context, u *run, user string, pw credscan.Secret) error {
	green, err := r.admin(ctx, Green)
	if err != nil {
		return err
	}
	defer green.Close()
	if err := green.SetPassword(ctx, user, pw); err != nil {
		return err
	}
	if err := u.step(ctx, "applied", "ALTER ROLE "+user+" PASSWORD (a SCRAM verifier) on green"); err != nil {
		return err
	}
	lr, err := postgres.Login(ctx, r.endpoint(Green), user, pw)
	if err != nil {
		return err
	}
	if lr != postgres.Live {
		return credscan.Errorf(credscan.CodeRefused, "%s cannot log in to green with its new password (%s): the pointer and the broker still use the previous user", user, lr)
	}
	if err := u.step(ctx, "proved", "logged in to green as "+user); err != nil {
		return err
	}
	c := credential{User: user, Password: pw}
	cur, err := r.o.KV.Get(ctx, r.pointerPath())
	if err != nil {
		return fmt.Errorf("reading the pointer: %w", err)
	}
	if str(cur.Data["side"]) != string(Green) {
		return credscan.Errorf(credscan.CodeConflict, "%s points at %q, not green: changed by hand", r.pointerPath(), str(cur.Data["side"]))
	}
	v, err := r.o.KV.Put(ctx, r.pointerPath(), r.pointerData(Green, c), cur.Version)
	if err != nil {
		return fmt.Errorf("switching the pointer to %s: %w", user, err)
	}
	if err := u.step(ctx, StepPointed, fmt.Sprintf("%s (version %d) gives %s", r.pointerPath(), v, user)); err != nil {
		return err
	}
	if r.cfg.Broker != nil {
		if err := r.reloadAs(ctx, u, user, c); err != nil {
			return err
		}
	}
	if u.st.Pointer != nil {
		u.st.Pointer.GreenVersion = v
	}
	return nil
}

// reloadAs points the broker's entry at green as user with c (keeping the
// database's min_pool_size) and RELOADs. A RELOAD that changes the entry's
// user closes a server login in flight as PAUSE does, with the same
// refusals after it: it waits for a quiet pool first, and says so when the
// RELOAD closed one all the same.
func (r *Rotator) reloadAs(ctx context.Context, u *run, user string, c credential) error {
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	db := r.cfg.Broker.Database
	var minPool *int
	userChanges := true
	if dbs, err := b.Databases(ctx); err == nil {
		if d, ok := pgbouncer.Points(dbs, db); ok {
			if d.MinPoolSize > 0 {
				minPool = &d.MinPoolSize
			}
			userChanges = d.ForceUser != user
		}
	}
	file, err := r.render(Green, c, minPool)
	if err != nil {
		return err
	}
	if err := pgbouncer.WriteFile(r.cfg.Broker.DatabasesFile, file); err != nil {
		return err
	}
	if err := r.settleLogins(ctx, b); err != nil {
		return err
	}
	pools, err := b.ReloadSeen(ctx)
	if err != nil {
		return err
	}
	what := "the broker logs in to green as " + user + " (RELOAD: server connections renew as they are released)"
	if n := pgbouncer.Logins(pools, db); n > 0 && userChanges {
		note := fmt.Sprintf("the RELOAD closed %d server login(s) in flight: PgBouncer may refuse a client that finds no server until a login succeeds (server_login_retry)", n)
		what += "; " + note
		u.res.Notes = append(u.res.Notes, note)
	}
	return u.step(ctx, StepReloaded, what)
}
