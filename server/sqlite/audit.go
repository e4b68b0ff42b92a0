package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file is the audit log (server.AuditTx, server.AuditStore); the SQL
// is sqlstore's. The table's triggers refuse updates and deletes.

// txReader is the write transaction as a sqlstore.Reader.
type txReader struct{ tx querier }

func (r txReader) Query(ctx context.Context, q string, args ...any) (sqlstore.ReadRows, error) {
	rows, err := r.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (r txReader) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Scanner {
	return r.tx.QueryRowContext(ctx, q, args...)
}

// execer runs statements: a *sql.Tx, or the writeTx that prepares them once.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func execOn(tx execer) sqlstore.Exec {
	return func(ctx context.Context, q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
}

// AppendAudit links e after the log's head and inserts it in this
// transaction (the single writer: the head it reads is the last).
func (t *writeTx) AppendAudit(ctx context.Context, e *audit.Entry) error {
	return t.audit.Append(ctx, txReader{t}, execOn(t), e)
}

// AuditEntries returns up to limit entries after seq.
func (db *DB) AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	return sqlstore.AuditEntries(ctx, reader{db.read}, after, limit)
}

// AuditEntriesBefore returns the entries after seq up to the last made
// before t.
func (db *DB) AuditEntriesBefore(ctx context.Context, after int64, t time.Time) ([]audit.Entry, error) {
	return sqlstore.AuditEntriesBefore(ctx, reader{db.read}, after, t)
}

// AccountAudit returns every account entry, in seq order.
func (db *DB) AccountAudit(ctx context.Context) ([]audit.Entry, error) {
	return sqlstore.AccountAudit(ctx, reader{db.read})
}

// AuditHistory returns a record's entries and its inspection's.
func (db *DB) AuditHistory(ctx context.Context, entity, recordID string) ([]audit.Entry, error) {
	return sqlstore.AuditHistory(ctx, reader{db.read}, entity, recordID)
}

// AuditSeals returns every seal.
func (db *DB) AuditSeals(ctx context.Context) ([]audit.Seal, error) {
	return sqlstore.AuditSeals(ctx, reader{db.read})
}

// AddAuditSeal stores a seal. Errors: conflict (the month is sealed).
func (db *DB) AddAuditSeal(ctx context.Context, s *audit.Seal) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		err := sqlstore.AddAuditSeal(ctx, execOn(tx), s)
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return server.Errorf(syncproto.CodeConflict, "%s 已封存", s.Month)
		}
		if err != nil {
			return fmt.Errorf("insert audit seal: %w", err)
		}
		return nil
	})
}

// EarlyDelete returns the delete kept for a record, or nil.
func (t *writeTx) EarlyDelete(ctx context.Context, e *server.Entity, id string) (*server.EarlyDelete, error) {
	return t.early.Get(ctx, txReader{t}, e, id)
}

// PrefetchEarlyDeletes loads the deletes kept for these ids.
func (t *writeTx) PrefetchEarlyDeletes(ctx context.Context, e *server.Entity, ids []string) error {
	return t.early.Prefetch(ctx, txReader{t}, e, ids)
}

// PutEarlyDelete keeps d, replacing the delete kept for its record.
func (t *writeTx) PutEarlyDelete(ctx context.Context, d *server.EarlyDelete) error {
	return t.early.Put(ctx, execOn(t), d)
}

// DropEarlyDelete forgets the delete kept for a record.
func (t *writeTx) DropEarlyDelete(ctx context.Context, e *server.Entity, id string) error {
	return t.early.Drop(ctx, execOn(t), e, id)
}
