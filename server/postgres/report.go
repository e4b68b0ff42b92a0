package postgres

import (
	"context"
	"fmt"

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
	rows, err := query(ctx, db.pool, `SELECT i.county, coalesce(i.template_id, ''), coalesce(i.template_version, 0), coalesce(i.status, ''), count(*),
		coalesce(sum((SELECT count(*) FROM finding f WHERE f.deleted_hlc = '' AND f.inspection_id = i.id)), 0)::bigint,
		coalesce(sum((SELECT count(*) FROM `+sqlstore.PhotosOf("i")+`)), 0)::bigint,
		coalesce(sum((SELECT count(*) FROM `+sqlstore.PhotosOf("i")+`
			AND p.flags IS NOT NULL AND p.flags NOT IN ('', '{}', 'null'))), 0)::bigint
		FROM inspection i WHERE i.deleted_hlc = '' AND substr(`+dialect.VisitDate("i")+`, 1, 7) = ?
		AND i.county = ANY(?)
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, month, counties)
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
	// failed_items is the server's own JSON array; anything else (NULL
	// before the first check) names no item.
	rows, err := query(ctx, db.pool, `SELECT i.county, coalesce(i.template_id, ''), coalesce(i.status, ''), j.item, count(*)
		FROM inspection i CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(i.failed_items::jsonb) = 'array'
			THEN i.failed_items::jsonb ELSE '[]'::jsonb END) AS j(item)
		WHERE i.deleted_hlc = '' AND substr(`+dialect.VisitDate("i")+`, 1, 7) = ?
		AND i.county = ANY(?)
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, month, counties)
	if err != nil {
		return nil, fmt.Errorf("month item failures: %w", err)
	}
	defer rows.Close()
	return sqlstore.ReadItemTallies(rows)
}
