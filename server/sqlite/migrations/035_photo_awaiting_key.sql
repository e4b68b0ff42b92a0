-- Photos whose capture signature named a key the server did not have yet
-- (capture status unknown_key: they arrived before their key, as after a
-- restore from a backup older than the key's registration), by key: they
-- are checked again when the key is registered (Syncer.KeyRegistered).
-- Partial, so that it costs nothing for the others.
CREATE INDEX photo_awaiting_key ON photo(capture_key_id) WHERE capture LIKE '%"unknown_key"%';
