-- Who reported a verified finding rectified (the user of the device that
-- wrote the status rectified the office's verification replaced), kept
-- with rectified_at (Syncer.VerifyFinding).
ALTER TABLE finding ADD COLUMN rectified_by TEXT;
