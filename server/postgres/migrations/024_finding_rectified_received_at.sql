-- When the server received a finding's status rectified, as in SQLite
-- (its migration 036).
ALTER TABLE finding ADD COLUMN rectified_received_at text COLLATE "C";
