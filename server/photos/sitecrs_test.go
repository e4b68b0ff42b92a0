package photos_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSitePlacedOnChineseMap: a site placed on an Amap (GCJ-02) or Baidu
// (BD-09) map is pushed with its crs; the server keeps what was sent and
// adds the WGS-84 position, so honest photos at the place — GPS in the
// JPEG (WGS-84), or the phone's GCJ-02 position — are not far_from_site,
// while a photo taken 5 km away still is.
func TestSitePlacedOnChineseMap(t *testing.T) {
	w := setup(t)
	place := geo.Point{Lon: 112.7410, Lat: 38.4290} // where the site really is (WGS-84)
	gcj, bd := geo.WGS84ToGCJ02(place), geo.WGS84ToBD09(place)
	if d := geo.DistanceM(place, gcj); d < 200 {
		t.Fatalf("the GCJ-02 offset here is only %.0f m; the test needs one larger than the geofence", d)
	}
	gcjSite, bdSite, gcjVisit, bdVisit := newID(), newID(), newID(), newID()
	start := w.visitStart.Format(time.RFC3339)
	apptest.PushApplied(t, w.phone,
		mut(w.phone, "site", gcjSite, map[string]any{"county": "140902", "kind": "construction_site", "name": "高德地图上选点的工地",
			"lon": gcj.Lon, "lat": gcj.Lat, "crs": "gcj02", "radius_m": 100}),
		mut(w.phone, "site", bdSite, map[string]any{"county": "140902", "kind": "coal_yard", "name": "百度地图上选点的煤场",
			"lon": bd.Lon, "lat": bd.Lat, "crs": "bd09", "radius_m": 100}),
		mut(w.phone, "inspection", gcjVisit, map[string]any{"site_id": gcjSite, "template_id": "construction_dust",
			"template_version": 1, "status": "draft", "started_at": start}),
		mut(w.phone, "inspection", bdVisit, map[string]any{"site_id": bdSite, "template_id": "coal_yard",
			"template_version": 1, "status": "draft", "started_at": start}))

	// The site keeps what the phone sent; the server adds WGS-84.
	for _, tc := range []struct {
		id, crs string
		sent    geo.Point
	}{{gcjSite, "gcj02", gcj}, {bdSite, "bd09", bd}} {
		r, err := w.srv.App.DB.Get(ctx, syncproto.EntitySite, tc.id)
		if err != nil || r == nil {
			t.Fatalf("site %s: %v", tc.id, err)
		}
		lon, _ := r.Float("lon")
		lat, _ := r.Float("lat")
		wlon, ok1 := r.Float("lon_wgs84")
		wlat, ok2 := r.Float("lat_wgs84")
		if lon != tc.sent.Lon || lat != tc.sent.Lat || r.Text("crs") != tc.crs {
			t.Errorf("%s site stored %v,%v %q; want what was sent, %v %q", tc.crs, lon, lat, r.Text("crs"), tc.sent, tc.crs)
		}
		if !ok1 || !ok2 || geo.DistanceM(geo.Point{Lon: wlon, Lat: wlat}, place) > 1 {
			t.Errorf("%s site lon_wgs84/lat_wgs84 = %v,%v (set %v %v), want within 1 m of %v", tc.crs, wlon, wlat, ok1, ok2, place)
		}
	}

	taken := w.visitStart.Add(20 * time.Minute)
	far := geo.Point{Lon: place.Lon + 0.06, Lat: place.Lat}
	tests := []struct {
		name   string
		visit  string
		img    testimg.Options
		extra  map[string]any
		want   []string
		seedNo uint64
	}{
		{"GPS in the JPEG at the GCJ-02 site", gcjVisit, testimg.Options{Time: &taken, GPS: &place},
			map[string]any{"lon": place.Lon, "lat": place.Lat, "crs": "wgs84", "accuracy_m": 5}, nil, 1},
		{"the phone's Amap position at the GCJ-02 site", gcjVisit, testimg.Options{Time: &taken},
			map[string]any{"lon": gcj.Lon, "lat": gcj.Lat, "crs": "gcj02", "accuracy_m": 8}, []string{"no_gps"}, 2},
		{"GPS in the JPEG at the BD-09 site", bdVisit, testimg.Options{Time: &taken, GPS: &place}, nil, nil, 3},
		{"taken 5 km away from the GCJ-02 site", gcjVisit, testimg.Options{Time: &taken, GPS: &far}, nil, []string{"far_from_site"}, 4},
	}
	ids := make([]string, len(tests))
	tus := w.srv.Tus(w.phone)
	for i, tc := range tests {
		opt := tc.img
		opt.Width, opt.Height, opt.Seed = 320, 240, 500+tc.seedNo
		data := testimg.JPEG(opt)
		ids[i] = w.photo(t, tc.visit, data, tc.extra)
		tus.Upload(ids[i], "image/jpeg", data, http.StatusNoContent)
	}
	w.srv.App.Photos.WaitIdle()
	for i, tc := range tests {
		f := w.flags(t, ids[i])
		if got := flagNames(f); !equal(got, tc.want) {
			t.Errorf("%s: flags %v (%v), want %v", tc.name, got, f, tc.want)
		}
	}

	// Moving the site on the map (a new GCJ-02 position) moves its WGS-84
	// position too; the phone pulls both.
	moved := geo.WGS84ToGCJ02(geo.Point{Lon: place.Lon + 0.01, Lat: place.Lat})
	apptest.PushApplied(t, w.phone, mut(w.phone, "site", gcjSite, map[string]any{"lon": moved.Lon, "lat": moved.Lat}))
	var site *syncproto.Change
	if _, err := w.phone.PullAll(ctx, "", 1000, func(p *syncproto.PullResponse) error {
		for i := range p.Changes {
			if p.Changes[i].ID == gcjSite {
				site = &p.Changes[i]
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wlon, wlat float64
	if site == nil || json.Unmarshal(site.Fields["lon_wgs84"], &wlon) != nil || json.Unmarshal(site.Fields["lat_wgs84"], &wlat) != nil {
		t.Fatalf("pulled site %+v lacks lon_wgs84/lat_wgs84", site)
	}
	if d := geo.DistanceM(geo.Point{Lon: wlon, Lat: wlat}, geo.Point{Lon: place.Lon + 0.01, Lat: place.Lat}); d > 1 {
		t.Errorf("after the move the site's WGS-84 position is %.1f m off", d)
	}
}

// TestSiteWGS84FollowsFieldMerges: lon, lat and crs merge field by field;
// the WGS-84 position follows the merged values whoever wrote which — here
// one phone moves the site while another, which had sent the position
// without a crs, corrects the crs alone.
func TestSiteWGS84FollowsFieldMerges(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	place := geo.Point{Lon: 112.7200, Lat: 38.4400}
	gcj := geo.WGS84ToGCJ02(place)
	id := newID()
	apptest.PushApplied(t, a, mut(a, "site", id, map[string]any{"county": "140902", "kind": "factory", "name": "坐标系待更正的工厂",
		"lon": gcj.Lon, "lat": gcj.Lat}))
	wgs84Of := func() geo.Point {
		t.Helper()
		r, err := srv.App.DB.Get(ctx, syncproto.EntitySite, id)
		if err != nil || r == nil {
			t.Fatalf("site: %v", err)
		}
		lon, _ := r.Float("lon_wgs84")
		lat, _ := r.Float("lat_wgs84")
		return geo.Point{Lon: lon, Lat: lat}
	}
	if got := wgs84Of(); got != gcj {
		t.Fatalf("without crs the position is taken as WGS-84: got %v, want %v", got, gcj)
	}
	apptest.PushApplied(t, b, mut(b, "site", id, map[string]any{"crs": "gcj02"}))
	if d := geo.DistanceM(wgs84Of(), place); d > 1 {
		t.Errorf("after the crs correction the WGS-84 position is %.1f m off", d)
	}
	apptest.PushApplied(t, b, mut(b, "site", id, map[string]any{"lon": nil, "lat": nil}))
	if r, _ := srv.App.DB.Get(ctx, syncproto.EntitySite, id); string(r.Value("lon_wgs84")) != "null" {
		t.Errorf("a site whose position was cleared keeps lon_wgs84 %s", r.Value("lon_wgs84"))
	}
	// A device may not write the server's fields.
	resp := apptest.Push(t, a, mut(a, "site", id, map[string]any{"lon_wgs84": 1.0}))
	if r := resp.Results[0]; r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeServerOwnedField {
		t.Errorf("device write of lon_wgs84: %+v, want rejected server_owned_field", r)
	}
}
