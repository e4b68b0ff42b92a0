-- A device's delete of a record the store did not hold when it arrived (a
-- delete that overtook its record's create), kept with who made it and
-- their counties then, so that the create, when it comes, ends deleted as
-- in the other order (server.EarlyDelete). A row is dropped when its
-- record is created.
CREATE TABLE early_delete (
	entity TEXT NOT NULL, id TEXT NOT NULL, hlc TEXT NOT NULL,
	user_id TEXT NOT NULL, username TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
	counties TEXT NOT NULL, device_id TEXT NOT NULL, at INTEGER NOT NULL,
	PRIMARY KEY (entity, id)
) STRICT;
