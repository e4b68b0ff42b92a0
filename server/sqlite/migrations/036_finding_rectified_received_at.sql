-- When the server received a finding's status rectified (the push that
-- brought it): the report's own time is the phone's clock, which may be
-- days earlier (a phone offline, or its clock set back), and the console
-- says when they differ.
ALTER TABLE finding ADD COLUMN rectified_received_at TEXT;
