-- The account entries of the audit log, which the users page reads all at
-- once (server.AccountAudit), found without reading the rest of the log.
CREATE INDEX audit_log_account ON audit_log(seq) WHERE action = 'account';
