package sqlite

import (
	"database/sql"
	"strings"
	"sync"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// This file holds an entity's table statements; the conversion of records
// to and from rows is sqlstore.Codec, shared with the other SQL store.

// entitySQL holds the statements for one entity table, generated from the
// entity's field list so that one mechanism serves every entity.
type entitySQL struct {
	*sqlstore.Codec
	get string
	in  string // get by a list of ids: ends in "IN (", the caller adds the rest

	mu      sync.Mutex
	upserts map[uint64]string          // by the set of field columns written
	updates map[sqlstore.ColSet]string // by the set of columns changed
}

func newEntitySQL(e *server.Entity) *entitySQL {
	c := sqlstore.NewCodec(e, false)
	cols := c.Cols
	return &entitySQL{
		Codec:   c,
		get:     "SELECT " + cols + " FROM " + e.Name + " WHERE id = ?",
		in:      "SELECT " + cols + " FROM " + e.Name + " WHERE id IN (",
		upserts: map[uint64]string{},
		updates: map[sqlstore.ColSet]string{},
	}
}

// update returns the UPDATE statement writing the columns in set of the
// row of one id (its last argument), for a row the transaction read
// (sqlstore.EncodedRow.Update). Leaving out the columns a write did not
// change spares SQLite the upkeep of the indexes on them: a record sent
// again whole with one field edited rewrites the row and the feed index
// only.
func (s *entitySQL) update(set sqlstore.ColSet) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.updates[set]; ok {
		return q
	}
	cols := s.SetCols(set)
	for i := range cols {
		cols[i] += " = ?"
	}
	q := "UPDATE " + s.Entity.Name + " SET " + strings.Join(cols, ", ") + " WHERE id = ?"
	if len(s.updates) < sqlstore.MaxStatementTexts {
		s.updates[set] = q
	}
	return q
}

// upsert returns the INSERT … ON CONFLICT statement writing one row of the
// meta columns and the field columns in mask (sqlstore.Codec.UpsertCols).
// One row per statement, prepared once on the writer, is faster than many-row
// statements here: SQLite runs a multi-row VALUES upsert through a
// co-routine that costs more per row than it saves in calls (measured:
// flushing 500 records took 7.2–9.5 ms in statements of 64 rows, 4.9–6.8 ms
// row by row).
func (s *entitySQL) upsert(mask uint64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.upserts[mask]; ok {
		return q
	}
	cols, sets := s.UpsertCols(mask)
	q := "INSERT INTO " + s.Entity.Name + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) +
		") ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ", ")
	if len(s.upserts) < sqlstore.MaxStatementTexts {
		s.upserts[mask] = q
	}
	return q
}

// scanRows reads and decodes every row selected with s.Cols (ReadRows).
// It closes rows.
func (s *entitySQL) scanRows(rows *sql.Rows) ([]*server.StoredRecord, error) {
	defer rows.Close()
	return s.ReadRows(rows)
}
