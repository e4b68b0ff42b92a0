package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// This file is the write transaction: server.WriteTx on the single
// writer connection, with its record cache and batched flush.

// writeTx implements server.WriteTx on the writer connection, preparing
// each statement once per transaction.
type writeTx struct {
	db    *DB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// TxRecords is the transaction's record cache and write queue: as the
	// only writer, its cache is the records' current state until commit.
	sqlstore.TxRecords
	audit sqlstore.AuditAppender // AppendAudit (audit.go)
}

func (t *writeTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s := t.stmts[q]; s != nil {
		return s, nil
	}
	var s *sql.Stmt
	if shared := t.db.prepared[q]; shared != nil {
		s = t.tx.StmtContext(ctx, shared)
	} else {
		var err error
		if s, err = t.tx.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		t.db.wanted = append(t.db.wanted, q)
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = s
	return s, nil
}

func (t *writeTx) closeStmts() {
	for _, s := range t.stmts {
		s.Close()
	}
}

func (t *writeTx) Get(ctx context.Context, e *server.Entity, id string) (*server.StoredRecord, error) {
	if r, ok := t.Cached(e.Name, id); ok {
		return r, nil // nil: known absent (Prefetch)
	}
	es := t.db.stmts[e.Name]
	st, err := t.stmt(ctx, es.get)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", e.Name, id, err)
	}
	raw, err := es.RawRows(rows)
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", e.Name, id, err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	rs, err := sqlstore.DecodeRows(raw)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", e.Name, id, err)
	}
	t.Remember(rs[0])
	t.Loaded(rs[0], raw[0].Vals)
	return rs[0], nil
}

// Prefetch reads the records of a batch in a few queries and caches them,
// absent ones included, so that the batch's Gets cost no query each.
func (t *writeTx) Prefetch(ctx context.Context, e *server.Entity, ids []string) error {
	for _, id := range ids {
		t.ExpectAbsent(e.Name, id)
	}
	recs, vals, err := t.db.readIDs(ctx, e, ids, func(q string, args ...any) (*sql.Rows, error) {
		st, err := t.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	})
	if err != nil {
		return fmt.Errorf("prefetch %s: %w", e.Name, err)
	}
	t.adopt(recs, vals)
	return nil
}

// adopt caches records read in this transaction, or read before it in a
// snapshot that is still current, as the rows the table holds.
func (t *writeTx) adopt(recs []*server.StoredRecord, vals [][]any) {
	for i, r := range recs {
		t.Current(r)
		t.Loaded(r, vals[i])
	}
}

// readIDs reads and decodes the records of e with these ids, running its
// statements with query, a few hundred ids a statement. The list is padded
// (repeating its last id) to one of a few lengths, so that a few prepared
// statements serve every batch.
func (db *DB) readIDs(ctx context.Context, e *server.Entity, ids []string, query func(q string, args ...any) (*sql.Rows, error)) ([]*server.StoredRecord, [][]any, error) {
	es := db.stmts[e.Name]
	const chunk = 500
	var raw []sqlstore.RawRow
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		size := chunk
		for _, n := range []int{1, 4, 16, 64, 256} {
			if len(part) <= n {
				size = n
				break
			}
		}
		args := make([]any, size)
		for i := range args {
			args[i] = part[min(i, len(part)-1)]
		}
		rows, err := query(es.in+placeholders(size)+")", args...)
		if err != nil {
			return nil, nil, err
		}
		got, err := es.RawRows(rows)
		rows.Close()
		if err != nil {
			return nil, nil, err
		}
		raw = append(raw, got...)
	}
	recs, err := sqlstore.DecodeRows(raw)
	if err != nil {
		return nil, nil, err
	}
	vals := make([][]any, len(raw))
	for i := range raw {
		vals[i] = raw[i].Vals
	}
	return recs, vals, nil
}

// aheadRead is the records a push names, read before its write
// transaction (DB.ReadAhead).
type aheadRead struct {
	seq  int64 // the feed sequence of the snapshot they were read in
	ids  map[*server.Entity][]string
	recs []*server.StoredRecord
	vals [][]any
}

// ReadAhead reads the records with these ids in one read snapshot, with
// the feed sequence number it had. Every write of a record advances that
// number, so a write transaction that finds it unchanged may take the
// records as current (Adopt) instead of reading them under the writer's
// lock.
func (db *DB) ReadAhead(ctx context.Context, ids map[*server.Entity][]string) (server.ReadAhead, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a := &aheadRead{ids: ids}
	var seq string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
		return nil, fmt.Errorf("read seq: %w", err)
	}
	if a.seq, err = strconv.ParseInt(seq, 10, 64); err != nil {
		return nil, fmt.Errorf("parse seq: %w", err)
	}
	for e, list := range ids {
		recs, vals, err := db.readIDs(ctx, e, list, func(q string, args ...any) (*sql.Rows, error) {
			return db.queryRead(ctx, tx, q, args...)
		})
		if err != nil {
			return nil, fmt.Errorf("read ahead %s: %w", e.Name, err)
		}
		a.recs, a.vals = append(a.recs, recs...), append(a.vals, vals...)
	}
	return a, nil
}

// maxChangedSince bounds the rows Adopt reads to learn which of its
// records were written after the snapshot; past it, the transaction
// reads them all again.
const maxChangedSince = 2000

// Adopt caches the records read ahead in tx, as Prefetch of their ids
// would. Those written since the snapshot (a later sequence number: every
// write of a record gives it one) are read again, in the transaction; when
// many records were written since, all are.
func (a *aheadRead) Adopt(ctx context.Context, wtx server.WriteTx) (bool, error) {
	t, ok := wtx.(*writeTx)
	if !ok || len(t.Pending()) > 0 || t.Seq < a.seq {
		return false, nil
	}
	changed := map[string]bool{} // entity + "/" + id
	if t.Seq != a.seq {
		n := 0
		for e := range a.ids {
			st, err := t.stmt(ctx, "SELECT id FROM "+e.Name+" INDEXED BY "+e.Name+"_feed WHERE seq > ? LIMIT ?")
			if err != nil {
				return false, err
			}
			rows, err := st.QueryContext(ctx, a.seq, maxChangedSince+1)
			if err != nil {
				return false, err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return false, err
				}
				changed[e.Name+"/"+id] = true
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return false, err
			}
			if n > maxChangedSince {
				return false, nil
			}
		}
	}
	for e, list := range a.ids {
		var again []string
		for _, id := range list {
			if changed[e.Name+"/"+id] {
				again = append(again, id)
			} else {
				t.ExpectAbsent(e.Name, id)
			}
		}
		if len(again) > 0 {
			if err := t.Prefetch(ctx, e, again); err != nil {
				return false, err
			}
		}
	}
	for i, r := range a.recs {
		if !changed[r.Entity.Name+"/"+r.ID] {
			t.Current(r)
			t.Loaded(r, a.vals[i])
		}
	}
	return true, nil
}

// Put gives the record the next sequence number and queues it; queued
// records are written by flush before the transaction commits, many rows
// per statement. Until then Get answers from the cache.
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
	for _, e := range server.Entities {
		es := t.db.stmts[e.Name]
		for i, r := range pending {
			if r.Entity != e {
				continue
			}
			if rows[i].Err != nil {
				return rows[i].Err
			}
			if err := t.write(ctx, es, rows[i]); err != nil {
				return fmt.Errorf("write %s %s: %w", e.Name, r.ID, err)
			}
		}
	}
	t.Flushed()
	return nil
}

// write writes one encoded record: an update of the columns it changed in
// a row the transaction read, else an upsert.
func (t *writeTx) write(ctx context.Context, es *entitySQL, row sqlstore.EncodedRow) error {
	if !row.Update {
		st, err := t.stmt(ctx, es.upsert(row.Mask))
		if err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, row.Args...)
		return err
	}
	if row.Changed.IsEmpty() {
		return nil
	}
	st, err := t.stmt(ctx, es.update(row.Changed))
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, row.Args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		// The row was read in this transaction: it cannot be gone.
		return fmt.Errorf("update changed %d rows, want 1 (%v)", n, err)
	}
	return nil
}

// Find returns the records whose field equals value, as this transaction
// sees them (queued writes included).
func (t *writeTx) Find(ctx context.Context, e *server.Entity, field, value string) ([]*server.StoredRecord, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, t.db.findSQL(e, field), value)
	if err != nil {
		return nil, err
	}
	out, err := t.db.scanAll(e, rows)
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
	rows, err := db.read.QueryContext(ctx, db.findSQL(e, field), value)
	if err != nil {
		return nil, err
	}
	return db.scanAll(e, rows)
}

func (db *DB) findSQL(e *server.Entity, field string) string {
	if f, _ := e.Field(field); f == nil && field != "county" {
		panic("find by unknown field " + e.Name + "." + field)
	}
	return "SELECT " + db.stmts[e.Name].Cols + " FROM " + e.Name + " WHERE " + field + " = ? ORDER BY seq"
}

func (db *DB) scanAll(e *server.Entity, rows *sql.Rows) ([]*server.StoredRecord, error) {
	return db.stmts[e.Name].scanRows(rows)
}

func (t *writeTx) AddConflicts(ctx context.Context, cs []server.Conflict) error {
	st, err := t.stmt(ctx, `INSERT INTO conflicts (entity, record_id, county, field, value, hlc, winner_hlc, reason, device_id, user_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := st.ExecContext(ctx, c.Entity, c.RecordID, c.County, c.Field, string(c.Value), c.HLC, c.WinnerHLC,
			c.Reason, c.DeviceID, c.UserID, c.At.UnixMilli()); err != nil {
			return fmt.Errorf("add conflict: %w", err)
		}
	}
	return nil
}

func (t *writeTx) GetBatch(ctx context.Context, deviceID, batchID string) (*server.Batch, error) {
	b := &server.Batch{DeviceID: deviceID, BatchID: batchID}
	err := t.tx.QueryRowContext(ctx, `SELECT request_hash, response FROM push_batches WHERE device_id = ? AND batch_id = ?`,
		deviceID, batchID).Scan(&b.RequestHash, &b.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

func (t *writeTx) PutBatch(ctx context.Context, b *server.Batch) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO push_batches (device_id, batch_id, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)`,
		b.DeviceID, b.BatchID, b.RequestHash, string(b.Response), time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store batch: %w", err)
	}
	return nil
}

func (t *writeTx) MarkPushed(ctx context.Context, deviceID, batchID string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE devices SET last_push_at = ?, last_seen_at = ?, last_batch_id = ? WHERE id = ?`,
		at.UnixMilli(), at.UnixMilli(), batchID, deviceID)
	return err
}
