-- audit_log: the sealed audit trail (issue 15, package server/audit). Each
-- entry carries the hash of the one before it; entries are appended in
-- the write transaction of the change they record, under feedLock, so the
-- chain is linear across servers. at is Unix ms; changes is the JSON text
-- exactly as hashed (text, not jsonb, which would reorder it).
--
-- Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, and PUBLIC
-- may not do them. The role the servers connect as must not own these
-- tables (an owner could drop the trigger): create them as an owner role
-- (`fieldsync migrate`) and serve as a role granted only SELECT, INSERT
-- (README, Deployment). A rewrite by the owner is what `fieldsync audit
-- verify` and the monthly seals find.
CREATE TABLE audit_log (
	seq           bigint PRIMARY KEY,
	at            bigint NOT NULL,
	actor_id      text COLLATE "C" NOT NULL,
	actor_name    text NOT NULL,
	device_id     text COLLATE "C" NOT NULL,
	action        text COLLATE "C" NOT NULL,
	entity        text COLLATE "C" NOT NULL,
	record_id     text COLLATE "C" NOT NULL,
	inspection_id text COLLATE "C" NOT NULL,
	county        text COLLATE "C" NOT NULL,
	changes       text NOT NULL,
	prev_hash     text COLLATE "C" NOT NULL,
	hash          text COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (record_id);
CREATE INDEX audit_log_inspection ON audit_log (inspection_id) WHERE inspection_id <> '';

CREATE TABLE audit_seals (
	month      text COLLATE "C" PRIMARY KEY,
	first_seq  bigint NOT NULL,
	last_seq   bigint NOT NULL,
	counts     text NOT NULL,
	base_hash  text COLLATE "C" NOT NULL,
	head_hash  text COLLATE "C" NOT NULL,
	signed_at  bigint NOT NULL,
	key_id     text COLLATE "C" NOT NULL,
	public_key text COLLATE "C" NOT NULL,
	signature  text COLLATE "C" NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_seals FROM PUBLIC;
