package rotation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/policy/approval"
	"github.com/credscan/credscan/rotation/pgbouncer"
	"github.com/credscan/credscan/rotation/postgres"
	"github.com/credscan/credscan/tracker"
	"github.com/credscan/credscan/vaultsync"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Options configure a Rotator.
type Options struct {
	// KV is Vault KV v2 (the mount of the manifest's vault.mount); Layout
	// its paths.
	KV     kv.KV
	Layout vaultsync.Layout
	// Recorder signs and records every stage in the audit log (required).
	Recorder *audit.Recorder
	// Tracker, when set, receives the rotation's evidence for each app
	// that uses the role (on green, rolled back, revoked).
	Tracker *tracker.Tracker
	// Approval is the ID of an approval (kinds verify, rotate) and
	// Requester the identity asking (Vault's ID of the token).
	Approval, Requester string
	// DryRun evaluates gates and says what would be done; nothing is
	// written, switched or logged in (verify still makes no attempt).
	DryRun bool
	// Waive lets the cutover pass apps that are neither behind the broker
	// nor reading the pointer: app → reason (recorded).
	Waive map[string]string
	// Window overrides the manifest's revoke_window (recorded).
	Window time.Duration
	// TerminateSessions lets revoke-legacy end blue's sessions of the role.
	TerminateSessions bool
	// Scan runs a fresh scan of the estate for revoke-legacy (findings,
	// with provenance; nil: the evidence lacks a scan and revocation is
	// refused).
	Scan func(ctx context.Context) ([]*credscan.Finding, error)
	// Logger gets progress (never a value); Out a line per step.
	Logger *slog.Logger
	Out    io.Writer
	// Now is the clock.
	Now func() time.Time
	// Hook, when set, runs after each step is recorded: tests kill the
	// process there to prove Resume.
	Hook func(step string)
}

// Rotator runs one role's rotation stages.
type Rotator struct {
	m    *manifest.Manifest
	cfg  manifest.Rotation
	role string
	o    Options
	st   store
}

// New returns the rotator of role under m's rotation section.
func New(m *manifest.Manifest, role string, o Options) (*Rotator, error) {
	if !m.Rotation.Configured() {
		return nil, credscan.UsageError("the manifest has no rotation: section (blue, green, broker)")
	}
	if role == "" || strings.ContainsAny(role, "/ \x00") {
		return nil, credscan.UsageError("--role: %q is not a role name", role)
	}
	if o.KV == nil || o.Recorder == nil {
		return nil, credscan.UsageError("a rotation needs Vault and the audit log")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Layout.Migrating = m.RotationTarget()
	prefix := strings.Trim(o.Layout.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &Rotator{m: m, cfg: m.Rotation, role: role, o: o, st: store{kv: o.KV, prefix: prefix}}, nil
}

func (r *Rotator) now() time.Time { return r.o.Now().UTC() }

// by names who acts, for the timeline.
func (r *Rotator) by() string {
	a := r.o.Recorder.Actor()
	if a.Vault != "" {
		return a.Vault
	}
	return a.OSUser + "@" + a.Host
}

// Paths in Vault.
func (r *Rotator) dir() string         { return r.o.Layout.TargetDir(r.m.RotationTarget()) }
func (r *Rotator) legacyDir() string   { return r.dir() + "/legacy/" + r.role }
func (r *Rotator) greenPath() string   { return r.dir() + "/green/" + r.role }
func (r *Rotator) pointerPath() string { return r.dir() + "/current/" + r.role }
func (r *Rotator) greenUserPath(user string) string {
	return r.dir() + "/green/" + user
}

// State returns the role's rotation state.
func (r *Rotator) State(ctx context.Context) (*State, error) {
	st, _, err := r.st.load(ctx, r.role)
	return st, err
}

// Gate is one condition of a stage, checked.
type Gate struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Client is a client still using the legacy credential.
type Client struct {
	Address     string    `json:"address,omitempty"`
	Application string    `json:"application,omitempty"`
	App         string    `json:"app,omitempty"` // from the manifest, where known
	Where       string    `json:"where"`         // pg_stat_activity, blue's log, the broker's log, the scan
	Last        time.Time `json:"last,omitzero"`
	Count       int       `json:"count,omitempty"`
}

// Result is what a stage did or would do.
type Result struct {
	Stage   string       `json:"stage"`
	Role    string       `json:"role"`
	DryRun  bool         `json:"dry_run,omitempty"`
	Gates   []Gate       `json:"gates,omitempty"`
	Checks  []LoginCheck `json:"checks,omitempty"`
	Clients []Client     `json:"clients,omitempty"`
	Steps   []Event      `json:"steps,omitempty"`
	Notes   []string     `json:"notes,omitempty"`
	// Timeline is the incident record a rollback prints.
	Timeline []Event `json:"timeline,omitempty"`
}

func (res *Result) gate(name string, ok bool, detail string, args ...any) bool {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	res.Gates = append(res.Gates, Gate{Name: name, OK: ok, Detail: detail})
	return ok
}

// require is a gate whose detail only says what to do when it fails.
func (res *Result) require(name string, ok bool, remedy string, args ...any) bool {
	if ok {
		return res.gate(name, true, "")
	}
	return res.gate(name, false, remedy, args...)
}

// refused is the error of failed gates.
func (res *Result) refused() error {
	var bad []string
	for _, g := range res.Gates {
		if !g.OK {
			bad = append(bad, g.Name+": "+g.Detail)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return credscan.Errorf(credscan.CodeRefused, "%s of %s refused: %s", res.Stage, res.Role, strings.Join(bad, "; "))
}

// checkApproval reads the approval and checks it covers kind for the role.
func (r *Rotator) checkApproval(ctx context.Context, kind string, res *Result) bool {
	if r.o.Approval == "" {
		return res.gate("approval", false, "an approval of kind %s for %s is required (credscan approve --apps %s --kinds %s …, then --approval ID)", kind, r.role, r.role, kind)
	}
	s := vaultsync.NewStore(r.o.KV, r.o.Layout, r.o.Logger)
	a, err := s.ReadApproval(ctx, r.o.Approval)
	if err != nil {
		return res.gate("approval", false, "%v", err)
	}
	need := []approval.Need{{App: r.role, Kind: kind, Source: "rotation of " + r.role}}
	if err := approval.CheckApproval(a, need, r.o.Requester, r.now()); err != nil {
		return res.gate("approval", false, "%v", err)
	}
	return res.gate("approval", true, "%s by %s, ticket %s", a.ID, a.Approver, a.Ticket)
}

// checkAudit refuses to act when Vault has no audit device.
func (r *Rotator) checkAudit(ctx context.Context, res *Result) bool {
	v, ok := r.o.KV.(*kv.Vault)
	if !ok {
		return true // an in-memory KV in tests: no Vault to audit
	}
	chk, err := vaultsync.CheckAuditDevices(ctx, v.Client())
	if err != nil {
		return res.gate("vault audit device", false, "%v", err)
	}
	if !chk.OK {
		return res.gate("vault audit device", false, "Vault has no audit device: nobody could tell who read the passwords (vault audit enable file file_path=…)")
	}
	return res.gate("vault audit device", true, "")
}

// secret reads field of the Vault entry at path.
func (r *Rotator) secret(ctx context.Context, path, field string) (credscan.Secret, *kv.Secret, error) {
	sec, err := r.o.KV.Get(ctx, path)
	if err != nil {
		return credscan.Secret{}, nil, err
	}
	v, _ := sec.Data[field].(string)
	if v == "" {
		return credscan.Secret{}, sec, credscan.Errorf(credscan.CodeInvalid, "the Vault entry %s has no %s", path, field)
	}
	return credscan.NewSecret(v), sec, nil
}

// admin connects to a side as its administrator (DSN from Vault).
func (r *Rotator) admin(ctx context.Context, side Side) (*postgres.Admin, error) {
	path := r.cfg.Blue.Admin
	if side == Green {
		path = r.cfg.Green.Admin
	}
	dsn, _, err := r.secret(ctx, path, "dsn")
	if err != nil {
		return nil, fmt.Errorf("reading %s's admin DSN: %w", side, err)
	}
	return postgres.Dial(ctx, string(side), dsn)
}

// broker connects to PgBouncer's admin console (DSN from Vault).
func (r *Rotator) broker(ctx context.Context) (*pgbouncer.Admin, error) {
	dsn, _, err := r.secret(ctx, r.cfg.Broker.Admin, "dsn")
	if err != nil {
		return nil, fmt.Errorf("reading the broker's admin DSN: %w", err)
	}
	return pgbouncer.Dial(ctx, dsn)
}

// endpoint is where a side serves the applications' database.
func (r *Rotator) endpoint(side Side) postgres.Endpoint {
	s := r.cfg.Blue
	if side == Green {
		s = r.cfg.Green
	}
	return postgres.Endpoint{Host: s.Host, Port: s.Port, Database: r.cfg.Database}
}

// credential is a side's login for the role: the legacy password of
// record on blue, the Vault-only password on green (of the user the
// pointer gives when users alternate).
type credential struct {
	User     string
	Password credscan.Secret
}

func (r *Rotator) credentialOf(ctx context.Context, st *State, side Side) (credential, error) {
	if side == Blue {
		if st.Verified == nil || st.Verified.Path == "" {
			return credential{}, credscan.Errorf(credscan.CodeRefused, "no legacy credential of record for %s: run credscan rotate verify first", r.role)
		}
		pw, _, err := r.secret(ctx, st.Verified.Path, "password")
		if err != nil {
			return credential{}, fmt.Errorf("reading the legacy credential of record: %w", err)
		}
		return credential{User: r.role, Password: pw}, nil
	}
	user := r.role
	if st.Alternate != nil && st.Alternate.Active != "" {
		user = st.Alternate.Active
	}
	pw, _, err := r.secret(ctx, r.greenUserPath(user), "password")
	if err != nil {
		return credential{}, fmt.Errorf("reading the green password of %s: %w", user, err)
	}
	return credential{User: user, Password: pw}, nil
}

// pointerData is what <target>/current/<role> holds for a side.
func (r *Rotator) pointerData(side Side, c credential) map[string]any {
	e := r.endpoint(side)
	return map[string]any{
		"side": string(side), "user": c.User, "password": c.Password.Reveal(), "host": e.Host, "port": strconv.Itoa(e.Port),
		"database": e.Database, "dsn": postgres.URL(e, c.User, c.Password),
	}
}

// entry is the broker's databases file entry for a side.
func (r *Rotator) entry(side Side, c credential) pgbouncer.Entry {
	e := r.endpoint(side)
	return pgbouncer.Entry{Name: r.cfg.Broker.Database, Host: e.Host, Port: e.Port, DB: e.Database, User: c.User, Password: c.Password}
}

// record appends a stage's outcome to the audit log (never a value).
func (r *Rotator) record(ctx context.Context, stage, result, detail string, counts map[string]int) {
	rec := audit.Record{Action: "rotate." + stage, Scope: []string{r.role}, Approval: r.o.Approval, Result: result, Detail: detail, Counts: counts}
	if _, err := r.o.Recorder.Record(ctx, rec); err != nil {
		r.o.Logger.Warn("the audit log could not record the stage", "stage", stage, "err", err)
	}
}

// say writes a progress line.
func (r *Rotator) say(format string, args ...any) {
	fmt.Fprintf(r.o.Out, format+"\n", args...)
}

// run is an operation holding the role's lease.
type run struct {
	r       *Rotator
	st      *State
	version int
	name    string
	res     *Result
	last    time.Time
	touched bool // the broker's file was changed before the switch's swap
}

// begin takes the lease for op name: refused while another op is in
// progress (Resume finishes a crashed one).
func (r *Rotator) begin(ctx context.Context, name string, from, to Side, res *Result) (*run, error) {
	st, v, err := r.st.load(ctx, r.role)
	if err != nil {
		return nil, err
	}
	if st.Op != nil {
		return nil, credscan.Errorf(credscan.CodeConflict, "a %s of %s is in progress (by %s since %s, last step %q): if that process is gone, run credscan rotate resume --role %s",
			st.Op.Name, r.role, st.Op.By, st.Op.Started.Format(time.RFC3339), st.Op.Step, r.role)
	}
	st.Op = &Op{Name: name, Step: StepBegun, From: from, To: to, Started: r.now(), By: r.by()}
	run := &run{r: r, st: st, version: v, name: name, res: res, last: time.Now()}
	if err := run.save(ctx); err != nil {
		return nil, err
	}
	if r.o.Hook != nil {
		r.o.Hook(name + "/" + StepBegun)
	}
	return run, nil
}

func (u *run) save(ctx context.Context) error {
	v, err := u.r.st.save(ctx, u.st, u.version)
	if err != nil {
		return err
	}
	u.version = v
	return nil
}

// step records that the op finished step (with how long it took), saves
// the state and runs the test hook.
func (u *run) step(ctx context.Context, step, what string) error {
	ms := time.Since(u.last).Milliseconds()
	u.last = time.Now()
	u.st.Op.Step = step
	ev := Event{At: u.r.now(), Stage: u.name, What: what, By: u.st.Op.By, Millis: ms}
	u.st.Timeline = append(u.st.Timeline, ev)
	u.res.Steps = append(u.res.Steps, ev)
	u.r.say("  %-9s %-58s %5d ms", step, what, ms)
	// a step's record is quick or fails fast: while the broker is paused,
	// clients wait on it
	sctx, cancel := context.WithTimeout(ctx, StepSaveTimeout)
	defer cancel()
	if err := u.save(sctx); err != nil {
		return err
	}
	if u.r.o.Hook != nil {
		u.r.o.Hook(u.name + "/" + step)
	}
	return nil
}

// note adds a timeline line without changing the step.
func (u *run) note(what string) {
	ev := Event{At: u.r.now(), Stage: u.name, What: what, By: u.st.Op.By}
	u.st.Timeline = append(u.st.Timeline, ev)
	u.res.Steps = append(u.res.Steps, ev)
}

// finish releases the lease.
func (u *run) finish(ctx context.Context) error {
	u.st.Op = nil
	return u.save(ctx)
}

// StepSaveTimeout bounds the record of one step in Vault.
var StepSaveTimeout = 2 * time.Second

// timeout bounds one step.
func timeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
