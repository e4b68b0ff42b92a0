package postgres

import (
	"context"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// VehicleStats sums the vehicle checks q selects (its page aside) per
// county, checkpoint and special action, ordered by county, checkpoint and
// action.
func (db *DB) VehicleStats(ctx context.Context, q server.VehicleQuery) ([]server.VehicleStat, error) {
	where, args, _ := dialect.VehicleCheckWhere(q)
	rows, err := query(ctx, db.pool, `SELECT county, `+dialect.Label("checkpoint")+`, `+dialect.Label("campaign")+`, count(*),
		count(*) FILTER (WHERE emission_stage = ?), count(*) FILTER (WHERE emission_stage = ?),
		count(*) FILTER (WHERE emission_stage = ? AND aftertreatment = ?),
		count(*) FILTER (WHERE emission_stage = ? AND fuel = ?), count(*) FILTER (WHERE emission_stage = ? AND fuel = ? AND aftertreatment = ?)
		FROM vehicle_check`+where+`
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		append([]any{syncproto.StageCN5, syncproto.StageCN6, syncproto.StageCN6, syncproto.AftertreatmentRemoved,
			syncproto.StageCN6, syncproto.FuelNaturalGas, syncproto.StageCN6, syncproto.FuelNaturalGas, syncproto.AftertreatmentRemoved}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("vehicle stats: %w", err)
	}
	defer rows.Close()
	return sqlstore.ReadVehicleStats(rows)
}

// VehicleChecks returns a page of the vehicle checks q selects, the latest
// check first, and how many it selects in all.
func (db *DB) VehicleChecks(ctx context.Context, q server.VehicleQuery) ([]*server.StoredRecord, int, error) {
	e := server.EntityByName(syncproto.EntityVehicleCheck)
	w, args, order := dialect.VehicleCheckWhere(q)
	return db.page(ctx, e, w, args, order, q.Limit, q.Offset)
}

// Findings returns a page of the findings q selects, the earliest
// deadline first, and how many it selects in all.
func (db *DB) Findings(ctx context.Context, q server.FindingQuery) ([]*server.StoredRecord, int, error) {
	e := server.EntityByName(syncproto.EntityFinding)
	w, args, order := dialect.FindingWhere(q)
	return db.page(ctx, e, w, args, order, q.Limit, q.Offset)
}

// Tasks returns the rectification tasks, in the plan's order (by id).
func (db *DB) Tasks(ctx context.Context) ([]*server.StoredRecord, error) {
	return sqlstore.Live(ctx, reader{db.pool}, db.stmts[syncproto.EntityTask].Codec, dialect, server.Scope{All: true})
}

// TaskProgress returns the live progress rows (task_progress) in scope.
func (db *DB) TaskProgress(ctx context.Context, scope server.Scope) ([]server.TaskProgress, error) {
	return sqlstore.TaskProgress(ctx, reader{db.pool}, db.stmts[syncproto.EntityTaskProgress].Codec, dialect, scope)
}
