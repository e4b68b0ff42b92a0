package photos_test

import (
	"image"
	"net/http"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// TestTransformedCopiesAreNearDuplicates: a real camera JPEG (EXIF time,
// GPS, make and model) is uploaded at one site; copies of it that a cheat
// made — re-encoded, halved, brightened, darkened, desaturated, mirrored,
// cropped, straightened, screenshotted — uploaded at another site are each
// flagged near_duplicate of it, end to end through upload and the
// processor on a real SQLite store, and say when the match was mirrored
// or cropped; photos of other scenes at that site are not flagged.
func TestTransformedCopiesAreNearDuplicates(t *testing.T) {
	w := setup(t)
	taken := w.visitStart.Add(20 * time.Minute)
	exif := testimg.Options{Time: &taken, GPS: &siteAt, Make: "HUAWEI", Model: "ALN-AL00", Quality: 92}
	scene := testimg.Scene(4242, 1024, 768)
	orig := testimg.EncodeJPEG(scene, exif)
	original := w.photo(t, w.insp, orig, nil)
	w.srv.Tus(w.phone).Upload(original, "image/jpeg", orig, http.StatusNoContent)
	w.srv.App.Photos.WaitIdle()

	elsewhere := w.inspection(t, w.phone, w.other)
	later := exif
	later.Quality = 85
	cases := []struct {
		name              string
		img               image.Image
		mirrored, cropped bool
	}{
		{"re-encoded at quality 55", testimg.Reencode(scene, 55), false, false},
		{"halved", testimg.Scale(scene, 0.5), false, false},
		{"25% brighter", testimg.Brightness(scene, 1.25), false, false},
		{"25% darker", testimg.Brightness(scene, 0.75), false, false},
		{"saturation halved", testimg.Saturation(scene, 0.5), false, false},
		{"mirrored", imaging.FlipH(scene), true, false},
		{"10% cut from each side", testimg.Crop(scene, 0.1, 0.1, 0.1, 0.1), false, true},
		{"a quarter cut from the left, 15% from the bottom", testimg.Crop(scene, 0.25, 0, 0, 0.15), false, true},
		{"12% cut from the top", testimg.Crop(scene, 0, 0.12, 0, 0), false, true},
		{"mirrored and 5% cut from each side", imaging.FlipH(testimg.Crop(scene, 0.05, 0.05, 0.05, 0.05)), true, true},
		{"straightened by 3°", testimg.Rotate(scene, 3), false, true},
		{"screenshot on a phone", testimg.Screenshot(scene, 1080, 2340), false, false},
	}
	noted := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := testimg.EncodeJPEG(tc.img, later)
			id := w.photo(t, elsewhere, data, nil)
			defer func() { noted[id] = true }()
			w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
			w.srv.App.Photos.WaitIdle()
			nd := w.flags(t, id)["near_duplicate"]
			if nd == nil || nd["photo_id"] != original || nd["site_id"] != w.site {
				t.Fatalf("flags %v, want near_duplicate of %s at site %s", w.flags(t, id), original, w.site)
			}
			if got := nd["mirrored"] == true; got != tc.mirrored {
				t.Errorf("near_duplicate %v: mirrored %v, want %v", nd, got, tc.mirrored)
			}
			if tc.cropped && nd["cropped"] != true {
				t.Errorf("near_duplicate %v: want cropped", nd)
			}
		})
	}
	// The original is noted as reused by each copy: the match is found
	// again from the original's side when it is relinked.
	for _, r := range refs(w.notes(t, original)) {
		delete(noted, r["photo_id"].(string))
	}
	if len(noted) > 0 {
		t.Errorf("the original's note %v misses %d copies", w.notes(t, original), len(noted))
	}

	for seed := uint64(1); seed <= 6; seed++ {
		data := testimg.EncodeJPEG(testimg.Scene(seed, 1024, 768), later)
		id := w.photo(t, elsewhere, data, nil)
		w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
		w.srv.App.Photos.WaitIdle()
		if f := w.flags(t, id); f["near_duplicate"] != nil || f["duplicate"] != nil {
			t.Errorf("an unrelated scene (seed %d) is flagged: %v", seed, f)
		}
	}
}

// TestEarlierPhotosAreIndexedAtStart: a photo processed by a version before
// fingerprints has only its phash, and no rows in the index. The first
// start of this version indexes it from its stored preview, and a
// mirrored copy processed then is flagged near_duplicate of it. With
// PostgreSQL, where a shared queue (River) processes the photos, the
// server still makes the correction.
func TestEarlierPhotosAreIndexedAtStart(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) { earlierPhotosIndexed(t, store) })
	}
}

func earlierPhotosIndexed(t *testing.T, store string) {
	cfg := app.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), true, 4
	cfg.DemoMonth = false
	idle := func(srv *apptest.Server) { srv.App.Photos.WaitIdle() }
	if store == "postgres" {
		cfg.Database = pgtest.NewDatabase(t)
		idle = riverIdle(t)
	}
	w := setupOn(t, apptest.StartConfig(t, cfg))
	taken := w.visitStart.Add(20 * time.Minute)
	exif := testimg.Options{Time: &taken, GPS: &siteAt, Make: "Xiaomi", Model: "23049RAD8C"}
	scene := testimg.Scene(9090, 1024, 768)
	orig := testimg.EncodeJPEG(scene, exif)
	original := w.photo(t, w.insp, orig, nil)
	w.srv.Tus(w.phone).Upload(original, "image/jpeg", orig, http.StatusNoContent)
	idle(w.srv)
	// What an earlier version left: no fingerprint rows.
	if err := w.srv.App.DB.SetPhotoHashes(ctx, original, nil); err != nil {
		t.Fatal(err)
	}
	elsewhere := w.inspection(t, w.phone, w.other)
	upload := func(img image.Image) string {
		data := testimg.EncodeJPEG(img, exif)
		id := w.photo(t, elsewhere, data, nil)
		w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
		idle(w.srv)
		return id
	}
	if un, err := w.srv.App.DB.UnindexedPhotos(ctx); err != nil || len(un) != 1 || un[0] != original {
		t.Fatalf("unindexed %v %v, want the earlier photo", un, err)
	}
	w.srv.Stop()
	w.srv = apptest.StartConfig(t, cfg)
	idle(w.srv)
	w.phone = w.srv.Login(apptest.Inspector)
	rows, err := w.srv.App.DB.PhotoHashRows(ctx, original)
	if err != nil || len(rows) != 51 {
		t.Fatalf("after a restart the earlier photo has %d fingerprint rows (%v), want 51", len(rows), err)
	}
	id := upload(imaging.FlipH(scene))
	if nd := w.flags(t, id)["near_duplicate"]; nd == nil || nd["photo_id"] != original || nd["mirrored"] != true {
		t.Errorf("a mirrored copy after the earlier photo was indexed: flags %v, want near_duplicate (mirrored) of %s", w.flags(t, id), original)
	}
}

// riverIdle returns what waits, on a server whose photos River processes
// (which has no WaitIdle), until no photo is left unprocessed or
// unindexed: it asks the database every 20 ms, for a minute at most.
func riverIdle(t *testing.T) func(*apptest.Server) {
	return func(srv *apptest.Server) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			unprocessed, err := srv.App.DB.UnprocessedPhotos(ctx)
			if err != nil {
				t.Fatal(err)
			}
			unindexed, err := srv.App.DB.UnindexedPhotos(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(unprocessed)+len(unindexed) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a minute, photos unprocessed %v, unindexed %v", unprocessed, unindexed)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
