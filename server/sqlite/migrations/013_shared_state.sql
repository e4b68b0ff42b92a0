-- State every server must share (issue 13), kept in the database rather
-- than in a server's memory or data directory.
--
-- signing_keys: the HMAC keys of access tokens. The newest signs; all
-- verify; id is the token header's kid. created_at is Unix ms.
CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	secret     BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- login_attempts: failed sign-ins per key (a username "u:…" or a client
-- address "ip:…"), so that every server slows the same guesser. The rule
-- (how long a lock lasts) is package auth's. Times are Unix ms.
CREATE TABLE login_attempts (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	locked_until INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
) STRICT;
CREATE INDEX login_attempts_last ON login_attempts(last_failure);
