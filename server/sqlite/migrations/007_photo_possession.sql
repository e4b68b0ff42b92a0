-- Photo possession (issue 9): a SHA-256 proves nothing, so a photo record
-- counts as uploaded only once bytes arrived for that very record. Each
-- completed upload is kept here, one row per photo id (the latest), even
-- when the record has not been pushed yet. claimed_at (Unix ms) is set when
-- the record took these bytes as its own and was marked uploaded; unclaimed
-- rows are the device's unreferenced bytes (the upload quota) and are
-- removed by the sweep once older than the grace period.
CREATE TABLE photo_upload (
	photo_id     TEXT PRIMARY KEY,
	sha256       TEXT NOT NULL,
	device_id    TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	size         INTEGER NOT NULL,
	completed_at INTEGER NOT NULL,
	claimed_at   INTEGER
) STRICT;
CREATE INDEX photo_upload_sha256 ON photo_upload(sha256);
CREATE INDEX photo_upload_unclaimed ON photo_upload(device_id) WHERE claimed_at IS NULL;
CREATE INDEX photo_upload_stale ON photo_upload(completed_at) WHERE claimed_at IS NULL;

-- Blobs the sweep is deleting (Unix ms since): an upload that completes
-- for the same bytes meanwhile is refused as unavailable, to be retried
-- once they are gone, rather than recorded against bytes about to vanish.
CREATE TABLE blob_deleting (
	sha256 TEXT PRIMARY KEY,
	since  INTEGER NOT NULL
) STRICT;
