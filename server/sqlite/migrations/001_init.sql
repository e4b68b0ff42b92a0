-- fieldsync schema, version 1.
--
-- Every synced entity has a table named for it with the same leading
-- columns: its id, its county ('' for global reference data), its position
-- in the change feed (seq, assigned in commit order by the single writer),
-- each field's last-write HLC (hlcs: a JSON object from each HLC to the
-- names of the fields it last wrote), the
-- tombstone's HLC (deleted_hlc, '' while alive), and bookkeeping: the
-- creating device and user and the server's receipt time (created_at). The
-- remaining columns are the entity's fields, as server.Entities lists them.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE county (
	id TEXT PRIMARY KEY, county TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	code TEXT, name TEXT, kind TEXT, lon REAL, lat REAL, confirmed INTEGER, note TEXT
);

CREATE TABLE checklist_template (
	id TEXT PRIMARY KEY, county TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	template_id TEXT, version INTEGER, kind TEXT, title TEXT, description TEXT, source TEXT,
	site_kinds TEXT, items TEXT
);

CREATE TABLE rectification_task (
	id TEXT PRIMARY KEY, county TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	number TEXT, category TEXT, problem TEXT, measures TEXT, responsible_units TEXT,
	responsible_person TEXT, acceptance_unit TEXT, deadline_text TEXT, deadline TEXT,
	long_term INTEGER, counties TEXT, status TEXT, progress TEXT, progress_pct INTEGER
);

CREATE TABLE site (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	kind TEXT, name TEXT, address TEXT, lon REAL, lat REAL, radius_m REAL, note TEXT, active INTEGER,
	FOREIGN KEY (county) REFERENCES county(id)
);

CREATE TABLE inspection (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	site_id TEXT REFERENCES site(id), template_id TEXT, template_version INTEGER,
	started_at TEXT, finished_at TEXT, status TEXT, summary TEXT, lon REAL, lat REAL,
	answers TEXT, reviewer_id TEXT, review_comment TEXT, reviewed_at TEXT,
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX inspection_status ON inspection(county, status);

CREATE TABLE finding (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	inspection_id TEXT REFERENCES inspection(id), item_key TEXT, description TEXT, severity TEXT,
	deadline TEXT, status TEXT, rectification_note TEXT,
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX finding_inspection ON finding(inspection_id);

CREATE TABLE vehicle_check (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	checkpoint TEXT, plate TEXT, plate_color TEXT, plate_type TEXT, vin TEXT, emission_stage TEXT,
	fuel TEXT, obd_mil INTEGER, obd_codes TEXT, aftertreatment TEXT, urea_level_pct REAL,
	ringelmann REAL, opacity REAL, remote_sensing_id TEXT, action TEXT, checked_at TEXT,
	lon REAL, lat REAL, note TEXT,
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX vehicle_check_checkpoint ON vehicle_check(county, checkpoint);

CREATE TABLE photo (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	inspection_id TEXT REFERENCES inspection(id), finding_id TEXT REFERENCES finding(id),
	vehicle_check_id TEXT REFERENCES vehicle_check(id), item_key TEXT, sha256 TEXT,
	content_type TEXT, size_bytes INTEGER, captured_at TEXT, lon REAL, lat REAL, accuracy_m REAL,
	crs TEXT, caption TEXT, uploaded INTEGER, flags TEXT, exif TEXT,
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX photo_sha256 ON photo(sha256);
CREATE INDEX photo_pending ON photo(created_device, uploaded);

CREATE TABLE review (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	inspection_id TEXT REFERENCES inspection(id), decision TEXT, comment TEXT,
	reviewer_id TEXT, reviewer_name TEXT, decided_at TEXT,
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX review_inspection ON review(inspection_id);

-- The change feed is read per table by (seq, county): covering indexes.
CREATE INDEX county_feed ON county(seq, county);
CREATE INDEX checklist_template_feed ON checklist_template(seq, county);
CREATE INDEX rectification_task_feed ON rectification_task(seq, county);
CREATE INDEX site_feed ON site(seq, county);
CREATE INDEX inspection_feed ON inspection(seq, county);
CREATE INDEX finding_feed ON finding(seq, county);
CREATE INDEX vehicle_check_feed ON vehicle_check(seq, county);
CREATE INDEX photo_feed ON photo(seq, county);
CREATE INDEX review_feed ON review(seq, county);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	display_name  TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('inspector','county_office','city_office','admin')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	scope_version INTEGER NOT NULL DEFAULT 1,
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE user_counties (
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	county  TEXT NOT NULL REFERENCES county(id),
	PRIMARY KEY (user_id, county)
) STRICT;

CREATE TABLE devices (
	id                 TEXT PRIMARY KEY,
	user_id            TEXT NOT NULL REFERENCES users(id),
	name               TEXT NOT NULL DEFAULT '',
	created_at         INTEGER NOT NULL,
	last_seen_at       INTEGER NOT NULL,
	revoked_at         INTEGER,
	refresh_hash       TEXT NOT NULL DEFAULT '',
	refresh_expires_at INTEGER NOT NULL DEFAULT 0,
	last_pull_at       INTEGER,
	last_push_at       INTEGER,
	last_ack_seq       INTEGER NOT NULL DEFAULT 0,
	last_batch_id      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE push_batches (
	device_id    TEXT NOT NULL REFERENCES devices(id),
	batch_id     TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	response     TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (device_id, batch_id)
) STRICT;

CREATE TABLE conflicts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	entity     TEXT NOT NULL,
	record_id  TEXT NOT NULL,
	county     TEXT NOT NULL,
	field      TEXT NOT NULL,
	value      TEXT NOT NULL,
	hlc        TEXT NOT NULL,
	winner_hlc TEXT NOT NULL,
	reason     TEXT NOT NULL,
	device_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX conflicts_record ON conflicts(entity, record_id);
CREATE INDEX conflicts_county ON conflicts(county, id);
CREATE INDEX devices_refresh ON devices(refresh_hash) WHERE refresh_hash != '';
