package postgres

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
	err := queryRow(ctx, db.pool, `SELECT count(*) FROM inspection i WHERE i.deleted_hlc = '' AND i.status = '`+server.StatusAwaitingReview+`'`+where+`
		AND `+sqlstore.PhotoExists("i", dialect.AnyFlag("p.flags")), args...).Scan(&o.FlaggedWaiting)
	if err != nil {
		return nil, fmt.Errorf("overview flagged: %w", err)
	}
	where, args = dialect.ScopeOf(scope, "f")
	err = queryRow(ctx, db.pool, sqlstore.OverdueFindingsSQL+where,
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
	rows, err := query(ctx, db.pool, `SELECT v.county, `+dialect.Label("v.checkpoint")+`,
		to_char(substr(v.checked_at, 1, 10)::date - (extract(isodow FROM substr(v.checked_at, 1, 10)::date)::int - 1), 'YYYY-MM-DD') AS wk,
		count(*), count(*) FILTER (WHERE v.aftertreatment = ?)
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
