package rotation

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/tracker"
)

// Login is one login found in a connection log.
type Login struct {
	At          time.Time
	User        string
	Database    string
	Application string
	Client      string
	Port        string // the client's port, where the log says
}

// A PostgreSQL log line with the prefix "%m [%p] user=%u db=%d app=%a
// client=%h " and log_connections on.
var pgAuthorized = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[\d+\] user=\S* db=\S* app=(.*?) client=(\S*) LOG:\s+connection authorized: user=(\S+) database=(\S+)(?: application_name=(.*))?`)

// A PgBouncer log line of a client's login.
var pgbLogin = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[\d+\] LOG C-0x[0-9a-f]+: \S+@(\S+):(\d+) login attempt: db=(\S+) user=(\S+)`)

func parseLogTime(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02 15:04:05.999999999 MST", s)
	return t, err == nil
}

// ParsePostgresLog returns the logins PostgreSQL logged (connection
// authorized) at or after since. Lines it does not know are skipped.
func ParsePostgresLog(r io.Reader, since time.Time) ([]Login, error) {
	return scanLog(r, func(line string) (Login, bool) {
		m := pgAuthorized.FindStringSubmatch(line)
		if m == nil {
			return Login{}, false
		}
		at, ok := parseLogTime(m[1])
		if !ok || at.Before(since) {
			return Login{}, false
		}
		app := m[6]
		if app == "" && m[2] != "[unknown]" {
			app = m[2]
		}
		return Login{At: at, User: m[4], Database: m[5], Application: app, Client: m[3]}, true
	})
}

// ParsePgBouncerLog returns the client logins PgBouncer logged at or
// after since.
func ParsePgBouncerLog(r io.Reader, since time.Time) ([]Login, error) {
	return scanLog(r, func(line string) (Login, bool) {
		m := pgbLogin.FindStringSubmatch(line)
		if m == nil {
			return Login{}, false
		}
		at, ok := parseLogTime(m[1])
		if !ok || at.Before(since) {
			return Login{}, false
		}
		return Login{At: at, Client: m[2], Port: m[3], Database: m[4], User: m[5]}, true
	})
}

func scanLog(r io.Reader, parse func(string) (Login, bool)) ([]Login, error) {
	var out []Login
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if l, ok := parse(sc.Text()); ok {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil && err != bufio.ErrTooLong {
		return out, err
	}
	return out, nil
}

// readLogs parses every file the globs name.
func readLogs(globs []string, since time.Time, parse func(io.Reader, time.Time) ([]Login, error)) ([]Login, []string, error) {
	var out []Login
	var files []string
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, nil, credscan.UsageError("log glob %q: %v", g, err)
		}
		for _, p := range matches {
			f, err := os.Open(p)
			if err != nil {
				return nil, nil, credscan.Errorf(credscan.CodeUnavailable, "reading the connection log %s: %v", p, err)
			}
			ls, err := parse(f, since)
			f.Close()
			if err != nil {
				return nil, nil, credscan.Errorf(credscan.CodeUnavailable, "reading the connection log %s: %v", p, err)
			}
			out = append(out, ls...)
			files = append(files, p)
		}
	}
	return out, files, nil
}

// appOf names the manifest app of a client: by application_name, then by
// address.
func appOf(m *manifest.Manifest, application, address string) string {
	for _, a := range m.Apps {
		if application != "" && strings.EqualFold(a.Name, application) {
			return a.Name
		}
	}
	for _, a := range m.Apps {
		if address != "" && slices.Contains(a.Addresses, address) {
			return a.Name
		}
	}
	return ""
}

// clients groups logins into clients (address and application).
func clients(m *manifest.Manifest, logins []Login, where string) []Client {
	by := map[string]*Client{}
	var keys []string
	for _, l := range logins {
		k := l.Client + "\x00" + l.Application
		c := by[k]
		if c == nil {
			c = &Client{Address: l.Client, Application: l.Application, App: appOf(m, l.Application, l.Client), Where: where}
			by[k] = c
			keys = append(keys, k)
		}
		c.Count++
		if l.At.After(c.Last) {
			c.Last = l.At
		}
	}
	sort.Strings(keys)
	out := make([]Client, 0, len(keys))
	for _, k := range keys {
		out = append(out, *by[k])
	}
	return out
}

func (c Client) String() string {
	var parts []string
	if c.Address != "" {
		parts = append(parts, c.Address)
	}
	if c.Application != "" {
		parts = append(parts, "application "+c.Application)
	}
	if c.App != "" {
		parts = append(parts, "app "+c.App)
	}
	s := strings.Join(parts, ", ")
	if c.Count > 0 {
		s += fmt.Sprintf(" (%d login(s), last %s)", c.Count, c.Last.UTC().Format(time.RFC3339))
	}
	return s + " in " + c.Where
}

// RevokeLegacy turns the legacy login off on blue (ALTER ROLE … NOLOGIN,
// then RECONNECT at the broker for entries still pointing at blue), only
// when no evidence shows the legacy role in use: no session on blue, no
// login in blue's or PgBouncer's connection logs since the cutover (which
// must be at least the revoke window ago: snapshots miss short
// connections), no hardcoded copy at the tip of any app in a fresh scan,
// and every app of the role on green in the tracker. A refusal names each
// client. Sessions on blue are ended only with TerminateSessions. The
// inverse is LOGIN (Rollback does it).
func (r *Rotator) RevokeLegacy(ctx context.Context) (*Result, error) {
	res := &Result{Stage: StageRevoke, Role: r.role, DryRun: r.o.DryRun}
	r.checkAudit(ctx, res)
	r.checkApproval(ctx, "rotate", res)
	st, err := r.State(ctx)
	if err != nil {
		return res, err
	}
	if st.Revoked != nil {
		res.Notes = append(res.Notes, "the legacy login was revoked at "+st.Revoked.At.Format(time.RFC3339)+": nothing to do")
		return res, nil
	}
	if !res.require("on green", st.Live == Green && st.Op == nil, "the live side is %q: revoke only after the cutover", st.Live) {
		return res, r.refuse(ctx, res)
	}
	window := r.cfg.RevokeWindow
	if r.o.Window > 0 {
		window = r.o.Window
		res.Notes = append(res.Notes, fmt.Sprintf("revoke window %s (set by --window; the manifest says %s)", window, r.cfg.RevokeWindow))
	}
	// the evidence covers the last window, all of it after the cutover
	elapsed := r.now().Sub(st.CutoverAt)
	res.gate("window", elapsed >= window, "the cutover was %s ago; the evidence must cover %s after it (snapshots miss short connections)", elapsed.Round(time.Second), window)
	since := r.now().Add(-window)
	if since.Before(st.CutoverAt) {
		since = st.CutoverAt
	}
	// our own logins must show in the logs: proof that they are the right
	// files, with log_connections on and a prefix this reads
	selfCheck := r.now().Add(-time.Second)
	blue, err := r.admin(ctx, Blue)
	if err != nil {
		return res, err
	}
	defer blue.Close()
	// sessions now
	sessions, err := blue.Sessions(ctx, r.role)
	if err != nil {
		return res, err
	}
	var found []Client
	for _, s := range sessions {
		found = append(found, Client{Address: s.Client, Application: s.Application, App: appOf(r.m, s.Application, s.Client), Where: "pg_stat_activity on blue", Last: s.Started, Count: 1})
	}
	res.require("no session on blue", len(sessions) == 0, "%d session(s) of %s", len(sessions), r.role)
	// blue's log since the cutover
	if len(r.cfg.Blue.Logs) == 0 {
		res.gate("blue's connection log", false, "rotation.blue.logs names no log file: logins since the cutover cannot be ruled out")
	} else {
		logins, files, err := readLogs(r.cfg.Blue.Logs, earliest(since, selfCheck), ParsePostgresLog)
		if err != nil {
			return res, err
		}
		var legacy []Login
		self := false
		for _, l := range logins {
			if l.User == r.role && !l.At.Before(since) {
				legacy = append(legacy, l)
			}
			self = self || (l.User == blue.User() && l.Application == blue.Application())
		}
		res.require("blue's log is read", self, "%s shows no login by credscan's own admin connection: the wrong file, log_connections off, or a log_line_prefix other than %q", strings.Join(r.cfg.Blue.Logs, ", "), "%m [%p] user=%u db=%d app=%a client=%h ")
		cs := clients(r.m, legacy, "blue's connection log")
		found = append(found, cs...)
		res.gate("no login on blue in the window", len(legacy) == 0 && len(files) > 0, "%d login(s) as %s since %s in %d file(s)", len(legacy), r.role, since.Format(time.RFC3339), len(files))
	}
	// the broker's log: logins to entries that still point at blue
	if b := r.cfg.Broker; b != nil && len(b.Logs) > 0 {
		adm, err := r.broker(ctx)
		if err != nil {
			return res, err
		}
		dbs, err := adm.Databases(ctx)
		admUser, admLocal := adm.User(), adm.Local()
		adm.Close()
		if err != nil {
			return res, err
		}
		toBlue := map[string]bool{}
		e := r.endpoint(Blue)
		for _, d := range dbs {
			if d.Host == e.Host && d.Port == e.Port && (d.ForceUser == "" || d.ForceUser == r.role) {
				toBlue[d.Name] = true
			}
		}
		logins, _, err := readLogs(b.Logs, earliest(since, selfCheck), ParsePgBouncerLog)
		if err != nil {
			return res, err
		}
		var legacy []Login
		self := false
		for _, l := range logins {
			if toBlue[l.Database] && !l.At.Before(since) {
				legacy = append(legacy, l)
			}
			self = self || (l.User == admUser && l.Client+":"+l.Port == admLocal)
		}
		res.require("the broker's log is read", self, "%s shows no login by credscan's own console connection: the wrong file, or log_connections off", strings.Join(b.Logs, ", "))
		found = append(found, clients(r.m, legacy, "PgBouncer's log (entries pointing at blue)")...)
		res.gate("no broker login to blue in the window", len(legacy) == 0, "%d login(s) through entries pointing at blue", len(legacy))
	}
	// a fresh scan
	if r.o.Scan == nil {
		res.gate("fresh scan", false, "no fresh scan was run")
	} else {
		findings, err := r.o.Scan(ctx)
		if err != nil {
			return res, fmt.Errorf("the fresh scan: %w", err)
		}
		n := 0
		for _, f := range findings {
			if f.User() != r.role || !strings.EqualFold(f.Target, r.m.RotationTarget()) || historyOnly(f) {
				continue
			}
			n++
			found = append(found, Client{App: f.Origin.App, Address: fmt.Sprintf("%s:%d", f.Origin.Path, f.Origin.Line), Where: "the fresh scan (hardcoded at the tip)"})
		}
		res.gate("no hardcoded copy at the tip", n == 0, "%d hardcoded copies of %s at the tip", n, r.role)
	}
	// the tracker
	if r.o.Tracker != nil {
		apps, err := r.appsOfRole(ctx)
		if err != nil {
			return res, err
		}
		var behind []string
		for _, a := range apps {
			if _, ok := r.m.App(a); !ok {
				continue
			}
			s, err := r.o.Tracker.Load(ctx, a)
			if err != nil {
				return res, err
			}
			if !onGreen(s) {
				behind = append(behind, fmt.Sprintf("%s (at %s)", a, s.Current()))
			}
		}
		res.require("every app on green", len(behind) == 0, "not yet: %s", strings.Join(behind, ", "))
	}
	res.Clients = found
	if err := res.refused(); err != nil {
		return res, r.refuse(ctx, res)
	}
	if r.o.DryRun {
		res.Notes = append(res.Notes, "would run ALTER ROLE "+r.role+" NOLOGIN on blue, then RECONNECT at the broker for entries pointing at blue")
		return res, nil
	}
	u, err := r.begin(ctx, StageRevoke, Blue, "", res)
	if err != nil {
		return res, err
	}
	if err := blue.SetLogin(ctx, r.role, false); err != nil {
		_ = u.finish(ctx)
		return res, err
	}
	if err := u.step(ctx, "nologin", "ALTER ROLE "+r.role+" NOLOGIN on blue"); err != nil {
		return res, err
	}
	terminated := 0
	if r.o.TerminateSessions {
		if terminated, err = blue.Terminate(ctx, r.role); err != nil {
			return res, err
		}
		if err := u.step(ctx, "terminated", fmt.Sprintf("%d session(s) of %s ended on blue", terminated, r.role)); err != nil {
			return res, err
		}
	}
	if r.cfg.Broker != nil {
		if err := r.reconnectBlue(ctx); err != nil {
			res.Notes = append(res.Notes, "RECONNECT at the broker: "+err.Error())
		}
	}
	u.st.Revoked = &Revoked{At: r.now(), Terminated: terminated}
	if err := u.finish(ctx); err != nil {
		return res, err
	}
	r.evidence(ctx, StageRevoke, res)
	r.record(ctx, StageRevoke, "ok", "NOLOGIN on blue", map[string]int{"terminated": terminated})
	return res, nil
}

// refuse records a refusal that names the clients.
func (r *Rotator) refuse(ctx context.Context, res *Result) error {
	err := res.refused()
	detail := err.Error()
	if len(res.Clients) > 0 {
		var cs []string
		for _, c := range res.Clients {
			cs = append(cs, c.String())
		}
		detail += "; clients: " + strings.Join(cs, "; ")
		err = credscan.Errorf(credscan.CodeRefused, "%s; still using %s: %s", strings.TrimPrefix(err.Error(), "refused: "), r.role, strings.Join(cs, "; "))
	}
	r.record(ctx, res.Stage, "refused", detail, map[string]int{"clients": len(res.Clients)})
	return err
}

func historyOnly(f *credscan.Finding) bool {
	return slices.Contains(f.Tags, "git:history-only") || slices.Contains(f.Tags, "image:deleted-later")
}

// reconnectBlue RECONNECTs the broker's entries that point at blue.
func (r *Rotator) reconnectBlue(ctx context.Context) error {
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	dbs, err := b.Databases(ctx)
	if err != nil {
		return err
	}
	e := r.endpoint(Blue)
	for _, d := range dbs {
		if d.Host == e.Host && d.Port == e.Port {
			if err := b.Reconnect(ctx, d.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// onGreen says whether the tracker shows the app's on-green step done.
func onGreen(s *tracker.AppState) bool {
	for _, x := range s.Status() {
		if x.Step == tracker.OnGreen {
			return x.State == tracker.Done || x.State == tracker.Waived
		}
	}
	return false
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
