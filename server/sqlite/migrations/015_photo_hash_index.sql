-- The perceptual hash index (sqlstore/phashindex.go): every hash of a
-- photo's fingerprint with its four 16-bit bands, and the hash of the same
-- kind of the mirror image (not indexed). Each band has an index that also
-- holds the hash (and, the table being WITHOUT ROWID, its key): a lookup
-- reads its candidates from the indexes alone. The hashes of whole
-- pictures (kind 1) have band indexes of their own, for the lookups of
-- windows of a picture, which only they can match.
CREATE TABLE photo_hash (
	photo_id TEXT NOT NULL,
	kind INTEGER NOT NULL,
	hash INTEGER NOT NULL, mirror INTEGER,
	b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL, b3 INTEGER NOT NULL,
	PRIMARY KEY (photo_id, kind)
) WITHOUT ROWID;
CREATE INDEX photo_hash_b0 ON photo_hash(b0, hash);
CREATE INDEX photo_hash_b1 ON photo_hash(b1, hash);
CREATE INDEX photo_hash_b2 ON photo_hash(b2, hash);
CREATE INDEX photo_hash_b3 ON photo_hash(b3, hash);
CREATE INDEX photo_hash_full_b0 ON photo_hash(b0, hash) WHERE kind = 1;
CREATE INDEX photo_hash_full_b1 ON photo_hash(b1, hash) WHERE kind = 1;
CREATE INDEX photo_hash_full_b2 ON photo_hash(b2, hash) WHERE kind = 1;
CREATE INDEX photo_hash_full_b3 ON photo_hash(b3, hash) WHERE kind = 1;
