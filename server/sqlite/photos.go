package sqlite

import (
	"context"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// UnprocessedPhotos returns the ids of live photos whose bytes are stored
// but whose processing has not finished (to resume after a restart).
func (db *DB) UnprocessedPhotos(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM photo WHERE uploaded = 1 AND processed_at IS NULL AND deleted_hlc = '' ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// PhotoHashes returns the perceptual hash and site of every processed live
// photo (for near-duplicate detection).
func (db *DB) PhotoHashes(ctx context.Context) ([]server.PhotoHash, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, coalesce(site_id, ''), phash FROM photo WHERE phash IS NOT NULL AND deleted_hlc = ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadPhotoHashes(rows)
}

// PhotosFlagged returns the ids of the live photos whose flags object has
// any of these keys (lower-case names, as the flag filter's).
func (db *DB) PhotosFlagged(ctx context.Context, flags ...string) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	for _, f := range flags {
		if !sqlstore.ValidFlagName(f) {
			continue
		}
		rows, err := db.read.QueryContext(ctx, `SELECT id FROM photo WHERE deleted_hlc = ''
			AND `+dialect.HasFlag("flags")+` ORDER BY seq`, f)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}
