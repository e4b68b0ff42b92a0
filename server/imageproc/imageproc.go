// Package imageproc inspects evidence photos and makes their derivatives.
//
// Everything here reads untrusted bytes from phones, so every entry point is
// bounded: dimensions are read from the header (without decoding pixels) and
// checked against Limits before any pixel buffer is allocated, EXIF is read
// from one bounded block, and malformed input yields an error wrapping one of
// the sentinel errors below, never a panic.
//
// The formats accepted are JPEG and PNG (inspected and derived) and HEIC/HEIF
// (recognised and stored as the original only: there is no HEVC decoder in
// Go's ecosystem without cgo, so HEIC photos get no thumbnail, preview or
// perceptual hash). Other image formats (GIF, WebP, BMP, TIFF, AVIF) are
// recognised and refused with ErrUnsupported; phones do not take photos in
// them.
//
// A typical processing job decodes once and derives everything from the one
// decoded picture:
//
//	info, err := imageproc.Inspect(f, size, imageproc.Limits{})
//	// … store info.Format, info.EXIF; if !info.Derivable() stop here.
//	pic, err := imageproc.Decode(io.NewSectionReader(f, 0, size), imageproc.Limits{})
//	thumb, err := pic.JPEG(256, 80)
//	preview, err := pic.JPEG(1280, 85)
//	hash := pic.DHash()
package imageproc

import (
	"errors"
	"fmt"
)

// Formats reported in Info.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	// FormatHEIC covers HEIC and the other HEIF brands phones write
	// (heic, heix, mif1, msf1 …). It is stored as the original only.
	FormatHEIC = "heic"
)

// Errors that Inspect, Decode, Derive and DHashOf wrap. Test with errors.Is;
// the wrapping error's message says what exactly was wrong.
var (
	// ErrNotImage means the bytes are not an image in any format known
	// here, or a header is malformed.
	ErrNotImage = errors.New("imageproc: not an image")
	// ErrTooLarge means the header declares more pixels or a longer side
	// than Limits allow (a decompression bomb or an absurd panorama; no
	// pixels were decoded), or that a JPEG has so many scans that decoding
	// it would take minutes.
	ErrTooLarge = errors.New("imageproc: image too large to decode")
	// ErrTruncated means the data ends before the image does: a cut-off
	// upload.
	ErrTruncated = errors.New("imageproc: image truncated")
	// ErrCorrupt means the header is valid but the compressed pixel data
	// is not.
	ErrCorrupt = errors.New("imageproc: image data corrupt")
	// ErrUnsupported means the image is in a format recognised but not
	// handled: Inspect refuses GIF, WebP, BMP, TIFF and AVIF with it, and
	// Decode, Derive and DHashOf refuse HEIC with it (Inspect accepts HEIC,
	// which is stored as the original only).
	ErrUnsupported = errors.New("imageproc: unsupported image format")
)

// Limits bounds what this package will decode. Zero fields take the
// defaults.
type Limits struct {
	// MaxPixels is the largest width×height accepted, default 100e6
	// (a 108-megapixel phone sensor is 12000×9000). Decoding takes 1.5 to
	// 8 bytes per pixel (see Picture), so the default allows up to 800 MB
	// per decode: size the worker pool with that in mind, or lower it.
	MaxPixels int64
	// MaxSide is the longest width or height accepted, default 20000.
	MaxSide int
}

// Default limits; see Limits.
const (
	DefaultMaxPixels = 100_000_000
	DefaultMaxSide   = 20000
)

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	return l
}

// check returns an error wrapping ErrTooLarge (or ErrNotImage for empty
// dimensions) unless a w×h image is within l.
func (l Limits) check(w, h int) error {
	l = l.withDefaults()
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: header declares %d×%d pixels", ErrNotImage, w, h)
	case w > l.MaxSide || h > l.MaxSide:
		return fmt.Errorf("%w: %d×%d pixels, longest side allowed is %d", ErrTooLarge, w, h, l.MaxSide)
	case int64(w)*int64(h) > l.MaxPixels:
		return fmt.Errorf("%w: %d×%d is %d pixels, at most %d allowed", ErrTooLarge, w, h, int64(w)*int64(h), l.MaxPixels)
	}
	return nil
}

// Info is what Inspect learns from a file's header.
type Info struct {
	// Format is FormatJPEG, FormatPNG or FormatHEIC.
	Format string
	// Width and Height are the stored pixel dimensions, before EXIF
	// orientation; see DisplaySize. For HEIC they are those of the primary
	// image's "ispe" property, 0 if the file has none.
	Width, Height int
	// EXIF is the photo's metadata; the zero value (with Orientation 1
	// implied) when there is none.
	EXIF EXIF
}

// Derivable reports whether Decode can make thumbnails, previews and hashes
// of the image (JPEG and PNG), as opposed to storing the original only
// (HEIC).
func (i *Info) Derivable() bool {
	return i.Format == FormatJPEG || i.Format == FormatPNG
}

// DisplaySize returns the dimensions as the photo is meant to be seen: with
// EXIF orientations 5–8 (a quarter turn) width and height swap.
func (i *Info) DisplaySize() (w, h int) {
	if i.EXIF.Orientation >= 5 && i.EXIF.Orientation <= 8 {
		return i.Height, i.Width
	}
	return i.Width, i.Height
}
