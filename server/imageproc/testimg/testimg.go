// Package testimg makes real image files for tests: JPEGs, PNGs and HEIC
// containers with real EXIF (time and zone, GPS and its accuracy, make,
// model, software, orientation), truncated files, decompression bombs, JPEGs
// with too many scans and a bare HEIC header.
//
// The EXIF is a minimal but standard TIFF structure written by this package
// (IFD0 → Exif IFD and GPS IFD, with the tags Exif 2.32 requires), placed
// where cameras put it: an APP1 segment right after the JPEG's SOI marker, a
// PNG eXIf chunk, or a HEIF "Exif" item. exiftool -validate accepts all
// three. Nothing here reads images; it only makes them, so the package under
// test cannot grade its own homework.
package testimg

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/geo"
)

// Options describes the picture to make. The zero value is a 64×48 JPEG
// without EXIF.
type Options struct {
	// Width and Height are the stored pixel dimensions (before any
	// orientation is applied); default 64×48.
	Width, Height int
	// Seed picks the pattern: equal seeds give equal pictures, different
	// seeds unrelated ones.
	Seed uint64
	// Time is written as DateTime and DateTimeOriginal in Time's own zone,
	// with that zone's offset as OffsetTimeOriginal unless NoOffset is set
	// (as older phones do).
	Time     *time.Time
	NoOffset bool
	// DateTimeOnly writes Time as DateTime alone (with OffsetTime), as a
	// file whose Exif capture times were stripped keeps it.
	DateTimeOnly bool
	// GPS is written as GPSLatitude/GPSLongitude with their N/S and E/W
	// references; GPSAccuracyM as GPSHPositioningError.
	GPS          *geo.Point
	GPSAccuracyM *float64
	// Make, Model and Software are written when not empty.
	Make, Model, Software string
	// Orientation (1–8) is written when not zero; the pixels are not
	// rotated, just as a camera stores them.
	Orientation int
	// Quality is the JPEG quality, default 90.
	Quality int
	// BigEndian writes the TIFF structure in Motorola order ("MM"), as
	// Apple and Samsung do; the default is Intel order ("II").
	BigEndian bool
}

func (o Options) size() (w, h int) {
	w, h = o.Width, o.Height
	if w <= 0 {
		w = 64
	}
	if h <= 0 {
		h = 48
	}
	return w, h
}

// Image returns the pattern for opt: smooth colour gradients and a few
// blocks, different for every seed, so that perceptual hashes of unrelated
// seeds differ as they would for unrelated photos.
func Image(opt Options) *image.RGBA {
	w, h := opt.size()
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))

	// Separable waves keep this fast for 12-megapixel benchmarks.
	type wave struct{ fx, fy, px, py, amp float64 }
	var waves [3][3]wave // per channel
	for c := range waves {
		for k := range waves[c] {
			waves[c][k] = wave{
				fx: (rng.Float64()*3 + 0.5) * 2 * math.Pi / float64(w),
				fy: (rng.Float64()*3 + 0.5) * 2 * math.Pi / float64(h),
				px: rng.Float64() * 2 * math.Pi, py: rng.Float64() * 2 * math.Pi,
				amp: 20 + rng.Float64()*30,
			}
		}
	}
	// Pixel value per channel: 128 + Σₖ ampₖ·(aₖ + bₖ + aₖbₖ)/2 with
	// aₖ = sin of x and bₖ = sin of y, regrouped so that the per-pixel work
	// is 128 + rowSum + Σₖ colTermₖ·(1 + bₖ).
	colTerm := make([][3][3]float64, w)
	for x := range colTerm {
		for c := range 3 {
			for k, wv := range waves[c] {
				colTerm[x][c][k] = wv.amp * math.Sin(wv.fx*float64(x)+wv.px) / 2
			}
		}
	}
	for y := range h {
		var rowSum [3]float64
		var rowFactor [3][3]float64
		for c := range 3 {
			for k, wv := range waves[c] {
				b := math.Sin(wv.fy*float64(y) + wv.py)
				rowSum[c] += wv.amp * b / 2
				rowFactor[c][k] = 1 + b
			}
		}
		pix := img.Pix[y*img.Stride:]
		for x := range w {
			ct := &colTerm[x]
			for c := range 3 {
				v := 128 + rowSum[c] + ct[c][0]*rowFactor[c][0] + ct[c][1]*rowFactor[c][1] + ct[c][2]*rowFactor[c][2]
				pix[4*x+c] = uint8(max(0, min(255, v)))
			}
			pix[4*x+3] = 255
		}
	}
	for range 4 {
		r := image.Rect(rng.IntN(w), rng.IntN(h), rng.IntN(w), rng.IntN(h)).Canon()
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	return img
}

// JPEG returns a JPEG of the pattern for opt with opt's EXIF in an APP1
// segment right after SOI.
func JPEG(opt Options) []byte {
	return EncodeJPEG(Image(opt), opt)
}

// EncodeJPEG encodes img as a JPEG at opt.Quality and adds opt's EXIF, for
// tests that need to control the pixels (say, a brightened copy).
func EncodeJPEG(img image.Image, opt Options) []byte {
	q := opt.Quality
	if q <= 0 {
		q = 90
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		panic("testimg: " + err.Error()) // cannot happen writing to memory
	}
	return WithEXIF(buf.Bytes(), EXIF(opt))
}

// WithEXIF returns a copy of the JPEG j with an APP1 segment holding the TIFF
// structure tiff inserted right after SOI. A nil tiff returns j unchanged.
func WithEXIF(j, tiff []byte) []byte {
	if tiff == nil {
		return j
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	if len(payload)+2 > 0xffff {
		panic("testimg: EXIF too large for one APP1 segment")
	}
	out := make([]byte, 0, len(j)+4+len(payload))
	out = append(out, j[:2]...) // SOI
	out = append(out, 0xff, 0xe1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	out = append(out, payload...)
	return append(out, j[2:]...)
}

// PNG returns a PNG of the pattern for opt. When opt asks for metadata it is
// written as an eXIf chunk right after IHDR (PNG 1.5 extensions).
func PNG(opt Options) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, Image(opt)); err != nil {
		panic("testimg: " + err.Error())
	}
	b := buf.Bytes()
	tiff := EXIF(opt)
	if tiff == nil {
		return b
	}
	const afterIHDR = 8 + 8 + 13 + 4 // signature, IHDR header, data, CRC
	out := append([]byte{}, b[:afterIHDR]...)
	out = appendChunk(out, "eXIf", tiff)
	return append(out, b[afterIHDR:]...)
}

func appendChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

// Truncated returns the JPEG j cut halfway through its entropy-coded data,
// as an upload that lost its connection leaves it: the headers, dimensions
// and EXIF are intact, the pixels are not.
func Truncated(j []byte) []byte {
	sos := bytes.Index(j, []byte{0xff, 0xda})
	if sos < 0 {
		return j[:len(j)/2]
	}
	return append([]byte{}, j[:sos+(len(j)-sos)/2]...)
}

// Bomb returns a valid, tiny PNG that declares width×height pixels (say
// 50000×50000, ten gigabytes as RGBA) and holds a few bytes of pixel data:
// a decoder that trusts the header allocates the whole canvas.
func Bomb(width, height int) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8] = 8 // bit depth
	ihdr[9] = 6 // RGBA
	out = appendChunk(out, "IHDR", ihdr[:])
	// zlib stream of one scanline's worth of zeros (a single stored block).
	idat := []byte{0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x01}
	out = appendChunk(out, "IDAT", idat)
	return appendChunk(out, "IEND", nil)
}

// PNG16 returns a valid width×height PNG with 16 bits per channel and an
// alpha channel (colour type 6), the kind Go's image/png decodes into 8
// bytes per pixel: a 10000×10000 one is 5 MB on disk and 800 MB decoded.
// It is an even grey. The pixel data is written directly as deflate
// matches (the first pixel, copies of it along the first row, then rows
// "the same as above", filter Up), so it costs no compression work and
// stays quick under the race detector.
func PNG16(width, height int) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8] = 16 // bit depth
	ihdr[9] = 6  // RGBA
	out = appendChunk(out, "IHDR", ihdr[:])
	pixel := []byte{0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0xff, 0xff}
	z := &deflater{out: []byte{0x78, 0x01}, a: 1} // zlib header: deflate, 32 KiB window
	z.bits(1, 1)                                  // BFINAL: the only block
	z.bits(1, 2)                                  // BTYPE 01: fixed Huffman codes
	z.literal(0)                                  // filter None
	for _, b := range pixel {
		z.literal(b)
	}
	z.copies(8*(width-1), 8, pixel)
	for range height - 1 {
		z.literal(2) // filter Up: every byte 0, as above
		z.literal(0)
		z.copies(8*width-1, 1, []byte{0})
	}
	z.code(0, 7) // end of block (256)
	if z.n > 0 {
		z.out = append(z.out, byte(z.acc))
	}
	z.out = binary.BigEndian.AppendUint32(z.out, z.b<<16|z.a)
	out = appendChunk(out, "IDAT", z.out)
	return appendChunk(out, "IEND", nil)
}

// deflater writes a zlib stream of one fixed-Huffman deflate block
// (RFC 1950, 1951) and keeps its Adler-32.
type deflater struct {
	out  []byte
	acc  uint32 // bits not yet written, least significant first
	n    uint   // how many
	a, b uint32 // Adler-32 sums
}

const adlerMod = 65521

// bits appends the n low bits of v, least significant first.
func (z *deflater) bits(v uint32, n uint) {
	z.acc |= v << z.n
	z.n += n
	for z.n >= 8 {
		z.out = append(z.out, byte(z.acc))
		z.acc >>= 8
		z.n -= 8
	}
}

// code appends a Huffman code of n bits, most significant first.
func (z *deflater) code(c uint32, n uint) {
	var r uint32
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	z.bits(r, n)
}

// literal appends byte c.
func (z *deflater) literal(c byte) {
	if c < 144 {
		z.code(0x30+uint32(c), 8)
	} else {
		z.code(0x190+uint32(c)-144, 9)
	}
	z.sum(c, 1)
}

// sum adds n bytes c to the Adler-32.
func (z *deflater) sum(c byte, n int) {
	for range n {
		z.a = (z.a + uint32(c)) % adlerMod
		z.b = (z.b + z.a) % adlerMod
	}
}

// copies appends n bytes that repeat the last dist bytes, pattern, as
// matches of at most 258 bytes.
func (z *deflater) copies(n, dist int, pattern []byte) {
	for done := 0; n > 0; {
		if n < 3 { // too short for a match
			for i := range n {
				z.literal(pattern[(done+i)%dist])
			}
			return
		}
		k := min(n, 258)
		if n-k > 0 && n-k < 3 { // a match is at least 3 bytes
			k = n - 3
		}
		z.match(k, dist)
		if dist == 1 && pattern[0] == 0 { // zeros: b grows by a each byte
			z.b = uint32((uint64(z.b) + uint64(k)*uint64(z.a)) % adlerMod)
		} else {
			for i := range k {
				z.sum(pattern[(done+i)%dist], 1)
			}
		}
		done += k
		n -= k
	}
}

// lengthCodes are the length symbols 257–285: base length and extra bits.
var lengthCodes = [29][2]int{{3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}, {9, 0}, {10, 0}, {11, 1}, {13, 1}, {15, 1}, {17, 1},
	{19, 2}, {23, 2}, {27, 2}, {31, 2}, {35, 3}, {43, 3}, {51, 3}, {59, 3}, {67, 4}, {83, 4}, {99, 4}, {115, 4},
	{131, 5}, {163, 5}, {195, 5}, {227, 5}, {258, 0}}

// match appends a copy of length bytes from dist back (dist 1 or 8).
func (z *deflater) match(length, dist int) {
	i := len(lengthCodes) - 1
	for lengthCodes[i][0] > length {
		i--
	}
	if sym := uint32(257 + i); sym < 280 {
		z.code(sym-256, 7)
	} else {
		z.code(0xc0+sym-280, 8)
	}
	z.bits(uint32(length-lengthCodes[i][0]), uint(lengthCodes[i][1]))
	switch dist {
	case 1:
		z.code(0, 5) // distance code 0
	case 8:
		z.code(5, 5) // distance code 5: 7 + 1 extra bit
		z.bits(1, 1)
	default:
		panic("testimg: distance not supported")
	}
}

// BombJPEG returns a small JPEG whose frame header (SOF0) declares
// width×height (at most 65535 each).
func BombJPEG(width, height int) []byte {
	j := JPEG(Options{Width: 16, Height: 16})
	for i := 2; i+9 < len(j); {
		if j[i] != 0xff {
			break
		}
		marker := j[i+1]
		n := int(binary.BigEndian.Uint16(j[i+2:]))
		if marker == 0xc0 {
			binary.BigEndian.PutUint16(j[i+5:], uint16(height))
			binary.BigEndian.PutUint16(j[i+7:], uint16(width))
			return j
		}
		i += 2 + n
	}
	panic("testimg: no SOF0 in encoded JPEG")
}

// HEIC returns a HEIC file of the default size, its ftyp box of major
// brand "heic" and compatible brands "mif1" and "heic", as iPhones and
// recent Android phones write (HEIF). Its metadata is read; no decoder
// can show it.
func HEIC() []byte {
	return HEIF(Options{})
}

// FtypBox returns an ISO-BMFF ftyp box with the given major brand, minor
// version 0 and compatible brands, for tests of other HEIF-family files
// (AVIF is "avif" with "mif1" compatible).
func FtypBox(major string, compatible ...string) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(16+4*len(compatible)))
	out = append(out, "ftyp"...)
	out = append(out, major...)
	out = append(out, 0, 0, 0, 0)
	for _, b := range compatible {
		out = append(out, b...)
	}
	return out
}

// ManyScans returns the baseline JPEG j with its scan (SOS segment and
// entropy-coded data) repeated n times: a valid file that makes a decoder
// do n times the work, like the progressive JPEGs with thousands of tiny
// scans that take decoders minutes.
func ManyScans(j []byte, n int) []byte {
	sos := bytes.Index(j, []byte{0xff, 0xda})
	eoi := len(j) - 2
	if sos < 0 || !bytes.HasSuffix(j, []byte{0xff, 0xd9}) {
		panic("testimg: not a JPEG made by JPEG")
	}
	out := append([]byte{}, j[:sos]...)
	for range n {
		out = append(out, j[sos:eoi]...)
	}
	return append(out, j[eoi:]...)
}
