package photos_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// TestEveryFlag raises each evidence flag with a crafted photo, and checks
// that a clean photo raises none.
func TestEveryFlag(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	threeDaysEarlier := taken.Add(-72 * time.Hour)
	far := geo.Point{Lon: siteAt.Lon + 0.06, Lat: siteAt.Lat} // ~5 km east
	gcj := geo.WGS84ToGCJ02(siteAt)
	atSite := map[string]any{"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 5, "crs": "wgs84"}
	tests := []flagCase{
		{"clean", testimg.Options{Time: &taken, GPS: &siteAt}, atSite, nil},
		{"gallery photo without GPS", testimg.Options{Time: &taken}, atSite, []string{"no_gps"}},
		// The phone's fix says it was at the site: the file's position disagrees too.
		{"taken 5 km away", testimg.Options{Time: &taken, GPS: &far}, atSite, []string{"far_from_site", "position_mismatch"}},
		{"old photo", testimg.Options{Time: &threeDaysEarlier, GPS: &siteAt}, atSite, []string{"time_mismatch"}},
		// Stripping the capture times does not hide a photo's age: the
		// file's DateTime is read, and a file with no time is flagged.
		{"old photo with only its file time", testimg.Options{Time: &threeDaysEarlier, DateTimeOnly: true, GPS: &siteAt}, atSite, []string{"time_mismatch"}},
		{"photo with no time", testimg.Options{GPS: &siteAt}, atSite, []string{"time_mismatch"}},
		{"photo with its file time only, at the visit", testimg.Options{Time: &taken, DateTimeOnly: true, GPS: &siteAt}, atSite, nil},
		{"mock location", testimg.Options{Time: &taken, GPS: &siteAt}, map[string]any{"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 0, "crs": "wgs84"}, []string{"mock_location"}},
		{"edited", testimg.Options{Time: &taken, GPS: &siteAt, Software: "Adobe Photoshop 25.0 (Windows)"}, atSite, []string{"edited"}},
		{"Amap GCJ-02 position at the site", testimg.Options{Time: &taken},
			map[string]any{"lon": gcj.Lon, "lat": gcj.Lat, "accuracy_m": 10, "crs": "gcj02"}, []string{"no_gps"}},
		{"the same position taken as WGS-84 is off site", testimg.Options{Time: &taken},
			map[string]any{"lon": gcj.Lon, "lat": gcj.Lat, "accuracy_m": 10, "crs": "wgs84"}, []string{"far_from_site", "no_gps"}},
		// A latitude no fix writes: no_gps, saying the GPS was there and
		// invalid (a forged or corrupted position), not merely absent.
		{"GPS beyond the pole", testimg.Options{Time: &taken, GPS: &geo.Point{Lon: siteAt.Lon, Lat: 95.5}}, atSite, []string{"no_gps"}},
	}
	flags := w.raise(t, tests, 100)
	if d := flags[2]["far_from_site"]["distance_m"].(float64); d < 4800 || d > 5500 {
		t.Errorf("far_from_site distance %v m, want about 5200", d)
	}
	for i, tc := range tests {
		if f, ok := flags[i]["no_gps"]; ok && (f["invalid_gps"] == true) != (tc.name == "GPS beyond the pole") {
			t.Errorf("%s: no_gps %v", tc.name, f)
		}
	}
}

// flagCase is a photo made with img, pushed with the record fields extra
// on top of the usual ones, and the flags it must raise (sorted).
type flagCase struct {
	name  string
	img   testimg.Options
	extra map[string]any
	want  []string
}

// raise pushes and uploads each case's photo (320×240, seeds from seed on),
// waits until all are processed, checks the flags' names and returns the
// flags of each.
func (w *world) raise(t *testing.T, cases []flagCase, seed uint64) []map[string]map[string]any {
	t.Helper()
	ids := make([]string, len(cases))
	tus := w.srv.Tus(w.phone)
	for i, tc := range cases {
		opt := tc.img
		opt.Width, opt.Height, opt.Seed = 320, 240, seed+uint64(i)
		data := testimg.JPEG(opt)
		ids[i] = w.photo(t, w.insp, data, tc.extra)
		tus.Upload(ids[i], "image/jpeg", data, http.StatusNoContent)
	}
	w.srv.App.Photos.WaitIdle()
	flags := make([]map[string]map[string]any, len(cases))
	for i, tc := range cases {
		flags[i] = w.flags(t, ids[i])
		if got := flagNames(flags[i]); !equal(got, tc.want) {
			t.Errorf("%s: flags %v (%v), want %v", tc.name, got, flags[i], tc.want)
		}
	}
	return flags
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDuplicatesAcrossInspectionsAndSites: the same bytes as evidence in
// two inspections are stored once and flagged on the later photo only (the
// earlier gets a note); the same picture re-encoded at another site is a
// near duplicate. (reuse_test.go tests the rules further.)
func TestDuplicatesAcrossInspectionsAndSites(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	insp2 := newID()
	apptest.PushApplied(t, w.phone, mut(w.phone, "inspection", insp2, map[string]any{"site_id": w.site, "template_id": "coal_yard",
		"template_version": 1, "status": "draft", "started_at": w.visitStart.Format(time.RFC3339)}))
	otherVisit := newID()
	apptest.PushApplied(t, w.phone, mut(w.phone, "inspection", otherVisit, map[string]any{"site_id": w.other, "template_id": "coal_yard",
		"template_version": 1, "status": "draft", "started_at": w.visitStart.Format(time.RFC3339)}))

	data := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 7, Time: &taken, GPS: &siteAt})
	first := w.photo(t, w.insp, data, nil)
	w.srv.Tus(w.phone).Upload(first, "image/jpeg", data, http.StatusNoContent)
	second := w.photo(t, insp2, data, nil)
	if string(w.record(t, second)["uploaded"]) == "true" {
		t.Fatalf("a photo is marked uploaded by bytes sent for another one")
	}
	w.srv.Tus(w.phone).Upload(second, "image/jpeg", data, http.StatusNoContent) // its own upload; stored once
	w.srv.App.Photos.WaitIdle()
	if string(w.record(t, second)["uploaded"]) != "true" {
		t.Fatalf("a photo whose bytes were uploaded for it again is not marked uploaded")
	}
	if _, ok := w.flags(t, second)["duplicate"]; !ok {
		t.Errorf("the second use is not flagged duplicate: %v", w.flags(t, second))
	}
	if _, ok := w.flags(t, first)["duplicate"]; ok || w.notes(t, first)["count"] != 1.0 {
		t.Errorf("the first use: flags %v, notes %v; want no duplicate flag and one reuse noted", w.flags(t, first), w.notes(t, first))
	}

	again := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 7, Quality: 60, Time: &taken})
	near := w.photo(t, otherVisit, again, nil)
	w.srv.Tus(w.phone).Upload(near, "image/jpeg", again, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	if f, ok := w.flags(t, near)["near_duplicate"]; !ok || f["site_id"] != w.site {
		t.Errorf("re-encoded picture at another site: flags %v, want near_duplicate of site %s", w.flags(t, near), w.site)
	}
}

// TestBytesBeforeRecord: a phone may upload before it pushes the record.
func TestBytesBeforeRecord(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 300, Height: 200, Seed: 9, Time: &taken, GPS: &siteAt})
	id := newID()
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	apptest.PushApplied(t, w.phone, mut(w.phone, "photo", id, map[string]any{"inspection_id": w.insp, "sha256": apptest.SHA256(data), "content_type": "image/jpeg"}))
	w.srv.App.Photos.WaitIdle()
	rec := w.record(t, id)
	if string(rec["uploaded"]) != "true" || rec["processed_at"] == nil {
		t.Fatalf("record after bytes: uploaded=%s processed_at=%s", rec["uploaded"], rec["processed_at"])
	}
}

// TestFlagsFollowEdits: a device edit of a processed photo's fields (here
// the phone's fix) has the photo processed again, so its flags describe
// the record as it now stands.
func TestFlagsFollowEdits(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 300, Time: &taken, GPS: &siteAt})
	id := w.photo(t, w.insp, data, map[string]any{"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 5, "crs": "wgs84"})
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	if got := flagNames(w.flags(t, id)); len(got) != 0 {
		t.Fatalf("a clean photo has flags %v", got)
	}
	far := geo.Point{Lon: siteAt.Lon + 0.06, Lat: siteAt.Lat} // ~5 km east
	for _, step := range []struct {
		name string
		at   geo.Point
		want []string
	}{
		{"the fix moved 5 km away", far, []string{"position_mismatch"}},
		{"the fix moved back", siteAt, nil},
	} {
		apptest.PushApplied(t, w.phone, mut(w.phone, "photo", id, map[string]any{"lon": step.at.Lon, "lat": step.at.Lat}))
		w.srv.App.Photos.WaitIdle()
		if got := flagNames(w.flags(t, id)); !equal(got, step.want) {
			t.Fatalf("%s: flags %v, want %v", step.name, got, step.want)
		}
	}
}
