package sqlite

import (
	"context"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// InspectionQueue returns a page of the inspections q selects in the
// order s asks (sqlstore.Dialect.QueueSQL), with the inspector's name and
// the counts a reviewer judges by, and how many q selects in all. The
// counts are computed per page row by correlated subqueries, so sorting on
// them reads every selected inspection's photos: fine for a county's
// queue, to be indexed if a city-wide unfiltered sort grows slow.
func (db *DB) InspectionQueue(ctx context.Context, q server.InspectionQuery, s server.QueueSort) ([]server.QueueEntry, int, error) {
	w, args := dialect.InspectionWhere(q, true)
	sel, err := dialect.QueueSQL(w, s)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM inspection"+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count inspections: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.read.QueryContext(ctx, sel, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("inspection queue: %w", err)
	}
	ids, out, err := sqlstore.ReadQueueEntries(rows)
	rows.Close()
	if err != nil {
		return nil, 0, err
	}
	for i, id := range ids {
		r, err := db.Get(ctx, syncproto.EntityInspection, id)
		if err != nil {
			return nil, 0, err
		}
		out[i].Record = r
	}
	return out, total, nil
}
