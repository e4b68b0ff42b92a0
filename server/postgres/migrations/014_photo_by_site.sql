-- The photos of a site (the site their processing placed them at): the
-- photos whose flags are computed again when their site's position
-- changes (Store.VisitPhotos). Only photos placed at one are in the index.
CREATE INDEX photo_site ON photo (site_id) WHERE site_id IS NOT NULL;
