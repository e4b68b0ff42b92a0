-- An office's decision on a finding's rectification, as in SQLite (its
-- migration 021): who decided, when, and the comment that sends it back.
ALTER TABLE finding ADD COLUMN verifier_id text COLLATE "C";
ALTER TABLE finding ADD COLUMN verify_comment text COLLATE "C";
ALTER TABLE finding ADD COLUMN verified_at text COLLATE "C";
