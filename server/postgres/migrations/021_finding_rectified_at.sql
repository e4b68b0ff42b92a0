-- When the inspector reported a verified finding rectified, as in SQLite
-- (its migration 033).
ALTER TABLE finding ADD COLUMN rectified_at text COLLATE "C";
