package vaultsync

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/policy/approval"
)

// ApprovalPath is where an approval is stored.
func (l Layout) ApprovalPath(id string) string {
	return l.withDefaults().path("credscan/approvals/" + pathSegment(id, "none"))
}

// AuditPath is where line seq of the log logID is mirrored.
func (l Layout) AuditPath(logID string, seq int) string {
	return l.withDefaults().path("credscan/audit/" + pathSegment(logID, "none") + "/" + strconv.Itoa(seq))
}

// WriteApproval stores a new approval (check-and-set 0: an approval is
// never overwritten). Vault's ACL decides whether the caller may.
func (s *Store) WriteApproval(ctx context.Context, a *approval.Approval) error {
	b, _ := json.Marshal(a)
	var data map[string]any
	_ = json.Unmarshal(b, &data)
	if _, err := s.kv.Put(ctx, s.l.ApprovalPath(a.ID), data, 0); err != nil {
		if credscan.CodeOf(err) == credscan.CodeUnauthorized {
			return credscan.Errorf(credscan.CodeUnauthorized, "vault refused to store approval %s (403): this token's policies do not allow writing credscan/approvals/ — only approvers may", a.ID)
		}
		return fmt.Errorf("storing approval %s: %w", a.ID, err)
	}
	return nil
}

// ReadApproval reads an approval.
func (s *Store) ReadApproval(ctx context.Context, id string) (*approval.Approval, error) {
	sec, err := s.kv.Get(ctx, s.l.ApprovalPath(id))
	switch credscan.CodeOf(err) {
	case credscan.CodeNotFound:
		return nil, credscan.Errorf(credscan.CodeNotFound, "approval %s does not exist in Vault (%s)", id, s.l.ApprovalPath(id))
	case credscan.CodeUnauthorized:
		return nil, credscan.Errorf(credscan.CodeUnauthorized, "vault refused to read approval %s (403): the token needs read on credscan/approvals/", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading approval %s: %w", id, err)
	}
	b, _ := json.Marshal(sec.Data)
	var a approval.Approval
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, credscan.Errorf(credscan.CodeIntegrity, "approval %s is malformed: %v", id, err)
	}
	return &a, nil
}

// MirrorAudit writes an audit record to credscan/audit/<log>/<seq>, with
// check-and-set 0: a mirrored line is never overwritten.
func (s *Store) MirrorAudit(ctx context.Context, logID string, r audit.Record) error {
	b, _ := json.Marshal(r)
	if _, err := s.kv.Put(ctx, s.l.AuditPath(logID, r.Seq), map[string]any{"record": string(b), "hash": r.Hash}, 0); err != nil {
		return err
	}
	return nil
}

// CompareAudit checks a local log against its mirror: each local line's
// hash must be the mirrored one, and the mirror must hold no line the
// local log lacks (a deleted tail). It returns the first difference.
func (s *Store) CompareAudit(ctx context.Context, recs []audit.Record) (string, error) {
	if len(recs) == 0 {
		return "", nil
	}
	logID := audit.LogID(recs[0])
	for _, r := range recs {
		sec, err := s.kv.Get(ctx, s.l.AuditPath(logID, r.Seq))
		if credscan.CodeOf(err) == credscan.CodeNotFound {
			return fmt.Sprintf("record %d is not in the Vault mirror", r.Seq), nil
		}
		if err != nil {
			return "", fmt.Errorf("reading the audit mirror: %w", err)
		}
		if h, _ := sec.Data["hash"].(string); h != r.Hash {
			return fmt.Sprintf("record %d differs from the Vault mirror", r.Seq), nil
		}
	}
	keys, err := s.kv.List(ctx, s.l.withDefaults().path("credscan/audit/"+logID))
	if err != nil {
		return "", fmt.Errorf("listing the audit mirror: %w", err)
	}
	var seqs []int
	for _, k := range keys {
		if n, err := strconv.Atoi(k); err == nil {
			seqs = append(seqs, n)
		}
	}
	sort.Ints(seqs)
	if len(seqs) > 0 && seqs[len(seqs)-1] > recs[len(recs)-1].Seq {
		return fmt.Sprintf("the Vault mirror has records up to %d, the local log only to %d: its tail was deleted", seqs[len(seqs)-1], recs[len(recs)-1].Seq), nil
	}
	return "", nil
}

// Now is the store's clock (for approvals' times).
func (s *Store) Now() time.Time { return s.now() }
