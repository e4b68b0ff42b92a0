-- A capture key registered with a proof of its private key, and the
-- photos checked again when it moves to the device that proves it, as in
-- SQLite (its migration 037).
ALTER TABLE device_keys ADD COLUMN proven boolean NOT NULL DEFAULT false;
DROP INDEX photo_awaiting_key;
CREATE INDEX photo_awaiting_key ON photo (capture_key_id) WHERE (capture LIKE '%"unknown_key"%' OR capture LIKE '%"other_device"%' OR capture LIKE '%"revoked_key"%');
