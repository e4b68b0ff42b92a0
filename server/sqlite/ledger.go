package sqlite

import (
	"context"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// VehicleStats sums the vehicle checks in scope per county and checkpoint,
// ordered by county and checkpoint.
func (db *DB) VehicleStats(ctx context.Context, scope server.Scope) ([]server.VehicleStat, error) {
	where, args := scopeWhere(scope)
	rows, err := db.read.QueryContext(ctx, `SELECT county, coalesce(checkpoint, ''), count(*),
		coalesce(sum(emission_stage = '国六'), 0),
		coalesce(sum(emission_stage = '国六' AND aftertreatment = 'removed'), 0)
		FROM vehicle_check WHERE deleted_hlc = ''`+where+`
		GROUP BY county, coalesce(checkpoint, '') ORDER BY county, coalesce(checkpoint, '')`, args...)
	if err != nil {
		return nil, fmt.Errorf("vehicle stats: %w", err)
	}
	defer rows.Close()
	var out []server.VehicleStat
	for rows.Next() {
		var v server.VehicleStat
		if err := rows.Scan(&v.County, &v.Checkpoint, &v.Trucks, &v.G6, &v.Removed); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Tasks returns the rectification tasks, in the plan's order (by id).
func (db *DB) Tasks(ctx context.Context) ([]*server.StoredRecord, error) {
	e := server.EntityByName(syncproto.EntityTask)
	rows, err := db.read.QueryContext(ctx, "SELECT "+db.stmts[e.Name].cols+" FROM "+e.Name+" WHERE deleted_hlc = '' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return db.scanAll(e, rows)
}
