-- An office's decision on a finding's rectification (Syncer.VerifyFinding):
-- who decided, when, and the comment that sends it back to the inspector.
ALTER TABLE finding ADD COLUMN verifier_id TEXT;
ALTER TABLE finding ADD COLUMN verify_comment TEXT;
ALTER TABLE finding ADD COLUMN verified_at TEXT;
