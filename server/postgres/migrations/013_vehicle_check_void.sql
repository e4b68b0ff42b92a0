-- An office's voiding of a roadside check, as in SQLite (its migration
-- 025): who voided it, when and why; a voided check counts in no statistic.
ALTER TABLE vehicle_check ADD COLUMN voided_at text COLLATE "C";
ALTER TABLE vehicle_check ADD COLUMN voided_by text COLLATE "C";
ALTER TABLE vehicle_check ADD COLUMN void_reason text COLLATE "C";
