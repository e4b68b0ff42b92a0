package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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

// StoredPhotoSums returns the SHA-256 of the newest live photos whose
// bytes are stored, at most limit.
func (db *DB) StoredPhotoSums(ctx context.Context, limit int) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT sha256 FROM photo WHERE uploaded = 1 AND deleted_hlc = '' ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// VisitPhotos returns the live processed photos of these visits
// (inspections, roadside checks) and sites.
func (db *DB) VisitPhotos(ctx context.Context, visits, sites []string) ([]string, error) {
	if len(visits)+len(sites) == 0 {
		return nil, nil
	}
	q, args := sqlstore.VisitPhotosSQL(dialect, visits, sites)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("photos of visits: %w", err)
	}
	return scanIDs(rows)
}

// PhotosFlagged returns the ids of the live photos whose flags object has
// any of these keys (lower-case names, as the flag filter's).
func (db *DB) PhotosFlagged(ctx context.Context, flags ...string) ([]string, error) {
	return sqlstore.PhotosFlagged(flags, func(flag string) ([]string, error) {
		rows, err := db.read.QueryContext(ctx, dialect.PhotosFlaggedSQL(), flag)
		if err != nil {
			return nil, err
		}
		return scanIDs(rows)
	})
}

// SetPhotoHashes replaces the fingerprint rows of photo id.
func (db *DB) SetPhotoHashes(ctx context.Context, id string, rows []server.PhotoHashRow) error {
	db.bands.Add(rows) // before any lookup can read them
	return db.writeSQL(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, sqlstore.DeletePhotoHashesSQL, id); err != nil {
			return fmt.Errorf("delete photo hashes: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		q, args := sqlstore.InsertPhotoHashes(id, rows)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("insert photo hashes: %w", err)
		}
		return nil
	})
}

// PhotoHashRows returns the fingerprint rows of photo id.
func (db *DB) PhotoHashRows(ctx context.Context, id string) ([]server.PhotoHashRow, error) {
	rows, err := db.read.QueryContext(ctx, sqlstore.PhotoHashRowsSQL, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadPhotoHashRows(rows)
}

// PhotoHashCandidates returns the hashes sharing a band with probes. It
// asks the index only for the values some row has (db.bands), once the
// filter has read the rows written before the store opened.
func (db *DB) PhotoHashCandidates(ctx context.Context, probes server.HashProbes) ([]server.HashCandidate, error) {
	return dialect.PhotoHashCandidates(ctx, reader{db.read}, db.bands.Probes(reader{db.read}, probes))
}

// UnindexedPhotos returns the processed live photos with a phash and no
// fingerprint rows.
func (db *DB) UnindexedPhotos(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, sqlstore.UnindexedPhotosSQL)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// LivePhotoSites returns the sites of the processed live photos among ids.
func (db *DB) LivePhotoSites(ctx context.Context, ids []string) (map[string]string, error) {
	return sqlstore.LivePhotoSites(ctx, reader{db.read}, ids)
}
