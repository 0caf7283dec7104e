package approval

import (
	"strings"
	"testing"
	"time"
)

func TestApprovalChecks(t *testing.T) {
	now := time.Now()
	a := &Approval{ID: "apr-1", Apps: []string{"billing-api"}, Kinds: []string{"image"}, ApprovedBy: "token:bob", Expires: now.Add(time.Hour)}
	needs := []Need{{App: "billing-api", Kind: "image", Source: "r/b:1"}, {App: "ledger-worker", Kind: "git", Source: "https://git/l"}}
	err := CheckApproval(a, needs, "token:alice", now)
	if err == nil || !strings.Contains(err.Error(), "does not cover: ledger-worker git https://git/l") {
		t.Errorf("uncovered source: %v", err)
	}
	if err := CheckApproval(a, needs[:1], "token:alice", now.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	a.For = "token:carol"
	if err := CheckApproval(a, needs[:1], "token:alice", now); err == nil || !strings.Contains(err.Error(), "granted for token:carol") {
		t.Errorf("for someone else: %v", err)
	}
}

// A valid approval passes: it covers every need (by name or "*"), has not
// expired, and is for the requester (or for anyone but its approver).
func TestApprovalPasses(t *testing.T) {
	now := time.Now()
	needs := []Need{{App: "billing-api", Kind: "image", Source: "r/b:1"}, {App: "ledger-worker", Kind: "git", Source: "https://git/l"}}
	for name, a := range map[string]*Approval{
		"by name":      {ID: "apr-1", Apps: []string{"billing-api", "ledger-worker"}, Kinds: []string{"image", "git"}, ApprovedBy: "entity:bob", Expires: now.Add(time.Hour)},
		"wildcards":    {ID: "apr-2", Apps: []string{"*"}, Kinds: []string{"*"}, ApprovedBy: "entity:bob", Expires: now.Add(time.Hour)},
		"for the user": {ID: "apr-3", Apps: []string{"*"}, Kinds: []string{"image", "git"}, ApprovedBy: "entity:bob", For: "entity:alice", Expires: now.Add(time.Minute)},
	} {
		if err := CheckApproval(a, needs, "entity:alice", now); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Nobody runs under an approval they granted themselves.
func TestSelfApprovalRefused(t *testing.T) {
	now := time.Now()
	a := &Approval{ID: "apr-1", Apps: []string{"*"}, Kinds: []string{"*"}, ApprovedBy: "entity:alice", Expires: now.Add(time.Hour)}
	err := CheckApproval(a, []Need{{App: "billing-api", Kind: "dir", Source: "."}}, "entity:alice", now)
	if err == nil || !strings.Contains(err.Error(), "different identity") {
		t.Errorf("self-approval: %v", err)
	}
	if err := CheckApproval(nil, nil, "entity:alice", now); err == nil {
		t.Error("no approval passed")
	}
}

func TestGrant(t *testing.T) {
	now := time.Now()
	ok := Request{Apps: []string{"billing-api"}, Kinds: []string{"image", "git"}, TTL: time.Hour, Ticket: "SEC-1", Reason: "migration"}
	a, err := Grant(ok, "entity:bob", "bob", now)
	if err != nil || a.ApprovedBy != "entity:bob" || !a.Expires.Equal(now.UTC().Add(time.Hour)) || !strings.HasPrefix(a.ID, "apr-") {
		t.Fatalf("%+v %v", a, err)
	}
	for name, r := range map[string]Request{
		"no ticket":    {Apps: ok.Apps, Kinds: ok.Kinds, TTL: time.Hour, Reason: "x"},
		"unknown kind": {Apps: ok.Apps, Kinds: []string{"s3"}, TTL: time.Hour, Ticket: "t", Reason: "x"},
		"ttl too long": {Apps: ok.Apps, Kinds: ok.Kinds, TTL: 31 * 24 * time.Hour, Ticket: "t", Reason: "x"},
		"for oneself":  {Apps: ok.Apps, Kinds: ok.Kinds, TTL: time.Hour, Ticket: "t", Reason: "x", For: "entity:bob"},
	} {
		if _, err := Grant(r, "entity:bob", "bob", now); err == nil {
			t.Errorf("%s: granted", name)
		}
	}
}
