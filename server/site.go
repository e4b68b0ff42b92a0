package server

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// A site's position, like a photo's, is kept as the device sent it — lon,
// lat and crs (wgs84, gcj02 or bd09; none means wgs84) — and the server
// adds the same place in WGS-84 as the server-owned lon_wgs84 and
// lat_wgs84. A site placed on a Chinese map app (GCJ-02, some hundreds of
// metres off WGS-84 in Xinzhou) is then compared with photos in one datum,
// so honest photos at it are not far_from_site. The WGS-84 pair is derived
// from the merged lon, lat and crs after every write that changes one of
// them (deriveSite), so it follows per-field merges like any other field.

// siteSourceFields are the fields the WGS-84 position is derived from.
var siteSourceFields = []string{"lon", "lat", "crs"}

// SiteLocation returns where site r is, in WGS-84: its lon_wgs84/lat_wgs84,
// or — for a record written before the server derived them — its lon/lat
// converted from its crs. ok is false when the site has no position.
func SiteLocation(r *StoredRecord) (p geo.Point, ok bool) {
	lon, ok1 := r.Float("lon_wgs84")
	lat, ok2 := r.Float("lat_wgs84")
	if ok1 && ok2 {
		return geo.Point{Lon: lon, Lat: lat}, true
	}
	return siteSent(r)
}

// SiteCRS returns the coordinate system a site's lon/lat were sent in
// (geo.WGS84 when none was given).
func SiteCRS(r *StoredRecord) string {
	if crs := r.Text("crs"); crs != "" {
		return crs
	}
	return geo.WGS84
}

// siteSent converts the lon/lat a device sent for site r from its crs.
func siteSent(r *StoredRecord) (geo.Point, bool) {
	lon, ok1 := r.Float("lon")
	lat, ok2 := r.Float("lat")
	if !ok1 || !ok2 {
		return geo.Point{}, false
	}
	p, err := geo.ToWGS84(geo.Point{Lon: lon, Lat: lat}, SiteCRS(r))
	return p, err == nil
}

// visitFields are, by entity, the fields of a photo's visit and site that
// its flags are computed from (photos.Processor: outside_visit,
// far_from_site, a rectification's time).
var visitFields = map[string][]string{
	syncproto.EntityInspection: {"started_at", "finished_at", "status", "reviewed_at"},
	syncproto.EntitySite:       append(slices.Clone(siteSourceFields), "radius_m"),
	// A roadside check's position is its photos' place (far_from_site).
	syncproto.EntityVehicleCheck: {"lon", "lat"},
}

// noteVisitChange has VisitChanged called after the commit when written
// (the fields a write to r changed) names a field of visitFields: the
// photos of that inspection, roadside check or site may be flagged
// otherwise now.
func (s *Syncer) noteVisitChange(tx WriteTx, r *StoredRecord, written []string) {
	fields, ok := visitFields[r.Entity.Name]
	// A record not stored yet (Seq 0) has no photos.
	if !ok || s.VisitChanged == nil || r.Seq == 0 || !slices.ContainsFunc(written, func(f string) bool { return slices.Contains(fields, f) }) {
		return
	}
	id, site := r.ID, r.Entity.Name == syncproto.EntitySite
	tx.AfterCommit("visit "+r.Entity.Name+" "+id, func() {
		if site {
			s.VisitChanged(nil, []string{id})
		} else {
			s.VisitChanged([]string{id}, nil)
		}
	})
}

// siteNeedsDerive reports whether a write of these fields to an entity
// changes what deriveSite computes.
func siteNeedsDerive(e *Entity, written []string) bool {
	if e.Name != syncproto.EntitySite {
		return false
	}
	for _, f := range written {
		if slices.Contains(siteSourceFields, f) {
			return true
		}
	}
	return false
}

// deriveSite sets site r's lon_wgs84 and lat_wgs84 from its merged lon,
// lat and crs, with a server HLC after every write the record holds; null
// when it has no position. Values already right are left alone.
func (s *Syncer) deriveSite(r *StoredRecord) {
	vals := map[string]json.RawMessage{"lon_wgs84": nullJSON, "lat_wgs84": nullJSON}
	if p, ok := siteSent(r); ok {
		vals["lon_wgs84"], vals["lat_wgs84"] = mustJSON(p.Lon), mustJSON(p.Lat)
	}
	for name, v := range vals {
		st, ok := r.State.Fields[name]
		if (ok && bytes.Equal(st.Value, v)) || (!ok && bytes.Equal(v, nullJSON)) {
			delete(vals, name)
		}
	}
	if len(vals) == 0 {
		return
	}
	syncproto.Merge(&r.State, vals, false, s.Clock.Observe(r.State.Highest()))
}
