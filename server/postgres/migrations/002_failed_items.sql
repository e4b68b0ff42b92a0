-- failed_items: the items whose answer fails them (a check answered fail, a
-- yes/no answered no), listed by the server with missing_items
-- (server/completeness.go), which the office's queue counts. Inspections
-- stored before it are recomputed at start (BackfillCompleteness).
ALTER TABLE inspection ADD COLUMN failed_items text COLLATE "C";
