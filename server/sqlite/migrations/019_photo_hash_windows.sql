-- The fingerprint's windows changed (imageproc.windows, the index's third
-- version): the centred windows are kinds 2, 3 and 4 and the windows that
-- cut both sides of a picture are others, chosen to lie nearer uneven
-- crops; the number of rows a photo has is the same. Rows of the old
-- windows would be compared as the new ones, so the table is emptied
-- (and kept, with its grants): at start the photo processor fingerprints
-- every processed photo that has no rows again from its stored preview
-- (photos.indexLegacy). The partial band indexes of the centred kinds
-- (imageproc.CentredKinds) name the new kinds.
DELETE FROM photo_hash;
DROP INDEX photo_hash_centre_b0;
DROP INDEX photo_hash_centre_b1;
DROP INDEX photo_hash_centre_b2;
CREATE INDEX photo_hash_centre_b0 ON photo_hash(b0, hash) WHERE kind IN (1, 2, 3, 4);
CREATE INDEX photo_hash_centre_b1 ON photo_hash(b1, hash) WHERE kind IN (1, 2, 3, 4);
CREATE INDEX photo_hash_centre_b2 ON photo_hash(b2, hash) WHERE kind IN (1, 2, 3, 4);
