package sqlstore

import (
	"iter"

	"github.com/xinzhou-eco/fieldsync/internal/par"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TxRecords is what a write transaction (server.WriteTx) keeps of the
// records it reads and writes: its cache, the records Put queued for the
// store's flush, the feed sequence it has reached and the greatest HLC it
// wrote. The zero value is empty, Seq 0.
type TxRecords struct {
	// Seq is the feed sequence number last given (Put); the store sets it
	// to the stored one when the transaction begins.
	Seq int64
	// High is the greatest HLC of the records Encode encoded, to raise the
	// stored high-water mark (the stores' HighHLC) at commit.
	High syncproto.HLC
	// cache holds the records this transaction has read or written: as the
	// only writer, it is their current state until commit. It spares a
	// batch from re-reading the same county or parent for every mutation.
	// A nil record is one known absent (ExpectAbsent).
	cache map[recordKey]*server.StoredRecord
	// pending are the records Put queued for flush, once each.
	pending []*server.StoredRecord
	queued  map[recordKey]bool
	// stored holds, for the records a store said it read (Loaded) or
	// wrote (Encode of an update), the values of their rows as the table
	// now holds them (Cols order), so that a flush writes only the columns
	// a record changed. written are the values Encode encoded, which
	// become stored at Flushed.
	stored  map[recordKey][]any
	written map[recordKey][]any
	// after are the functions AfterCommit queued, by key.
	after     []func()
	afterKeys map[string]bool
}

// AfterCommit queues fn to run once the transaction has committed: once
// per key (the first fn queued under it), and not at all if it rolls
// back. The store runs them (Committed) after the commit returns.
func (c *TxRecords) AfterCommit(key string, fn func()) {
	if c.afterKeys[key] {
		return
	}
	if c.afterKeys == nil {
		c.afterKeys = map[string]bool{}
	}
	c.afterKeys[key] = true
	c.after = append(c.after, fn)
}

// Committed runs the functions AfterCommit queued, in order. A store
// calls it once the transaction has committed.
func (c *TxRecords) Committed() {
	for _, fn := range c.after {
		fn()
	}
}

type recordKey struct{ entity, id string }

// Cached returns the cached state of a record; ok is false if it is not
// cached, true with a nil record if it is known absent.
func (c *TxRecords) Cached(entity, id string) (r *server.StoredRecord, ok bool) {
	r, ok = c.cache[recordKey{entity, id}]
	return r, ok
}

// Remember caches r as its record's current state.
func (c *TxRecords) Remember(r *server.StoredRecord) {
	if c.cache == nil {
		c.cache = map[recordKey]*server.StoredRecord{}
	}
	c.cache[recordKey{r.Entity.Name, r.ID}] = r
}

// ExpectAbsent caches a record not cached yet as absent, before a query
// that caches those it finds (Current): a prefetch, after which a Get of
// an id it did not find costs no query.
func (c *TxRecords) ExpectAbsent(entity, id string) {
	if c.cache == nil {
		c.cache = map[recordKey]*server.StoredRecord{}
	}
	if _, ok := c.cache[recordKey{entity, id}]; !ok {
		c.cache[recordKey{entity, id}] = nil
	}
}

// Current returns the current state of a record the store read as r: the
// cached one if there is one (never replaced by what was read: it may be a
// newer, unflushed state), else r, which it caches.
func (c *TxRecords) Current(r *server.StoredRecord) *server.StoredRecord {
	if cached := c.cache[recordKey{r.Entity.Name, r.ID}]; cached != nil {
		return cached
	}
	c.Remember(r)
	return r
}

// CachedOf yields the cached records (not the known absent) of an entity.
func (c *TxRecords) CachedOf(entity string) iter.Seq[*server.StoredRecord] {
	return func(yield func(*server.StoredRecord) bool) {
		for k, r := range c.cache {
			if k.entity != entity || r == nil {
				continue
			}
			if !yield(r) {
				return
			}
		}
	}
}

// Put gives the record the next sequence number and queues it for the
// store's flush (Pending), once however often it is put; until then it is
// the cached state.
func (c *TxRecords) Put(r *server.StoredRecord) {
	c.Seq++
	r.Seq = c.Seq
	k := recordKey{r.Entity.Name, r.ID}
	if !c.queued[k] {
		if c.queued == nil {
			c.queued = map[recordKey]bool{}
		}
		c.queued[k] = true
		c.pending = append(c.pending, r)
	}
	c.Remember(r)
}

// Pending are the records queued since the last flush, in the order first
// put.
func (c *TxRecords) Pending() []*server.StoredRecord { return c.pending }

// Flushed empties the queue: the store has written every pending record.
// The rows Encode encoded as updates are now as it encoded them; those it
// encoded as upserts are no longer known (an upsert writes only the
// columns a record has).
func (c *TxRecords) Flushed() {
	for _, r := range c.pending {
		k := recordKey{r.Entity.Name, r.ID}
		if vals, ok := c.written[k]; ok {
			c.stored[k] = vals
		} else {
			delete(c.stored, k)
		}
	}
	c.pending, c.queued, c.written = nil, nil, nil
}

// Loaded records that the store read the row of r with these values
// (Cols order), unless it knows the row already: a later flush of r then
// updates only the columns that differ (EncodedRow.Update). A store calls
// it only for rows it read inside the write transaction, as the only
// writer, so that they are what the table holds until it writes them.
func (c *TxRecords) Loaded(r *server.StoredRecord, vals []any) {
	k := recordKey{r.Entity.Name, r.ID}
	if _, ok := c.stored[k]; ok {
		return
	}
	if c.stored == nil {
		c.stored = map[recordKey][]any{}
	}
	c.stored[k] = vals
}

// EncodedRow is a pending record encoded for the store's flush.
type EncodedRow struct {
	// Update is set for a record whose row the transaction knows
	// (Loaded): Args are then the new values of the columns Changed
	// names, in Cols order, then the record's id, for an UPDATE of those
	// columns only. Otherwise Args and Mask are those of an upsert of the
	// record (Codec.RowArgs).
	Update  bool
	Changed ColSet
	Args    []any
	Mask    uint64
	Err     error
}

// Encode encodes the pending records as rows, in Pending's order, with
// codec the codec of an entity's table, and raises High to the greatest
// HLC they hold. Encoding is independent per record: it is spread over
// the cores.
func (c *TxRecords) Encode(codec func(*server.Entity) *Codec) []EncodedRow {
	e := c.newEncoding(codec)
	par.Do(len(e.rows), e.encode)
	e.finish()
	return e.rows
}

// EncodeAhead encodes the pending records as Encode does, but in Pending's
// order on a goroutine of its own, and returns at once: a store that
// writes rows one at a time on its connection writes each as soon as it
// is encoded (Encoding.Row) while the next ones are. The store must call
// Encoding.Done before it returns, written or not.
func (c *TxRecords) EncodeAhead(codec func(*server.Entity) *Codec) *Encoding {
	e := c.newEncoding(codec)
	e.pipe = par.Ahead(len(e.rows), e.encode)
	return e
}

// Encoding is the encoding of a transaction's pending records (Encode,
// EncodeAhead).
type Encoding struct {
	c       *TxRecords
	codec   func(*server.Entity) *Codec
	rows    []EncodedRow
	highs   []syncproto.HLC
	written [][]any
	pipe    *par.Pipe // EncodeAhead's
}

func (c *TxRecords) newEncoding(codec func(*server.Entity) *Codec) *Encoding {
	n := len(c.pending)
	return &Encoding{c: c, codec: codec, rows: make([]EncodedRow, n), highs: make([]syncproto.HLC, n), written: make([][]any, n)}
}

// Row returns pending record i's row, once it is encoded.
func (e *Encoding) Row(i int) EncodedRow {
	e.pipe.Wait(i)
	return e.rows[i]
}

// Done waits until every row is encoded and then does what Encode does
// after encoding: the rows encoded as updates are noted for Flushed, and
// High is raised.
func (e *Encoding) Done() {
	e.pipe.Done()
	e.finish()
}

// encode encodes pending record i. It reads only what the transaction
// knew before encoding began, so that records are encoded concurrently.
func (e *Encoding) encode(i int) {
	r := e.c.pending[i]
	row := &e.rows[i]
	e.highs[i] = r.State.Highest()
	cd := e.codec(r.Entity)
	stored, ok := e.c.stored[recordKey{r.Entity.Name, r.ID}]
	if !ok {
		row.Args, row.Mask, row.Err = cd.RowArgs(r)
		return
	}
	vals, _, err := cd.rowValues(r, stored)
	if err != nil {
		row.Err = err
		return
	}
	row.Update, e.written[i] = true, vals
	row.Changed, row.Args = cd.Changed(stored, vals)
	row.Args = append(row.Args, r.ID)
}

func (e *Encoding) finish() {
	c := e.c
	for i, vals := range e.written {
		if vals != nil {
			if c.written == nil {
				c.written = map[recordKey][]any{}
			}
			c.written[recordKey{c.pending[i].Entity.Name, c.pending[i].ID}] = vals
		}
	}
	for _, h := range e.highs {
		if h.Compare(c.High) > 0 {
			c.High = h
		}
	}
}

// InsertConflict adds a lost value to the conflict log, unless the log
// already holds the same value of the same field with the same HLC (a
// mutation sent again under a new batch id loses again the same way:
// one loss, one entry). Its arguments are ConflictArgs.
const InsertConflict = `INSERT INTO conflicts (entity, record_id, county, field, value, hlc, winner_hlc, reason, device_id, user_id, created_at)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
	WHERE NOT EXISTS (SELECT 1 FROM conflicts WHERE entity = ? AND record_id = ? AND field = ? AND hlc = ? AND value = ?)`

// ConflictArgs are InsertConflict's arguments for c.
func ConflictArgs(c server.Conflict) []any {
	v := string(c.Value)
	return []any{c.Entity, c.RecordID, c.County, c.Field, v, c.HLC, c.WinnerHLC, c.Reason, c.DeviceID, c.UserID, c.At.UnixMilli(),
		c.Entity, c.RecordID, c.Field, c.HLC, v}
}
