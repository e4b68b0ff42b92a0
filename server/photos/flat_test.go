package photos_test

import (
	"image"
	"image/color"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// flatJPEG is a camera JPEG (EXIF time and GPS) of a w×h picture of grey
// level with noise of sigma levels.
func (w *world) flatJPEG(w0, h0 int, level, sigma float64) []byte {
	rng := rand.New(rand.NewPCG(uint64(w0*h0)+uint64(level), 7))
	img := image.NewRGBA(image.Rect(0, 0, w0, h0))
	for i := 0; i < len(img.Pix); i += 4 {
		v := uint8(max(0, min(255, level+rng.NormFloat64()*sigma)))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
	}
	taken := w.visitStart.Add(20 * time.Minute)
	return testimg.EncodeJPEG(img, testimg.Options{Time: &taken, GPS: &siteAt})
}

// TestFlatPhotosAreNotReuses: black shots of a covered lens, blown-out
// white ones and grey ones of a blank wall, of any size, and a sky from
// top to bottom, taken at two sites, are not near duplicates of each
// other nor of a real scene, nor is the scene of them: they have no phash
// (sync.md 10.7, pictures too uniform to hash). They are processed as
// usual.
func TestFlatPhotosAreNotReuses(t *testing.T) {
	w := setup(t)
	otherVisit := w.inspection(t, w.phone, w.other)
	sky := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	for y := range 900 {
		for x := range 1200 {
			sky.SetRGBA(x, y, color.RGBA{uint8(90 + y/10), uint8(140 + y/10), 230, 255})
		}
	}
	taken := w.visitStart.Add(20 * time.Minute)
	scene := testimg.EncodeJPEG(testimg.Scene(77, 800, 600), testimg.Options{Time: &taken, GPS: &siteAt})
	var ids []string
	for i, data := range [][]byte{
		w.flatJPEG(1200, 900, 0, 0),    // covered lens
		w.flatJPEG(1, 1, 0, 0),         // a single black pixel
		w.flatJPEG(640, 480, 6, 1.5),   // covered lens, with noise
		w.flatJPEG(1600, 1200, 255, 0), // blown out
		w.flatJPEG(800, 600, 250, 2),   // blown out, with noise
		w.flatJPEG(1000, 750, 128, 2),  // a blank wall
		scene,
		testimg.EncodeJPEG(sky, testimg.Options{Time: &taken, GPS: &siteAt}),
		w.flatJPEG(900, 1200, 3, 1),
	} {
		insp := w.insp
		if i%2 == 1 {
			insp = otherVisit
		}
		id := w.photo(t, insp, data, nil)
		w.srv.Tus(w.phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
		w.srv.App.Photos.WaitIdle()
		ids = append(ids, id)
	}
	for i, id := range ids {
		rec := w.record(t, id)
		if rec["processed_at"] == nil {
			t.Errorf("photo %d: not processed", i)
		}
		if f := w.flags(t, id); f["near_duplicate"] != nil || f["duplicate"] != nil {
			t.Errorf("photo %d: flags %v, want no reuse", i, f)
		}
		if n := w.notes(t, id); len(n) != 0 {
			t.Errorf("photo %d: reused_by %v, want none", i, n)
		}
		if ph := rec["phash"]; (i == 6) != (ph != nil) {
			t.Errorf("photo %d: phash %s", i, ph)
		}
	}
}
