package photos_test

import (
	"math"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// TestPositionAndTimeConsistency is the flag table of a photo's three
// stories — its EXIF (time, GPS), the phone's fix and clock at capture,
// the server's receipt — in combinations honest phones produce (none of
// them flagged) and combinations they do not (flagged, with by how much).
func TestPositionAndTimeConsistency(t *testing.T) {
	w := setup(t)
	cst := time.FixedZone("", 8*3600)
	taken := w.visitStart.Add(20 * time.Minute) // the captured_at every photo record carries
	local := taken.In(cst)
	threeDaysOld := taken.Add(-72 * time.Hour)
	east := func(m float64) geo.Point { // m metres east of the site
		return geo.Point{Lon: siteAt.Lon + m/(111320*math.Cos(siteAt.Lat*math.Pi/180)), Lat: siteAt.Lat}
	}
	near, farAway := east(60), east(2600)
	fix := func(p geo.Point, acc float64) map[string]any {
		return map[string]any{"lon": p.Lon, "lat": p.Lat, "accuracy_m": acc, "crs": "wgs84"}
	}
	weak := 180.0
	tests := []flagCase{
		// Honest.
		{"EXIF and fix agree", testimg.Options{Time: &taken, GPS: &siteAt}, fix(siteAt, 5), nil},
		{"camera and app fixes 60 m apart", testimg.Options{Time: &taken, GPS: &near}, fix(siteAt, 8), nil},
		{"weak fix inside the fence", testimg.Options{Time: &taken, GPS: &siteAt, GPSAccuracyM: &weak}, fix(near, 90), nil},
		{"local time without an offset", testimg.Options{Time: &local, NoOffset: true, GPS: &siteAt}, fix(siteAt, 5), nil},
		{"camera firmware in Software", testimg.Options{Time: &taken, GPS: &siteAt, Make: "Xiaomi", Software: "MIUI Camera HDR+ 1.0.540104767zd"}, fix(siteAt, 5), nil},
		{"no EXIF position indoors", testimg.Options{Time: &taken}, fix(siteAt, 30), []string{"no_gps"}},
		// Dishonest.
		{"a picture taken 2.6 km away", testimg.Options{Time: &taken, GPS: &farAway}, fix(siteAt, 5),
			[]string{"far_from_site", "position_mismatch"}},
		{"position typed into the app", testimg.Options{Time: &taken, GPS: &siteAt}, fix(farAway, 10), []string{"position_mismatch"}},
		{"captured now, file three days old", testimg.Options{Time: &threeDaysOld, GPS: &siteAt}, fix(siteAt, 5), []string{"time_mismatch"}},
	}
	flags := w.raise(t, tests, 300)
	// By how much, in the flags' own terms.
	if pm := flags[6]["position_mismatch"]; pm != nil && (pm["distance_m"].(float64) < 2500 || pm["distance_m"].(float64) > 2700 || pm["allowed_m"] != 105.0) {
		t.Errorf("picture from elsewhere: %v, want about 2600 m apart, 105 m allowed", pm)
	}
	if pm := flags[7]["position_mismatch"]; pm != nil && (pm["distance_m"].(float64) < 2500 || pm["allowed_m"] != 110.0 || pm["device_accuracy_m"] != 10.0) {
		t.Errorf("typed position: %v", pm)
	}
	if tm := flags[8]["time_mismatch"]; tm != nil {
		if got := tm["exif_minus_device_s"]; got != float64(-72*3600) {
			t.Errorf("three days old: exif_minus_device_s %v, want %d (flag %v)", got, -72*3600, tm)
		}
		if got, _ := tm["outside_visit_s"].(float64); got > -71*3600 {
			t.Errorf("three days old: outside_visit_s %v, want about three days before the visit", got)
		}
	}
}
