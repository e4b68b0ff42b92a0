package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// This file is the read side of sync: the change feed, one record, and
// the device's acknowledged position.

// feed reads the rows of the records in scope with seq > after, in seq
// order, at most limit, every table in one snapshot. It first finds the
// page's last seq from the covering (seq, county) indexes, then reads only
// the rows of the page. Both queries name the feed index: walking it in seq
// order stops after one page, where an index on county would make SQLite
// sort every later row of the slice for each page.
func (db *DB) feed(ctx context.Context, scope server.Scope, after int64, limit int) ([]sqlstore.RawRow, bool, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	where, args := dialect.ScopeWhere(scope)
	var seqs []int64
	for _, e := range server.Entities {
		rows, err := db.queryRead(ctx, tx, "SELECT seq FROM "+e.Name+" INDEXED BY "+e.Name+"_feed WHERE seq > ?"+where+" ORDER BY seq LIMIT ?",
			append(append([]any{after}, args...), limit+1)...)
		if err != nil {
			return nil, false, fmt.Errorf("scan feed of %s: %w", e.Name, err)
		}
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, false, err
			}
			seqs = append(seqs, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, err
		}
	}
	if len(seqs) == 0 {
		return nil, false, nil
	}
	slices.Sort(seqs)
	more := len(seqs) > limit
	if more {
		seqs = seqs[:limit]
	}
	upTo := seqs[len(seqs)-1]
	out := make([]sqlstore.RawRow, 0, len(seqs))
	for _, e := range server.Entities {
		es := db.stmts[e.Name]
		rows, err := db.queryRead(ctx, tx, "SELECT "+es.Cols+" FROM "+e.Name+" INDEXED BY "+e.Name+"_feed WHERE seq > ? AND seq <= ?"+where+" ORDER BY seq",
			append([]any{after, upTo}, args...)...)
		if err != nil {
			return nil, false, fmt.Errorf("read feed of %s: %w", e.Name, err)
		}
		raw, err := es.RawRows(rows)
		rows.Close()
		if err != nil {
			return nil, false, fmt.Errorf("read feed of %s: %w", e.Name, err)
		}
		out = append(out, raw...)
	}
	sqlstore.SortBySeq(out)
	return out, more, nil
}

// MarkPulled records a device's pull for sync health.
func (db *DB) MarkPulled(ctx context.Context, deviceID string, ackSeq int64, at time.Time) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE devices SET last_pull_at = ?, last_seen_at = ?, last_ack_seq = max(last_ack_seq, ?) WHERE id = ?`,
			at.UnixMilli(), at.UnixMilli(), ackSeq, deviceID)
		return err
	})
}

// MarkPushRefused records a device's push refused whole, for sync health.
func (db *DB) MarkPushRefused(ctx context.Context, deviceID string, r server.RefusedPush) error {
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, sqlstore.MarkPushRefusedSQL, r.At.UnixMilli(), r.Code, r.Message, r.At.UnixMilli(), deviceID)
		return err
	})
}

// Get reads one record outside any write (nil if absent).
func (db *DB) Get(ctx context.Context, entity, id string) (*server.StoredRecord, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return nil, fmt.Errorf("unknown entity %q", entity)
	}
	es := db.stmts[e.Name]
	r, err := es.ScanRecord(db.read.QueryRowContext(ctx, es.get, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}
