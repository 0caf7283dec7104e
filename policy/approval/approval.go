// Package approval is credscan's approvals: who may scan which apps' sources
// of which kinds until when, stored in Vault (whose ACL decides who may
// write one), and the check that an approval covers a scan. Checks are pure.
package approval

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/manifest"
)

// Approval lets scans of some apps' sources of some kinds run until it
// expires. It is stored in Vault (credscan/approvals/<id>), where Vault's
// ACL policies decide who may write one; credscan decides whether it
// covers a scan.
type Approval struct {
	ID         string    `json:"id"`
	Apps       []string  `json:"apps"`  // app names, or "*"
	Kinds      []string  `json:"kinds"` // dir, git, image, ci, verify, or "*"
	Ticket     string    `json:"ticket,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	ApprovedBy string    `json:"approved_by"` // the approver's identity ID
	Approver   string    `json:"approver"`    // display name, for people
	For        string    `json:"for,omitempty"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
}

// Request is what an approver grants.
type Request struct {
	Apps, Kinds    []string // names or "*"; kinds of manifest.ApprovalKinds
	TTL            time.Duration
	Ticket, Reason string
	For            string // the identity it is for; "" for anyone but the approver
}

// Grant makes the approval of r by the approver (identity ID and display
// name) at now, after checking r: apps, kinds, a ticket and a reason are
// required, kinds must be known, the TTL between a second and 30 days,
// and nobody approves their own request.
func Grant(r Request, approverID, approverName string, now time.Time) (*Approval, error) {
	switch {
	case len(r.Apps) == 0 || len(r.Kinds) == 0 || r.Ticket == "" || r.Reason == "":
		return nil, credscan.UsageError("an approval needs apps, kinds, a ticket and a reason")
	case r.TTL < time.Second || r.TTL > 30*24*time.Hour:
		return nil, credscan.UsageError("the approval's TTL must be between 1s and 720h")
	case r.For != "" && r.For == approverID:
		return nil, credscan.Errorf(credscan.CodeRefused, "you cannot approve your own request (it is for your own identity)")
	}
	for _, k := range r.Kinds {
		if k != "*" && !slices.Contains(manifest.ApprovalKinds, k) {
			return nil, credscan.UsageError("kind %q is unknown (want %s)", k, strings.Join(manifest.ApprovalKinds, ", "))
		}
	}
	now = now.UTC()
	return &Approval{ID: NewApprovalID(), Apps: r.Apps, Kinds: r.Kinds, Ticket: r.Ticket, Reason: r.Reason,
		ApprovedBy: approverID, Approver: approverName, For: r.For, Created: now, Expires: now.Add(r.TTL)}, nil
}

// NewApprovalID returns a random approval ID.
func NewApprovalID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "apr-" + hex.EncodeToString(b)
}

// Need is one source of a scan that needs an approval.
type Need struct {
	App    string
	Kind   string // dir, git, image, ci, verify
	Source string // the source as the manifest writes it
}

func (n Need) String() string { return fmt.Sprintf("%s %s %s", n.App, n.Kind, n.Source) }

// Needs lists the manifest's sources that need an approval: those marked
// approval: required, and every source of a kind listed under
// approvals.required.
func Needs(m *manifest.Manifest) []Need {
	if m == nil {
		return nil
	}
	kinds := map[string]bool{}
	for _, k := range m.Approvals.Required {
		kinds[k] = true
	}
	var out []Need
	for _, a := range m.Apps {
		for _, s := range a.Sources {
			kind := KindName(string(s.Kind()))
			if s.Approval == "required" || kinds[kind] {
				out = append(out, Need{App: a.Name, Kind: kind, Source: s.Spec()})
			}
		}
	}
	return out
}

// KindName is the name approvals use for a source kind ("civars" is "ci").
func KindName(k string) string {
	if k == "civars" {
		return "ci"
	}
	return k
}

// CheckApproval says whether a covers every need, for the requester (an
// identity ID) at now. Its error names what is missing.
func CheckApproval(a *Approval, needs []Need, requester string, now time.Time) error {
	if a == nil {
		return fmt.Errorf("no approval")
	}
	var problems []string
	if !now.Before(a.Expires) {
		problems = append(problems, fmt.Sprintf("it expired at %s", a.Expires.UTC().Format(time.RFC3339)))
	}
	if a.ApprovedBy == "" || a.ApprovedBy == requester {
		problems = append(problems, "it was granted by the identity now scanning: a different identity must approve")
	}
	if a.For != "" && a.For != requester {
		problems = append(problems, fmt.Sprintf("it was granted for %s, not for this identity", a.For))
	}
	var uncovered []string
	for _, n := range needs {
		if !covers(a.Apps, n.App) || !covers(a.Kinds, n.Kind) {
			uncovered = append(uncovered, n.String())
		}
	}
	if len(uncovered) > 0 {
		sort.Strings(uncovered)
		problems = append(problems, "it does not cover: "+strings.Join(uncovered, "; "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("approval %s: %s", a.ID, strings.Join(problems, "; "))
	}
	return nil
}

func covers(list []string, x string) bool {
	for _, v := range list {
		if v == "*" || v == x {
			return true
		}
	}
	return false
}

// MissingApproval is the message for a scan whose sources need an
// approval and that has none.
func MissingApproval(needs []Need) error {
	apps, kinds := map[string]bool{}, map[string]bool{}
	var lines []string
	for _, n := range needs {
		apps[n.App], kinds[n.Kind] = true, true
		lines = append(lines, "  "+n.String())
	}
	keys := func(m map[string]bool) string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	return fmt.Errorf("these sources need an approval (--approval ID):\n%s\nask an approver to run: credscan approve --apps %s --kinds %s --ttl 24h --ticket … --reason \"…\"",
		strings.Join(lines, "\n"), keys(apps), keys(kinds))
}
