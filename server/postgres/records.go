package postgres

import (
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
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
	in  string // get by a list of ids, bound as one text[]

	mu      sync.Mutex
	upserts map[upsertKey]string
}

func newEntitySQL(e *server.Entity) *entitySQL {
	c := sqlstore.NewCodec(e, true)
	cols := c.Cols
	return &entitySQL{
		Codec:   c,
		get:     "SELECT " + cols + " FROM " + e.Name + " WHERE id = ?",
		in:      "SELECT " + cols + " FROM " + e.Name + " WHERE id = ANY(?)",
		upserts: map[upsertKey]string{},
	}
}

// upsert returns the INSERT … ON CONFLICT statement writing n rows of the
// meta columns and the field columns in mask (sqlstore.Codec.UpsertCols).
// A transaction's rows are written several per statement (upsertSizes), the
// statements sent in one pipelined batch (writeTx.flush), each prepared
// once per connection by pgx's statement cache.
func (s *entitySQL) upsert(mask uint64, n int) string {
	key := upsertKey{mask, n}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.upserts[key]; ok {
		return q
	}
	cols, sets := s.UpsertCols(mask)
	var b strings.Builder
	b.WriteString("INSERT INTO " + s.Entity.Name + " (" + strings.Join(cols, ", ") + ") VALUES ")
	arg := 0
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			arg++
			b.WriteString("$" + strconv.Itoa(arg))
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ", "))
	q := b.String()
	if len(s.upserts) < sqlstore.MaxStatementTexts {
		s.upserts[key] = q
	}
	return q
}

// upsertKey names an upsert statement: the field columns it writes and
// its number of rows.
type upsertKey struct {
	mask uint64
	rows int
}

// upsertSizes are the row counts of the upsert statements, largest first:
// a run of rows with the same columns is written in statements of these
// sizes, so that few statements serve every batch.
var upsertSizes = []int{64, 16, 4, 1}

// scanRows reads and decodes every row selected with s.Cols (ReadRows).
// It closes rows; err is the error of the query that made them.
func (s *entitySQL) scanRows(rows pgx.Rows, err error) ([]*server.StoredRecord, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return s.ReadRows(rows)
}
