-- Office console sessions (issue 12), kept in the database so that they
-- survive a restart and can be listed and revoked. id is the SHA-256 (hex)
-- of the random token in the browser's cookie, so a copy of the database
-- signs no one in; csrf is the session's form token. A session is live
-- while revoked_at is NULL, expires_at (the absolute limit) is in the
-- future and last_seen_at is within the idle limit the console applies.
-- Times are Unix ms.
CREATE TABLE console_sessions (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id),
	csrf         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER,
	user_agent   TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX console_sessions_user ON console_sessions(user_id);
CREATE INDEX console_sessions_expires ON console_sessions(expires_at);
