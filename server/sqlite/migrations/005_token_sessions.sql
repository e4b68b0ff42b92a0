-- Device sessions (issue 9). session is the device's session generation:
-- access tokens carry the generation they were issued in, and one that
-- differs from the device's is refused. Sign-out, and the reuse of a spent
-- refresh token, end the session by incrementing it, so no timing of
-- sign-out against issue can leave a token alive (signed_out_at stays, for
-- information). Devices that signed out already get 1, so their tokens,
-- which carry no generation (0), are refused as before.
ALTER TABLE devices ADD COLUMN session INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET session = 1 WHERE signed_out_at IS NOT NULL;

-- Refresh tokens spent by rotation, by hash, so that one presented again
-- is recognised as stolen: in the session it was spent in, that ends the
-- session. A row is useless once its token would have expired anyway
-- (expires_at, Unix ms), and rotation deletes those; signing in again
-- deletes the device's rows (a new login starts a new family).
CREATE TABLE spent_refresh (
	hash       TEXT PRIMARY KEY,
	device_id  TEXT NOT NULL REFERENCES devices(id),
	session    INTEGER NOT NULL,
	spent_at   INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX spent_refresh_device ON spent_refresh(device_id);
CREATE INDEX spent_refresh_expires ON spent_refresh(expires_at);
