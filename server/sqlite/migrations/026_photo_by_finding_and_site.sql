-- The photos of a finding, and of a site (the site their processing placed
-- them at): the photos whose flags are computed again when their visit's
-- time or approval, or their site's position, changes (Store.VisitPhotos).
-- Only photos that name one are in each index.
CREATE INDEX photo_finding ON photo(finding_id) WHERE finding_id IS NOT NULL;
CREATE INDEX photo_site ON photo(site_id) WHERE site_id IS NOT NULL;
