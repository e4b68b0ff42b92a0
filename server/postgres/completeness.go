package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// InspectionPhotos returns the live photo records of these inspections
// that name an item, by inspection id, as this transaction sees them. The
// stored rows are read without flushing the queued writes (which would
// write the batch's inspections twice, once before and once after the
// server records their completeness); the records this transaction holds
// are laid over them, since as the only writer (feedLock) it has their
// current state.
func (t *writeTx) InspectionPhotos(ctx context.Context, ids []string) (map[string][]syncproto.ItemPhoto, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	g := sqlstore.NewItemPhotos(ids)
	cond, args := dialect.In("inspection_id", ids)
	rows, err := query(ctx, t.tx, sqlstore.ItemPhotosSQL+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("photos of inspections: %w", err)
	}
	defer rows.Close()
	if err := g.Read(rows); err != nil {
		return nil, err
	}
	return g.Result(&t.TxRecords), nil
}

// UncheckedInspections returns up to limit ids of live inspections whose
// completeness was never computed, or not since it came to include
// failed_items (either is NULL).
func (t *writeTx) UncheckedInspections(ctx context.Context, limit int) ([]string, error) {
	ids, err := scanIDs(query(ctx, t.tx, `SELECT id FROM inspection WHERE (missing_items IS NULL OR failed_items IS NULL) AND deleted_hlc = '' ORDER BY id LIMIT ?`, limit))
	if err != nil {
		return nil, fmt.Errorf("inspections without completeness: %w", err)
	}
	return ids, nil
}

// scanIDs reads a one-column result of ids and closes rows.
func scanIDs(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadIDs(rows)
}

var _ server.CompletenessTx = (*writeTx)(nil)
