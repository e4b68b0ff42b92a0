package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The audit log (tables audit_log and audit_seals), the same SQL for both
// stores.

const auditCols = "seq, at, actor_id, actor_name, device_id, action, entity, record_id, inspection_id, county, changes, prev_hash, hash"

// Exec runs a statement with ? placeholders in a store's transaction.
type Exec func(ctx context.Context, q string, args ...any) error

// AuditAppender links and inserts audit entries within one write
// transaction, remembering the chain's head so that a transaction's
// second append reads nothing. The store's writer lock makes the head it
// reads the last committed one.
type AuditAppender struct {
	loaded bool
	seq    int64
	head   string
}

// Append links e after the chain's head and inserts it.
func (a *AuditAppender) Append(ctx context.Context, r Reader, exec Exec, e *audit.Entry) error {
	if !a.loaded {
		if err := r.QueryRow(ctx, `SELECT coalesce(max(seq), 0), coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '') FROM audit_log`).
			Scan(&a.seq, &a.head); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		if a.seq == 0 {
			a.head = audit.Genesis
		}
		a.loaded = true
	}
	if len(e.Changes) == 0 {
		e.Changes = json.RawMessage("{}")
	}
	e.Link(a.seq, a.head)
	if err := exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.UnixMilli(), e.ActorID, e.ActorName, e.DeviceID, e.Action, e.Entity, e.RecordID, e.InspectionID,
		e.County, string(e.Changes), e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	a.seq, a.head = e.Seq, e.Hash
	return nil
}

func readAudit(ctx context.Context, r Reader, where string, args ...any) ([]audit.Entry, error) {
	rows, err := r.Query(ctx, "SELECT "+auditCols+" FROM audit_log "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		var changes string
		if err := rows.Scan(&e.Seq, &at, &e.ActorID, &e.ActorName, &e.DeviceID, &e.Action, &e.Entity, &e.RecordID,
			&e.InspectionID, &e.County, &changes, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At, e.Changes = time.UnixMilli(at).UTC(), json.RawMessage(changes)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditEntries returns up to limit entries after seq, in order.
func AuditEntries(ctx context.Context, r Reader, after int64, limit int) ([]audit.Entry, error) {
	return readAudit(ctx, r, "WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
}

// AuditEntriesBefore returns the entries after seq up to the last one made
// before t, in order.
func AuditEntriesBefore(ctx context.Context, r Reader, after int64, t time.Time) ([]audit.Entry, error) {
	return readAudit(ctx, r, "WHERE seq > ? AND seq <= (SELECT coalesce(max(seq), 0) FROM audit_log WHERE seq > ? AND at < ?) ORDER BY seq",
		after, after, t.UnixMilli())
}

// AuditHistory returns the entries of the record of entity and id and,
// for an inspection, those naming it as their inspection, in order. The
// entity counts: an id names one record of each entity.
func AuditHistory(ctx context.Context, r Reader, entity, recordID string) ([]audit.Entry, error) {
	if entity == syncproto.EntityInspection {
		return readAudit(ctx, r, "WHERE (record_id = ? AND entity = ?) OR inspection_id = ? ORDER BY seq", recordID, entity, recordID)
	}
	return readAudit(ctx, r, "WHERE record_id = ? AND entity = ? ORDER BY seq", recordID, entity)
}

// AccountAudit returns the account entries (audit.ActionAccount) in seq
// order, by their partial index.
func AccountAudit(ctx context.Context, r Reader) ([]audit.Entry, error) {
	return readAudit(ctx, r, "WHERE action = '"+audit.ActionAccount+"' ORDER BY seq")
}

const sealCols = "month, first_seq, last_seq, counts, base_hash, head_hash, signed_at, key_id, public_key, signature"

// AuditSeals returns every seal by first entry.
func AuditSeals(ctx context.Context, r Reader) ([]audit.Seal, error) {
	rows, err := r.Query(ctx, "SELECT "+sealCols+" FROM audit_seals ORDER BY first_seq, month")
	if err != nil {
		return nil, fmt.Errorf("read audit seals: %w", err)
	}
	defer rows.Close()
	var out []audit.Seal
	for rows.Next() {
		var s audit.Seal
		var counts string
		var at int64
		if err := rows.Scan(&s.Month, &s.FirstSeq, &s.LastSeq, &counts, &s.BaseHash, &s.HeadHash, &at, &s.KeyID,
			&s.PublicKey, &s.Signature); err != nil {
			return nil, fmt.Errorf("read audit seals: %w", err)
		}
		if err := json.Unmarshal([]byte(counts), &s.Counts); err != nil {
			return nil, fmt.Errorf("audit seal %s: counts: %w", s.Month, err)
		}
		s.SignedAt = time.UnixMilli(at).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// AddAuditSeal inserts a seal; the store maps a duplicate month to
// conflict.
func AddAuditSeal(ctx context.Context, exec Exec, s *audit.Seal) error {
	counts, err := json.Marshal(s.Counts)
	if err != nil {
		return err
	}
	return exec(ctx, "INSERT INTO audit_seals ("+sealCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.Month, s.FirstSeq, s.LastSeq, string(counts), s.BaseHash, s.HeadHash, s.SignedAt.UnixMilli(), s.KeyID, s.PublicKey, s.Signature)
}
