-- Who answers for a task in a county, as in SQLite (its migration 029).
ALTER TABLE task_progress ADD COLUMN responsible_leader text COLLATE "C";
ALTER TABLE task_progress ADD COLUMN responsible_person text COLLATE "C";
