package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// This file is the read side of sync: the change feed, one record, and
// the device's acknowledged position.

// feed reads the rows of the records in scope with seq > after, in seq
// order, at most limit, every table in one snapshot (a REPEATABLE READ
// transaction). As writers commit in seq order (feedLock), a snapshot holds
// every seq up to some number and none after it, so a page never skips a
// change that commits later. It first finds the page's last seq from the
// (seq, county) indexes, in one query, then reads only the rows of the
// page, the tables' queries sent in one batch.
func (db *DB) feed(ctx context.Context, scope server.Scope, after int64, limit int) ([]sqlstore.RawRow, bool, error) {
	var out []sqlstore.RawRow
	more := false
	err := db.readSnapshot(ctx, func(tx pgx.Tx) error {
		where, args := feedScope(scope)
		// The page's positions: the first limit+1 of each table, merged.
		parts := make([]string, len(server.Entities))
		for i, e := range server.Entities {
			parts[i] = "(SELECT seq FROM " + e.Name + " WHERE seq > $1" + where + " ORDER BY seq LIMIT $2)"
		}
		rows, err := tx.Query(ctx, "SELECT seq FROM ("+strings.Join(parts, " UNION ALL ")+") AS feed ORDER BY seq LIMIT $2",
			append([]any{after, limit + 1}, args...)...)
		if err != nil {
			return fmt.Errorf("scan feed: %w", err)
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("scan feed: %w", err)
		}
		if len(seqs) == 0 {
			return nil
		}
		more = len(seqs) > limit
		if more {
			seqs = seqs[:limit]
		}
		upTo := seqs[len(seqs)-1]
		// The page's rows, every table's query sent at once.
		batch := &pgx.Batch{}
		for _, e := range server.Entities {
			batch.Queue("SELECT "+db.stmts[e.Name].Cols+" FROM "+e.Name+" WHERE seq > $1 AND seq <= $2"+where+" ORDER BY seq",
				append([]any{after, upTo}, args...)...)
		}
		br := tx.SendBatch(ctx, batch)
		defer br.Close()
		out = make([]sqlstore.RawRow, 0, len(seqs))
		for _, e := range server.Entities {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("read feed of %s: %w", e.Name, err)
			}
			raw, err := db.stmts[e.Name].RawRows(rows)
			rows.Close()
			if err != nil {
				return fmt.Errorf("read feed of %s: %w", e.Name, err)
			}
			out = append(out, raw...)
		}
		return br.Close()
	})
	if err != nil {
		return nil, false, err
	}
	sqlstore.SortBySeq(out)
	return out, more, nil
}

// feedScope is scopeWhere for the feed's queries, whose scope argument is
// their third ($3).
func feedScope(s server.Scope) (string, []any) {
	w, args := dialect.ScopeWhere(s)
	return strings.Replace(w, "?", "$3", 1), args
}

// MarkPulled records a device's pull for sync health.
func (db *DB) MarkPulled(ctx context.Context, deviceID string, ackSeq int64, at time.Time) error {
	_, err := exec(ctx, db.pool, `UPDATE devices SET last_pull_at = ?, last_seen_at = ?, last_ack_seq = greatest(last_ack_seq, ?) WHERE id = ?`,
		at.UnixMilli(), at.UnixMilli(), ackSeq, deviceID)
	return err
}

// MarkPushRefused records a device's push refused whole, for sync health.
func (db *DB) MarkPushRefused(ctx context.Context, deviceID string, r server.RefusedPush) error {
	_, err := exec(ctx, db.pool, sqlstore.MarkPushRefusedSQL, r.At.UnixMilli(), r.Code, r.Message, r.At.UnixMilli(), deviceID)
	return err
}

// Get reads one record outside any write (nil if absent).
func (db *DB) Get(ctx context.Context, entity, id string) (*server.StoredRecord, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return nil, fmt.Errorf("unknown entity %q", entity)
	}
	es := db.stmts[e.Name]
	r, err := es.ScanRecord(queryRow(ctx, db.pool, es.get, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return r, err
}
