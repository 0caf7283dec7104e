package rotation

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/rotation/postgres"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Verify tries each discovered password of the role (the entries under
// <target>/legacy/<role>/) once against the target's hosts from the
// manifest: never another host (an address outside them is refused
// before any packet), at most one attempt per password per host, each
// bounded by a 5 s timeout, so no lockout. Each result goes to the entry's
// Vault metadata and the state. Exactly one live password becomes the
// legacy credential of record; several, or none, are reported and
// refused.
func (r *Rotator) Verify(ctx context.Context) (*Result, error) {
	res := &Result{Stage: StageVerify, Role: r.role, DryRun: r.o.DryRun}
	r.checkAudit(ctx, res)
	r.checkApproval(ctx, "verify", res)
	if err := res.refused(); err != nil {
		r.record(ctx, StageVerify, "refused", err.Error(), nil)
		return res, err
	}
	names, err := r.o.KV.List(ctx, r.legacyDir())
	if err != nil && credscan.CodeOf(err) != credscan.CodeNotFound {
		return res, fmt.Errorf("listing %s: %w", r.legacyDir(), err)
	}
	sort.Strings(names)
	if len(names) == 0 {
		res.gate("discovered passwords", false, "none in Vault under %s (scan and push first: credscan vault push -m …)", r.legacyDir())
		return res, res.refused()
	}
	target, _ := r.m.TargetNamed(r.m.RotationTarget())
	var u *run
	if !r.o.DryRun {
		if u, err = r.begin(ctx, StageVerify, "", "", res); err != nil {
			return res, err
		}
	}
	live := map[string]bool{}
	for _, fp := range names {
		if strings.HasSuffix(fp, "/") {
			continue
		}
		path := r.legacyDir() + "/" + fp
		pw, sec, err := r.secret(ctx, path, "password")
		if err != nil {
			res.Checks = append(res.Checks, LoginCheck{Path: path, Fingerprint: fp, Result: "unreadable", Detail: kv.Describe(err), At: r.now()})
			continue
		}
		hosts := splitHosts(str(sec.Data["host"]))
		if len(hosts) == 0 {
			hosts = []string{r.cfg.Blue.Host}
		}
		port, _ := strconv.Atoi(str(sec.Data["port"]))
		if port == 0 {
			port = r.cfg.Blue.Port
		}
		db := str(sec.Data["database"])
		if db == "" {
			db = r.cfg.Database
		}
		user := str(sec.Data["user"])
		if user == "" {
			user = r.role
		}
		for _, h := range hosts {
			c := LoginCheck{Path: path, Fingerprint: fp, Host: h, Port: port, At: r.now()}
			switch {
			case target == nil || !target.MatchHost(h):
				c.Result, c.Detail = "refused", fmt.Sprintf("%s is not one of target %s's hosts in the manifest: no login attempted", h, r.m.RotationTarget())
			case r.o.DryRun:
				c.Result = "would try"
			default:
				lr, err := postgres.Login(ctx, postgres.Endpoint{Host: h, Port: port, Database: db}, user, pw)
				if err != nil {
					return res, err
				}
				c.Result = string(lr)
				if lr == postgres.Live {
					live[path] = true
				}
			}
			res.Checks = append(res.Checks, c)
			if !r.o.DryRun && c.Result != "refused" {
				_ = r.o.KV.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{
					"verified": fmt.Sprintf("%s %s %s", c.Result, net.JoinHostPort(h, strconv.Itoa(port)), c.At.Format(time.RFC3339))}})
			}
		}
	}
	if r.o.DryRun {
		return res, nil
	}
	u.st.Verified = &Verified{At: r.now(), Checks: res.Checks}
	var livePaths []string
	for p := range live {
		livePaths = append(livePaths, p)
	}
	sort.Strings(livePaths)
	var outcome error
	switch len(livePaths) {
	case 1:
		u.st.Verified.Path = livePaths[0]
		u.st.Verified.Fingerprint = livePaths[0][strings.LastIndexByte(livePaths[0], '/')+1:]
		res.gate("one live password", true, "%s is the legacy credential of record", livePaths[0])
		u.note("legacy credential of record: " + livePaths[0])
	case 0:
		res.gate("one live password", false, "none of the %d discovered passwords logs in to %s", len(names), r.cfg.Blue.Host)
		outcome = res.refused()
	default:
		res.gate("one live password", false, "%d log in (%s): the role's password changed over time and old copies remain; say which is of record by removing the others from Vault, or rotate",
			len(livePaths), strings.Join(livePaths, ", "))
		outcome = res.refused()
	}
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	counts := map[string]int{"live": len(livePaths), "checked": len(res.Checks)}
	result := "ok"
	if outcome != nil {
		result = "refused"
	}
	r.record(ctx, StageVerify, result, fmt.Sprintf("%d discovered password(s), %d live", len(names), len(livePaths)), counts)
	return res, outcome
}

func str(v any) string { s, _ := v.(string); return s }

func splitHosts(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// Generate makes a password of n characters from alphabet (urlsafe:
// letters, digits, - and _; alnum: letters and digits) with crypto/rand,
// every character equally likely.
func Generate(n int, alphabet string) (credscan.Secret, error) {
	chars := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	if alphabet != "alnum" {
		chars += "-_"
	}
	b := make([]byte, n)
	max := big.NewInt(int64(len(chars)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return credscan.Secret{}, err
		}
		b[i] = chars[k.Int64()]
	}
	return credscan.NewSecret(string(b)), nil
}

// ProvisionGreen creates the role on green (or alters it) with blue's
// attributes and memberships and a new password that exists only in
// Vault: generated, written create-only at <target>/green/<role>, set on
// green as a SCRAM verifier, and proved by a login. Run again, it reuses
// the password in Vault (idempotent).
func (r *Rotator) ProvisionGreen(ctx context.Context) (*Result, error) {
	res := &Result{Stage: StageProvision, Role: r.role, DryRun: r.o.DryRun}
	r.checkAudit(ctx, res)
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	res.require("legacy credential verified", st.Verified != nil && st.Verified.Path != "", "run credscan rotate verify first")
	if err := res.refused(); err != nil {
		return res, err
	}
	blue, err := r.admin(ctx, Blue)
	if err != nil {
		return res, err
	}
	defer blue.Close()
	role, err := blue.Role(ctx, r.role)
	if err != nil {
		return res, err
	}
	if !res.require("role on blue", role.Exists, "%s does not exist on blue", r.role) {
		return res, res.refused()
	}
	green, err := r.admin(ctx, Green)
	if err != nil {
		return res, err
	}
	defer green.Close()
	var missing []string
	for _, g := range role.MemberOf {
		if gr, err := green.Role(ctx, g); err != nil {
			return res, err
		} else if !gr.Exists {
			missing = append(missing, g)
		}
	}
	if !res.require("memberships on green", len(missing) == 0, "roles %s exist on blue, not on green: create them first (schema migration)", strings.Join(missing, ", ")) {
		return res, res.refused()
	}
	if r.o.DryRun {
		res.Notes = append(res.Notes, fmt.Sprintf("would generate a %d-character %s password, write it create-only at %s, create or alter %s on green (%d membership(s)) and log in to prove it",
			r.cfg.Password.Length, r.cfg.Password.Alphabet, r.greenPath(), r.role, len(role.MemberOf)))
		return res, nil
	}
	u, err := r.begin(ctx, StageProvision, "", Green, res)
	if err != nil {
		return res, err
	}
	pw, version, err := r.greenPassword(ctx, r.role)
	if err != nil {
		return res, err
	}
	if err := u.step(ctx, "generated", fmt.Sprintf("the password is in Vault at %s (version %d), nowhere else", r.greenPath(), version)); err != nil {
		return res, err
	}
	created, err := green.Ensure(ctx, role, pw)
	if err != nil {
		return res, err
	}
	verb := "altered"
	if created {
		verb = "created"
	}
	if err := u.step(ctx, "applied", fmt.Sprintf("%s %s on green with blue's attributes and %d membership(s)", verb, r.role, len(role.MemberOf))); err != nil {
		return res, err
	}
	lr, err := postgres.Login(ctx, r.endpoint(Green), r.role, pw)
	if err != nil {
		return res, err
	}
	if !res.gate("login on green", lr == postgres.Live, "%s cannot log in to green with the new password (%s)", r.role, lr) {
		_ = u.finish(ctx)
		r.record(ctx, StageProvision, "failed", "the green login with the new password failed", nil)
		return res, credscan.Errorf(credscan.CodeRefused, "provision-green of %s: the login with the new password failed (%s)", r.role, lr)
	}
	if err := u.step(ctx, "proved", "logged in to green as "+r.role); err != nil {
		return res, err
	}
	u.st.Green = &Provisioned{At: r.now(), Created: created, Version: version}
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	r.record(ctx, StageProvision, "ok", verb+" on green; password in Vault only", nil)
	return res, nil
}

// greenPassword returns user's green password from Vault, creating it
// (generated, create-only check-and-set) when there is none.
func (r *Rotator) greenPassword(ctx context.Context, user string) (credscan.Secret, int, error) {
	path := r.greenUserPath(user)
	pw, sec, err := r.secret(ctx, path, "password")
	if err == nil {
		return pw, sec.Version, nil
	}
	if credscan.CodeOf(err) != credscan.CodeNotFound {
		return credscan.Secret{}, 0, err
	}
	pw, err = Generate(r.cfg.Password.Length, r.cfg.Password.Alphabet)
	if err != nil {
		return credscan.Secret{}, 0, err
	}
	e := r.endpoint(Green)
	v, err := r.o.KV.Put(ctx, path, map[string]any{"user": user, "password": pw.Reveal(), "host": e.Host, "port": strconv.Itoa(e.Port),
		"database": e.Database, "dsn": postgres.URL(e, user, pw)}, 0)
	if err != nil {
		return credscan.Secret{}, 0, fmt.Errorf("writing the green password at %s: %w", path, err)
	}
	_ = r.o.KV.PatchMetadata(ctx, path, kv.MetadataPatch{Custom: map[string]string{"role": user, "written_by": "credscan rotate", "generated": r.now().Format(time.RFC3339)}})
	return pw, v, nil
}

// Pointer writes <target>/current/<role>: the DSN, user and password of
// the live side (blue, with the legacy credential of record, at first),
// with check-and-set. Applications that read the pointer on each
// (re)connect follow the cutover from there.
func (r *Rotator) Pointer(ctx context.Context) (*Result, error) {
	res := &Result{Stage: StagePointer, Role: r.role, DryRun: r.o.DryRun}
	r.checkAudit(ctx, res)
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	res.require("legacy credential verified", st.Verified != nil && st.Verified.Path != "", "run credscan rotate verify first")
	if err := res.refused(); err != nil {
		return res, err
	}
	if st.Pointer != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("the pointer exists (version %d points at blue; live side: %s): nothing to do", st.Pointer.BlueVersion, st.Live))
		return res, nil
	}
	if r.o.DryRun {
		res.Notes = append(res.Notes, fmt.Sprintf("would write %s pointing at blue (%s) with check-and-set", r.pointerPath(), r.endpoint(Blue)))
		return res, nil
	}
	u, err := r.begin(ctx, StagePointer, "", Blue, res)
	if err != nil {
		return res, err
	}
	c, err := r.credentialOf(ctx, u.st, Blue)
	if err != nil {
		return res, err
	}
	cur, err := r.o.KV.Get(ctx, r.pointerPath())
	var v int
	switch {
	case credscan.CodeOf(err) == credscan.CodeNotFound:
		v, err = r.o.KV.Put(ctx, r.pointerPath(), r.pointerData(Blue, c), 0)
		if err != nil {
			return res, fmt.Errorf("writing the pointer: %w", err)
		}
	case err != nil:
		return res, err
	case str(cur.Data["side"]) == string(Blue):
		v = cur.Version // a crashed earlier run wrote it
	default:
		return res, credscan.Errorf(credscan.CodeConflict, "%s exists and points at %q: it was not written by this rotation; remove it or fix it by hand", r.pointerPath(), str(cur.Data["side"]))
	}
	if err := u.step(ctx, StepPointed, fmt.Sprintf("%s (version %d) points at blue", r.pointerPath(), v)); err != nil {
		return res, err
	}
	u.st.Pointer = &PointerRecord{At: r.now(), BlueVersion: v}
	u.st.Live = Blue
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	r.record(ctx, StagePointer, "ok", fmt.Sprintf("%s version %d points at blue", r.pointerPath(), v), nil)
	return res, nil
}
