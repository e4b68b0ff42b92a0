package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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

// InspectionTally counts the inspections q selects by county, checklist and
// status, in every county of its scope whatever q.County says.
func InspectionTally(ctx context.Context, r Reader, d *Dialect, q server.InspectionQuery) ([]server.Tally, error) {
	w, args := d.InspectionWhere(q, false)
	rows, err := r.Query(ctx, "SELECT county, coalesce(template_id, ''), status, count(*) FROM inspection"+w+
		" GROUP BY county, template_id, status ORDER BY county, template_id"+d.NullsFirst+", status"+d.NullsFirst, args...)
	if err != nil {
		return nil, fmt.Errorf("tally inspections: %w", err)
	}
	defer rows.Close()
	return ReadTallies(rows)
}

// InspectionCounts returns how many inspections q selects in each county
// of its scope, whatever q.County says.
func InspectionCounts(ctx context.Context, r Reader, d *Dialect, q server.InspectionQuery) (map[string]int, error) {
	tallies, err := InspectionTally(ctx, r, d, q)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, t := range tallies {
		out[t.County] += t.N
	}
	return out, nil
}

// Live returns the live records of c's entity in scope (s.All for every
// county), ordered by id.
func Live(ctx context.Context, r Reader, c *Codec, d *Dialect, s server.Scope) ([]*server.StoredRecord, error) {
	where, args := d.ScopeWhere(s)
	rows, err := r.Query(ctx, "SELECT "+c.Cols+" FROM "+c.Entity.Name+" WHERE deleted_hlc = ''"+where+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.Entity.Name, err)
	}
	defer rows.Close()
	recs, err := c.ReadRows(rows)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.Entity.Name, err)
	}
	return recs, nil
}

// TaskProgress returns the live progress rows (task_progress) in scope.
func TaskProgress(ctx context.Context, r Reader, c *Codec, d *Dialect, s server.Scope) ([]server.TaskProgress, error) {
	recs, err := Live(ctx, r, c, d, s)
	if err != nil {
		return nil, err
	}
	out := make([]server.TaskProgress, len(recs))
	for i, rec := range recs {
		out[i] = server.TaskProgressOf(rec)
	}
	return out, nil
}

// FeedHead returns the last position the change feed has numbered (the
// meta row every write transaction advances with its changes).
func FeedHead(ctx context.Context, r Reader) (int64, error) {
	var s string
	if err := r.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&s); err != nil {
		return 0, fmt.Errorf("read feed head: %w", err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read feed head %q: %w", s, err)
	}
	return n, nil
}

// LastPushes returns the last stored push of each of these devices that
// has one (Store.LastPushes), in one query.
func LastPushes(ctx context.Context, r Reader, deviceIDs []string) (map[string]*server.Batch, error) {
	out := map[string]*server.Batch{}
	if len(deviceIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(deviceIDs))
	for i, id := range deviceIDs {
		args[i] = id
	}
	rows, err := r.Query(ctx, `SELECT b.device_id, b.batch_id, b.request_hash, b.response FROM devices d
		JOIN push_batches b ON b.device_id = d.id AND b.batch_id = d.last_batch_id
		WHERE d.last_batch_id <> '' AND d.id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(deviceIDs)), ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("last pushes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		b := &server.Batch{}
		var response string
		if err := rows.Scan(&b.DeviceID, &b.BatchID, &b.RequestHash, &response); err != nil {
			return nil, err
		}
		b.Response = []byte(response)
		out[b.DeviceID] = b
	}
	return out, rows.Err()
}
