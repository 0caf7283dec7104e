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
