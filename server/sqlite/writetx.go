package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	early sqlstore.EarlyDeletes  // EarlyDelete and its kin (audit.go)
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

// ExecContext runs a statement of fixed text on the transaction, prepared
// once on the writer connection (stmt). Text that varies with its
// arguments (an IN list of any length) goes to t.tx directly instead.
func (t *writeTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext is ExecContext's counterpart for queries.
func (t *writeTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext is ExecContext's counterpart for one-row queries.
func (t *writeTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		// A *sql.Row cannot be made with an error outside database/sql:
		// let the transaction prepare and report it.
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
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
	es := t.db.stmts[e.Name]
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		// The list is padded (repeating its last id) to one of a few
		// lengths, so that a few prepared statements serve every batch.
		size := chunk
		for _, n := range []int{1, 4, 16, 64, 256} {
			if len(part) <= n {
				size = n
				break
			}
		}
		args := make([]any, size)
		for i := range args {
			id := part[min(i, len(part)-1)]
			args[i] = id
			t.ExpectAbsent(e.Name, id)
		}
		st, err := t.stmt(ctx, es.in+placeholders(size)+")")
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", e.Name, err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", e.Name, err)
		}
		raw, found, err := es.ReadDecoded(rows)
		rows.Close()
		if err != nil {
			return fmt.Errorf("prefetch %s: %w", e.Name, err)
		}
		for i, r := range found {
			t.Current(r)
			t.Loaded(r, raw[i].Vals)
		}
	}
	return nil
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
	ctx = rowContext(ctx)
	// The rows are encoded on another core while this one writes them
	// (SQLite's work on one connection cannot be shared out).
	rows := t.EncodeAhead(func(e *server.Entity) *sqlstore.Codec { return t.db.stmts[e.Name].Codec })
	err := t.writeRows(ctx, pending, rows)
	rows.Done()
	if err != nil {
		return err
	}
	t.Flushed()
	return nil
}

// writeRows writes the encoded rows of the pending records.
func (t *writeTx) writeRows(ctx context.Context, pending []*server.StoredRecord, rows *sqlstore.Encoding) error {
	for _, e := range server.Entities {
		es := t.db.stmts[e.Name]
		for i, r := range pending {
			if r.Entity != e {
				continue
			}
			row := rows.Row(i)
			if row.Err != nil {
				return row.Err
			}
			if err := t.write(ctx, es, row); err != nil {
				return fmt.Errorf("write %s %s: %w", e.Name, r.ID, err)
			}
		}
	}
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
	rows, err := t.QueryContext(ctx, t.db.findSQL(e, field), value)
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

// rowContext is the context a transaction's statements run under when it
// runs one statement per row: ctx without its cancellation. The driver
// watches a cancellable context with a goroutine of its own for every
// statement it executes, a cost paid 500 times in a push of 500 records,
// while a transaction has no need of it: database/sql rolls back a
// transaction whose context (the one it began with) is done, so the
// statements after that fail, and its Commit refuses a done context. A
// request given up on still keeps nothing; only a statement already
// running is no longer interrupted, and each is one row's.
func rowContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

func (t *writeTx) AddConflicts(ctx context.Context, cs []server.Conflict) error {
	ctx = rowContext(ctx)
	st, err := t.stmt(ctx, sqlstore.InsertConflict)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := st.ExecContext(ctx, sqlstore.ConflictArgs(c)...); err != nil {
			return fmt.Errorf("add conflict: %w", err)
		}
	}
	return nil
}

func (t *writeTx) GetBatch(ctx context.Context, deviceID, batchID string) (*server.Batch, error) {
	return getBatch(ctx, t, deviceID, batchID)
}

// LastPushes returns the last stored push of each of these devices.
func (db *DB) LastPushes(ctx context.Context, deviceIDs []string) (map[string]*server.Batch, error) {
	return sqlstore.LastPushes(ctx, reader{db.read}, deviceIDs)
}

func getBatch(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, deviceID, batchID string) (*server.Batch, error) {
	b := &server.Batch{DeviceID: deviceID, BatchID: batchID}
	err := q.QueryRowContext(ctx, `SELECT request_hash, response FROM push_batches WHERE device_id = ? AND batch_id = ?`,
		deviceID, batchID).Scan(&b.RequestHash, &b.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

func (t *writeTx) PutBatch(ctx context.Context, b *server.Batch) error {
	_, err := t.ExecContext(ctx, `INSERT INTO push_batches (device_id, batch_id, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)`,
		b.DeviceID, b.BatchID, b.RequestHash, string(b.Response), time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store batch: %w", err)
	}
	return nil
}

func (t *writeTx) MarkPushed(ctx context.Context, deviceID, batchID string, at time.Time) error {
	_, err := t.ExecContext(ctx, `UPDATE devices SET last_push_at = ?, last_seen_at = ?, last_batch_id = ? WHERE id = ?`,
		at.UnixMilli(), at.UnixMilli(), batchID, deviceID)
	return err
}
