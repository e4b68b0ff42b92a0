-- audit_log: the sealed audit trail (issue 15, package server/audit). Each
-- entry carries the hash of the one before it; entries are appended in
-- the write transaction of the change they record. at is Unix ms; changes
-- is the JSON text exactly as hashed. The triggers make the table
-- append-only for every connection of the server: a row is never updated
-- or deleted (a rewrite done by dropping them is what `fieldsync audit
-- verify` and the monthly seals find).
CREATE TABLE audit_log (
	seq           INTEGER PRIMARY KEY,
	at            INTEGER NOT NULL,
	actor_id      TEXT NOT NULL,
	actor_name    TEXT NOT NULL,
	device_id     TEXT NOT NULL,
	action        TEXT NOT NULL,
	entity        TEXT NOT NULL,
	record_id     TEXT NOT NULL,
	inspection_id TEXT NOT NULL,
	county        TEXT NOT NULL,
	changes       TEXT NOT NULL,
	prev_hash     TEXT NOT NULL,
	hash          TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_record ON audit_log(record_id);
CREATE INDEX audit_log_inspection ON audit_log(inspection_id) WHERE inspection_id <> '';
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- audit_seals: one signed seal per finished month (audit.Seal); counts is
-- JSON (action → entries), signed_at Unix ms. Append-only too.
CREATE TABLE audit_seals (
	month      TEXT PRIMARY KEY,
	first_seq  INTEGER NOT NULL,
	last_seq   INTEGER NOT NULL,
	counts     TEXT NOT NULL,
	base_hash  TEXT NOT NULL,
	head_hash  TEXT NOT NULL,
	signed_at  INTEGER NOT NULL,
	key_id     TEXT NOT NULL,
	public_key TEXT NOT NULL,
	signature  TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END;
