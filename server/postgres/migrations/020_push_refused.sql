-- A device's last push refused whole (a malformed body, a field the
-- batch may not have, a reused batch id…), for 同步状态: a phone that
-- pulls but whose pushes fail looked healthy (Syncer.PushRefused).
ALTER TABLE devices ADD COLUMN last_push_refused_at bigint;
ALTER TABLE devices ADD COLUMN last_push_refused_code text NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN last_push_refused_message text NOT NULL DEFAULT '';
