package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// MonthTallies counts the live inspections of the given counties started
// in month, by county, checklist, version and status, with their live findings,
// photos and flagged photos (server.OfficeStore).
func (db *DB) MonthTallies(ctx context.Context, month string, counties []string) ([]server.MonthTally, error) {
	if len(counties) == 0 {
		return nil, nil
	}
	args := []any{month}
	for _, c := range counties {
		args = append(args, c)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT i.county, coalesce(i.template_id, ''), coalesce(i.template_version, 0), coalesce(i.status, ''), count(*),
		coalesce(sum((SELECT count(*) FROM finding f WHERE f.deleted_hlc = '' AND f.inspection_id = i.id)), 0),
		coalesce(sum((SELECT count(*) FROM `+sqlstore.PhotosOf("i")+`)), 0),
		coalesce(sum((SELECT count(*) FROM `+sqlstore.PhotosOf("i")+`
			AND p.flags IS NOT NULL AND p.flags NOT IN ('', '{}', 'null'))), 0)
		FROM inspection i WHERE i.deleted_hlc = '' AND substr(`+dialect.VisitDate("i")+`, 1, 7) = ?
		AND i.county IN (?`+strings.Repeat(", ?", len(counties)-1)+`)
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, args...)
	if err != nil {
		return nil, fmt.Errorf("month tallies: %w", err)
	}
	defer rows.Close()
	return sqlstore.ReadMonthTallies(rows)
}

// MonthItemFailures counts the live inspections of the given counties
// started in month whose failed_items name an item, by county, checklist,
// status and item (server.OfficeStore).
func (db *DB) MonthItemFailures(ctx context.Context, month string, counties []string) ([]server.ItemTally, error) {
	if len(counties) == 0 {
		return nil, nil
	}
	args := []any{month}
	for _, c := range counties {
		args = append(args, c)
	}
	// failed_items is the server's own JSON array; anything else (NULL
	// before the first check) names no item.
	rows, err := db.read.QueryContext(ctx, `SELECT i.county, coalesce(i.template_id, ''), coalesce(i.status, ''), j.value, count(*)
		FROM inspection i, json_each(coalesce(CASE WHEN json_valid(i.failed_items) THEN
			CASE WHEN json_type(i.failed_items) = 'array' THEN i.failed_items END END, '[]')) j
		WHERE i.deleted_hlc = '' AND substr(`+dialect.VisitDate("i")+`, 1, 7) = ?
		AND i.county IN (?`+strings.Repeat(", ?", len(counties)-1)+`) AND j.type = 'text'
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, args...)
	if err != nil {
		return nil, fmt.Errorf("month item failures: %w", err)
	}
	defer rows.Close()
	return sqlstore.ReadItemTallies(rows)
}
