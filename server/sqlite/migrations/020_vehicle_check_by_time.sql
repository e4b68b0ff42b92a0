-- Vehicle checks are indexed by county and check time instead of county
-- and checkpoint. The console lists a county's checks newest first
-- (sqlstore.Dialect.VehicleCheckWhere): this index gives that order
-- without sorting the county's every check, and a checkpoint filter reads
-- the county's checks in that order. A new check's time is about now, so
-- its entry goes at the end of its county's run; an index by checkpoint
-- took an entry at a random place per check wherever checkpoints are many,
-- a page written per check in every push.
DROP INDEX vehicle_check_checkpoint;
CREATE INDEX vehicle_check_checked ON vehicle_check(county, checked_at);
