package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// The completed photo uploads (photo_upload) and the blobs being deleted
// (blob_deleting), migration 007. Times are Unix milliseconds.

// scanUploads reads photo uploads (sqlstore.ReadUploads) and closes rows;
// err is the error of the query that made them.
func scanUploads(rows pgx.Rows, err error) ([]server.PhotoUpload, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadUploads(rows)
}

// PhotoUpload returns the upload recorded for a photo id, or nil.
func (t *writeTx) PhotoUpload(ctx context.Context, photoID string) (*server.PhotoUpload, error) {
	us, err := scanUploads(query(ctx, t.tx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload WHERE photo_id = ?`, photoID))
	if err != nil || len(us) == 0 {
		return nil, err
	}
	return &us[0], nil
}

// PutPhotoUpload records an upload, replacing the photo id's earlier one.
func (t *writeTx) PutPhotoUpload(ctx context.Context, u *server.PhotoUpload) error {
	_, err := exec(ctx, t.tx, `INSERT INTO photo_upload (`+sqlstore.UploadCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (photo_id) DO UPDATE SET sha256 = excluded.sha256, device_id = excluded.device_id, user_id = excluded.user_id,
			size = excluded.size, completed_at = excluded.completed_at, claimed_at = excluded.claimed_at, content_type = excluded.content_type`,
		u.PhotoID, u.SHA256, u.DeviceID, u.UserID, u.Size, u.CompletedAt.UnixMilli(), sqlstore.MillisOrNull(u.ClaimedAt), u.ContentType)
	if err != nil {
		return fmt.Errorf("record upload of photo %s: %w", u.PhotoID, err)
	}
	return nil
}

// StaleUploads returns the unclaimed uploads completed before a time.
func (t *writeTx) StaleUploads(ctx context.Context, before time.Time) ([]server.PhotoUpload, error) {
	return scanUploads(query(ctx, t.tx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload
		WHERE claimed_at IS NULL AND completed_at < ? ORDER BY completed_at`, before.UnixMilli()))
}

// DeletePhotoUploads removes the uploads of these photo ids.
func (t *writeTx) DeletePhotoUploads(ctx context.Context, photoIDs []string) error {
	if len(photoIDs) == 0 {
		return nil
	}
	if _, err := exec(ctx, t.tx, `DELETE FROM photo_upload WHERE photo_id = ANY(?)`, photoIDs); err != nil {
		return fmt.Errorf("remove uploads of photos: %w", err)
	}
	return nil
}

// BlobRefs returns what refers to a hash, as this transaction sees it.
func (t *writeTx) BlobRefs(ctx context.Context, sum string) (*server.BlobRefs, error) {
	if err := t.flush(ctx); err != nil { // photo records queued by this transaction count
		return nil, err
	}
	return blobRefs(ctx, t.tx, sum)
}

// BlobRefs returns what refers to a hash (read snapshot).
func (db *DB) BlobRefs(ctx context.Context, sum string) (*server.BlobRefs, error) {
	var r *server.BlobRefs
	err := db.readSnapshot(ctx, func(tx pgx.Tx) error {
		var err error
		r, err = blobRefs(ctx, tx, sum)
		return err
	})
	return r, err
}

func blobRefs(ctx context.Context, q querier, sum string) (*server.BlobRefs, error) {
	r := &server.BlobRefs{}
	// Tombstoned records count: evidence keeps its bytes.
	if err := queryRow(ctx, q, `SELECT count(*) FROM photo WHERE sha256 = ? AND uploaded`, sum).Scan(&r.Records); err != nil {
		return nil, fmt.Errorf("count photos of %s: %w", sum, err)
	}
	var err error
	if r.Uploads, err = scanUploads(query(ctx, q, `SELECT `+sqlstore.UploadCols+` FROM photo_upload WHERE sha256 = ?`, sum)); err != nil {
		return nil, fmt.Errorf("uploads of %s: %w", sum, err)
	}
	var since int64
	err = queryRow(ctx, q, `SELECT since FROM blob_deleting WHERE sha256 = ?`, sum).Scan(&since)
	switch {
	case err == nil:
		r.DeletingSince = time.UnixMilli(since).UTC()
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, err
	}
	return r, nil
}

// SetBlobDeleting marks a hash as being deleted since at (zero: unmarks).
func (t *writeTx) SetBlobDeleting(ctx context.Context, sum string, at time.Time) error {
	var err error
	if at.IsZero() {
		_, err = exec(ctx, t.tx, `DELETE FROM blob_deleting WHERE sha256 = ?`, sum)
	} else {
		_, err = exec(ctx, t.tx, `INSERT INTO blob_deleting (sha256, since) VALUES (?, ?) ON CONFLICT (sha256) DO UPDATE SET since = excluded.since`, sum, at.UnixMilli())
	}
	return err
}

// BlobsDeleting returns the hashes marked as being deleted before a time.
func (t *writeTx) BlobsDeleting(ctx context.Context, before time.Time) ([]string, error) {
	return scanIDs(query(ctx, t.tx, `SELECT sha256 FROM blob_deleting WHERE since < ?`, before.UnixMilli()))
}

// UnclaimedUploads returns a device's uploads no photo record has claimed.
func (db *DB) UnclaimedUploads(ctx context.Context, deviceID string) ([]server.PhotoUpload, error) {
	return scanUploads(query(ctx, db.pool, `SELECT `+sqlstore.UploadCols+` FROM photo_upload
		WHERE device_id = ? AND claimed_at IS NULL`, deviceID))
}

// UserUnclaimedUploads returns the uploads of a user's devices no photo
// record has claimed (few: the sweep removes them after the grace period).
func (db *DB) UserUnclaimedUploads(ctx context.Context, userID string) ([]server.PhotoUpload, error) {
	return scanUploads(query(ctx, db.pool, `SELECT `+sqlstore.UploadCols+` FROM photo_upload
		WHERE user_id = ? AND claimed_at IS NULL`, userID))
}
