-- Photos whose capture signature named a key the server did not have yet,
-- as in SQLite (its migration 035).
CREATE INDEX photo_awaiting_key ON photo (capture_key_id) WHERE capture LIKE '%"unknown_key"%';
