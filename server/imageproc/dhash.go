package imageproc

import (
	"image"
	"io"
	"math"
	"math/bits"
)

// NearDuplicateDistance is the largest Hamming distance between two DHash
// values at which two photos are taken to be near duplicates (the
// near_duplicate evidence flag). Re-encoding, rescaling, mild brightness or
// contrast changes and blur move a difference hash by 0–5 bits in the
// tests; unrelated pictures differ in about half of the 64 bits, and two
// independent hashes come within 10 bits about once in 10⁸ pairs. Photos of
// similar scenes (the same kind of chimney against the same sky) are not
// independent and come closer, so the flag asks a reviewer to look; it is
// not proof. Crops of more than a few percent, rotations and mirrored
// copies are not caught by this hash alone: Fingerprint adds the hashes
// that catch them.
const NearDuplicateDistance = 10

// DHash returns the 64-bit difference hash of img: img is reduced to 9×8
// pixels, each the average of the block of pixels it covers, then to grey,
// and bit 63−(8y+x) is set when pixel (x, y) is brighter than its right-hand
// neighbour. Compare hashes with Hamming. img is used as given;
// Picture.DHash applies the EXIF orientation first.
func DHash(img image.Image) uint64 {
	h, _ := dhashImage(img)
	return h
}

// dhashImage is DHash with the hash's spread (see spread).
func dhashImage(img image.Image) (uint64, float64) {
	return dhashGrid(areaAverage(img, 9, 8))
}

// DHash returns the difference hash of the picture as displayed (with its
// EXIF orientation applied), so that a copy whose pixels were rotated
// matches the original whose EXIF says to rotate.
//
// A decoded JPEG's blocks are averaged from its Y plane, which is the luma
// the hash compares, without reading the chroma.
func (p *Picture) DHash() uint64 {
	h, _ := p.dhash()
	return h
}

// dhash is DHash with the hash's spread (see spread).
func (p *Picture) dhash() (uint64, float64) {
	w, h := 9, 8
	if p.EXIF.Orientation >= 5 {
		w, h = 8, 9 // becomes 9×8 once turned
	}
	b := p.img.Bounds()
	if src, ok := p.img.(*image.YCbCr); ok && b.Dx() >= w && b.Dy() >= h {
		g := lumaGrey(src, w, h).orient(p.EXIF.Orientation)
		return dhashOf(func(x, y int) float64 { return g.v[y*9+x] })
	}
	return dhashGrid(orient(areaAverage(p.img, w, h), p.EXIF.Orientation))
}

// DHashOf decodes the JPEG or PNG in r (see Decode for the checks and
// errors) and returns its difference hash as displayed.
func DHashOf(r io.Reader, lim Limits) (uint64, error) {
	pic, err := Decode(r, lim)
	if err != nil {
		return 0, err
	}
	return pic.DHash(), nil
}

// Hamming returns the number of bits in which a and b differ.
func Hamming(a, b uint64) int {
	return bits.OnesCount64(a ^ b)
}

// dhashGrid computes the hash of a 9×8 image, and its spread.
func dhashGrid(g *image.NRGBA) (uint64, float64) {
	return dhashOf(func(x, y int) float64 {
		p := g.Pix[y*g.Stride+4*x:]
		return float64(299*int(p[0])+587*int(p[1])+114*int(p[2])) / 1000
	})
}

// dhashOf computes the difference hash of the 9×8 grey levels at(x, y),
// and its spread: how far, in grey levels, its comparisons are from
// going the other way (see spread).
func dhashOf(at func(x, y int) float64) (uint64, float64) {
	var h uint64
	margins := make([]float64, 0, 64)
	for y := range 8 {
		for x := range 8 {
			h <<= 1
			l, r := at(x, y), at(x+1, y)
			if l > r {
				h |= 1
			}
			margins = append(margins, math.Abs(l-r))
		}
	}
	return h, spread(margins)
}
