-- A capture key registered with a proof that its device holds the private
-- key (signed-captures.md §1). A key registered without one by another
-- device (its public half is no secret) moves to the device that proves
-- it; the photos that device sent meanwhile, checked then as another
-- device's key (invalid, other_device, or revoked_key when that device
-- was revoked), are checked again with those that arrived before the key
-- (unknown_key).
ALTER TABLE device_keys ADD COLUMN proven INTEGER NOT NULL DEFAULT 0;
DROP INDEX photo_awaiting_key;
CREATE INDEX photo_awaiting_key ON photo(capture_key_id) WHERE (capture LIKE '%"unknown_key"%' OR capture LIKE '%"other_device"%' OR capture LIKE '%"revoked_key"%');
