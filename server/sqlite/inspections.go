package sqlite

import (
	"context"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Inspections returns a page of the inspections q selects, newest first,
// and how many it selects in all.
func (db *DB) Inspections(ctx context.Context, q server.InspectionQuery) ([]*server.StoredRecord, int, error) {
	w, args := dialect.InspectionWhere(q, true)
	return db.page(ctx, server.EntityByName(syncproto.EntityInspection), w, args, dialect.InspectionOrder(), q.Limit, q.Offset)
}

// page returns the records of e matching where (sqlstore.Page).
func (db *DB) page(ctx context.Context, e *server.Entity, where string, args []any, order string, limit, offset int) ([]*server.StoredRecord, int, error) {
	return sqlstore.Page(ctx, reader{db.read}, db.stmts[e.Name].Codec, where, args, order, limit, offset)
}

// InspectionCounts returns how many inspections q selects in each county
// of its scope, whatever q.County says.
func (db *DB) InspectionCounts(ctx context.Context, q server.InspectionQuery) (map[string]int, error) {
	return sqlstore.InspectionCounts(ctx, reader{db.read}, dialect, q)
}

// InspectionTally counts the inspections q selects by county, checklist and
// status, in every county of its scope whatever q.County says.
func (db *DB) InspectionTally(ctx context.Context, q server.InspectionQuery) ([]server.Tally, error) {
	return sqlstore.InspectionTally(ctx, reader{db.read}, dialect, q)
}
