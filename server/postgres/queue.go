package postgres

import (
	"context"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// InspectionQueue returns a page of the inspections q selects in the
// order s asks (sqlstore.InspectionQueue).
func (db *DB) InspectionQueue(ctx context.Context, q server.InspectionQuery, s server.QueueSort) ([]server.QueueEntry, int, error) {
	return sqlstore.InspectionQueue(ctx, reader{db.pool}, dialect, db.Get, q, s)
}
