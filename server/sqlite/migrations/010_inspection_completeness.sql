-- Inspection completeness (issue 10): the server's check of an
-- inspection's answers and photos against its checklist, kept current on
-- every write that changes them (server/completeness.go). missing_items is
-- a JSON array of {key, reason[, detail]}, '[]' when complete;
-- unknown_answers the JSON array of answered keys the checklist does not
-- have. NULL means not computed yet: the server computes those once at
-- start-up (Syncer.BackfillCompleteness).
ALTER TABLE inspection ADD COLUMN missing_items TEXT;
ALTER TABLE inspection ADD COLUMN unknown_answers TEXT;
-- The photos of an inspection, looked up for each inspection whose
-- answers or photos a write changes.
CREATE INDEX photo_inspection_item ON photo(inspection_id, item_key);
