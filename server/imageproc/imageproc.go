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
// decoded picture, within a process-wide memory budget:
//
//	info, err := imageproc.Inspect(f, size, imageproc.Limits{})
//	// … store info.Format, info.EXIF; if !info.Derivable() stop here.
//	release, err := budget.Acquire(ctx, info.MemoryNeed(1280))
//	defer release()
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
	// than Limits allow, or pixels that take more memory to decode (a
	// decompression bomb, an absurd panorama, a 16-bit PNG of 100
	// megapixels; no pixels were decoded, and the error is a *SizeError
	// naming the dimensions), or that a JPEG has so many scans that
	// decoding it would take minutes.
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
	// ErrUnsupportedCoding means a JPEG or PNG coded in a way the decoder
	// does not read (an arithmetic-coded, lossless or hierarchical JPEG):
	// the format is one fieldsync keeps, the file's coding is not. It
	// wraps ErrUnsupported.
	ErrUnsupportedCoding = fmt.Errorf("imageproc: unsupported coding: %w", ErrUnsupported)
)

// Limits bounds what this package will decode. Zero fields take the
// defaults.
type Limits struct {
	// MaxPixels is the largest width×height accepted, default 100e6
	// (a 108-megapixel phone sensor is 12000×9000).
	MaxPixels int64
	// MaxSide is the longest width or height accepted, default 20000.
	MaxSide int
	// MaxBytes is the most memory one decode may take, default 256 MiB:
	// the bytes the decoder allocates for the pixels as its header
	// declares them (Info.DecodeBytes), which depend on the format, not
	// only on the pixel count: from 1.5 bytes a pixel for a camera JPEG to
	// 8 for a 16-bit PNG, and more for a progressive JPEG. Go's decoders
	// cannot scale down while decoding, so a bigger image is refused.
	MaxBytes int64
}

// Default limits; see Limits.
const (
	DefaultMaxPixels = 100_000_000
	DefaultMaxSide   = 20000
	DefaultMaxBytes  = 256 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// WithDefaults returns l with its zero fields set to the defaults.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

// SizeError is the error, wrapping ErrTooLarge, for an image whose header
// declares more than Limits allow. It carries the real dimensions, so that
// a message to a person can name them.
type SizeError struct {
	Width, Height int
	// Bytes is what decoding would take (0 when the dimensions alone are
	// over the limits); MaxBytes is the limit it exceeds.
	Bytes, MaxBytes int64
	// MaxPixels and MaxSide are the pixel limits applied.
	MaxPixels int64
	MaxSide   int
}

func (e *SizeError) Error() string {
	switch {
	case e.Bytes > 0:
		return fmt.Sprintf("%v: %d×%d pixels take %d MiB to decode, at most %d MiB allowed",
			ErrTooLarge, e.Width, e.Height, e.Bytes>>20, e.MaxBytes>>20)
	case e.Width > e.MaxSide || e.Height > e.MaxSide:
		return fmt.Sprintf("%v: %d×%d pixels, longest side allowed is %d", ErrTooLarge, e.Width, e.Height, e.MaxSide)
	}
	return fmt.Sprintf("%v: %d×%d is %d pixels, at most %d allowed",
		ErrTooLarge, e.Width, e.Height, int64(e.Width)*int64(e.Height), e.MaxPixels)
}

// Unwrap makes errors.Is(err, ErrTooLarge) hold.
func (e *SizeError) Unwrap() error { return ErrTooLarge }

// check returns a *SizeError (or an error wrapping ErrNotImage for empty
// dimensions) unless a w×h image is within l.
func (l Limits) check(w, h int) error {
	l = l.withDefaults()
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: header declares %d×%d pixels", ErrNotImage, w, h)
	case w > l.MaxSide || h > l.MaxSide, int64(w)*int64(h) > l.MaxPixels:
		return &SizeError{Width: w, Height: h, MaxBytes: l.MaxBytes, MaxPixels: l.MaxPixels, MaxSide: l.MaxSide}
	}
	return nil
}

// checkBytes returns a *SizeError if decoding a w×h image takes more than
// l allows.
func (l Limits) checkBytes(w, h int, need int64) error {
	l = l.withDefaults()
	if need > l.MaxBytes {
		return &SizeError{Width: w, Height: h, Bytes: need, MaxBytes: l.MaxBytes, MaxPixels: l.MaxPixels, MaxSide: l.MaxSide}
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
	// DecodeBytes is the memory Decode takes for this image, read from
	// its header (see Limits.MaxBytes); 0 for HEIC, which is never
	// decoded.
	DecodeBytes int64
	// ycbcr says the pixels decode to an *image.YCbCr, which Fit shrinks
	// without a full-size RGBA copy.
	ycbcr bool
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
