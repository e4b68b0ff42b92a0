-- The perceptual hash index (sqlstore/phashindex.go): every hash of a
-- photo's fingerprint with its four 16-bit bands, and the hash of the same
-- kind of the mirror image (not indexed). Each band has an index that also
-- holds the rest of the row a lookup reads (INCLUDE): its candidates come
-- from index-only scans. The hashes of whole pictures (kind 1) have band
-- indexes of their own, for the lookups of windows of a picture, which
-- only they can match.
CREATE TABLE photo_hash (
	photo_id text COLLATE "C" NOT NULL,
	kind integer NOT NULL,
	hash bigint NOT NULL, mirror bigint,
	b0 integer NOT NULL, b1 integer NOT NULL, b2 integer NOT NULL, b3 integer NOT NULL,
	PRIMARY KEY (photo_id, kind)
);
CREATE INDEX photo_hash_b0 ON photo_hash (b0) INCLUDE (kind, hash, photo_id);
CREATE INDEX photo_hash_b1 ON photo_hash (b1) INCLUDE (kind, hash, photo_id);
CREATE INDEX photo_hash_b2 ON photo_hash (b2) INCLUDE (kind, hash, photo_id);
CREATE INDEX photo_hash_b3 ON photo_hash (b3) INCLUDE (kind, hash, photo_id);
CREATE INDEX photo_hash_full_b0 ON photo_hash (b0) INCLUDE (hash, photo_id) WHERE kind = 1;
CREATE INDEX photo_hash_full_b1 ON photo_hash (b1) INCLUDE (hash, photo_id) WHERE kind = 1;
CREATE INDEX photo_hash_full_b2 ON photo_hash (b2) INCLUDE (hash, photo_id) WHERE kind = 1;
CREATE INDEX photo_hash_full_b3 ON photo_hash (b3) INCLUDE (hash, photo_id) WHERE kind = 1;
