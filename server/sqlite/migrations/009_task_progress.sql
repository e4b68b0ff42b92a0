-- Issue 10: each county reports its own progress on a rectification task,
-- and roadside vehicle checks store codes rather than Chinese labels.
--
-- task_progress holds one row per task and county, id "<task id>@<county>"
-- (server.TaskProgressID), so two offices can never make two rows for one
-- pair. The rows of a task naming no county are the city's, county
-- '140900' (server.CityCounty), which is no county record: county has no
-- foreign key here.
CREATE TABLE task_progress (
	id TEXT PRIMARY KEY, county TEXT NOT NULL, seq INTEGER NOT NULL,
	hlcs TEXT NOT NULL DEFAULT '{}', deleted_hlc TEXT NOT NULL DEFAULT '',
	created_device TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	task_id TEXT REFERENCES rectification_task(id), status TEXT, progress_pct INTEGER, note TEXT,
	evidence TEXT, reported_by TEXT, reported_by_name TEXT, reported_at TEXT
);
CREATE INDEX task_progress_feed ON task_progress(seq, county);
CREATE INDEX task_progress_task ON task_progress(task_id);

-- Rows changed or added below take the next positions of the change feed,
-- so that phones pull them; m009_seq is the feed's last position so far.
CREATE TEMP TABLE m009_seq AS SELECT max(
	coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'), 0),
	coalesce((SELECT max(seq) FROM county), 0), coalesce((SELECT max(seq) FROM checklist_template), 0),
	coalesce((SELECT max(seq) FROM rectification_task), 0), coalesce((SELECT max(seq) FROM site), 0),
	coalesce((SELECT max(seq) FROM inspection), 0), coalesce((SELECT max(seq) FROM finding), 0),
	coalesce((SELECT max(seq) FROM vehicle_check), 0), coalesce((SELECT max(seq) FROM photo), 0),
	coalesce((SELECT max(seq) FROM review), 0)) AS seq;

-- Vehicle checks: emission_stage, fuel and action held the Chinese labels;
-- they now hold the codes of syncproto's vocabularies (the labels stay in
-- the catalog). Each field keeps its HLC: the code is the same value in
-- its canonical spelling, as the server now stores a label a phone sends,
-- and a phone takes the server's value at an equal HLC (sync.md 8.2).
CREATE TEMP TABLE m009_vehicle (id TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO m009_vehicle (id, n)
SELECT id, row_number() OVER (ORDER BY seq) FROM vehicle_check
WHERE emission_stage IN ('国三', '国四', '国五', '国六') OR fuel IN ('柴油', '天然气', '汽油', '其他')
	OR action IN ('处罚', '责令维修', '放行');
UPDATE vehicle_check SET
	emission_stage = CASE emission_stage WHEN '国三' THEN 'cn3' WHEN '国四' THEN 'cn4' WHEN '国五' THEN 'cn5'
		WHEN '国六' THEN 'cn6' ELSE emission_stage END,
	fuel = CASE fuel WHEN '柴油' THEN 'diesel' WHEN '天然气' THEN 'natural_gas' WHEN '汽油' THEN 'gasoline'
		WHEN '其他' THEN 'other' ELSE fuel END,
	action = CASE action WHEN '处罚' THEN 'fine' WHEN '责令维修' THEN 'repair' WHEN '放行' THEN 'release' ELSE action END,
	seq = (SELECT seq FROM m009_seq) + (SELECT n FROM m009_vehicle WHERE m009_vehicle.id = vehicle_check.id)
WHERE id IN (SELECT id FROM m009_vehicle);
UPDATE m009_seq SET seq = seq + (SELECT count(*) FROM m009_vehicle);

-- Task-wide progress (rectification_task.status, progress, progress_pct)
-- becomes per-county rows. Who wrote it is not stored, and it was shown
-- for every county the task concerned, so each of those counties gets a
-- row carrying it: the counties the task names, or, for a task naming
-- none (which then meant every county), every county. Nothing is lost;
-- an office corrects its own row. Each field keeps the HLC it was written
-- with (progress becomes note); task_id and county take the latest of
-- them. The task's own columns stay, no longer written.
CREATE TEMP TABLE m009_field (task_id TEXT NOT NULL, field TEXT NOT NULL, hlc TEXT NOT NULL);
INSERT INTO m009_field (task_id, field, hlc)
SELECT t.id, CASE f.value WHEN 'progress' THEN 'note' ELSE f.value END, g.key
FROM rectification_task t, json_each(CASE WHEN json_valid(t.hlcs) THEN t.hlcs ELSE '{}' END) g, json_each(g.value) f
WHERE t.deleted_hlc = '' AND f.value IN ('status', 'progress', 'progress_pct');
INSERT INTO m009_field (task_id, field, hlc)
SELECT task_id, 'task_id', max(hlc) FROM m009_field GROUP BY task_id;
INSERT INTO m009_field (task_id, field, hlc)
SELECT task_id, 'county', hlc FROM m009_field WHERE field = 'task_id';

CREATE TEMP TABLE m009_row (task_id TEXT NOT NULL, county TEXT NOT NULL, PRIMARY KEY (task_id, county));
INSERT OR IGNORE INTO m009_row (task_id, county)
SELECT t.id, c.value FROM rectification_task t,
	json_each(CASE WHEN json_valid(t.counties) THEN t.counties ELSE '[]' END) c
WHERE t.id IN (SELECT task_id FROM m009_field) AND c.type = 'text';
INSERT OR IGNORE INTO m009_row (task_id, county)
SELECT t.id, county.id FROM rectification_task t, county
WHERE t.id IN (SELECT task_id FROM m009_field) AND county.deleted_hlc = ''
	AND NOT EXISTS (SELECT 1 FROM m009_row r WHERE r.task_id = t.id);

INSERT INTO task_progress (id, county, seq, hlcs, created_at, updated_at, task_id, status, progress_pct, note)
SELECT r.task_id || '@' || r.county, r.county,
	(SELECT seq FROM m009_seq) + row_number() OVER (ORDER BY r.task_id, r.county),
	(SELECT json_group_object(g.hlc, json(g.names)) FROM
		(SELECT hlc, json_group_array(field) AS names FROM m009_field WHERE task_id = r.task_id GROUP BY hlc) AS g),
	t.updated_at, t.updated_at, t.id, t.status, t.progress_pct, t.progress
FROM m009_row r JOIN rectification_task t ON t.id = r.task_id;
UPDATE m009_seq SET seq = seq + (SELECT count(*) FROM m009_row);

-- The feed's counter moves past the rows above (a database that has none
-- yet gets it from the tables when it is first opened).
UPDATE meta SET value = CAST((SELECT seq FROM m009_seq) AS TEXT) WHERE key = 'seq';

DROP TABLE m009_seq;
DROP TABLE m009_vehicle;
DROP TABLE m009_field;
DROP TABLE m009_row;
