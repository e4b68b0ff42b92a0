package sqlite

import (
	"context"
	"fmt"
	"slices"

	"github.com/xinzhou-eco/fieldsync/server"
)

// inspectionWhere builds the WHERE clause of a review-queue query; the
// county filter is left out when withCounty is false (for the per-county
// counts, which show every county in scope).
func inspectionWhere(q server.InspectionQuery, withCounty bool) (string, []any) {
	where, args := scopeWhere(q.Scope)
	w := " WHERE deleted_hlc = ''" + where
	if q.Status != "" && slices.Contains(server.ReviewStatuses, q.Status) {
		w += " AND status = ?"
		args = append(args, q.Status)
	} else {
		w += " AND status IN (" + placeholders(len(server.ReviewStatuses)) + ")"
		for _, s := range server.ReviewStatuses {
			args = append(args, s)
		}
	}
	if withCounty && q.County != "" {
		w += " AND county = ?"
		args = append(args, q.County)
	}
	if q.TemplateID != "" {
		w += " AND template_id = ?"
		args = append(args, q.TemplateID)
	}
	if q.From != "" {
		w += " AND substr(started_at, 1, 10) >= ?"
		args = append(args, q.From)
	}
	if q.To != "" {
		w += " AND substr(started_at, 1, 10) <= ?"
		args = append(args, q.To)
	}
	if q.Flag != "" && validFlagName(q.Flag) {
		w += ` AND EXISTS (SELECT 1 FROM photo p WHERE p.deleted_hlc = '' AND json_valid(p.flags)
			AND (p.inspection_id = inspection.id OR p.finding_id IN (SELECT f.id FROM finding f WHERE f.inspection_id = inspection.id))
			AND json_type(CASE WHEN json_valid(p.flags) THEN p.flags ELSE '{}' END, '$.' || ?) IS NOT NULL)`
		args = append(args, q.Flag)
	}
	return w, args
}

// validFlagName reports whether name may be put into a JSON path.
func validFlagName(name string) bool {
	if len(name) > 40 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// Inspections returns a page of the inspections q selects, newest first,
// and how many it selects in all.
func (db *DB) Inspections(ctx context.Context, q server.InspectionQuery) ([]*server.StoredRecord, int, error) {
	e := server.EntityByName("inspection")
	w, args := inspectionWhere(q, true)
	var total int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM inspection"+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count inspections: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+db.stmts[e.Name].cols+" FROM inspection"+w+
		" ORDER BY started_at DESC, created_at DESC, id LIMIT ? OFFSET ?", append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list inspections: %w", err)
	}
	out, err := db.scanAll(e, rows)
	return out, total, err
}

// InspectionCounts returns how many inspections q selects in each county
// of its scope, whatever q.County says.
func (db *DB) InspectionCounts(ctx context.Context, q server.InspectionQuery) (map[string]int, error) {
	w, args := inspectionWhere(q, false)
	rows, err := db.read.QueryContext(ctx, "SELECT county, count(*) FROM inspection"+w+" GROUP BY county", args...)
	if err != nil {
		return nil, fmt.Errorf("count inspections by county: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var county string
		var n int
		if err := rows.Scan(&county, &n); err != nil {
			return nil, err
		}
		out[county] = n
	}
	return out, rows.Err()
}
