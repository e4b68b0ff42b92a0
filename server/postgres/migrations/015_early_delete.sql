-- A device's delete of a record the store did not hold when it arrived (a
-- delete that overtook its record's create), kept with who made it and
-- their counties then, so that the create, when it comes, ends deleted as
-- in the other order (server.EarlyDelete). A row is dropped when its
-- record is created.
CREATE TABLE early_delete (
	entity text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, hlc text NOT NULL,
	user_id text NOT NULL, username text NOT NULL, user_name text NOT NULL, role text NOT NULL,
	counties text NOT NULL, device_id text NOT NULL, at bigint NOT NULL,
	PRIMARY KEY (entity, id)
);
