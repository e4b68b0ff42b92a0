package imageproc

import (
	"bytes"
	"image"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

func dhashOfJPEG(t *testing.T, b []byte) uint64 {
	t.Helper()
	h, err := DHashOf(bytes.NewReader(b), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDHashNearDuplicates(t *testing.T) {
	base := testimg.Image(testimg.Options{Width: 320, Height: 240, Seed: 1})
	orig := dhashOfJPEG(t, testimg.EncodeJPEG(base, testimg.Options{Quality: 92}))

	copies := []struct {
		name string
		b    []byte
	}{
		{"re-encoded at quality 50", testimg.EncodeJPEG(base, testimg.Options{Quality: 50})},
		{"halved", testimg.EncodeJPEG(imaging.Resize(base, 160, 120, imaging.Lanczos), testimg.Options{})},
		{"thumbnail-sized", testimg.EncodeJPEG(imaging.Resize(base, 48, 36, imaging.Box), testimg.Options{})},
		{"brightened 10%", testimg.EncodeJPEG(imaging.AdjustBrightness(base, 10), testimg.Options{})},
		{"more contrast", testimg.EncodeJPEG(imaging.AdjustContrast(base, 15), testimg.Options{})},
		{"slightly blurred", testimg.EncodeJPEG(imaging.Blur(base, 1.5), testimg.Options{})},
		{"saved as PNG", testimg.PNG(testimg.Options{Width: 320, Height: 240, Seed: 1})},
		// The same photo, once stored sideways with EXIF saying so and once
		// with the pixels turned by an editor: as displayed they match.
		{"pixels turned, EXIF orientation 6", testimg.EncodeJPEG(imaging.Rotate90(base), testimg.Options{Orientation: 6})},
	}
	for _, c := range copies {
		d := Hamming(orig, dhashOfJPEG(t, c.b))
		t.Logf("%s: distance %d", c.name, d)
		if d > NearDuplicateDistance {
			t.Errorf("%s: distance %d, want ≤ %d", c.name, d, NearDuplicateDistance)
		}
	}

	// Unrelated pictures: the pattern of every other seed.
	closest := 64
	for seed := uint64(2); seed < 42; seed++ {
		other := DHash(testimg.Image(testimg.Options{Width: 96, Height: 72, Seed: seed}))
		d := Hamming(orig, other)
		closest = min(closest, d)
		if d <= NearDuplicateDistance {
			t.Errorf("seed %d: distance %d to an unrelated picture, want > %d", seed, d, NearDuplicateDistance)
		}
	}
	t.Logf("closest unrelated picture: distance %d", closest)
}

func TestDHashProperties(t *testing.T) {
	flat := image.NewGray(image.Rect(0, 0, 50, 50))
	if h := DHash(flat); h != 0 {
		t.Errorf("DHash of a flat picture = %#x, want 0", h)
	}
	// Brighter on the left in every row sets every bit.
	ramp := image.NewGray(image.Rect(0, 0, 90, 80))
	for y := range 80 {
		for x := range 90 {
			ramp.Pix[y*ramp.Stride+x] = uint8(250 - 2*x)
		}
	}
	if h := DHash(ramp); h != ^uint64(0) {
		t.Errorf("DHash of a left-to-right darkening ramp = %#x, want all ones", h)
	}
	if h := DHash(imaging.FlipH(ramp)); h != 0 {
		t.Errorf("DHash of the mirrored ramp = %#x, want 0", h)
	}
	tiny := image.NewGray(image.Rect(0, 0, 1, 1))
	_ = DHash(tiny) // must not panic
}

func TestHamming(t *testing.T) {
	tests := []struct {
		a, b uint64
		want int
	}{
		{0, 0, 0},
		{0, ^uint64(0), 64},
		{0b1011, 0b0001, 2},
		{1 << 63, 1, 2},
	}
	for _, tt := range tests {
		if got := Hamming(tt.a, tt.b); got != tt.want {
			t.Errorf("Hamming(%#x, %#x) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
