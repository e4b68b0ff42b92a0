package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// UnprocessedPhotos returns the ids of live photos whose bytes are stored
// but whose processing has not finished (to resume after a restart).
func (db *DB) UnprocessedPhotos(ctx context.Context) ([]string, error) {
	return scanIDs(query(ctx, db.pool, `SELECT id FROM photo WHERE uploaded AND processed_at IS NULL AND deleted_hlc = '' ORDER BY seq`))
}

// StoredPhotoSums returns the SHA-256 of the newest live photos whose
// bytes are stored, at most limit.
func (db *DB) StoredPhotoSums(ctx context.Context, limit int) ([]string, error) {
	return scanIDs(query(ctx, db.pool, `SELECT sha256 FROM photo WHERE uploaded AND deleted_hlc = '' ORDER BY seq DESC LIMIT $1`, limit))
}

// VisitPhotos returns the live processed photos of these visits
// (inspections, roadside checks) and sites.
func (db *DB) VisitPhotos(ctx context.Context, visits, sites []string) ([]string, error) {
	if len(visits)+len(sites) == 0 {
		return nil, nil
	}
	q, args := sqlstore.VisitPhotosSQL(dialect, visits, sites)
	return scanIDs(query(ctx, db.pool, q, args...))
}

// PhotosFlagged returns the ids of the live photos whose flags object has
// any of these keys (lower-case names, as the flag filter's).
func (db *DB) PhotosFlagged(ctx context.Context, flags ...string) ([]string, error) {
	return sqlstore.PhotosFlagged(flags, func(flag string) ([]string, error) {
		return scanIDs(query(ctx, db.pool, dialect.PhotosFlaggedSQL(), flag))
	})
}

// SetPhotoHashes replaces the fingerprint rows of photo id.
func (db *DB) SetPhotoHashes(ctx context.Context, id string, rows []server.PhotoHashRow) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := exec(ctx, tx, sqlstore.DeletePhotoHashesSQL, id); err != nil {
			return fmt.Errorf("delete photo hashes: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		q, args := sqlstore.InsertPhotoHashes(id, rows)
		if _, err := exec(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("insert photo hashes: %w", err)
		}
		return nil
	})
}

// PhotoHashRows returns the fingerprint rows of photo id.
func (db *DB) PhotoHashRows(ctx context.Context, id string) ([]server.PhotoHashRow, error) {
	rows, err := query(ctx, db.pool, sqlstore.PhotoHashRowsSQL, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadPhotoHashRows(rows)
}

// PhotoHashCandidates returns the hashes sharing a band with probes. It
// asks for every probed value: other servers write the index too, so no
// server can know which values it lacks (sqlstore.BandFilter).
func (db *DB) PhotoHashCandidates(ctx context.Context, probes server.HashProbes) ([]server.HashCandidate, error) {
	return dialect.PhotoHashCandidates(ctx, reader{db.pool}, probes)
}

// UnindexedPhotos returns the processed live photos with a phash and no
// fingerprint rows.
func (db *DB) UnindexedPhotos(ctx context.Context) ([]string, error) {
	return scanIDs(query(ctx, db.pool, sqlstore.UnindexedPhotosSQL))
}

// LivePhotoSites returns the sites of the processed live photos among ids.
func (db *DB) LivePhotoSites(ctx context.Context, ids []string) (map[string]string, error) {
	return sqlstore.LivePhotoSites(ctx, reader{db.pool}, ids)
}
