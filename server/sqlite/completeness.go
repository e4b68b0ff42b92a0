package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// InspectionPhotos returns the live photo records of these inspections
// that name an item, by inspection id, as this transaction sees them. The
// stored rows are read without flushing the queued writes (which would
// write the batch's inspections twice, once before and once after the
// server records their completeness); the records this transaction holds
// are laid over them, since as the only writer it has their current state.
func (t *writeTx) InspectionPhotos(ctx context.Context, ids []string) (map[string][]syncproto.ItemPhoto, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	g := sqlstore.NewItemPhotos(ids)
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		cond, args := dialect.In("inspection_id", ids[start:min(start+chunk, len(ids))])
		rows, err := t.tx.QueryContext(ctx, sqlstore.ItemPhotosSQL+cond, args...)
		if err != nil {
			return nil, fmt.Errorf("photos of inspections: %w", err)
		}
		err = g.Read(rows)
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return g.Result(&t.TxRecords), nil
}

// UncheckedInspections returns up to limit ids of live inspections whose
// completeness was never computed, or not since it came to include
// failed_items (either is NULL).
func (t *writeTx) UncheckedInspections(ctx context.Context, limit int) ([]string, error) {
	rows, err := t.QueryContext(ctx, `SELECT id FROM inspection WHERE (missing_items IS NULL OR failed_items IS NULL) AND deleted_hlc = '' ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("inspections without completeness: %w", err)
	}
	return scanIDs(rows)
}

// scanIDs reads a one-column result of ids and closes rows.
func scanIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	return sqlstore.ReadIDs(rows)
}

var _ server.CompletenessTx = (*writeTx)(nil)
