// Package rotation moves a database role off its legacy password: it
// verifies which discovered password is live, provisions the role on the
// new database (ARP-green) with a password that exists only in Vault,
// keeps a pointer applications read, switches the connection broker and
// the pointer in one cutover (and back in one rollback), revokes the
// legacy login only when the evidence says nothing uses it, and rotates
// passwords afterwards with alternating users.
//
// Each stage has a gate, an action, evidence and an inverse. The state of
// a role's rotation lives in Vault (credscan/rotation/<role>), written
// with check-and-set, so one rotation runs per role at a time; every
// action is idempotent and Resume brings a crashed one to a consistent
// state. Plan is a pure function of that state.
//
// Passwords are credscan.Secret values from Vault: never printed, never
// logged, never in the audit log, an error or the plan.
package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/vaultsync"
	"github.com/credscan/credscan/vaultsync/kv"
)

// Side is one database of the migration.
type Side string

// The sides.
const (
	Blue  Side = "blue"  // the legacy database
	Green Side = "green" // the new one
)

// Stage names.
const (
	StageVerify    = "verify"
	StageProvision = "provision-green"
	StagePointer   = "pointer"
	StageCutover   = "cutover"
	StageRollback  = "rollback"
	StageRevoke    = "revoke-legacy"
	StagePassword  = "password"
)

// State is one role's rotation, as stored in Vault.
type State struct {
	Role string `json:"role"`
	// Verified: the legacy credential of record (the one live password).
	Verified *Verified `json:"verified,omitempty"`
	// Green: the role exists on green with the Vault-only password.
	Green *Provisioned `json:"green,omitempty"`
	// Pointer: <target>/current/<role> exists.
	Pointer *PointerRecord `json:"pointer,omitempty"`
	// Live is the side the broker and the pointer point at ("" before the
	// pointer exists).
	Live         Side      `json:"live,omitempty"`
	CutoverAt    time.Time `json:"cutover_at,omitzero"`
	RolledBackAt time.Time `json:"rolled_back_at,omitzero"`
	// Revoked: the legacy login is off on blue.
	Revoked *Revoked `json:"revoked,omitempty"`
	// Alternate: routine rotations after the migration.
	Alternate *Alternate `json:"alternate,omitempty"`
	// Op is the operation in progress (a lease: one at a time per role).
	Op *Op `json:"op,omitempty"`
	// Timeline is what happened, in order: the incident record.
	Timeline []Event `json:"timeline"`
}

// Verified is the outcome of the verify stage.
type Verified struct {
	At time.Time `json:"at"`
	// Path and Fingerprint name the legacy credential of record (the
	// entry under <target>/legacy/<role>/).
	Path        string       `json:"path,omitempty"`
	Fingerprint string       `json:"fingerprint,omitempty"`
	Checks      []LoginCheck `json:"checks"`
}

// LoginCheck is one login attempt of a discovered password.
type LoginCheck struct {
	Path        string    `json:"path"`
	Fingerprint string    `json:"fingerprint"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Result      string    `json:"result"` // live, dead, unreachable, refused (outside the target's hosts)
	Detail      string    `json:"detail,omitempty"`
	At          time.Time `json:"at"`
}

// Provisioned is the green role.
type Provisioned struct {
	At      time.Time `json:"at"`
	Created bool      `json:"created"` // the role was created (else altered)
	Version int       `json:"version"` // of <target>/green/<role>
}

// PointerRecord is the pointer's history: the versions that pointed at
// each side.
type PointerRecord struct {
	At           time.Time `json:"at"`
	BlueVersion  int       `json:"blue_version"`
	GreenVersion int       `json:"green_version,omitempty"`
}

// Revoked is the legacy login's revocation.
type Revoked struct {
	At         time.Time `json:"at"`
	Terminated int       `json:"terminated,omitempty"`
}

// Alternate is the alternating-users state: which user the pointer gives.
type Alternate struct {
	Active    string    `json:"active"`
	Rotations int       `json:"rotations"`
	At        time.Time `json:"at"`
}

// Op is an operation in progress: its name, the last step it finished,
// and the sides it moves between.
type Op struct {
	Name    string    `json:"name"`
	Step    string    `json:"step"`
	From    Side      `json:"from,omitempty"`
	To      Side      `json:"to,omitempty"`
	Started time.Time `json:"started"`
	By      string    `json:"by"`
	// User is the role whose password a password rotation sets.
	User     string `json:"user,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	// MinPoolSize is the broker entry's min_pool_size, which a switch sets
	// to 0 while it runs: the end of the switch, or resume, puts it back.
	MinPoolSize int `json:"min_pool_size,omitempty"`
}

// Event is one line of the timeline.
type Event struct {
	At     time.Time `json:"at"`
	Stage  string    `json:"stage"`
	What   string    `json:"what"`
	By     string    `json:"by,omitempty"`
	Millis int64     `json:"ms,omitempty"`
}

// Steps of a switch (cutover, rollback), in order: the crash-safe
// markers Resume reads.
const (
	StepBegun    = "begun"
	StepPaused   = "paused"
	StepDrained  = "drained"
	StepSwapped  = "swapped" // the databases file points at To
	StepReloaded = "reloaded"
	StepResumed  = "resumed"
	StepPointed  = "pointed" // the pointer points at To
)

// stepOrder ranks the steps.
var stepOrder = map[string]int{StepBegun: 0, StepPaused: 1, StepDrained: 2, StepSwapped: 3, StepReloaded: 4, StepResumed: 5, StepPointed: 6}

// Reached says whether the op has finished step.
func (o *Op) Reached(step string) bool { return o != nil && stepOrder[o.Step] >= stepOrder[step] }

// store keeps states in KV at <prefix>credscan/rotation/<role>.
type store struct {
	kv     kv.KV
	prefix string
}

func (s store) path(role string) string { return s.prefix + "credscan/rotation/" + role }

// load returns role's state and its version (0: none yet).
func (s store) load(ctx context.Context, role string) (*State, int, error) {
	sec, err := s.kv.Get(ctx, s.path(role))
	if credscan.CodeOf(err) == credscan.CodeNotFound {
		return &State{Role: role}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	b, _ := json.Marshal(sec.Data)
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, 0, credscan.Errorf(credscan.CodeIntegrity, "the rotation state of %s is malformed: %v", role, err)
	}
	return st, sec.Version, nil
}

// save writes st over version (check-and-set) and returns the new one.
func (s store) save(ctx context.Context, st *State, version int) (int, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return 0, err
	}
	v, err := s.kv.Put(ctx, s.path(st.Role), data, version)
	if credscan.CodeOf(err) == credscan.CodeConflict {
		return 0, credscan.Errorf(credscan.CodeConflict, "the rotation state of %s changed meanwhile (another credscan rotate?): %v", st.Role, err)
	}
	if err != nil {
		return 0, fmt.Errorf("saving the rotation state of %s: %w", st.Role, err)
	}
	return v, nil
}

// Roles lists the roles whose rotation has a state in Vault.
func Roles(ctx context.Context, k kv.KV, l vaultsync.Layout) ([]string, error) {
	prefix := strings.Trim(l.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	names, err := k.List(ctx, prefix+"credscan/rotation")
	if credscan.CodeOf(err) == credscan.CodeNotFound {
		return nil, nil
	}
	var out []string
	for _, n := range names {
		if !strings.HasSuffix(n, "/") {
			out = append(out, n)
		}
	}
	return out, err
}
