package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// This file is the write transaction: server.WriteTx in a transaction
// holding feedLock (the only writer of the entity tables, on every
// server), with its record cache and batched flush.

// writeTx implements server.WriteTx in a PostgreSQL transaction that
// holds feedLock.
type writeTx struct {
	db  *DB
	tx  pgx.Tx
	seq int64
	// high is the greatest HLC of the records this transaction wrote, to
	// raise the stored high-water mark (see DB.HighHLC) at commit.
	high syncproto.HLC
	// cache holds the records this transaction has read or written: as the
	// only writer (feedLock), it is their current state until commit. It
	// spares a batch from re-reading the same county or parent for every
	// mutation.
	cache map[recordKey]*server.StoredRecord
	// pending are the records Put queued for flush, once each.
	pending []*server.StoredRecord
	queued  map[recordKey]bool
}

type recordKey struct{ entity, id string }

func (t *writeTx) Get(ctx context.Context, e *server.Entity, id string) (*server.StoredRecord, error) {
	if r, ok := t.cache[recordKey{e.Name, id}]; ok {
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
	t.remember(r)
	return r, nil
}

// Prefetch reads the records of a batch in a few queries and caches them,
// absent ones included, so that the batch's Gets cost no query each.
func (t *writeTx) Prefetch(ctx context.Context, e *server.Entity, ids []string) error {
	es := t.db.stmts[e.Name]
	if t.cache == nil {
		t.cache = map[recordKey]*server.StoredRecord{}
	}
	for _, id := range ids {
		if _, ok := t.cache[recordKey{e.Name, id}]; !ok {
			t.cache[recordKey{e.Name, id}] = nil
		}
	}
	found, err := es.scanRows(query(ctx, t.tx, es.in, ids))
	if err != nil {
		return fmt.Errorf("prefetch %s: %w", e.Name, err)
	}
	for _, r := range found {
		if t.cache[recordKey{e.Name, r.ID}] == nil { // never replace a newer, unflushed state
			t.remember(r)
		}
	}
	return nil
}

func (t *writeTx) remember(r *server.StoredRecord) {
	if t.cache == nil {
		t.cache = map[recordKey]*server.StoredRecord{}
	}
	t.cache[recordKey{r.Entity.Name, r.ID}] = r
}

// Put gives the record the next sequence number and queues it; queued
// records are written by flush before the transaction commits, in one
// pipelined batch. Until then Get answers from the cache.
func (t *writeTx) Put(ctx context.Context, r *server.StoredRecord) error {
	t.seq++
	r.Seq = t.seq
	k := recordKey{r.Entity.Name, r.ID}
	if !t.queued[k] {
		if t.queued == nil {
			t.queued = map[recordKey]bool{}
		}
		t.queued[k] = true
		t.pending = append(t.pending, r)
	}
	t.remember(r)
	return nil
}

// flush writes the queued records, entity by entity in catalog order (so
// a record's references are written before it).
func (t *writeTx) flush(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	// Encoding the rows is independent per record: spread it over the cores.
	type encoded struct {
		args []any
		mask uint64
		err  error
	}
	rows := make([]encoded, len(t.pending))
	highs := make([]syncproto.HLC, len(t.pending))
	par.Do(len(rows), func(i int) {
		r := t.pending[i]
		rows[i].args, rows[i].mask, rows[i].err = t.db.stmts[r.Entity.Name].RowArgs(r)
		highs[i] = r.State.Highest()
	})
	for _, h := range highs {
		if h.Compare(t.high) > 0 {
			t.high = h
		}
	}
	// Each entity's rows, in catalog order, grouped by the columns they
	// write, in statements of upsertSizes rows.
	batch := &pgx.Batch{}
	var firsts []*server.StoredRecord // the first record of each statement
	for _, e := range server.Entities {
		es := t.db.stmts[e.Name]
		var masks []uint64
		byMask := map[uint64][]int{}
		for i, r := range t.pending {
			if r.Entity != e {
				continue
			}
			if rows[i].err != nil {
				return rows[i].err
			}
			m := rows[i].mask
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
				args := make([]any, 0, n*len(rows[idx[0]].args))
				for _, i := range idx[:n] {
					args = append(args, rows[i].args...)
				}
				batch.Queue(es.upsert(m, n), args...)
				firsts = append(firsts, t.pending[idx[0]])
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
	t.pending, t.queued = nil, nil
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
		if c := t.cache[recordKey{e.Name, r.ID}]; c != nil {
			out[i] = c
		} else {
			t.remember(r)
		}
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
		if _, err := exec(ctx, t.tx, `INSERT INTO conflicts (entity, record_id, county, field, value, hlc, winner_hlc, reason, device_id, user_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Entity, c.RecordID, c.County, c.Field, string(c.Value), c.HLC, c.WinnerHLC,
			c.Reason, c.DeviceID, c.UserID, c.At.UnixMilli()); err != nil {
			return fmt.Errorf("add conflict: %w", err)
		}
	}
	return nil
}

func (t *writeTx) GetBatch(ctx context.Context, deviceID, batchID string) (*server.Batch, error) {
	b := &server.Batch{DeviceID: deviceID, BatchID: batchID}
	var response string
	err := queryRow(ctx, t.tx, `SELECT request_hash, response FROM push_batches WHERE device_id = ? AND batch_id = ?`,
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
