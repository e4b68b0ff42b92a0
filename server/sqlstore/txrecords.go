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
func (c *TxRecords) Flushed() { c.pending, c.queued = nil, nil }

// EncodedRow is a pending record encoded as upsert arguments
// (Codec.RowArgs).
type EncodedRow struct {
	Args []any
	Mask uint64
	Err  error
}

// Encode encodes the pending records as rows, in Pending's order, with
// codec the codec of an entity's table, and raises High to the greatest
// HLC they hold. Encoding is independent per record: it is spread over
// the cores.
func (c *TxRecords) Encode(codec func(*server.Entity) *Codec) []EncodedRow {
	rows := make([]EncodedRow, len(c.pending))
	highs := make([]syncproto.HLC, len(c.pending))
	par.Do(len(rows), func(i int) {
		r := c.pending[i]
		rows[i].Args, rows[i].Mask, rows[i].Err = codec(r.Entity).RowArgs(r)
		highs[i] = r.State.Highest()
	})
	for _, h := range highs {
		if h.Compare(c.High) > 0 {
			c.High = h
		}
	}
	return rows
}
