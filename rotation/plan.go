package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/credscan/credscan/manifest"
	"github.com/credscan/credscan/report"
)

// PlanStage is one stage of a role's rotation: where it stands, its
// gates, what it does and its inverse.
type PlanStage struct {
	N       int      `json:"n"`
	Stage   string   `json:"stage"`
	Status  string   `json:"status"` // done, next, in progress, pending, available
	Done    string   `json:"done,omitempty"`
	Gates   []string `json:"gates"`
	Actions []string `json:"actions"`
	Inverse string   `json:"inverse"`
}

// Plan is every stage of a role's rotation.
type Plan struct {
	Role       string      `json:"role"`
	Target     string      `json:"target"`
	Live       string      `json:"live"`
	InProgress string      `json:"in_progress,omitempty"`
	Stages     []PlanStage `json:"stages"`
}

// PlanInput is what the plan is made of besides the state.
type PlanInput struct {
	Role     string
	Target   string
	Rotation manifest.Rotation
	// Vault paths.
	LegacyDir, GreenPath, PointerPath string
}

// NewPlan is the plan of a role's rotation in state st: a pure function
// (the same state gives the same plan).
func NewPlan(st *State, in PlanInput) Plan {
	rot := in.Rotation
	p := Plan{Role: in.Role, Target: in.Target, Live: orNone(string(st.Live))}
	if st.Op != nil {
		p.InProgress = fmt.Sprintf("%s, stopped after %q (by %s since %s): credscan rotate resume", st.Op.Name, st.Op.Step, st.Op.By, st.Op.Started.UTC().Format(time.RFC3339))
	}
	blue := fmt.Sprintf("%s:%d", rot.Blue.Host, rot.Blue.Port)
	green := fmt.Sprintf("%s:%d", rot.Green.Host, rot.Green.Port)
	switchActions := func(from, fromAddr, to, toAddr string) []string {
		var out []string
		if b := rot.Broker; b != nil {
			out = append(out, "PAUSE "+b.Database+" at the broker (clients wait; nothing fails)",
				"confirm no server connection to "+from+" ("+fromAddr+") is active (SHOW SERVERS)",
				"replace "+b.DatabasesFile+" (0600) with the entry for "+to+" ("+toAddr+")", "RELOAD, RESUME "+b.Database)
		}
		return append(out, "point "+in.PointerPath+" at "+to+" (check-and-set)", "log in through each path; timings to the output and the audit log")
	}
	readiness := []string{}
	if rot.Readiness.MaxLagBytes > 0 {
		readiness = append(readiness, fmt.Sprintf("green's subscriptions at most %d bytes behind blue", rot.Readiness.MaxLagBytes))
	}
	if len(rot.Readiness.Tables) > 0 {
		readiness = append(readiness, "exact row counts equal on "+strings.Join(rot.Readiness.Tables, ", "))
	}
	brokerGate := []string{}
	if rot.Broker != nil {
		brokerGate = append(brokerGate, "the broker's entry "+rot.Broker.Database+" points at blue and is not paused")
	}
	window := rot.RevokeWindow
	if window == 0 {
		window = 24 * time.Hour
	}
	p.Stages = []PlanStage{
		{Stage: StageVerify,
			Gates: []string{"an approval of kind verify", "Vault has an audit device", "discovered passwords under " + in.LegacyDir + "/"},
			Actions: []string{"one login per discovered password per host of target " + in.Target + " (never another host; 5 s timeout; no retry)",
				"each result (live, dead, unreachable) to the entry's Vault metadata", "exactly one live password becomes the legacy credential of record"},
			Inverse: "none needed: logins only"},
		{Stage: StageProvision,
			Gates: []string{"the legacy credential is verified", in.Role + " exists on blue", "its member roles exist on green"},
			Actions: []string{fmt.Sprintf("generate a %d-character %s password (crypto/rand) and write it create-only at %s", rot.Password.Length, rot.Password.Alphabet, in.GreenPath),
				"create or alter " + in.Role + " on green (" + green + ") with blue's attributes and memberships, the password as a SCRAM verifier", "log in to green to prove it"},
			Inverse: "DROP ROLE " + in.Role + " on green and delete " + in.GreenPath + " (by hand: nothing uses them yet)"},
		{Stage: StagePointer,
			Gates:   []string{"the legacy credential is verified"},
			Actions: []string{"write " + in.PointerPath + " with blue's DSN, user and the legacy password (check-and-set)"},
			Inverse: "delete " + in.PointerPath + " before any app reads it"},
		{Stage: StageCutover,
			Gates: append(append([]string{"an approval of kind rotate", "green provisioned and the pointer written", "green login works",
				"every app of the role is behind the broker, or reads the pointer and has reached reads-from-vault, or is waived by name with a reason"}, readiness...), brokerGate...),
			Actions: switchActions("blue", blue, "green", green),
			Inverse: "credscan rotate rollback"},
		{Stage: StageRollback,
			Gates:   []string{"the live side is green", "a reason (for the incident timeline)"},
			Actions: append([]string{"ALTER ROLE " + in.Role + " LOGIN on blue if it was revoked (the legacy password never changed: it is in Vault)"}, switchActions("green", green, "blue", blue)...),
			Inverse: "credscan rotate cutover"},
		{Stage: StageRevoke,
			Gates: []string{"an approval of kind rotate", "the live side is green", fmt.Sprintf("the cutover is at least %s ago", window),
				"no session of " + in.Role + " on blue (pg_stat_activity)", fmt.Sprintf("no login as %s in blue's connection logs in the last %s", in.Role, window),
				fmt.Sprintf("no login through broker entries that point at blue in the last %s", window), "no hardcoded copy at the tip in a fresh scan", "every app of the role on green in the tracker"},
			Actions: []string{"ALTER ROLE " + in.Role + " NOLOGIN on blue", "RECONNECT broker entries that point at blue", "end blue's sessions of the role only with --terminate-sessions"},
			Inverse: "ALTER ROLE " + in.Role + " LOGIN on blue (credscan rotate rollback does it)"},
		{Stage: StagePassword,
			Gates: []string{"an approval of kind rotate", "the live side is green"},
			Actions: []string{"alternating: a new password for the idle one of " + in.Role + " and " + AltUser(in.Role) + " (a member of " + in.Role + "), in Vault first",
				"prove it, point " + in.PointerPath + " and the broker at it: the active user keeps working, zero failed logins",
				"single (--strategy single): in place; clients holding the old password fail until they re-read the pointer"},
			Inverse: "the previous user's password is unchanged: point back at it (the next rotation)"},
	}
	for i := range p.Stages {
		p.Stages[i].N = i
	}
	done := map[string]string{}
	if v := st.Verified; v != nil && v.Path != "" {
		done[StageVerify] = "legacy credential of record " + v.Path + " (" + v.At.UTC().Format(time.RFC3339) + ")"
	}
	if g := st.Green; g != nil {
		verb := "altered"
		if g.Created {
			verb = "created"
		}
		done[StageProvision] = fmt.Sprintf("%s on green, password version %d (%s)", verb, g.Version, g.At.UTC().Format(time.RFC3339))
	}
	if pt := st.Pointer; pt != nil {
		done[StagePointer] = fmt.Sprintf("written (%s)", pt.At.UTC().Format(time.RFC3339))
	}
	if st.Live == Green {
		done[StageCutover] = "on green since " + st.CutoverAt.UTC().Format(time.RFC3339)
	}
	if !st.RolledBackAt.IsZero() {
		done[StageRollback] = "last rolled back " + st.RolledBackAt.UTC().Format(time.RFC3339)
	}
	if rv := st.Revoked; rv != nil {
		done[StageRevoke] = "legacy login off since " + rv.At.UTC().Format(time.RFC3339)
	}
	if a := st.Alternate; a != nil && a.Rotations > 0 {
		done[StagePassword] = fmt.Sprintf("%d rotation(s); the pointer gives %s (%s)", a.Rotations, a.Active, a.At.UTC().Format(time.RFC3339))
	}
	next := true
	for i := range p.Stages {
		s := &p.Stages[i]
		s.Done = done[s.Stage]
		switch {
		case st.Op != nil && st.Op.Name == s.Stage:
			s.Status = "in progress"
			next = false
		case s.Stage == StageRollback:
			s.Status = "n/a"
			if st.Live == Green {
				s.Status = "available"
			} else if s.Done != "" {
				s.Status = "done"
			}
		case s.Stage == StagePassword && st.Revoked != nil:
			s.Status = "available"
			if s.Done != "" {
				s.Status = "done, available"
			}
			next = false
		case s.Done != "":
			s.Status = "done"
		case next:
			s.Status = "next"
			next = false
		default:
			s.Status = "pending"
		}
	}
	return p
}

// Plan returns the plan of the role's rotation in its current state.
func (r *Rotator) Plan(ctx context.Context) (Plan, error) {
	st, err := r.State(ctx)
	if err != nil {
		return Plan{}, err
	}
	return NewPlan(st, r.PlanInput()), nil
}

// PlanInput is the rotator's input to NewPlan.
func (r *Rotator) PlanInput() PlanInput {
	return PlanInput{Role: r.role, Target: r.m.RotationTarget(), Rotation: r.cfg, LegacyDir: r.legacyDir(), GreenPath: r.greenPath(), PointerPath: r.pointerPath()}
}

// PlanFormats are the formats Write renders.
var PlanFormats = []string{"table", "json", "markdown"}

// Write renders the plan as table, json or markdown.
func (p Plan) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "markdown", "md":
		var b strings.Builder
		fmt.Fprintf(&b, "## Rotation of `%s` (target %s)\n\nLive side: **%s**", p.Role, p.Target, p.Live)
		if p.InProgress != "" {
			fmt.Fprintf(&b, ". In progress: %s", p.InProgress)
		}
		b.WriteString("\n\n| # | stage | status | gates | does | inverse |\n|---|---|---|---|---|---|\n")
		for _, s := range p.Stages {
			status := s.Status
			if s.Done != "" {
				status += ": " + s.Done
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", s.N, s.Stage, md(status), md(strings.Join(s.Gates, "; ")), md(strings.Join(s.Actions, "; ")), md(s.Inverse))
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "table", "":
		var lines []string
		add := func(format string, args ...any) { lines = append(lines, report.Visible(fmt.Sprintf(format, args...))) }
		add("ROTATION OF %s (target %s)   live side: %s", p.Role, p.Target, p.Live)
		if p.InProgress != "" {
			add("IN PROGRESS: %s", p.InProgress)
		}
		for _, s := range p.Stages {
			head := fmt.Sprintf("%d %-16s %s", s.N, s.Stage, strings.ToUpper(s.Status))
			if s.Done != "" {
				head += "  " + s.Done
			}
			lines = append(lines, "")
			add("%s", head)
			for _, g := range s.Gates {
				add("    gate     %s", g)
			}
			for _, a := range s.Actions {
				add("    does     %s", a)
			}
			add("    inverse  %s", s.Inverse)
		}
		_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
		return err
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(PlanFormats, ", "))
}

func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(report.Visible(s))
}
