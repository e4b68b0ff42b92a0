package photos_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// TestRectificationPhotoAfterTheVisit: a photo of a finding taken once
// the office approved the inspection is its rectification's evidence —
// after the visit by nature, not flagged for it; the same photo of a
// finding whose inspection is not approved yet still is.
func TestRectificationPhotoAfterTheVisit(t *testing.T) {
	w := setup(t)
	office := w.srv.Login(apptest.CountyOffice)
	finding := newID()
	apptest.PushApplied(t, w.phone,
		mut(w.phone, "inspection", w.insp, map[string]any{"finished_at": w.visitStart.Add(10 * time.Minute).Format(time.RFC3339)}),
		mut(w.phone, "finding", finding, map[string]any{"inspection_id": w.insp, "item_key": "fence", "description": "围挡缺失",
			"severity": "major", "status": "open"}),
		mut(w.phone, "inspection", w.insp, map[string]any{"status": "submitted"}))
	now := time.Now().Truncate(time.Second)
	tus := w.srv.Tus(w.phone)
	shoot := func(seed uint64) string {
		data := testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: seed, Time: &now, GPS: &siteAt})
		id := w.photo(t, w.insp, data, map[string]any{"finding_id": finding, "captured_at": now.Format(time.RFC3339),
			"lon": siteAt.Lon, "lat": siteAt.Lat, "accuracy_m": 5, "crs": "wgs84"})
		tus.Upload(id, "image/jpeg", data, http.StatusNoContent)
		w.srv.App.Photos.WaitIdle()
		return id
	}
	early := shoot(31)
	if !slices.Contains(flagNames(w.flags(t, early)), "time_mismatch") {
		t.Errorf("a finding's photo taken after the visit, before its approval: flags %v, want time_mismatch", flagNames(w.flags(t, early)))
	}
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+w.insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := flagNames(w.flags(t, shoot(32))); slices.Contains(got, "time_mismatch") {
		t.Errorf("a rectification photo, taken after the approval: flags %v, want no time_mismatch", got)
	}
}
