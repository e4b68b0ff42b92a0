-- The perceptual hash index (sqlstore/phashindex.go): every hash of a
-- photo's fingerprint, and for the indexed ones its four 16-bit bands,
-- each with its own partial index.
CREATE TABLE photo_hash (
	photo_id text COLLATE "C" NOT NULL,
	kind integer NOT NULL,
	hash bigint NOT NULL,
	b0 integer, b1 integer, b2 integer, b3 integer,
	PRIMARY KEY (photo_id, kind)
);
CREATE INDEX photo_hash_b0 ON photo_hash (b0) WHERE b0 IS NOT NULL;
CREATE INDEX photo_hash_b1 ON photo_hash (b1) WHERE b1 IS NOT NULL;
CREATE INDEX photo_hash_b2 ON photo_hash (b2) WHERE b2 IS NOT NULL;
CREATE INDEX photo_hash_b3 ON photo_hash (b3) WHERE b3 IS NOT NULL;
