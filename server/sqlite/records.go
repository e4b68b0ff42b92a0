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
	upserts map[uint64]string // by the set of field columns written
}

func newEntitySQL(e *server.Entity) *entitySQL {
	c := sqlstore.NewCodec(e, false)
	cols := c.Cols
	return &entitySQL{
		Codec:   c,
		get:     "SELECT " + cols + " FROM " + e.Name + " WHERE id = ?",
		in:      "SELECT " + cols + " FROM " + e.Name + " WHERE id IN (",
		upserts: map[uint64]string{},
	}
}

// upsert returns the INSERT … ON CONFLICT statement writing one row of the
// meta columns and the field columns in mask (sqlstore.Codec.UpsertCols).
// One
// row per statement, prepared once on the writer, is faster than many-row
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
	s.upserts[mask] = q
	return q
}

// scanRows reads and decodes every row selected with s.Cols (ReadRows).
// It closes rows.
func (s *entitySQL) scanRows(rows *sql.Rows) ([]*server.StoredRecord, error) {
	defer rows.Close()
	return s.ReadRows(rows)
}
