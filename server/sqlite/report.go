package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// MonthTallies counts the live inspections of the given counties started
// in month, by county, checklist and status, with their live findings,
// photos and flagged photos (server.OfficeStore).
func (db *DB) MonthTallies(ctx context.Context, month string, counties []string) ([]server.MonthTally, error) {
	if len(counties) == 0 {
		return nil, nil
	}
	args := []any{month}
	for _, c := range counties {
		args = append(args, c)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT i.county, coalesce(i.template_id, ''), coalesce(i.status, ''), count(*),
		coalesce(sum((SELECT count(*) FROM finding f WHERE f.deleted_hlc = '' AND f.inspection_id = i.id)), 0),
		coalesce(sum((SELECT count(*) FROM `+sqlstore.PhotosOf("i")+`)), 0),
		coalesce(sum((SELECT count(*) FROM `+sqlstore.PhotosOf("i")+`
			AND p.flags IS NOT NULL AND p.flags NOT IN ('', '{}', 'null'))), 0)
		FROM inspection i WHERE i.deleted_hlc = '' AND substr(`+dialect.VisitDate("i")+`, 1, 7) = ?
		AND i.county IN (?`+strings.Repeat(", ?", len(counties)-1)+`)
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, args...)
	if err != nil {
		return nil, fmt.Errorf("month tallies: %w", err)
	}
	defer rows.Close()
	var out []server.MonthTally
	for rows.Next() {
		var t server.MonthTally
		if err := rows.Scan(&t.County, &t.TemplateID, &t.Status, &t.Inspections, &t.Findings, &t.Photos, &t.FlaggedPhotos); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
