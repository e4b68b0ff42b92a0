-- Site coordinate systems (issue 10): the system a site's lon/lat were
-- sent in (wgs84, gcj02, bd09; NULL means wgs84), and the server-owned
-- WGS-84 position derived from them, as photos have (002). Rows written
-- before this migration get the derived pair on their next write of
-- lon, lat or crs; until then readers convert lon/lat themselves
-- (server.SiteLocation).
ALTER TABLE site ADD COLUMN crs TEXT;
ALTER TABLE site ADD COLUMN lon_wgs84 REAL;
ALTER TABLE site ADD COLUMN lat_wgs84 REAL;
