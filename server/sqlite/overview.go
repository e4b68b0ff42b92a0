package sqlite

import (
	"context"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Overview counts, in scope, the flagged inspections waiting for review,
// the findings overdue on day today (YYYY-MM-DD) and the weekly roadside
// figures of the checks made on or after since and before before
// (YYYY-MM-DD).
func (db *DB) Overview(ctx context.Context, scope server.Scope, today, since, before string) (*server.Overview, error) {
	var o server.Overview
	where, args := dialect.ScopeOf(scope, "i")
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM inspection i WHERE i.deleted_hlc = '' AND i.status = '`+server.StatusAwaitingReview+`'`+where+`
		AND `+sqlstore.PhotoExists("i", dialect.AnyFlag("p.flags")), args...).Scan(&o.FlaggedWaiting)
	if err != nil {
		return nil, fmt.Errorf("overview flagged: %w", err)
	}
	where, args = dialect.ScopeOf(scope, "f")
	err = db.read.QueryRowContext(ctx, sqlstore.OverdueFindingsSQL+where,
		append([]any{today}, args...)...).Scan(&o.OverdueFindings)
	if err != nil {
		return nil, fmt.Errorf("overview findings: %w", err)
	}
	where, args = dialect.ScopeOf(scope, "v")
	// The week of a check is the Monday it follows, in the phone's local
	// date as it wrote checked_at. checked_at >= since (a date) holds
	// exactly when its date part does, text compared byte by byte (and
	// checked_at < before likewise), and lets the (county, checked_at)
	// index find the weeks asked for.
	rows, err := db.read.QueryContext(ctx, `SELECT v.county, `+dialect.Label("v.checkpoint")+`,
		date(substr(v.checked_at, 1, 10), '-' || ((CAST(strftime('%w', substr(v.checked_at, 1, 10)) AS INTEGER) + 6) % 7) || ' days') AS wk,
		count(*), coalesce(sum(v.aftertreatment = ?), 0)
		FROM vehicle_check v WHERE v.deleted_hlc = '' AND v.voided_at IS NULL AND v.emission_stage = ? AND v.checked_at >= ? AND v.checked_at < ?`+where+`
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, append([]any{syncproto.AftertreatmentRemoved, syncproto.StageCN6, since, before}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("overview vehicles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w server.VehicleWeek
		if err := rows.Scan(&w.County, &w.Checkpoint, &w.Week, &w.G6, &w.Removed); err != nil {
			return nil, err
		}
		o.Weeks = append(o.Weeks, w)
	}
	return &o, rows.Err()
}
