package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// queuePhotos is the live photos of inspection and of its live findings.
const queuePhotos = `photo p WHERE p.deleted_hlc = '' AND (p.inspection_id = inspection.id
	OR p.finding_id IN (SELECT f.id FROM finding f WHERE f.inspection_id = inspection.id AND f.deleted_hlc = ''))`

// queueStats are the columns InspectionQueue computes per inspection, in
// the order it scans them; queueOrder maps sort keys to expressions.
var queueStats = map[string]string{
	"inspector": `coalesce((SELECT u.display_name FROM users u WHERE u.id = inspection.created_by), '')`,
	// The items whose answer fails them, as the server listed them
	// (failed_items, server/completeness.go); 0 before it did.
	"failed": `coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(inspection.failed_items::jsonb) = 'array' THEN inspection.failed_items::jsonb END), 0)`,
	"photos": `(SELECT count(*) FROM ` + queuePhotos + `)`,
	"flags": `(SELECT coalesce(sum((SELECT count(*) FROM jsonb_object_keys(p.flags::jsonb))), 0)::bigint FROM ` + queuePhotos + `
		AND jsonb_typeof(p.flags::jsonb) = 'object')`,
	"missing": `CASE WHEN jsonb_typeof(inspection.missing_items::jsonb) = 'array' THEN
		(SELECT count(DISTINCT m->>'key') FROM jsonb_array_elements(inspection.missing_items::jsonb) m) ELSE -1 END`,
}

var queueOrder = map[string]string{
	"started":  "started_at",
	"county":   "county",
	"site":     "coalesce((SELECT s.name FROM site s WHERE s.id = inspection.site_id), inspection.site_id)",
	"template": "template_id",
	"status":   "status",
}

// InspectionQueue returns a page of the inspections q selects in the
// order s asks (ties newest first, then by id), with the inspector's name
// and the counts a reviewer judges by, and how many q selects in all. A
// sort key not in server.QueueSortKeys is CodeBadRequest (the key is
// never put into the SQL unchecked). The counts are computed per page
// row by correlated subqueries, so sorting on them reads every selected
// inspection's photos: fine for a county's queue, to be indexed if a
// city-wide unfiltered sort grows slow.
func (db *DB) InspectionQueue(ctx context.Context, q server.InspectionQuery, s server.QueueSort) ([]server.QueueEntry, int, error) {
	if s.Key == "" {
		s.Key, s.Desc = "started", true
	}
	if !slices.Contains(server.QueueSortKeys, s.Key) {
		return nil, 0, server.Errorf(syncproto.CodeBadRequest, "不能按 %q 排序", s.Key)
	}
	w, args := inspectionWhere(q, true)
	var total int
	if err := queryRow(ctx, db.pool, "SELECT count(*) FROM inspection"+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count inspections: %w", err)
	}
	key := queueOrder[s.Key]
	if key == "" {
		key = s.Key // one of the computed columns, by its alias
	}
	dir := " ASC NULLS FIRST" // NULLs sort first, as in SQLite
	if s.Desc {
		dir = " DESC NULLS LAST"
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	sel := "SELECT id, " + queueStats["inspector"] + " AS inspector, " + queueStats["failed"] + " AS failed, " +
		queueStats["photos"] + " AS photos, " + queueStats["flags"] + " AS flags, " + queueStats["missing"] + " AS missing FROM inspection" + w +
		" ORDER BY " + key + dir + ", started_at DESC NULLS LAST, created_at DESC, id LIMIT ? OFFSET ?"
	rows, err := query(ctx, db.pool, sel, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("inspection queue: %w", err)
	}
	defer rows.Close()
	var ids []string
	var out []server.QueueEntry
	for rows.Next() {
		var id string
		var e server.QueueEntry
		if err := rows.Scan(&id, &e.Inspector, &e.Failed, &e.Photos, &e.Flags, &e.Missing); err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	rows.Close()
	for i, id := range ids {
		r, err := db.Get(ctx, syncproto.EntityInspection, id)
		if err != nil {
			return nil, 0, err
		}
		out[i].Record = r
	}
	return out, total, nil
}
