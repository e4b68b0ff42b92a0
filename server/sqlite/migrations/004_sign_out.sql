-- Sign-out ends a device's access tokens too: those issued before this time
-- (Unix milliseconds) are refused.
ALTER TABLE devices ADD COLUMN signed_out_at INTEGER;
