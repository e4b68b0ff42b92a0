-- Photo reuse (issue 9): a reuse flags only the later photo; the earlier
-- one gets an informational note (server-owned JSON, not an evidence flag).
ALTER TABLE photo ADD COLUMN notes TEXT;
