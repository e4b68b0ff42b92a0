//go:build ignore

// mkicons draws the app's icons (static/icons/icon-192.png and
// icon-512.png): a white magnifier with a check mark on the app's green,
// with room around it for Android's maskable crop. Run it from webapp/
// when the design changes: go run mkicons.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"strconv"
)

func main() {
	for _, size := range []int{192, 512} {
		if err := write(size); err != nil {
			log.Fatal(err)
		}
	}
}

// inMark reports whether point (x, y) of the unit square is in the white
// mark.
func inMark(x, y float64) bool {
	cx, cy, r := 0.44, 0.44, 0.2
	d := math.Hypot(x-cx, y-cy)
	if d >= r-0.035 && d <= r+0.035 { // the lens ring
		return true
	}
	// The handle, from the ring to the lower right.
	if distSeg(x, y, cx+0.16, cy+0.16, 0.72, 0.72) <= 0.045 {
		return true
	}
	// The check mark inside the lens.
	return distSeg(x, y, 0.355, 0.45, 0.42, 0.515) <= 0.026 || distSeg(x, y, 0.42, 0.515, 0.54, 0.375) <= 0.026
}

func distSeg(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}

func write(size int) error {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	green := color.NRGBA{0x1d, 0x6b, 0x47, 0xff}
	const ss = 4 // supersampling per axis
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			n := 0
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					fx := (float64(x) + (float64(sx)+0.5)/ss) / float64(size)
					fy := (float64(y) + (float64(sy)+0.5)/ss) / float64(size)
					if inMark(fx, fy) {
						n++
					}
				}
			}
			a := float64(n) / (ss * ss)
			mix := func(c uint8) uint8 { return uint8(float64(c)*(1-a) + 255*a + 0.5) }
			img.SetNRGBA(x, y, color.NRGBA{mix(green.R), mix(green.G), mix(green.B), 0xff})
		}
	}
	f, err := os.Create("static/icons/icon-" + strconv.Itoa(size) + ".png")
	if err != nil {
		return err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
