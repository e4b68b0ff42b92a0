package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// This file is the write transaction: server.WriteTx in a transaction
// holding feedLock (the only writer of the entity tables, on every
// server), with its record cache and batched flush.

// writeTx implements server.WriteTx in a PostgreSQL transaction that
// holds feedLock.
type writeTx struct {
	db *DB
	tx pgx.Tx
	// TxRecords is the transaction's record cache and write queue: as the
	// only writer (feedLock), its cache is the records' current state
	// until commit.
	sqlstore.TxRecords
	audit sqlstore.AuditAppender // AppendAudit (audit.go)
	early sqlstore.EarlyDeletes  // EarlyDelete and its kin (audit.go)
}

func (t *writeTx) Get(ctx context.Context, e *server.Entity, id string) (*server.StoredRecord, error) {
	if r, ok := t.Cached(e.Name, id); ok {
		return r, nil // nil: known absent (Prefetch)
	}
	es := t.db.stmts[e.Name]
	r, err := es.ScanRecord(queryRow(ctx, t.tx, es.get, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", e.Name, id, err)
	}
	t.Remember(r)
	return r, nil
}

// Prefetch reads the records of a batch in a few queries and caches them,
// absent ones included, so that the batch's Gets cost no query each.
func (t *writeTx) Prefetch(ctx context.Context, e *server.Entity, ids []string) error {
	es := t.db.stmts[e.Name]
	for _, id := range ids {
		t.ExpectAbsent(e.Name, id)
	}
	found, err := es.scanRows(query(ctx, t.tx, es.in, ids))
	if err != nil {
		return fmt.Errorf("prefetch %s: %w", e.Name, err)
	}
	for _, r := range found {
		t.Current(r)
	}
	return nil
}

// Put gives the record the next sequence number and queues it; queued
// records are written by flush before the transaction commits, in one
// pipelined batch. Until then Get answers from the cache.
func (t *writeTx) Put(ctx context.Context, r *server.StoredRecord) error {
	t.TxRecords.Put(r)
	return nil
}

// flush writes the queued records, entity by entity in catalog order (so
// a record's references are written before it).
func (t *writeTx) flush(ctx context.Context) error {
	pending := t.Pending()
	if len(pending) == 0 {
		return nil
	}
	rows := t.Encode(func(e *server.Entity) *sqlstore.Codec { return t.db.stmts[e.Name].Codec })
	// Each entity's rows, in catalog order, grouped by the columns they
	// write, in statements of upsertSizes rows.
	batch := &pgx.Batch{}
	var firsts []*server.StoredRecord // the first record of each statement
	for _, e := range server.Entities {
		es := t.db.stmts[e.Name]
		var masks []uint64
		byMask := map[uint64][]int{}
		for i, r := range pending {
			if r.Entity != e {
				continue
			}
			if rows[i].Err != nil {
				return rows[i].Err
			}
			m := rows[i].Mask
			if byMask[m] == nil {
				masks = append(masks, m)
			}
			byMask[m] = append(byMask[m], i)
		}
		for _, m := range masks {
			idx := byMask[m]
			for len(idx) > 0 {
				n := 1
				for _, size := range upsertSizes {
					if len(idx) >= size {
						n = size
						break
					}
				}
				args := make([]any, 0, n*len(rows[idx[0]].Args))
				for _, i := range idx[:n] {
					args = append(args, rows[i].Args...)
				}
				batch.Queue(es.upsert(m, n), args...)
				firsts = append(firsts, pending[idx[0]])
				idx = idx[n:]
			}
		}
	}
	br := t.tx.SendBatch(ctx, batch)
	for _, r := range firsts {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("write %s %s…: %w", r.Entity.Name, r.ID, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	t.Flushed()
	return nil
}

// Find returns the records whose field equals value, as this transaction
// sees them (queued writes included).
func (t *writeTx) Find(ctx context.Context, e *server.Entity, field, value string) ([]*server.StoredRecord, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	out, err := t.db.stmts[e.Name].scanRows(query(ctx, t.tx, t.db.findSQL(e, field), value))
	for i, r := range out { // prefer the cached (current) state
		out[i] = t.Current(r)
	}
	return out, err
}

// Find returns the records whose field equals value (read snapshot).
func (db *DB) Find(ctx context.Context, entity, field, value string) ([]*server.StoredRecord, error) {
	e := server.EntityByName(entity)
	if e == nil {
		return nil, fmt.Errorf("unknown entity %q", entity)
	}
	return db.stmts[e.Name].scanRows(query(ctx, db.pool, db.findSQL(e, field), value))
}

func (db *DB) findSQL(e *server.Entity, field string) string {
	if f, _ := e.Field(field); f == nil && field != "county" {
		panic("find by unknown field " + e.Name + "." + field)
	}
	return "SELECT " + db.stmts[e.Name].Cols + " FROM " + e.Name + " WHERE " + field + " = ? ORDER BY seq"
}

func (t *writeTx) AddConflicts(ctx context.Context, cs []server.Conflict) error {
	for _, c := range cs {
		if _, err := exec(ctx, t.tx, sqlstore.InsertConflict, sqlstore.ConflictArgs(c)...); err != nil {
			return fmt.Errorf("add conflict: %w", err)
		}
	}
	return nil
}

func (t *writeTx) GetBatch(ctx context.Context, deviceID, batchID string) (*server.Batch, error) {
	return getBatch(ctx, t.tx, deviceID, batchID)
}

// LastPushes returns the last stored push of each of these devices.
func (db *DB) LastPushes(ctx context.Context, deviceIDs []string) (map[string]*server.Batch, error) {
	return sqlstore.LastPushes(ctx, reader{db.pool}, deviceIDs)
}

func getBatch(ctx context.Context, q querier, deviceID, batchID string) (*server.Batch, error) {
	b := &server.Batch{DeviceID: deviceID, BatchID: batchID}
	var response string
	err := queryRow(ctx, q, `SELECT request_hash, response FROM push_batches WHERE device_id = ? AND batch_id = ?`,
		deviceID, batchID).Scan(&b.RequestHash, &response)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	b.Response = []byte(response)
	return b, err
}

func (t *writeTx) PutBatch(ctx context.Context, b *server.Batch) error {
	_, err := exec(ctx, t.tx, `INSERT INTO push_batches (device_id, batch_id, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)`,
		b.DeviceID, b.BatchID, b.RequestHash, string(b.Response), time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store batch: %w", err)
	}
	return nil
}

func (t *writeTx) MarkPushed(ctx context.Context, deviceID, batchID string, at time.Time) error {
	_, err := exec(ctx, t.tx, `UPDATE devices SET last_push_at = ?, last_seen_at = ?, last_batch_id = ? WHERE id = ?`,
		at.UnixMilli(), at.UnixMilli(), batchID, deviceID)
	return err
}
