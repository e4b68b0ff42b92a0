package photos_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/server/photos"
)

// TestFlagsFollowTheVisit: a photo's flags are computed again, without its
// bytes being read again, when what they were computed from beyond its own
// record changes — its inspection's end, pushed with the submission after
// the photos were uploaded (sync.md 10.6's order), and its site's position.
// The photo used to keep the flags of the visit as it was when its bytes
// arrived: taken after the visit ended, it went unflagged for good.
func TestFlagsFollowTheVisit(t *testing.T) {
	w := setup(t)
	taken := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: 41, Time: &taken, GPS: &siteAt})
	id := w.photo(t, w.insp, data, map[string]any{"captured_at": taken.Format(time.RFC3339),
		"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 5, "crs": "wgs84"})
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()
	processed := string(w.record(t, id)["processed_at"])
	if got := flagNames(w.flags(t, id)); len(got) != 0 {
		t.Fatalf("a photo taken during a visit not yet ended: flags %v, want none", got)
	}

	// The visit ended 50 minutes ago: the photo was taken after it.
	end := w.visitStart.Add(10 * time.Minute)
	push := func(entity, rid string, f map[string]any) {
		t.Helper()
		apptest.PushApplied(t, w.phone, mut(w.phone, entity, rid, f))
		w.srv.App.Photos.WaitIdle()
	}
	push("inspection", w.insp, map[string]any{"finished_at": end.Format(time.RFC3339), "status": "submitted"})
	tm := w.flags(t, id)["time_mismatch"]
	if gotEnd, _ := time.Parse(time.RFC3339, fmt.Sprint(tm["visit_end"])); tm == nil || !slices.Contains(tm["reasons"].([]any), any("outside_visit")) || !gotEnd.Equal(end) {
		t.Errorf("after the submission with finished_at %s: time_mismatch %v, want outside_visit with that visit_end", end.Format(time.RFC3339), tm)
	}
	if got := string(w.record(t, id)["processed_at"]); got != processed {
		t.Errorf("the photo was processed again from its bytes (processed_at %s, was %s): only its flags change", got, processed)
	}

	// The site moved 5 km: the photo is far from it; moved back, it is not.
	push("site", w.site, map[string]any{"lon": siteAt.Lon + 0.06})
	if f := w.flags(t, id)["far_from_site"]; f == nil {
		t.Errorf("the site moved 5 km from the photo: flags %v, want far_from_site", flagNames(w.flags(t, id)))
	}
	push("site", w.site, map[string]any{"lon": siteAt.Lon})
	if got := flagNames(w.flags(t, id)); slices.Contains(got, "far_from_site") || !slices.Contains(got, "time_mismatch") {
		t.Errorf("the site moved back: flags %v, want time_mismatch alone", got)
	}
}

// TestRoadsidePhotoFarFromCheck: a roadside check's photo taken
// kilometres from the check's own position is far_from_site, naming the
// check; one at it, or off by a Chinese map's offset (GCJ-02, the check's
// position having no crs), is not; the check's position corrected, its
// photos are flagged again.
func TestRoadsidePhotoFarFromCheck(t *testing.T) {
	w := setup(t)
	check := newID()
	apptest.PushApplied(t, w.phone, mut(w.phone, "vehicle_check", check, map[string]any{"county": "140902", "checkpoint": "G108 测试检查点",
		"plate": "晋H30272", "emission_stage": "cn6", "checked_at": time.Now().Format(time.RFC3339), "lon": siteAt.Lon, "lat": siteAt.Lat}))
	taken := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	far := geo.Point{Lon: siteAt.Lon + 0.06, Lat: siteAt.Lat} // ~5 km east
	gcj := geo.WGS84ToGCJ02(siteAt)
	ids := map[string]string{}
	tus := w.srv.Tus(w.phone)
	for i, at := range map[string]geo.Point{"at": siteAt, "far": far, "gcj": gcj} {
		data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: uint64(len(ids)) + 61, Time: &taken, GPS: &at})
		ids[i] = newID()
		apptest.PushApplied(t, w.phone, mut(w.phone, "photo", ids[i], map[string]any{"vehicle_check_id": check, "sha256": apptest.SHA256(data),
			"content_type": "image/jpeg", "size_bytes": len(data), "captured_at": taken.Format(time.RFC3339),
			"lon": at.Lon, "lat": at.Lat, "accuracy_m": 5, "crs": "wgs84"}))
		tus.Upload(ids[i], "image/jpeg", data, http.StatusNoContent)
	}
	w.srv.App.Photos.WaitIdle()
	for name, want := range map[string]bool{"at": false, "far": true, "gcj": false} {
		f := w.flags(t, ids[name])["far_from_site"]
		if (f != nil) != want || f != nil && (f["vehicle_check_id"] != check || f["radius_m"] != float64(photos.RoadsideRadiusM)) {
			t.Errorf("the photo %s the check: far_from_site %v, want it %v, naming the check", name, f, want)
		}
	}
	// The check's position corrected to where the far photo was.
	apptest.PushApplied(t, w.phone, mut(w.phone, "vehicle_check", check, map[string]any{"lon": far.Lon, "lat": far.Lat}))
	w.srv.App.Photos.WaitIdle()
	for name, want := range map[string]bool{"at": true, "far": false} {
		if f := w.flags(t, ids[name])["far_from_site"]; (f != nil) != want {
			t.Errorf("the check moved: the photo %s it first: far_from_site %v, want it %v", name, f, want)
		}
	}
}

// TestRetakeAfterReturnInTime: a photo taken once an office has returned
// the inspection — the 补拍 the return asked for — is not flagged as taken
// outside the visit, before the resubmission nor after it; one taken
// after the visit but before the return still is, and so is one taken
// after the approval that followed (verification probe:
// every photo taken for a return was flagged, and reviewers learn to pass
// flags by).
func TestRetakeAfterReturnInTime(t *testing.T) {
	// The server's clock, moved on a minute before the approval: a photo
	// taken the same second as a decision could be either side of it.
	var ahead atomic.Int64
	w := setupOn(t, apptest.Start(t, func(c *app.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	}))
	push := func(entity, rid string, f map[string]any) {
		t.Helper()
		apptest.PushApplied(t, w.phone, mut(w.phone, entity, rid, f))
		w.srv.App.Photos.WaitIdle()
	}
	upload := func(seed uint64, taken time.Time) string {
		t.Helper()
		data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: seed, Time: &taken, GPS: &siteAt})
		id := w.photo(t, w.insp, data, map[string]any{"captured_at": taken.Format(time.RFC3339),
			"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 5, "crs": "wgs84"})
		w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
		w.srv.App.Photos.WaitIdle()
		return id
	}
	outside := func(id string) bool {
		tm := w.flags(t, id)["time_mismatch"]
		return tm != nil && slices.Contains(tm["reasons"].([]any), any("outside_visit"))
	}
	// The visit ran an hour ago for five minutes; a photo taken twenty
	// minutes ago is after it.
	late := upload(71, time.Now().Add(-20*time.Minute).Truncate(time.Second))
	push("inspection", w.insp, map[string]any{"finished_at": w.visitStart.Add(5 * time.Minute).Format(time.RFC3339), "status": "submitted"})
	if !outside(late) {
		t.Fatalf("a photo taken after the visit: flags %v, want outside_visit", w.flags(t, late))
	}
	office := w.srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+w.insp+"/review", map[string]string{"decision": "return", "comment": "请补拍围挡"}, nil); err != nil {
		t.Fatal(err)
	}
	w.srv.App.Photos.WaitIdle()
	if !outside(late) {
		t.Errorf("the photo taken before the return, the inspection returned: flags %v, want outside_visit still", w.flags(t, late))
	}
	if _, err := w.phone.Pull(ctx, "", 500); err != nil { // the return's HLC, as a phone learns it
		t.Fatal(err)
	}
	retake := upload(72, time.Now().Truncate(time.Second))
	if outside(retake) {
		t.Errorf("a photo taken after the return: flags %v, want no outside_visit", w.flags(t, retake))
	}
	push("inspection", w.insp, map[string]any{"status": "submitted"})
	if outside(retake) || !outside(late) {
		t.Errorf("resubmitted: outside_visit of the retake %v, of the photo before the return %v; want false, true", outside(retake), outside(late))
	}
	// Approved: a photo taken since is no 补拍 of the return.
	ahead.Store(int64(time.Minute))
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+w.insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	w.srv.App.Photos.WaitIdle()
	if _, err := w.phone.Pull(ctx, "", 500); err != nil {
		t.Fatal(err)
	}
	after := upload(73, time.Now().Add(time.Minute).Truncate(time.Second))
	if outside(retake) || !outside(after) {
		t.Errorf("approved: outside_visit of the retake %v, of a photo taken after the approval %v; want false, true", outside(retake), outside(after))
	}
}
