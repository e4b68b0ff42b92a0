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
	type photo struct {
		insp string
		p    syncproto.ItemPhoto
	}
	byID := map[string]photo{}
	wanted := make(map[string]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := t.tx.QueryContext(ctx, `SELECT id, inspection_id, item_key, coalesce(uploaded, 0) FROM photo
			WHERE inspection_id IN (`+placeholders(len(part))+`) AND deleted_hlc = '' AND item_key IS NOT NULL AND item_key != ''`, args...)
		if err != nil {
			return nil, fmt.Errorf("photos of inspections: %w", err)
		}
		for rows.Next() {
			var id, insp, key string
			var uploaded bool
			if err := rows.Scan(&id, &insp, &key, &uploaded); err != nil {
				rows.Close()
				return nil, err
			}
			byID[id] = photo{insp, syncproto.ItemPhoto{ItemKey: key, Uploaded: uploaded}}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for r := range t.CachedOf(syncproto.EntityPhoto) {
		insp, key := r.Text("inspection_id"), r.Text("item_key")
		if r.State.IsDeleted() || key == "" || !wanted[insp] {
			delete(byID, r.ID)
			continue
		}
		byID[r.ID] = photo{insp, syncproto.ItemPhoto{ItemKey: key, Uploaded: r.Uploaded()}}
	}
	out := make(map[string][]syncproto.ItemPhoto, len(ids))
	for _, p := range byID {
		out[p.insp] = append(out[p.insp], p.p)
	}
	return out, nil
}

// UncheckedInspections returns up to limit ids of live inspections whose
// completeness was never computed, or not since it came to include
// failed_items (either is NULL).
func (t *writeTx) UncheckedInspections(ctx context.Context, limit int) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM inspection WHERE (missing_items IS NULL OR failed_items IS NULL) AND deleted_hlc = '' ORDER BY id LIMIT ?`, limit)
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
