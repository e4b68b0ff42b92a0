-- The perceptual hash index by three bands of 22, 21 and 21 bits, the
-- hash's bits interleaved, instead of four of 16 (sqlstore/phashindex.go,
-- imageproc.Bands): a lookup probes each band's values within 2 bits,
-- which finds every hash within 8 bits and reads far fewer rows than
-- 16-bit bands within 1 bit. The dHashes (kind 0), the
-- hashes of whole pictures (kind 1), and those with the centred windows
-- (kinds 1, 2, 18, 42: imageproc.CentredKinds) have band indexes of their
-- own, for the lookups only they can match. The table is emptied (and
-- kept, with its grants): at start the photo processor fingerprints every
-- processed photo that has no rows again from its stored preview
-- (photos.indexLegacy). b0…b2 take the new bands; b3 goes.
DELETE FROM photo_hash;
DROP INDEX photo_hash_b0;
DROP INDEX photo_hash_b1;
DROP INDEX photo_hash_b2;
DROP INDEX photo_hash_b3;
DROP INDEX photo_hash_full_b0;
DROP INDEX photo_hash_full_b1;
DROP INDEX photo_hash_full_b2;
DROP INDEX photo_hash_full_b3;
ALTER TABLE photo_hash DROP COLUMN b3;
CREATE INDEX photo_hash_b0 ON photo_hash(b0, hash);
CREATE INDEX photo_hash_b1 ON photo_hash(b1, hash);
CREATE INDEX photo_hash_b2 ON photo_hash(b2, hash);
CREATE INDEX photo_hash_dhash_b0 ON photo_hash(b0, hash) WHERE kind = 0;
CREATE INDEX photo_hash_dhash_b1 ON photo_hash(b1, hash) WHERE kind = 0;
CREATE INDEX photo_hash_dhash_b2 ON photo_hash(b2, hash) WHERE kind = 0;
CREATE INDEX photo_hash_full_b0 ON photo_hash(b0, hash) WHERE kind = 1;
CREATE INDEX photo_hash_full_b1 ON photo_hash(b1, hash) WHERE kind = 1;
CREATE INDEX photo_hash_full_b2 ON photo_hash(b2, hash) WHERE kind = 1;
CREATE INDEX photo_hash_centre_b0 ON photo_hash(b0, hash) WHERE kind IN (1, 2, 18, 42);
CREATE INDEX photo_hash_centre_b1 ON photo_hash(b1, hash) WHERE kind IN (1, 2, 18, 42);
CREATE INDEX photo_hash_centre_b2 ON photo_hash(b2, hash) WHERE kind IN (1, 2, 18, 42);
