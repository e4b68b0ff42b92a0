package sqlstore

import (
	"context"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Reader runs a store's read queries, written with ? placeholders (a store
// numbers them if its driver needs it): database/sql and pgx behind one
// interface, so that reads which differ only in the driver call are
// written once, here.
type Reader interface {
	Query(ctx context.Context, q string, args ...any) (ReadRows, error)
	QueryRow(ctx context.Context, q string, args ...any) Scanner
}

// ReadRows is a result set a Reader returns; the caller closes it.
type ReadRows interface {
	Rows
	Close()
}

// Page returns the records of c's entity matching where (a WHERE clause
// and its arguments) in order, limit from offset (50 when limit is not
// positive), and how many match in all.
func Page(ctx context.Context, r Reader, c *Codec, where string, args []any, order string, limit, offset int) ([]*server.StoredRecord, int, error) {
	name := c.Entity.Name
	var total int
	if err := r.QueryRow(ctx, "SELECT count(*) FROM "+name+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", name, err)
	}
	if limit <= 0 {
		limit = 50
	}
	rows, err := r.Query(ctx, "SELECT "+c.Cols+" FROM "+name+where+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", name, err)
	}
	defer rows.Close()
	out, err := c.ReadRows(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", name, err)
	}
	return out, total, nil
}

// InspectionQueue returns a page of the inspections q selects in the
// order s asks (Dialect.QueueSQL), with the inspector's name and the
// counts a reviewer judges by, and how many q selects in all; get reads
// each inspection. The counts are computed per page row by correlated
// subqueries, so sorting on them reads every selected inspection's
// photos: fine for a county's queue, to be indexed if a city-wide
// unfiltered sort grows slow.
func InspectionQueue(ctx context.Context, r Reader, d *Dialect, get func(ctx context.Context, entity, id string) (*server.StoredRecord, error),
	q server.InspectionQuery, s server.QueueSort) ([]server.QueueEntry, int, error) {
	w, args := d.InspectionWhere(q, true)
	sel, err := d.QueueSQL(w, s)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := r.QueryRow(ctx, "SELECT count(*) FROM inspection"+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count inspections: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := r.Query(ctx, sel, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("inspection queue: %w", err)
	}
	ids, out, err := ReadQueueEntries(rows)
	rows.Close()
	if err != nil {
		return nil, 0, err
	}
	for i, id := range ids {
		if out[i].Record, err = get(ctx, syncproto.EntityInspection, id); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}
