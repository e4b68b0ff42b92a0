package testimg

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"

	"github.com/disintegration/imaging"
)

// Scene returns a photo-like w×h picture for seed: a sky gradient over a
// ground plane at a random horizon, buildings and stockpiles with shaded
// faces, windows, a textured ground, a few round shapes and blocks of
// "text" (signs). Unlike Image, scenes share the structure real site photos
// share (sky above, ground below, a horizon), so unrelated seeds are as
// alike as unrelated photos of the same kind of site, not as two noises.
func Scene(seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	col := func(base, spread int) color.RGBA {
		c := func() uint8 { return uint8(max(0, min(255, base+rng.IntN(2*spread+1)-spread))) }
		return color.RGBA{c(), c(), c(), 255}
	}
	horizon := h * (30 + rng.IntN(35)) / 100
	sky0, sky1 := col(190, 50), col(120, 60)
	ground := col(110, 50)
	// Low-frequency ground texture: a few random waves.
	type wave struct{ fx, fy, p, a float64 }
	var waves [4]wave
	for i := range waves {
		waves[i] = wave{rng.Float64() * 40 / float64(w), rng.Float64() * 40 / float64(h), rng.Float64() * 6.3, 8 + rng.Float64()*20}
	}
	for y := range h {
		for x := range w {
			var c color.RGBA
			if y < horizon {
				t := float64(y) / float64(horizon)
				c = color.RGBA{lerp(sky0.R, sky1.R, t), lerp(sky0.G, sky1.G, t), lerp(sky0.B, sky1.B, t), 255}
			} else {
				v := 0.0
				for _, wv := range waves {
					v += wv.a * math.Sin(wv.fx*float64(x)+wv.fy*float64(y)+wv.p)
				}
				v += float64(rng.IntN(17) - 8) // grain
				c = color.RGBA{add(ground.R, v), add(ground.G, v*0.9), add(ground.B, v*0.7), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	// Buildings standing on the horizon, with a shaded side and windows.
	for range 2 + rng.IntN(5) {
		bw, bh := w*(5+rng.IntN(25))/100, h*(10+rng.IntN(40))/100
		x0 := rng.IntN(w) - bw/2
		r := image.Rect(x0, horizon-bh, x0+bw, horizon+h*rng.IntN(8)/100)
		face := col(140, 80)
		fill(img, r, face)
		side := image.Rect(r.Max.X-bw/4, r.Min.Y, r.Max.X, r.Max.Y)
		fill(img, side, color.RGBA{face.R / 2, face.G / 2, face.B / 2, 255})
		if rng.IntN(2) == 0 {
			win := col(60, 40)
			step := max(4, bw/6)
			for wy := r.Min.Y + step/2; wy+step/2 < r.Max.Y; wy += step {
				for wx := r.Min.X + step/2; wx+step/2 < side.Min.X; wx += step {
					fill(img, image.Rect(wx, wy, wx+step/2, wy+step/2), win)
				}
			}
		}
	}
	// Stockpiles and round things in the foreground.
	for range 1 + rng.IntN(4) {
		cx, cy := rng.IntN(w), horizon+rng.IntN(max(1, h-horizon))
		rad := h * (5 + rng.IntN(20)) / 100
		c := col(100, 90)
		pile := rng.IntN(2) == 0
		for y := max(0, cy-rad); y < min(h, cy+rad); y++ {
			for x := max(0, cx-rad); x < min(w, cx+rad); x++ {
				dx, dy := x-cx, y-cy
				in := dx*dx+dy*dy < rad*rad
				if pile {
					in = dy < 0 && abs(dx) < rad+dy*2/1 && dy > -rad
				}
				if in {
					shade := 1 - 0.4*float64(dx+rad)/float64(2*rad)
					img.SetRGBA(x, y, color.RGBA{uint8(float64(c.R) * shade), uint8(float64(c.G) * shade), uint8(float64(c.B) * shade), 255})
				}
			}
		}
	}
	// Signs: a light panel with rows of dark "characters".
	for range rng.IntN(3) {
		pw, ph := w*(10+rng.IntN(20))/100, h*(6+rng.IntN(12))/100
		r := image.Rect(rng.IntN(max(1, w-pw)), rng.IntN(max(1, h-ph)), 0, 0)
		r.Max = r.Min.Add(image.Pt(pw, ph))
		fill(img, r, col(225, 25))
		ink := col(30, 25)
		ch := max(3, ph/4)
		for y := r.Min.Y + ch/2; y+ch <= r.Max.Y; y += ch * 3 / 2 {
			for x := r.Min.X + ch/2; x+ch <= r.Max.X; x += ch + ch/3 {
				if rng.IntN(5) > 0 {
					fill(img, image.Rect(x, y, x+ch, y+ch), ink)
				}
			}
		}
	}
	return img
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }

func add(a uint8, v float64) uint8 { return uint8(max(0, min(255, float64(a)+v))) }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r.Intersect(img.Rect), &image.Uniform{c}, image.Point{}, draw.Src)
}

// The transforms below are what someone passing off another photo does to
// it: each returns a new picture.

// Crop cuts the given fractions of the width and height from the left,
// top, right and bottom edges.
func Crop(img image.Image, left, top, right, bottom float64) *image.NRGBA {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	r := image.Rect(b.Min.X+int(left*w), b.Min.Y+int(top*h), b.Max.X-int(right*w), b.Max.Y-int(bottom*h))
	return imaging.Crop(img, r)
}

// Rotate turns img by deg degrees (counter-clockwise) and crops the
// largest centred rectangle of the original's aspect ratio that holds no
// corner fill, as phone editors' straighten tool does.
func Rotate(img image.Image, deg float64) *image.NRGBA {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	rot := imaging.Rotate(img, deg, color.Black)
	a := math.Abs(deg) * math.Pi / 180
	// The scale k at which a w×h rectangle, centred, fits inside the
	// rotated w×h one.
	k := min(w/(w*math.Cos(a)+h*math.Sin(a)), h/(w*math.Sin(a)+h*math.Cos(a)))
	cw, ch := int(w*k), int(h*k)
	rb := rot.Bounds()
	x0, y0 := (rb.Dx()-cw)/2, (rb.Dy()-ch)/2
	return imaging.Crop(rot, image.Rect(x0, y0, x0+cw, y0+ch))
}

// Brightness multiplies every channel by f (1.25: 25% brighter).
func Brightness(img image.Image, f float64) *image.NRGBA {
	return imaging.AdjustFunc(img, func(c color.NRGBA) color.NRGBA {
		s := func(v uint8) uint8 { return uint8(max(0, min(255, float64(v)*f))) }
		return color.NRGBA{s(c.R), s(c.G), s(c.B), c.A}
	})
}

// Saturation scales each pixel's distance from its grey by f (0: grey,
// 1.5: vivid).
func Saturation(img image.Image, f float64) *image.NRGBA {
	return imaging.AdjustFunc(img, func(c color.NRGBA) color.NRGBA {
		g := 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
		s := func(v uint8) uint8 { return uint8(max(0, min(255, g+(float64(v)-g)*f))) }
		return color.NRGBA{s(c.R), s(c.G), s(c.B), c.A}
	})
}

// Scale resizes img by factor f.
func Scale(img image.Image, f float64) *image.NRGBA {
	b := img.Bounds()
	return imaging.Resize(img, max(1, int(float64(b.Dx())*f)), max(1, int(float64(b.Dy())*f)), imaging.Lanczos)
}

// Reencode returns img after a round trip through a JPEG at quality q.
func Reencode(img image.Image, q int) image.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		panic("testimg: " + err.Error())
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		panic("testimg: " + err.Error())
	}
	return out
}

// Screenshot returns what a phone's screenshot of img shown full-width in
// a gallery looks like: a screenW×screenH portrait screen, black, with img
// scaled to the screen's width in the middle and a status bar (clock,
// signal and battery icons) across the top, saved as PNG and read back.
func Screenshot(img image.Image, screenW, screenH int) image.Image {
	b := img.Bounds()
	ph := b.Dy() * screenW / b.Dx()
	scr := image.NewRGBA(image.Rect(0, 0, screenW, screenH))
	fill(scr, scr.Rect, color.RGBA{0, 0, 0, 255})
	shown := imaging.Resize(img, screenW, ph, imaging.Linear)
	y0 := (screenH - ph) / 2
	draw.Draw(scr, image.Rect(0, y0, screenW, y0+ph), shown, image.Point{}, draw.Src)
	bar := screenH * 4 / 100
	white := color.RGBA{235, 235, 235, 255}
	u := bar / 3
	for i, x := range []int{u, 2 * u, 3*u + u/2} { // the clock's digits
		_ = i
		fill(scr, image.Rect(x, u, x+u*2/3, 2*u), white)
	}
	for i := range 4 { // signal bars, battery
		x := screenW - 8*u + i*u
		fill(scr, image.Rect(x, 2*u-i*u/4-u/4, x+u*2/3, 2*u), white)
	}
	fill(scr, image.Rect(screenW-3*u, u, screenW-u, 2*u), white)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, scr); err != nil {
		panic("testimg: " + err.Error())
	}
	out, err := png.Decode(&buf)
	if err != nil {
		panic("testimg: " + err.Error())
	}
	return out
}
