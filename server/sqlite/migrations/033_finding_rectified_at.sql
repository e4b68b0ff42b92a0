-- When the inspector reported a verified finding rectified (the time of
-- the status rectified the office's verification replaced): the day a
-- rectification was done, not the day it was verified, says whether it
-- was in time (Syncer.VerifyFinding).
ALTER TABLE finding ADD COLUMN rectified_at TEXT;
