package imageproc

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

func TestShrinkYCbCrAveragesBlocks(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ratio := range ratios {
		src := image.NewYCbCr(image.Rect(0, 0, 53, 37), ratio)
		for _, p := range [][]byte{src.Y, src.Cb, src.Cr} {
			for i := range p {
				p[i] = byte(rng.IntN(256))
			}
		}
		// A sub-image, so that bounds do not start at the origin.
		sub := src.SubImage(image.Rect(3, 2, 53, 37)).(*image.YCbCr)
		for _, k := range []int{2, 3, 7} {
			b := sub.Bounds()
			w, h := b.Dx()/k, b.Dy()/k
			got := shrinkYCbCr(sub, w, h)
			for oy := range h {
				for ox := range w {
					var sy, scb, scr, n float64
					for y := b.Min.Y + oy*b.Dy()/h; y < b.Min.Y+(oy+1)*b.Dy()/h; y++ {
						for x := b.Min.X + ox*b.Dx()/w; x < b.Min.X+(ox+1)*b.Dx()/w; x++ {
							c := sub.YCbCrAt(x, y)
							sy, scb, scr, n = sy+float64(c.Y), scb+float64(c.Cb), scr+float64(c.Cr), n+1
						}
					}
					avg := func(s float64) uint8 { return uint8(math.Floor(s/n + 0.5)) }
					r, g, bl := color.YCbCrToRGB(avg(sy), avg(scb), avg(scr))
					px := got.NRGBAAt(ox, oy)
					if px.R != r || px.G != g || px.B != bl || px.A != 255 {
						t.Fatalf("%v k=%d: pixel (%d,%d) = %v, want %d,%d,%d", ratio, k, ox, oy, px, r, g, bl)
					}
				}
			}
		}
	}
}

func TestAverageRowsAveragesBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := image.NewNRGBA(image.Rect(0, 0, 41, 29))
	for i := range src.Pix {
		src.Pix[i] = byte(rng.IntN(256))
		if i%4 == 3 {
			src.Pix[i] = 255
		}
	}
	sub := src.SubImage(image.Rect(1, 4, 41, 29))
	b := sub.Bounds()
	got := areaAverage(sub, 9, 8)
	for oy := range 8 {
		for ox := range 9 {
			var s [3]float64
			var n float64
			for y := b.Min.Y + oy*b.Dy()/8; y < b.Min.Y+(oy+1)*b.Dy()/8; y++ {
				for x := b.Min.X + ox*b.Dx()/9; x < b.Min.X+(ox+1)*b.Dx()/9; x++ {
					c := src.NRGBAAt(x, y)
					s[0], s[1], s[2], n = s[0]+float64(c.R), s[1]+float64(c.G), s[2]+float64(c.B), n+1
				}
			}
			px := got.NRGBAAt(ox, oy)
			for i, v := range []uint8{px.R, px.G, px.B} {
				if want := uint8(math.Floor(s[i]/n + 0.5)); v != want {
					t.Fatalf("pixel (%d,%d) channel %d = %d, want %d", ox, oy, i, v, want)
				}
			}
		}
	}
}

func TestAreaAverageOfTinyImages(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 1, 1), image.Rect(0, 0, 8, 100), image.Rect(0, 0, 100, 7)} {
		got := areaAverage(image.NewYCbCr(r, image.YCbCrSubsampleRatio420), 9, 8)
		if got.Rect.Dx() != 9 || got.Rect.Dy() != 8 {
			t.Errorf("areaAverage of %v: %v", r, got.Rect)
		}
	}
}
