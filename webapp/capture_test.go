package webapp_test

import (
	"os"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserSignedCapture (issue 15): the app makes and registers its
// device key at sign-in (Web Crypto in Chromium), signs a photo the camera
// has just written and not a file picked from the gallery (an old file);
// the server finds the first signed by this device's key and marks the
// other not_in_app, and the app shows both.
func TestBrowserSignedCapture(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.goHash("#/site/"+site.ID, `button.start[data-template="construction_dust"]`)
	p.click(`button.start[data-template="construction_dust"]`)
	p.wait(`#inspection`)
	insp := eval[string](p, `document.querySelector('#inspection').dataset.id`)

	p.photo("fence", jpeg(t, "camera.jpg", 21, near(at), ""))
	old := jpeg(t, "gallery.jpg", 22, near(at), "")
	days := time.Now().Add(-72 * time.Hour)
	if err := os.Chtimes(old, days, days); err != nil {
		t.Fatal(err)
	}
	p.photo("material_cover", old)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()

	photos, err := srv.App.DB.Find(ctx, syncproto.EntityPhoto, "inspection_id", insp)
	if err != nil || len(photos) != 2 {
		t.Fatalf("photos of the inspection: %d %v, want 2", len(photos), err)
	}
	status := map[string]server.CaptureResult{}
	for _, ph := range photos {
		status[ph.Text("item_key")] = field[server.CaptureResult](t, ph, syncproto.FieldCapture)
		if ph.Text("item_key") == "fence" {
			keys, err := srv.App.DB.DeviceKeys(ctx, ph.CreatedDevice)
			if err != nil || len(keys) != 1 || keys[0].ID != ph.Text(syncproto.FieldCaptureKeyID) {
				t.Errorf("the phone's keys %+v %v, want the one that signed %s", keys, err, ph.Text(syncproto.FieldCaptureKeyID))
			}
		}
	}
	if s := status["fence"]; s.Status != syncproto.CaptureSigned {
		t.Errorf("camera photo: capture %+v, want signed", s)
	}
	if s := status["material_cover"]; s.Status != syncproto.CaptureNotInApp {
		t.Errorf("gallery photo: capture %+v, want not_in_app", s)
	}
	p.goHash("#/inspection/"+insp, `#item-fence .thumb[data-capture="signed"]`)
	p.wait(`#item-material_cover .thumb[data-capture="not_in_app"]`)
	p.has("✓ 应用拍摄", "非应用拍摄")
}
