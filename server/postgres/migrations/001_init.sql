-- fieldsync schema on PostgreSQL, version 1: the final schema of the SQLite
-- store (server/sqlite/migrations 001-012) written for PostgreSQL at once.
--
-- Every synced entity has a table named for it with the same leading
-- columns: its id, its county ('' for global reference data), its position
-- in the change feed (seq, assigned in commit order: see doc.go), each
-- field's last-write HLC (hlcs: a JSON object from each HLC to the names of
-- the fields it last wrote), the tombstone's HLC (deleted_hlc, '' while
-- alive), and bookkeeping: the creating device and user and the server's
-- receipt time (created_at, updated_at: Unix ms). The remaining columns are
-- the entity's fields, as server.Entities lists them: text, bigint, double
-- precision, boolean; JSON values are kept as text, byte for byte as the
-- store wrote them, and cast to jsonb where a query looks inside them.
--
-- Every text column uses the "C" collation, so that text compares and sorts
-- bytewise as in SQLite (HLC strings sort as their HLCs only bytewise).

CREATE TABLE meta (
	key   text COLLATE "C" PRIMARY KEY,
	value text COLLATE "C" NOT NULL
);

CREATE TABLE county (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	code text COLLATE "C", name text COLLATE "C", kind text COLLATE "C", lon double precision, lat double precision, confirmed boolean, note text COLLATE "C"
);
CREATE INDEX county_feed ON county (seq, county);

CREATE TABLE checklist_template (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	template_id text COLLATE "C", version bigint, kind text COLLATE "C", title text COLLATE "C", description text COLLATE "C", source text COLLATE "C", site_kinds text COLLATE "C", items text COLLATE "C"
);
CREATE INDEX checklist_template_feed ON checklist_template (seq, county);

CREATE TABLE rectification_task (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	number text COLLATE "C", category text COLLATE "C", problem text COLLATE "C", measures text COLLATE "C", responsible_units text COLLATE "C", responsible_person text COLLATE "C", acceptance_unit text COLLATE "C", deadline_text text COLLATE "C", deadline text COLLATE "C", long_term boolean, counties text COLLATE "C", templates text COLLATE "C", status text COLLATE "C", progress text COLLATE "C", progress_pct bigint
);
CREATE INDEX rectification_task_feed ON rectification_task (seq, county);

CREATE TABLE task_progress (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	task_id text COLLATE "C" REFERENCES rectification_task(id), status text COLLATE "C", progress_pct bigint, note text COLLATE "C", evidence text COLLATE "C", reported_by text COLLATE "C", reported_by_name text COLLATE "C", reported_at text COLLATE "C"
);
CREATE INDEX task_progress_feed ON task_progress (seq, county);

CREATE TABLE site (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	kind text COLLATE "C", name text COLLATE "C", address text COLLATE "C", lon double precision, lat double precision, crs text COLLATE "C", radius_m double precision, note text COLLATE "C", active boolean, lon_wgs84 double precision, lat_wgs84 double precision,
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX site_feed ON site (seq, county);

CREATE TABLE inspection (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	site_id text COLLATE "C" REFERENCES site(id), template_id text COLLATE "C", template_version bigint, started_at text COLLATE "C", finished_at text COLLATE "C", status text COLLATE "C", summary text COLLATE "C", lon double precision, lat double precision, answers text COLLATE "C", reviewer_id text COLLATE "C", review_comment text COLLATE "C", reviewed_at text COLLATE "C", missing_items text COLLATE "C", unknown_answers text COLLATE "C",
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX inspection_feed ON inspection (seq, county);

CREATE TABLE finding (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	inspection_id text COLLATE "C" REFERENCES inspection(id), item_key text COLLATE "C", description text COLLATE "C", severity text COLLATE "C", deadline text COLLATE "C", status text COLLATE "C", rectification_note text COLLATE "C",
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX finding_feed ON finding (seq, county);

CREATE TABLE vehicle_check (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	checkpoint text COLLATE "C", campaign text COLLATE "C", plate text COLLATE "C", plate_color text COLLATE "C", plate_type text COLLATE "C", vin text COLLATE "C", emission_stage text COLLATE "C", fuel text COLLATE "C", obd_mil boolean, obd_codes text COLLATE "C", aftertreatment text COLLATE "C", urea_level_pct double precision, ringelmann double precision, opacity double precision, remote_sensing_id text COLLATE "C", action text COLLATE "C", checked_at text COLLATE "C", lon double precision, lat double precision, note text COLLATE "C",
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX vehicle_check_feed ON vehicle_check (seq, county);

CREATE TABLE photo (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	inspection_id text COLLATE "C" REFERENCES inspection(id), finding_id text COLLATE "C" REFERENCES finding(id), vehicle_check_id text COLLATE "C" REFERENCES vehicle_check(id), item_key text COLLATE "C", sha256 text COLLATE "C", content_type text COLLATE "C", size_bytes bigint, captured_at text COLLATE "C", lon double precision, lat double precision, accuracy_m double precision, crs text COLLATE "C", caption text COLLATE "C", uploaded boolean, flags text COLLATE "C", notes text COLLATE "C", exif text COLLATE "C", lon_wgs84 double precision, lat_wgs84 double precision, site_id text COLLATE "C", phash text COLLATE "C", width bigint, height bigint, processed_at text COLLATE "C",
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX photo_feed ON photo (seq, county);

CREATE TABLE review (
	id text COLLATE "C" PRIMARY KEY, county text COLLATE "C" NOT NULL DEFAULT '', seq bigint NOT NULL,
	hlcs text COLLATE "C" NOT NULL DEFAULT '{}', deleted_hlc text COLLATE "C" NOT NULL DEFAULT '',
	created_device text COLLATE "C" NOT NULL DEFAULT '', created_at bigint NOT NULL, updated_at bigint NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	inspection_id text COLLATE "C" REFERENCES inspection(id), decision text COLLATE "C", comment text COLLATE "C", reviewer_id text COLLATE "C", reviewer_name text COLLATE "C", decided_at text COLLATE "C",
	FOREIGN KEY (county) REFERENCES county(id)
);
CREATE INDEX review_feed ON review (seq, county);

CREATE INDEX inspection_status ON inspection (county, status);
CREATE INDEX inspection_template ON inspection (template_id, county, status);
CREATE INDEX finding_inspection ON finding (inspection_id);
CREATE INDEX vehicle_check_checkpoint ON vehicle_check (county, checkpoint);
CREATE INDEX photo_sha256 ON photo (sha256);
CREATE INDEX photo_pending ON photo (created_device, uploaded);
CREATE INDEX photo_unprocessed ON photo (uploaded, processed_at);
CREATE INDEX photo_phash ON photo (phash) WHERE phash IS NOT NULL;
CREATE INDEX photo_inspection_item ON photo (inspection_id, item_key);
CREATE INDEX photo_finding ON photo (finding_id);
CREATE INDEX review_inspection ON review (inspection_id);
CREATE INDEX task_progress_task ON task_progress (task_id);

CREATE TABLE users (
	id            text COLLATE "C" PRIMARY KEY,
	username      text COLLATE "C" NOT NULL UNIQUE,
	password_hash text COLLATE "C" NOT NULL,
	display_name  text COLLATE "C" NOT NULL DEFAULT '',
	role          text COLLATE "C" NOT NULL CHECK (role IN ('inspector','county_office','city_office','admin')),
	disabled      boolean NOT NULL DEFAULT false,
	scope_version bigint NOT NULL DEFAULT 1,
	created_at    bigint NOT NULL
);

CREATE TABLE user_counties (
	user_id text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	county  text COLLATE "C" NOT NULL REFERENCES county(id),
	PRIMARY KEY (user_id, county)
);

-- session is the device's session generation (access tokens carry it);
-- sign-out and a reused refresh token end the session by incrementing it.
CREATE TABLE devices (
	id                 text COLLATE "C" PRIMARY KEY,
	user_id            text COLLATE "C" NOT NULL REFERENCES users(id),
	name               text COLLATE "C" NOT NULL DEFAULT '',
	created_at         bigint NOT NULL,
	last_seen_at       bigint NOT NULL,
	revoked_at         bigint,
	refresh_hash       text COLLATE "C" NOT NULL DEFAULT '',
	refresh_expires_at bigint NOT NULL DEFAULT 0,
	last_pull_at       bigint,
	last_push_at       bigint,
	last_ack_seq       bigint NOT NULL DEFAULT 0,
	last_batch_id      text COLLATE "C" NOT NULL DEFAULT '',
	signed_out_at      bigint,
	session            bigint NOT NULL DEFAULT 0
);
CREATE INDEX devices_user ON devices (user_id);
CREATE INDEX devices_refresh ON devices (refresh_hash) WHERE refresh_hash != '';

CREATE TABLE push_batches (
	device_id    text COLLATE "C" NOT NULL REFERENCES devices(id),
	batch_id     text COLLATE "C" NOT NULL,
	request_hash text COLLATE "C" NOT NULL,
	response     text COLLATE "C" NOT NULL,
	created_at   bigint NOT NULL,
	PRIMARY KEY (device_id, batch_id)
);

CREATE TABLE conflicts (
	id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	entity     text COLLATE "C" NOT NULL,
	record_id  text COLLATE "C" NOT NULL,
	county     text COLLATE "C" NOT NULL,
	field      text COLLATE "C" NOT NULL,
	value      text COLLATE "C" NOT NULL,
	hlc        text COLLATE "C" NOT NULL,
	winner_hlc text COLLATE "C" NOT NULL,
	reason     text COLLATE "C" NOT NULL,
	device_id  text COLLATE "C" NOT NULL,
	user_id    text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL
);
CREATE INDEX conflicts_record ON conflicts (entity, record_id);
CREATE INDEX conflicts_county ON conflicts (county, id);

-- Refresh tokens spent by rotation, by hash, so that one presented again
-- is recognised as stolen (see RotateRefresh).
CREATE TABLE spent_refresh (
	hash       text COLLATE "C" PRIMARY KEY,
	device_id  text COLLATE "C" NOT NULL REFERENCES devices(id),
	session    bigint NOT NULL,
	spent_at   bigint NOT NULL,
	expires_at bigint NOT NULL
);
CREATE INDEX spent_refresh_device ON spent_refresh (device_id);
CREATE INDEX spent_refresh_expires ON spent_refresh (expires_at);

-- Completed photo uploads, one row per photo id (the latest); claimed_at
-- is set when the photo record took the bytes as its own.
CREATE TABLE photo_upload (
	photo_id     text COLLATE "C" PRIMARY KEY,
	sha256       text COLLATE "C" NOT NULL,
	device_id    text COLLATE "C" NOT NULL,
	user_id      text COLLATE "C" NOT NULL,
	size         bigint NOT NULL,
	completed_at bigint NOT NULL,
	claimed_at   bigint
);
CREATE INDEX photo_upload_sha256 ON photo_upload (sha256);
CREATE INDEX photo_upload_unclaimed ON photo_upload (device_id) WHERE claimed_at IS NULL;
CREATE INDEX photo_upload_stale ON photo_upload (completed_at) WHERE claimed_at IS NULL;

-- Blobs the sweep is deleting (Unix ms since).
CREATE TABLE blob_deleting (
	sha256 text COLLATE "C" PRIMARY KEY,
	since  bigint NOT NULL
);

-- Office console sessions; id is the SHA-256 (hex) of the cookie's token.
CREATE TABLE console_sessions (
	id           text COLLATE "C" PRIMARY KEY,
	user_id      text COLLATE "C" NOT NULL REFERENCES users(id),
	csrf         text COLLATE "C" NOT NULL,
	created_at   bigint NOT NULL,
	last_seen_at bigint NOT NULL,
	expires_at   bigint NOT NULL,
	revoked_at   bigint,
	user_agent   text COLLATE "C" NOT NULL DEFAULT '',
	ip           text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- Token signing keys, shared by every server (server.KeyStore); id is the
-- token header's kid.
CREATE TABLE signing_keys (
	id         text COLLATE "C" PRIMARY KEY,
	secret     bytea NOT NULL,
	created_at bigint NOT NULL
);

-- Failed sign-ins by key (a username or a client address), shared by
-- every server (server.LoginStore). Times are Unix ms.
CREATE TABLE login_attempts (
	key          text COLLATE "C" PRIMARY KEY,
	failures     bigint NOT NULL,
	locked_until bigint NOT NULL,
	last_failure bigint NOT NULL
);
CREATE INDEX login_attempts_last ON login_attempts (last_failure);
