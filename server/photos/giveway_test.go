package photos_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/server/photos"
)

// giveWayEvents reports, for the photo id (others are ignored), each time
// it begins (true) and ends (false) giving way to devices. Set before the
// server starts and reset after it stops.
func giveWayEvents(t *testing.T, id string) <-chan bool {
	t.Helper()
	ch := make(chan bool, 16)
	t.Cleanup(photos.OnGiveWay(func(photo string, waiting bool) {
		if photo == id {
			ch <- waiting
		}
	}))
	return ch
}

// next receives the next event, failing the test if none comes.
func next(t *testing.T, ch <-chan bool, what string) bool {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no photo event: %s", what)
		return false
	}
}

// uploadPhoto pushes a photo record and uploads its bytes.
func uploadPhoto(t *testing.T, w *world, id string, seed uint64) (data []byte) {
	t.Helper()
	taken := w.visitStart.Add(20 * time.Minute)
	data = testimg.JPEG(testimg.Options{Width: 320, Height: 240, Seed: seed, Time: &taken})
	f := map[string]any{"inspection_id": w.insp, "sha256": apptest.SHA256(data), "content_type": "image/jpeg",
		"size_bytes": len(data), "captured_at": taken.Format(time.RFC3339)}
	apptest.PushApplied(t, w.phone, mut(w.phone, "photo", id, f))
	w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	return data
}

// givingWay starts a server whose photos give way to devices until they
// have been quiet for quiet, at most most; holds a device request in
// flight (end ends it) and uploads a photo, returning its id and events.
func givingWay(t *testing.T, quiet, most time.Duration, seed uint64) (w *world, id string, events <-chan bool, end func()) {
	t.Helper()
	id = newID()
	events = giveWayEvents(t, id)
	w = setup(t)
	w.srv.App.Photos.SetGiveWay(quiet, most)
	end = w.srv.App.Activity.Begin()
	uploadPhoto(t, w, id, seed)
	return w, id, events, end
}

// TestPhotosGiveWayToDevices: while a device's request is in flight, an
// uploaded photo waits to be processed; it is processed once devices have
// been quiet for a while, at once for someone waiting in WaitIdle, and
// without waiting when it was uploaded longer ago than the most a photo
// gives way.
func TestPhotosGiveWayToDevices(t *testing.T) {
	t.Run("until the devices are quiet", func(t *testing.T) {
		w, id, events, end := givingWay(t, 50*time.Millisecond, time.Hour, 21)
		if !next(t, events, "the photo should give way") {
			t.Fatal("the photo stopped giving way before it began")
		}
		if rec := w.record(t, id); rec["processed_at"] != nil {
			t.Fatalf("processed while giving way: %s", rec["processed_at"])
		}
		end()
		if next(t, events, "the photo should go on once devices are quiet") {
			t.Fatal("the photo gave way twice")
		}
		w.srv.App.Photos.WaitIdle()
		if w.record(t, id)["processed_at"] == nil {
			t.Fatal("not processed after devices went quiet")
		}
	})
	t.Run("not while someone waits for it", func(t *testing.T) {
		w, id, events, end := givingWay(t, time.Hour, time.Hour, 22)
		defer end()
		next(t, events, "the photo should give way")
		idle := make(chan struct{})
		go func() { w.srv.App.Photos.WaitIdle(); close(idle) }()
		select { // the photo would otherwise give way for an hour
		case <-idle:
		case <-time.After(60 * time.Second):
			t.Fatal("WaitIdle waited for a photo giving way to devices")
		}
		if w.record(t, id)["processed_at"] == nil {
			t.Fatal("WaitIdle returned before the photo was processed")
		}
	})
	t.Run("not past the most it waits", func(t *testing.T) {
		w, id, events, end := givingWay(t, time.Hour, time.Nanosecond, 23)
		defer end()
		w.srv.App.Photos.WaitIdle()
		if w.record(t, id)["processed_at"] == nil {
			t.Fatal("not processed")
		}
		select {
		case <-events:
			t.Fatal("a photo uploaded longer ago than GiveWay gave way")
		default:
		}
	})
}

// TestStopWhileGivingWay: a server stopping while a photo gives way to
// devices stops at once, leaving the photo unprocessed, and the next start
// processes it.
func TestStopWhileGivingWay(t *testing.T) {
	id := newID()
	events := giveWayEvents(t, id)
	cfg := app.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), true, 4
	cfg.DemoMonth = false
	cfg.ShutdownGrace = time.Hour // a photo waiting out its hour would hold the stop
	first := apptest.StartConfig(t, cfg)
	w := setupOn(t, first)
	first.App.Photos.SetGiveWay(time.Hour, time.Hour)
	end := first.App.Activity.Begin()
	data := uploadPhoto(t, w, id, 24)
	next(t, events, "the photo should give way")
	stopped := make(chan struct{})
	go func() { first.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not stop while a photo gave way")
	}
	end()
	if b, err := first.App.Blobs.Open(ctx, apptest.SHA256(data), "thumbnail"); err == nil {
		b.Close()
		t.Fatal("processed although the server stopped while it gave way")
	}

	second := apptest.StartConfig(t, cfg)
	second.App.Photos.WaitIdle()
	r, err := second.App.DB.Get(ctx, "photo", id)
	if err != nil || r == nil || r.Value("processed_at") == nil {
		t.Fatalf("after the restart: %v, %v", r, err)
	}
	if _, err := second.App.Blobs.Open(ctx, apptest.SHA256(data), "thumbnail"); err != nil {
		t.Fatalf("thumbnail after the restart: %v", err)
	}
}
