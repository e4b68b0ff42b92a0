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
	"compress/zlib"
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
// bytes per pixel: a 10000×10000 one is about 1 MB on disk and 800 MB
// decoded. Every row is the same grey ramp, stored with the Up filter, so
// the file stays small; it is written row by row and never held as pixels.
func PNG16(width, height int) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8] = 16 // bit depth
	ihdr[9] = 6  // RGBA
	out = appendChunk(out, "IHDR", ihdr[:])
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, 1+8*width) // filter None, then R G B A of 16 bits each
	for x := range width {
		v := uint16(x * 65535 / max(width-1, 1))
		p := row[1+8*x:]
		binary.BigEndian.PutUint16(p[0:], v)
		binary.BigEndian.PutUint16(p[2:], v)
		binary.BigEndian.PutUint16(p[4:], v)
		binary.BigEndian.PutUint16(p[6:], 0xffff)
	}
	up := make([]byte, len(row)) // filter Up: the same as the row above
	up[0] = 2
	_, _ = zw.Write(row)
	for range height - 1 {
		_, _ = zw.Write(up)
	}
	_ = zw.Close()
	out = appendChunk(out, "IDAT", idat.Bytes())
	return appendChunk(out, "IEND", nil)
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

// HEIC returns the start of a HEIC file: an ISO-BMFF ftyp box with major
// brand "heic" and compatible brands "mif1" and "heic", as iPhones and
// recent Android phones write. It is enough for format detection, not for
// decoding.
func HEIC() []byte {
	return FtypBox("heic", "mif1", "heic")
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
