-- Vehicle checks are indexed by county and check time instead of county
-- and checkpoint, as in SQLite (its migration 020): the console lists a
-- county's checks newest first, with the checks of no time last, which the
-- index's order gives without a sort.
DROP INDEX vehicle_check_checkpoint;
CREATE INDEX vehicle_check_checked ON vehicle_check (county, checked_at DESC NULLS LAST);
