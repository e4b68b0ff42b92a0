package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file is the audit log (server.AuditTx, server.AuditStore); the SQL
// is sqlstore's. The table's triggers refuse updates, deletes and
// truncation, and the serving role should not own it (migration 005).

func execOn(q querier) sqlstore.Exec {
	return func(ctx context.Context, sql string, args ...any) error {
		_, err := exec(ctx, q, sql, args...)
		return err
	}
}

// AppendAudit links e after the log's head and inserts it in this
// transaction, which holds feedLock: appends are serialized across every
// server, so the chain is linear.
func (t *writeTx) AppendAudit(ctx context.Context, e *audit.Entry) error {
	return t.audit.Append(ctx, reader{t.tx}, execOn(t.tx), e)
}

// AuditEntries returns up to limit entries after seq.
func (db *DB) AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	return sqlstore.AuditEntries(ctx, reader{db.pool}, after, limit)
}

// AuditEntriesBefore returns the entries after seq up to the last made
// before t.
func (db *DB) AuditEntriesBefore(ctx context.Context, after int64, t time.Time) ([]audit.Entry, error) {
	return sqlstore.AuditEntriesBefore(ctx, reader{db.pool}, after, t)
}

// AccountAudit returns every account entry, in seq order.
func (db *DB) AccountAudit(ctx context.Context) ([]audit.Entry, error) {
	return sqlstore.AccountAudit(ctx, reader{db.pool})
}

// AuditHistory returns a record's entries and its inspection's.
func (db *DB) AuditHistory(ctx context.Context, entity, recordID string) ([]audit.Entry, error) {
	return sqlstore.AuditHistory(ctx, reader{db.pool}, entity, recordID)
}

// AuditSeals returns every seal.
func (db *DB) AuditSeals(ctx context.Context) ([]audit.Seal, error) {
	return sqlstore.AuditSeals(ctx, reader{db.pool})
}

// AddAuditSeal stores a seal. Errors: conflict (the month is sealed).
func (db *DB) AddAuditSeal(ctx context.Context, s *audit.Seal) error {
	err := sqlstore.AddAuditSeal(ctx, execOn(db.pool), s)
	if isUnique(err) {
		return server.Errorf(syncproto.CodeConflict, "%s 已封存", s.Month)
	}
	if err != nil {
		return fmt.Errorf("insert audit seal: %w", err)
	}
	return nil
}

// EarlyDelete returns the delete kept for a record, or nil.
func (t *writeTx) EarlyDelete(ctx context.Context, e *server.Entity, id string) (*server.EarlyDelete, error) {
	return t.early.Get(ctx, reader{t.tx}, e, id)
}

// PrefetchEarlyDeletes loads the deletes kept for these ids.
func (t *writeTx) PrefetchEarlyDeletes(ctx context.Context, e *server.Entity, ids []string) error {
	return t.early.Prefetch(ctx, reader{t.tx}, e, ids)
}

// PutEarlyDelete keeps d, replacing the delete kept for its record.
func (t *writeTx) PutEarlyDelete(ctx context.Context, d *server.EarlyDelete) error {
	return t.early.Put(ctx, execOn(t.tx), d)
}

// DropEarlyDelete forgets the delete kept for a record.
func (t *writeTx) DropEarlyDelete(ctx context.Context, e *server.Entity, id string) error {
	return t.early.Drop(ctx, execOn(t.tx), e, id)
}
