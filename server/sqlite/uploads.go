package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
)

// The completed photo uploads (photo_upload) and the blobs being deleted
// (blob_deleting), migration 007. Times are Unix milliseconds.

// querier is what the read pool and a transaction share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanUploads reads photo uploads (sqlstore.ReadUploads) and closes rows;
// err is the error of the query that made them.
func scanUploads(rows *sql.Rows, err error) ([]server.PhotoUpload, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.ReadUploads(rows)
}

// PhotoUpload returns the upload recorded for a photo id, or nil.
func (t *writeTx) PhotoUpload(ctx context.Context, photoID string) (*server.PhotoUpload, error) {
	us, err := scanUploads(t.QueryContext(ctx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload WHERE photo_id = ?`, photoID))
	if err != nil || len(us) == 0 {
		return nil, err
	}
	return &us[0], nil
}

// PutPhotoUpload records an upload, replacing the photo id's earlier one.
func (t *writeTx) PutPhotoUpload(ctx context.Context, u *server.PhotoUpload) error {
	_, err := t.ExecContext(ctx, `INSERT OR REPLACE INTO photo_upload (`+sqlstore.UploadCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.PhotoID, u.SHA256, u.DeviceID, u.UserID, u.Size, u.CompletedAt.UnixMilli(), sqlstore.MillisOrNull(u.ClaimedAt), u.ContentType)
	if err != nil {
		return fmt.Errorf("record upload of photo %s: %w", u.PhotoID, err)
	}
	return nil
}

// StaleUploads returns the unclaimed uploads completed before a time.
func (t *writeTx) StaleUploads(ctx context.Context, before time.Time) ([]server.PhotoUpload, error) {
	return scanUploads(t.QueryContext(ctx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload INDEXED BY photo_upload_stale
		WHERE claimed_at IS NULL AND completed_at < ? ORDER BY completed_at`, before.UnixMilli()))
}

// DeletePhotoUploads removes the uploads of these photo ids.
func (t *writeTx) DeletePhotoUploads(ctx context.Context, photoIDs []string) error {
	for _, id := range photoIDs {
		if _, err := t.ExecContext(ctx, `DELETE FROM photo_upload WHERE photo_id = ?`, id); err != nil {
			return fmt.Errorf("remove upload of photo %s: %w", id, err)
		}
	}
	return nil
}

// BlobRefs returns what refers to a hash, as this transaction sees it.
func (t *writeTx) BlobRefs(ctx context.Context, sum string) (*server.BlobRefs, error) {
	if err := t.flush(ctx); err != nil { // photo records queued by this transaction count
		return nil, err
	}
	return blobRefs(ctx, t, sum)
}

// BlobRefs returns what refers to a hash (read snapshot).
func (db *DB) BlobRefs(ctx context.Context, sum string) (*server.BlobRefs, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return blobRefs(ctx, tx, sum)
}

func blobRefs(ctx context.Context, q querier, sum string) (*server.BlobRefs, error) {
	r := &server.BlobRefs{}
	// Tombstoned records count: evidence keeps its bytes.
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM photo WHERE sha256 = ? AND uploaded = 1`, sum).Scan(&r.Records); err != nil {
		return nil, fmt.Errorf("count photos of %s: %w", sum, err)
	}
	var err error
	if r.Uploads, err = scanUploads(q.QueryContext(ctx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload WHERE sha256 = ?`, sum)); err != nil {
		return nil, fmt.Errorf("uploads of %s: %w", sum, err)
	}
	var since int64
	err = q.QueryRowContext(ctx, `SELECT since FROM blob_deleting WHERE sha256 = ?`, sum).Scan(&since)
	switch {
	case err == nil:
		r.DeletingSince = time.UnixMilli(since).UTC()
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	return r, nil
}

// SetBlobDeleting marks a hash as being deleted since at (zero: unmarks).
func (t *writeTx) SetBlobDeleting(ctx context.Context, sum string, at time.Time) error {
	var err error
	if at.IsZero() {
		_, err = t.ExecContext(ctx, `DELETE FROM blob_deleting WHERE sha256 = ?`, sum)
	} else {
		_, err = t.ExecContext(ctx, `INSERT OR REPLACE INTO blob_deleting (sha256, since) VALUES (?, ?)`, sum, at.UnixMilli())
	}
	return err
}

// BlobsDeleting returns the hashes marked as being deleted before a time.
func (t *writeTx) BlobsDeleting(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := t.QueryContext(ctx, `SELECT sha256 FROM blob_deleting WHERE since < ?`, before.UnixMilli())
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// UnclaimedUploads returns a device's uploads no photo record has claimed.
func (db *DB) UnclaimedUploads(ctx context.Context, deviceID string) ([]server.PhotoUpload, error) {
	return scanUploads(db.read.QueryContext(ctx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload INDEXED BY photo_upload_unclaimed
		WHERE device_id = ? AND claimed_at IS NULL`, deviceID))
}

// UserUnclaimedUploads returns the uploads of a user's devices no photo
// record has claimed. Unclaimed rows are few (the sweep removes them after
// the grace period): they are read through the index of unclaimed stale
// rows rather than an index of their own.
func (db *DB) UserUnclaimedUploads(ctx context.Context, userID string) ([]server.PhotoUpload, error) {
	return scanUploads(db.read.QueryContext(ctx, `SELECT `+sqlstore.UploadCols+` FROM photo_upload INDEXED BY photo_upload_stale
		WHERE user_id = ? AND claimed_at IS NULL`, userID))
}
