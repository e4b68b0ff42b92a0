package sqlite

import (
	"context"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
)

// monthInspections selects the ids of the reviewable inspections of one
// county started in month (YYYY-MM, as written on the phone in local time).
const monthInspections = `SELECT id FROM inspection WHERE deleted_hlc = '' AND county = ? AND substr(started_at, 1, 7) = ?
	AND status IN ('submitted', 'returned', 'approved')`

// MonthlyReport aggregates the field work of each county given for its
// monthly report, in that order.
func (db *DB) MonthlyReport(ctx context.Context, month string, counties []string) ([]server.MonthReport, error) {
	out := make([]server.MonthReport, 0, len(counties))
	for _, county := range counties {
		r := server.MonthReport{County: county, ByTemplate: map[string]int{}}
		rows, err := db.read.QueryContext(ctx, `SELECT coalesce(template_id, ''), status, count(*) FROM inspection
			WHERE id IN (`+monthInspections+`) GROUP BY 1, 2`, county, month)
		if err != nil {
			return nil, fmt.Errorf("report inspections: %w", err)
		}
		for rows.Next() {
			var tmpl, status string
			var n int
			if err := rows.Scan(&tmpl, &status, &n); err != nil {
				rows.Close()
				return nil, err
			}
			r.ByTemplate[tmpl] += n
			switch status {
			case "submitted":
				r.Submitted += n
			case "returned":
				r.Returned += n
			case "approved":
				r.Approved += n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM finding WHERE deleted_hlc = '' AND inspection_id IN (`+monthInspections+`)`,
			county, month).Scan(&r.Findings); err != nil {
			return nil, fmt.Errorf("report findings: %w", err)
		}
		if err := db.read.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(flags IS NOT NULL AND flags NOT IN ('', '{}', 'null')), 0)
			FROM photo WHERE deleted_hlc = '' AND inspection_id IN (`+monthInspections+`)`,
			county, month).Scan(&r.Photos, &r.FlaggedPhotos); err != nil {
			return nil, fmt.Errorf("report photos: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}
