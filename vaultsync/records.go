package vaultsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/credscan/credscan/audit"
	"github.com/credscan/credscan/policy"
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
func (s *Store) WriteApproval(ctx context.Context, a *policy.Approval) error {
	b, _ := json.Marshal(a)
	var data map[string]any
	_ = json.Unmarshal(b, &data)
	if _, err := s.c.KVv2(s.l.Mount).Put(ctx, s.l.ApprovalPath(a.ID), data, vault.WithCheckAndSet(0)); err != nil {
		if statusOf(err) == 403 {
			return fmt.Errorf("vault refused to store approval %s (403): this token's policies do not allow writing credscan/approvals/ — only approvers may", a.ID)
		}
		return fmt.Errorf("storing approval %s: %s", a.ID, describe(err))
	}
	return nil
}

// ReadApproval reads an approval.
func (s *Store) ReadApproval(ctx context.Context, id string) (*policy.Approval, error) {
	sec, err := s.c.KVv2(s.l.Mount).Get(ctx, s.l.ApprovalPath(id))
	switch {
	case errors.Is(err, vault.ErrSecretNotFound):
		return nil, fmt.Errorf("approval %s does not exist in Vault (%s)", id, s.l.ApprovalPath(id))
	case statusOf(err) == 403:
		return nil, fmt.Errorf("vault refused to read approval %s (403): the token needs read on credscan/approvals/", id)
	case err != nil:
		return nil, fmt.Errorf("reading approval %s: %s", id, describe(err))
	}
	b, _ := json.Marshal(sec.Data)
	var a policy.Approval
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("approval %s is malformed: %v", id, err)
	}
	return &a, nil
}

// MirrorAudit writes an audit record to credscan/audit/<log>/<seq>, with
// check-and-set 0: a mirrored line is never overwritten.
func (s *Store) MirrorAudit(ctx context.Context, logID string, r audit.Record) error {
	b, _ := json.Marshal(r)
	if _, err := s.c.KVv2(s.l.Mount).Put(ctx, s.l.AuditPath(logID, r.Seq), map[string]any{"record": string(b), "hash": r.Hash}, vault.WithCheckAndSet(0)); err != nil {
		return errors.New(describe(err))
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
	kv := s.c.KVv2(s.l.Mount)
	for _, r := range recs {
		sec, err := kv.Get(ctx, s.l.AuditPath(logID, r.Seq))
		if errors.Is(err, vault.ErrSecretNotFound) {
			return fmt.Sprintf("record %d is not in the Vault mirror", r.Seq), nil
		}
		if err != nil {
			return "", fmt.Errorf("reading the audit mirror: %s", describe(err))
		}
		if h, _ := sec.Data["hash"].(string); h != r.Hash {
			return fmt.Sprintf("record %d differs from the Vault mirror", r.Seq), nil
		}
	}
	list, err := s.c.Logical().ListWithContext(ctx, s.l.Mount+"/metadata/"+s.l.withDefaults().path("credscan/audit/"+logID))
	if err != nil {
		return "", fmt.Errorf("listing the audit mirror: %s", describe(err))
	}
	var seqs []int
	if list != nil {
		if keys, ok := list.Data["keys"].([]any); ok {
			for _, k := range keys {
				if n, err := strconv.Atoi(fmt.Sprint(k)); err == nil {
					seqs = append(seqs, n)
				}
			}
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
