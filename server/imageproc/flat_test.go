package imageproc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// flatPicture returns a w×h picture of grey level, with Gaussian noise of
// sigma levels (a camera's, on a covered lens or a blank wall).
func flatPicture(w, h int, level, sigma float64, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		v := uint8(max(0, min(255, level+rng.NormFloat64()*sigma)))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
	}
	return img
}

// verticalGradient returns a w×h picture dark at the top, light at the
// bottom, the same along every row.
func verticalGradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(y * 255 / h)
			img.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	return img
}

// cameraFingerprint is the fingerprint the server computes for img taken
// by a camera: a JPEG with EXIF, through its preview.
func cameraFingerprint(t *testing.T, img image.Image) Fingerprint {
	t.Helper()
	taken := time.Date(2026, 3, 1, 9, 41, 0, 0, time.FixedZone("CST", 8*3600))
	j := testimg.EncodeJPEG(img, testimg.Options{Time: &taken, GPS: &geo.Point{Lon: 112.7461, Lat: 38.4325}})
	preview, err := Derive(bytes.NewReader(j), Limits{}, 1280, 85)
	if err != nil {
		t.Fatal(err)
	}
	pic, err := Decode(bytes.NewReader(preview), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return pic.Fingerprint()
}

// TestFlatPicturesHaveNoFingerprint: pictures too uniform to hash — flat
// of any size and grey level, with a camera's noise or none, or a
// gradient from top to bottom — have no fingerprint (and so no phash, and
// never match), where every one of them had the dHash 0 and matched every
// other. Real scenes keep every hash; a scene beside a flat black part
// keeps its dHash and loses only the windows that lie in the black
// (MinDHashSpread, MinDCTSpread).
func TestFlatPicturesHaveNoFingerprint(t *testing.T) {
	type pic struct {
		name string
		img  image.Image
	}
	var flat []pic
	add := func(w, h int, level, sigma float64) {
		flat = append(flat, pic{fmt.Sprintf("%d×%d grey %v σ %v", w, h, level, sigma), flatPicture(w, h, level, sigma, uint64(level))})
	}
	// Every grey level and noise on small pictures; the extremes and the
	// middle on larger ones (each costs a camera-sized decode, slow under
	// the race detector).
	for _, sz := range [][2]int{{1, 1}, {64, 48}} {
		for _, level := range []float64{0, 20, 128, 235, 255} {
			for _, sigma := range []float64{0, 1, 2} {
				add(sz[0], sz[1], level, sigma)
			}
		}
	}
	for _, level := range []float64{0, 128, 255} {
		for _, sigma := range []float64{0, 2} {
			add(800, 600, level, sigma)
		}
	}
	add(1600, 1200, 0, 0)
	add(1600, 1200, 255, 2)
	flat = append(flat,
		pic{"1600×1200 grey 30 σ 8", flatPicture(1600, 1200, 30, 8, 3)},
		pic{"64×48 vertical gradient", verticalGradient(64, 48)},
		pic{"1200×900 vertical gradient", verticalGradient(1200, 900)})
	for _, p := range flat {
		if fp := cameraFingerprint(t, p.img); fp != nil {
			t.Errorf("%s: a fingerprint of %d hashes (dHash %016x), want none", p.name, len(fp), fp[0].Hash)
		}
	}

	for seed := range uint64(6) {
		fp := cameraFingerprint(t, testimg.Scene(8000+seed, 800, 600))
		if len(fp) != 1+2*(1+len(windows))+len(turns)+len(trims) {
			t.Errorf("scene %d: %d hashes, want all %d", seed, len(fp), 1+2*(1+len(windows))+len(turns)+len(trims))
		}
	}

	// A scene in the right fifth beside a smooth left-to-right ramp: the
	// dHash says something (the ramp decides its comparisons), but the
	// DCT hash of a window wholly in the ramp, a single cosine, is left
	// to noise like that of a flat window: those windows are not hashed.
	img := image.NewRGBA(image.Rect(0, 0, 1000, 600))
	scene := testimg.Scene(8100, 200, 600)
	for y := range 600 {
		row := img.Pix[y*img.Stride:]
		for x := range 800 {
			v := uint8(40 + x*160/800)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 255
		}
		copy(row[4*800:4*1000], scene.Pix[y*scene.Stride:])
	}
	fp := cameraFingerprint(t, img)
	if len(fp) == 0 || fp[0].Kind != HashDHash {
		t.Fatalf("a scene beside a ramp: fingerprint %v, want its dHash first", fp)
	}
	kinds := map[int]bool{}
	for _, kh := range fp {
		kinds[kh.Kind] = true
	}
	for k, f := range windows {
		if f.x1 <= 0.8 && kinds[HashFull+1+k] {
			t.Errorf("a scene beside a ramp: window %v, wholly in the ramp, is hashed", f)
		}
		if f.x1 == 1 && f.x0 <= 0.2 && !kinds[HashFull+1+k] {
			t.Errorf("a scene beside a ramp: window %v, with the whole scene, is not hashed", f)
		}
	}
}
