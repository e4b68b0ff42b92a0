package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinzhou-eco/fieldsync/server"
)

// This file is the read side of sync: the change feed, one record, and
// the device's acknowledged position.

// Changes returns the records in scope with seq > after, in seq order, at
// most limit, reading every table in one snapshot (a REPEATABLE READ
// transaction). As writers commit in seq order (feedLock), a snapshot holds
// every seq up to some number and none after it, so a page never skips a
// change that commits later. It first finds the page's last seq from the
// (seq, county) indexes, then reads only the rows of the page.
func (db *DB) Changes(ctx context.Context, scope server.Scope, after int64, limit int) ([]*server.StoredRecord, bool, error) {
	var out []*server.StoredRecord
	more := false
	err := db.readSnapshot(ctx, func(tx pgx.Tx) error {
		where, args := scopeWhere(scope)
		var seqs []int64
		for _, e := range server.Entities {
			rows, err := query(ctx, tx, "SELECT seq FROM "+e.Name+" WHERE seq > ?"+where+" ORDER BY seq LIMIT ?",
				append(append([]any{after}, args...), limit+1)...)
			if err != nil {
				return fmt.Errorf("scan feed of %s: %w", e.Name, err)
			}
			s, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return fmt.Errorf("scan feed of %s: %w", e.Name, err)
			}
			seqs = append(seqs, s...)
		}
		if len(seqs) == 0 {
			return nil
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		more = len(seqs) > limit
		if more {
			seqs = seqs[:limit]
		}
		upTo := seqs[len(seqs)-1]
		out = make([]*server.StoredRecord, 0, len(seqs))
		for _, e := range server.Entities {
			es := db.stmts[e.Name]
			recs, err := es.scanRows(query(ctx, tx, "SELECT "+es.cols+" FROM "+e.Name+" WHERE seq > ? AND seq <= ?"+where+" ORDER BY seq",
				append([]any{after, upTo}, args...)...))
			if err != nil {
				return fmt.Errorf("read feed of %s: %w", e.Name, err)
			}
			out = append(out, recs...)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, more, nil
}

// scopeWhere is the condition (" AND county = ANY(?)") and its argument
// that limit a query to scope: its counties and the global records (”).
func scopeWhere(s server.Scope) (string, []any) {
	if s.All {
		return "", nil
	}
	return " AND county = ANY(?)", []any{append([]string{""}, s.Counties...)}
}

// MarkPulled records a device's pull for sync health.
func (db *DB) MarkPulled(ctx context.Context, deviceID string, ackSeq int64, at time.Time) error {
	_, err := exec(ctx, db.pool, `UPDATE devices SET last_pull_at = ?, last_seen_at = ?, last_ack_seq = greatest(last_ack_seq, ?) WHERE id = ?`,
		at.UnixMilli(), at.UnixMilli(), ackSeq, deviceID)
	return err
}

// Get reads one record outside any write (nil if absent).
func (db *DB) Get(ctx context.Context, entity, id string) (*server.StoredRecord, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return nil, fmt.Errorf("unknown entity %q", entity)
	}
	es := db.stmts[e.Name]
	r, err := es.scanRecord(queryRow(ctx, db.pool, es.get, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return r, err
}
