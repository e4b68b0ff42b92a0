-- Signed captures (issue 15): the public keys devices sign their camera
-- captures with (ECDSA P-256, DER SPKI; id = hex SHA-256 of it), revoked
-- with their device; and the photo's signature, key id and the server's
-- check of them (server.CaptureResult, JSON).
CREATE TABLE device_keys (
	id         TEXT PRIMARY KEY,
	device_id  TEXT NOT NULL REFERENCES devices(id),
	spki       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT;
CREATE INDEX device_keys_device ON device_keys(device_id);
ALTER TABLE photo ADD COLUMN capture_sig TEXT;
ALTER TABLE photo ADD COLUMN capture_key_id TEXT;
ALTER TABLE photo ADD COLUMN capture TEXT;
