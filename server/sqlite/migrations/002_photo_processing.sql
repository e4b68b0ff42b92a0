-- Photo evidence processing (issue 3): server-owned results of reading the
-- uploaded original.
ALTER TABLE photo ADD COLUMN lon_wgs84 REAL;
ALTER TABLE photo ADD COLUMN lat_wgs84 REAL;
ALTER TABLE photo ADD COLUMN site_id TEXT;
ALTER TABLE photo ADD COLUMN phash TEXT;
ALTER TABLE photo ADD COLUMN width INTEGER;
ALTER TABLE photo ADD COLUMN height INTEGER;
ALTER TABLE photo ADD COLUMN processed_at TEXT;
CREATE INDEX photo_unprocessed ON photo(uploaded, processed_at);
CREATE INDEX photo_phash ON photo(phash) WHERE phash IS NOT NULL;
