-- The type an upload's bytes were checked to be (its metadata's
-- content_type), so that a photo record pushed after its bytes declares
-- the type they are ('' for uploads recorded before).
ALTER TABLE photo_upload ADD COLUMN content_type text NOT NULL DEFAULT '';
