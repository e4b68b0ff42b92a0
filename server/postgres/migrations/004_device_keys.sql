-- Signed captures (issue 15): the public keys devices sign their camera
-- captures with (ECDSA P-256, DER SPKI; id = hex SHA-256 of it), revoked
-- with their device; and the photo's signature, key id and the server's
-- check of them (server.CaptureResult, JSON).
CREATE TABLE device_keys (
	id         text COLLATE "C" PRIMARY KEY,
	device_id  text COLLATE "C" NOT NULL REFERENCES devices(id),
	spki       bytea NOT NULL,
	created_at bigint NOT NULL,
	revoked_at bigint
);
CREATE INDEX device_keys_device ON device_keys (device_id);
ALTER TABLE photo ADD COLUMN capture_sig text COLLATE "C";
ALTER TABLE photo ADD COLUMN capture_key_id text COLLATE "C";
ALTER TABLE photo ADD COLUMN capture text COLLATE "C";
