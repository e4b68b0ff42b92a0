package photos_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// TestPhotoMetrics: /metrics shows the photo backlog — a photo whose
// bytes arrived counts until it is processed — and the decode memory:
// the budget, what is held now, the most held at once, the waits.
func TestPhotoMetrics(t *testing.T) {
	const budget = 64 << 20
	w := setupOn(t, apptest.Start(t, func(c *app.Config) { c.HoldPhotoProcessing, c.PhotoDecodeMemory = true, budget }))
	metric := func(name string) float64 {
		t.Helper()
		resp, err := w.srv.HTTPClient().Get(w.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no %s", name)
		}
		v, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if n := metric("fieldsync_photos_unprocessed"); n != 0 {
		t.Fatalf("backlog %v before any photo", n)
	}
	data := testimg.EncodeJPEG(testimg.Scene(7, 640, 480), testimg.Options{Quality: 85})
	id := w.photo(t, w.insp, data, nil)
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	if n := metric("fieldsync_photos_unprocessed"); n != 1 {
		t.Errorf("backlog %v with one photo held, want 1", n)
	}
	if err := w.srv.App.Photos.Process(ctx, id); err != nil {
		t.Fatal(err)
	}
	for name, ok := range map[string]func(float64) bool{
		"fieldsync_photos_unprocessed":        func(v float64) bool { return v == 0 },
		"fieldsync_photo_decode_budget_bytes": func(v float64) bool { return v == budget },
		"fieldsync_photo_decode_bytes_in_use": func(v float64) bool { return v == 0 },
		"fieldsync_photo_decode_peak_bytes":   func(v float64) bool { return v > 640*480 && v <= budget },
		"fieldsync_photo_decode_waits_total":  func(v float64) bool { return v == 0 },
	} {
		if v := metric(name); !ok(v) {
			t.Errorf("%s = %v after the photo was processed", name, v)
		}
	}
}
