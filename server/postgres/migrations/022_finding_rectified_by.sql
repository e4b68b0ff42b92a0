-- Who reported a verified finding rectified, as in SQLite (its migration
-- 034).
ALTER TABLE finding ADD COLUMN rectified_by text COLLATE "C";
