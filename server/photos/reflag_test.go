package photos_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
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
