// Package tracker is the migration's checklist: for each app of the
// manifest, the steps that take it from "hardcoded" to "done", who ticked
// what and when, and the evidence of the automatic steps.
//
// An app's state is a history of events that is only ever appended to:
// ticks, unticks and waivers by people, and the evidence scans and the
// rotation record. What a step shows is derived from that history and the
// evidence. States live in a Store (Vault KV v2 with check-and-set, or a
// local file); a Tracker applies an action with check-and-set, reloading
// and applying it again when someone else wrote first, and records it in
// credscan's audit log, which stays the authoritative record.
package tracker

import (
	"fmt"
	"slices"
	"time"

	"github.com/credscan/credscan/audit"
)

// Step is one step of an app's checklist.
type Step string

// The steps, in the order of the migration plan.
const (
	Inventoried     Step = "inventoried"
	Vaulted         Step = "vaulted"
	ReadsFromVault  Step = "reads-from-vault"
	Deployed        Step = "deployed"
	OnGreen         Step = "on-green"
	VerifiedOnGreen Step = "verified-on-green"
	LegacyRevoked   Step = "legacy-revoked"
)

// StepInfo describes a step.
type StepInfo struct {
	Step  Step
	Title string
	// Auto steps are set from evidence only; Manual ones are ticked by
	// people. A step that is both is ticked by hand until its evidence
	// exists.
	Auto, Manual bool
	// Evidence says where an automatic step's evidence comes from.
	Evidence string
	// NeedsChange: a tick names a change reference.
	NeedsChange bool
	Help        string
}

// Steps lists the steps in order.
var Steps = []StepInfo{
	{Step: Inventoried, Title: "inventoried", Auto: true, Evidence: "the last estate scan of the app (credscan scan estate / vault push)",
		Help: "credscan found every copy of the app's credentials: at the tip, in history, in images and CI"},
	{Step: Vaulted, Title: "vaulted", Auto: true, Evidence: "the last Vault push: every ARP credential the app holds is in Vault",
		Help: "every ARP credential the app holds is in Vault"},
	{Step: ReadsFromVault, Title: "reads from Vault", Manual: true,
		Help: "config and code read the secret at run time (environment injected from Vault, Vault Agent, CSI driver or API); a scan that still finds hardcoded ARP copies at the tip contests it"},
	{Step: Deployed, Title: "deployed", Manual: true, NeedsChange: true,
		Help: "the change that reads from Vault is deployed (name the change)"},
	{Step: OnGreen, Title: "on green", Auto: true, Manual: true, Evidence: "the rotation's cutover evidence (credscan rotate)",
		Help: "the app runs against ARP-green"},
	{Step: VerifiedOnGreen, Title: "verified on green", Manual: true,
		Help: "business flows checked on ARP-green, error rates at baseline"},
	{Step: LegacyRevoked, Title: "legacy revoked", Auto: true, Evidence: "the rotation's revocation of the legacy credential (credscan rotate revoke-legacy)",
		Help: "the legacy credential no longer logs in"},
}

// Info returns the description of step s.
func Info(s Step) (StepInfo, bool) {
	for _, i := range Steps {
		if i.Step == s {
			return i, true
		}
	}
	return StepInfo{}, false
}

// ParseStep reads a step by its name or title.
func ParseStep(s string) (Step, error) {
	for _, i := range Steps {
		if string(i.Step) == s || i.Title == s {
			return i.Step, nil
		}
	}
	names := make([]string, len(Steps))
	for i, st := range Steps {
		names[i] = string(st.Step)
	}
	return "", fmt.Errorf("unknown step %q (want one of %v)", s, names)
}

// EventKind is what an event did.
type EventKind string

// Event kinds.
const (
	Tick     EventKind = "tick"
	Untick   EventKind = "untick"
	Waive    EventKind = "waive"
	Unwaive  EventKind = "unwaive"
	Evidence EventKind = "evidence" // a scan or the rotation recorded evidence
)

// Event is one entry of an app's history.
type Event struct {
	Step   Step        `json:"step,omitempty"`
	Kind   EventKind   `json:"kind"`
	At     time.Time   `json:"at"`
	Actor  audit.Actor `json:"actor"`
	Note   string      `json:"note,omitempty"`   // why, in the actor's words
	Change string      `json:"change,omitempty"` // a change reference (deployed)
}

// Who names the actor for people: the Vault identity, else the OS user
// at the host.
func (e Event) Who() string {
	if e.Actor.Vault != "" {
		return e.Actor.Vault
	}
	if e.Actor.Host != "" {
		return e.Actor.OSUser + "@" + e.Actor.Host
	}
	return e.Actor.OSUser
}

// Occurrence is a place a credential of the app is hardcoded: what a
// scan found, redacted (no secret, no fingerprint of one).
type Occurrence struct {
	Rule     string `json:"rule"`
	Kind     string `json:"kind"` // dir, git, image, civars
	Target   string `json:"target,omitempty"`
	Path     string `json:"path"`
	Line     int    `json:"line,omitempty"`
	Commit   string `json:"commit,omitempty"`
	Layer    string `json:"layer,omitempty"`
	Redacted string `json:"redacted"`
	DB       string `json:"db,omitempty"` // user@host:port/db
	// AtTip: the default branch's tip, the working tree, the current
	// image or CI still hold it; else it is only in history or in a layer
	// a later one deletes.
	AtTip        bool `json:"at_tip"`
	HistoryOnly  bool `json:"history_only,omitempty"`
	DeletedLater bool `json:"deleted_later,omitempty"`
}

// Inventory is a scan's evidence for an app.
type Inventory struct {
	At          time.Time    `json:"at"`
	Hardcoded   int          `json:"hardcoded"`           // ARP occurrences at the tip
	HistoryOnly int          `json:"history_only"`        // ARP occurrences only in history or deleted layers
	Referenced  int          `json:"referenced"`          // settings that read a secret store
	Encrypted   int          `json:"encrypted,omitempty"` // settings that hold ciphertext or name their store
	Credentials int          `json:"credentials"`         // distinct ARP credentials the app holds
	Vaulted     int          `json:"vaulted"`             // of them, in Vault after the last push
	Pushed      bool         `json:"pushed"`              // the scan pushed to Vault
	Occurrences []Occurrence `json:"occurrences,omitempty"`
	CISecrets   []string     `json:"ci_secrets,omitempty"` // CI secret names the app depends on
}

// RotationEvidence is what the rotation recorded for an app.
type RotationEvidence struct {
	Role       string    `json:"role,omitempty"`
	OnGreen    time.Time `json:"on_green,omitempty"` // the cutover that moved it
	Revoked    time.Time `json:"revoked,omitempty"`  // the legacy credential revoked
	RolledBack time.Time `json:"rolled_back,omitempty"`
}

// AppState is an app's checklist: its history and its evidence.
type AppState struct {
	App       string            `json:"app"`
	History   []Event           `json:"history"`
	Inventory *Inventory        `json:"inventory,omitempty"`
	Rotation  *RotationEvidence `json:"rotation,omitempty"`
}

// State is what a step shows.
type State string

// States.
const (
	Todo      State = "todo"
	Done      State = "done"
	Waived    State = "waived"
	Contested State = "contested" // ticked, but a scan says otherwise
)

// StepStatus is a step of an app's checklist as it stands.
type StepStatus struct {
	StepInfo
	State State
	// By is the event that set the state (a tick, a waiver), nil for an
	// automatic step or one never touched.
	By *Event
	// Why explains an automatic step's state or a contest.
	Why string
	// Places are the hardcoded copies that contest a tick.
	Places []Occurrence
}

// Status returns each step's status, in order.
func (s *AppState) Status() []StepStatus {
	last := map[Step]*Event{}
	waived := map[Step]*Event{}
	for i := range s.History {
		e := &s.History[i]
		switch e.Kind {
		case Tick, Untick:
			last[e.Step] = e
		case Waive:
			waived[e.Step] = e
		case Unwaive:
			delete(waived, e.Step)
		}
	}
	inv := s.Inventory
	out := make([]StepStatus, 0, len(Steps))
	for _, info := range Steps {
		st := StepStatus{StepInfo: info, State: Todo}
		ticked := last[info.Step] != nil && last[info.Step].Kind == Tick
		if ticked {
			st.State, st.By = Done, last[info.Step]
		}
		switch info.Step {
		case Inventoried:
			if inv != nil {
				st.State = Done
				st.Why = fmt.Sprintf("scan of %s: %d hardcoded ARP copies at the tip, %d only in history or images, %d referenced",
					inv.At.UTC().Format("2006-01-02 15:04"), inv.Hardcoded, inv.HistoryOnly, inv.Referenced)
			} else {
				st.Why = "no scan of this app yet"
			}
		case Vaulted:
			switch {
			case inv == nil:
				st.Why = "no scan of this app yet"
			case !inv.Pushed:
				st.Why = "the last scan was not pushed to Vault"
			case inv.Vaulted >= inv.Credentials:
				st.State = Done
				st.Why = fmt.Sprintf("%d of %d ARP credentials in Vault (%s)", inv.Vaulted, inv.Credentials, inv.At.UTC().Format("2006-01-02 15:04"))
			default:
				st.Why = fmt.Sprintf("%d of %d ARP credentials in Vault", inv.Vaulted, inv.Credentials)
			}
		case ReadsFromVault:
			if ticked && inv != nil && inv.Hardcoded > 0 && inv.At.After(st.By.At) { // a scan after the tick
				st.State = Contested
				st.Why = fmt.Sprintf("the scan of %s still finds %d hardcoded ARP copies at the tip", inv.At.UTC().Format("2006-01-02 15:04"), inv.Hardcoded)
				for _, o := range inv.Occurrences {
					if o.AtTip {
						st.Places = append(st.Places, o)
					}
				}
			}
		case OnGreen:
			if r := s.Rotation; r != nil && !r.OnGreen.IsZero() && (r.RolledBack.IsZero() || r.RolledBack.Before(r.OnGreen)) {
				st.State, st.By = Done, nil
				st.Why = "cutover of " + r.OnGreen.UTC().Format("2006-01-02 15:04")
			}
		case LegacyRevoked:
			if r := s.Rotation; r != nil && !r.Revoked.IsZero() {
				st.State = Done
				st.Why = "legacy credential revoked on " + r.Revoked.UTC().Format("2006-01-02 15:04")
			} else {
				st.Why = "the rotation has not revoked the legacy credential"
			}
		}
		if w := waived[info.Step]; w != nil && st.State != Done {
			st.State, st.By = Waived, w
		}
		out = append(out, st)
	}
	return out
}

// Progress counts the steps done or waived, of all.
func (s *AppState) Progress() (done, total int) {
	for _, st := range s.Status() {
		if st.State == Done || st.State == Waived {
			done++
		}
	}
	return done, len(Steps)
}

// Current is the first step not done or waived ("" when all are).
func (s *AppState) Current() Step {
	for _, st := range s.Status() {
		if st.State != Done && st.State != Waived {
			return st.Step
		}
	}
	return ""
}

// Reached says whether every step up to and including step is done or
// waived.
func (s *AppState) Reached(step Step) bool {
	for _, st := range s.Status() {
		if st.State != Done && st.State != Waived {
			return false
		}
		if st.Step == step {
			return true
		}
	}
	return true
}

// Contested says whether a tick is contested.
func (s *AppState) Contested() bool {
	return slices.ContainsFunc(s.Status(), func(st StepStatus) bool { return st.State == Contested })
}

// Blocked says whether the app's next step waits on evidence nobody can
// tick (a scan of the app, a push of its credentials to Vault), and why.
// Waiting for the rotation to revoke the legacy credential is not being
// blocked: that is the plan.
func (s *AppState) Blocked() (Step, string) {
	for _, st := range s.Status() {
		if st.State == Done || st.State == Waived {
			continue
		}
		if st.Auto && !st.Manual && st.Step != LegacyRevoked {
			return st.Step, st.Why
		}
		return "", ""
	}
	return "", ""
}
