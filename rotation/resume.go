package rotation

import (
	"context"
	"fmt"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/rotation/pgbouncer"
)

// Resume brings an operation that stopped half-way (the process killed,
// Vault or the broker gone) to a consistent state, from what the state
// recorded: a switch that had swapped the broker's file is completed
// (the broker on the new side, reloaded and resumed, the pointer moved);
// one that had not is undone (the broker on the old side, resumed; the
// pointer where it was). A password rotation whose new password reached
// Vault is applied from Vault's copy. Other stages are idempotent: their
// lease is released and they run again. Run it only when the process
// that held the lease is gone.
func (r *Rotator) Resume(ctx context.Context) (*Result, error) {
	res := &Result{Stage: "resume", Role: r.role, DryRun: r.o.DryRun}
	st, v, err := r.st.load(ctx, r.role)
	if err != nil {
		return res, err
	}
	if st.Op == nil {
		res.Notes = append(res.Notes, fmt.Sprintf("nothing in progress; the live side is %q", orNone(string(st.Live))))
		return res, nil
	}
	op := *st.Op
	u := &run{r: r, st: st, version: v, name: op.Name, res: res, last: time.Now()}
	switch op.Name {
	case StageCutover, StageRollback:
		target := op.From
		if op.Reached(StepSwapped) {
			target = op.To
		}
		if r.o.DryRun {
			res.Notes = append(res.Notes, fmt.Sprintf("%s stopped after %q: would bring the broker and the pointer to %s", op.Name, op.Step, target))
			return res, nil
		}
		if err := r.converge(ctx, u, target); err != nil {
			return res, err
		}
		if target == op.To {
			pv := 0
			if cur, err := r.o.KV.Get(ctx, r.pointerPath()); err == nil {
				pv = cur.Version
			}
			r.settle(u.st, op.Name, target, pv)
		} else {
			u.st.Live = op.From
		}
		u.note(fmt.Sprintf("resumed: %s had stopped after %q; the broker and the pointer are on %s", op.Name, op.Step, target))
		if err := u.finish(ctx); err != nil {
			return res, err
		}
		if target == op.To {
			r.evidence(ctx, op.Name, res)
		}
		r.record(ctx, "resume", "ok", fmt.Sprintf("%s stopped after %q: on %s", op.Name, op.Step, target), nil)
		r.checkPaths(ctx, target, res)
		return res, nil
	case StagePassword:
		if op.Reached("generated") && op.User != "" {
			if r.o.DryRun {
				res.Notes = append(res.Notes, "would apply the new password of "+op.User+" from Vault and point the pointer and the broker at it")
				return res, nil
			}
			pw, _, err := r.secret(ctx, r.greenUserPath(op.User), "password")
			if err != nil {
				return res, err
			}
			if err := r.applyPassword(ctx, u, op.User, pw); err != nil {
				return res, err
			}
			if u.st.Alternate == nil {
				u.st.Alternate = &Alternate{}
			}
			u.st.Alternate.Active, u.st.Alternate.At = op.User, r.now()
			u.st.Alternate.Rotations++
		}
	case StageRevoke:
		blue, err := r.admin(ctx, Blue)
		if err != nil {
			return res, err
		}
		can, err := blue.CanLogin(ctx, r.role)
		blue.Close()
		if err != nil {
			return res, err
		}
		if !can {
			u.st.Revoked = &Revoked{At: r.now()}
		}
	}
	if r.o.DryRun {
		res.Notes = append(res.Notes, fmt.Sprintf("%s stopped after %q: would release its lease (run it again)", op.Name, op.Step))
		return res, nil
	}
	u.note(fmt.Sprintf("resumed: %s had stopped after %q; its lease is released", op.Name, op.Step))
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	r.record(ctx, "resume", "ok", fmt.Sprintf("%s stopped after %q", op.Name, op.Step), nil)
	return res, nil
}

func orNone(s string) string {
	if s == "" {
		return "none yet"
	}
	return s
}

// converge puts the broker (file, reload, resume) and the pointer on side.
func (r *Rotator) converge(ctx context.Context, u *run, side Side) error {
	c, err := r.credentialOf(ctx, u.st, side)
	if err != nil {
		return err
	}
	if r.cfg.Broker != nil {
		var minPool *int
		if op := u.st.Op; op != nil && op.MinPoolSize > 0 {
			minPool = &op.MinPoolSize // the switch had set it to 0
		}
		want, err := r.render(side, c, minPool)
		if err != nil {
			return err
		}
		have, err := pgbouncer.ReadFile(r.cfg.Broker.DatabasesFile)
		if err != nil || have.Reveal() != want.Reveal() {
			if err := pgbouncer.WriteFile(r.cfg.Broker.DatabasesFile, want); err != nil {
				return err
			}
			u.note(fmt.Sprintf("%s points at %s", r.cfg.Broker.DatabasesFile, side))
		}
		b, err := r.broker(ctx)
		if err != nil {
			return err
		}
		defer b.Close()
		if err := reloadResume(ctx, r, b); err != nil {
			return err
		}
		u.note("RELOAD, RESUME " + r.cfg.Broker.Database)
	}
	cur, err := r.o.KV.Get(ctx, r.pointerPath())
	if err != nil && credscan.CodeOf(err) != credscan.CodeNotFound {
		return err
	}
	if cur != nil && str(cur.Data["side"]) != string(side) {
		v, err := r.o.KV.Put(ctx, r.pointerPath(), r.pointerData(side, c), cur.Version)
		if err != nil {
			return fmt.Errorf("pointing the pointer at %s: %w", side, err)
		}
		u.note(fmt.Sprintf("%s (version %d) points at %s", r.pointerPath(), v, side))
	}
	return nil
}
