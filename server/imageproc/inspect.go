package imageproc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// Inspect reads the header of the image in r (size bytes long) and returns
// its format, dimensions and EXIF, without decoding any pixels: it reads
// the file's first segments and, for EXIF, one block of at most 64 KiB
// (1 MiB for PNG). It fails with an error wrapping
//
//   - ErrNotImage for anything that is not a JPEG, PNG or HEIF image, or
//     whose header is malformed;
//   - ErrTruncated when the data ends inside the header;
//   - ErrTooLarge, as a *SizeError, when the declared dimensions, or the
//     memory decoding them takes, exceed lim (see Limits);
//   - ErrUnsupported for GIF, WebP, BMP, TIFF and AVIF images.
//
// HEIC is accepted with Format FormatHEIC, the primary image's dimensions
// and its EXIF item, read from the file's meta box (at most 1 MiB), which
// must declare the primary image and its size (ErrNotImage otherwise);
// Info.Derivable reports false for it.
//
// A JPEG cut off after its header passes Inspect; Decode reports it.
// Malformed EXIF is not an error: Info.EXIF holds what could be read.
func Inspect(r io.ReaderAt, size int64, lim Limits) (*Info, error) {
	var magic [32]byte
	n, err := r.ReadAt(magic[:min(int64(len(magic)), max(size, 0))], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("imageproc: read header: %w", err)
	}
	format, err := sniff(magic[:n])
	if err != nil {
		return nil, err
	}
	if format == FormatHEIC {
		// Never decoded, so its dimensions need no check; but a file
		// whose meta box declares no primary image of a size is not a
		// HEIF image (an ftyp box before junk, a video's header).
		w, h, tiff := heifInfo(r, size)
		if w <= 0 || h <= 0 {
			return nil, fmt.Errorf("%w: HEIF file without a primary image of known size", ErrNotImage)
		}
		return &Info{Format: FormatHEIC, Width: w, Height: h, EXIF: parseEXIF(tiff)}, nil
	}
	cfg, err := decodeConfig(format, io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, err
	}
	if err := lim.check(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	info := &Info{Format: format, Width: cfg.Width, Height: cfg.Height}
	info.DecodeBytes, info.ycbcr = decodeMemory(format, r, size, cfg.Width, cfg.Height)
	if err := lim.checkBytes(cfg.Width, cfg.Height, info.DecodeBytes); err != nil {
		return nil, err
	}
	info.EXIF = parseEXIF(findEXIF(format, r, size))
	return info, nil
}

// Magic numbers of the formats recognised.
var (
	magicJPEG = []byte{0xff, 0xd8, 0xff}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// sniff names the format of a file beginning with b (up to 32 bytes), or
// returns an error wrapping ErrNotImage, ErrTruncated or ErrUnsupported.
func sniff(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, magicJPEG):
		return FormatJPEG, nil
	case bytes.HasPrefix(b, magicPNG):
		return FormatPNG, nil
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return sniffFtyp(b)
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "", fmt.Errorf("%w: gif", ErrUnsupported)
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "", fmt.Errorf("%w: webp", ErrUnsupported)
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "", fmt.Errorf("%w: tiff", ErrUnsupported)
	case len(b) >= 14 && string(b[:2]) == "BM" && binary.LittleEndian.Uint32(b[6:]) == 0:
		return "", fmt.Errorf("%w: bmp", ErrUnsupported)
	case len(b) == 0:
		return "", fmt.Errorf("%w: empty file", ErrNotImage)
	case bytes.HasPrefix(magicJPEG, b), bytes.HasPrefix(magicPNG, b):
		return "", fmt.Errorf("%w: %d bytes, ends inside the signature", ErrTruncated, len(b))
	}
	return "", fmt.Errorf("%w: unrecognised signature % x", ErrNotImage, b[:min(len(b), 8)])
}

// HEIF brands (ISO/IEC 23008-12 and the HEVC profiles) that phones write.
// "mif1" and "msf1" are generic image and sequence brands, also listed by
// AVIF files, which is why the major brand is checked for AVIF first.
var heifBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true,
	"hevc": true, "hevx": true, "hevm": true, "hevs": true,
	"mif1": true, "msf1": true,
}

// sniffFtyp classifies an ISO-BMFF file by the brands in its leading ftyp
// box: major brand at 8, minor version at 12, compatible brands from 16 to
// the end of the box.
func sniffFtyp(b []byte) (string, error) {
	major := string(b[8:12])
	switch major {
	case "avif", "avis":
		return "", fmt.Errorf("%w: avif", ErrUnsupported)
	}
	if heifBrands[major] {
		return FormatHEIC, nil
	}
	end := min(int(binary.BigEndian.Uint32(b)), len(b))
	for i := 16; i+4 <= end; i += 4 {
		switch brand := string(b[i : i+4]); {
		case brand == "avif" || brand == "avis":
			return "", fmt.Errorf("%w: avif", ErrUnsupported)
		case heifBrands[brand]:
			return FormatHEIC, nil
		}
	}
	return "", fmt.Errorf("%w: ISO media file of brand %q (a video?)", ErrNotImage, major)
}

// decodeConfig reads the header of a JPEG or PNG from r. Only the decoder of
// the sniffed format runs, so no other decoder registered with package image
// ever sees untrusted bytes.
func decodeConfig(format string, r io.Reader) (image.Config, error) {
	var cfg image.Config
	var err error
	switch format {
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(bufio.NewReader(r))
	case FormatPNG:
		cfg, err = png.DecodeConfig(r)
	default:
		return cfg, fmt.Errorf("%w: %s", ErrUnsupported, format)
	}
	if err != nil {
		return cfg, headerError(format, err)
	}
	return cfg, nil
}

// headerError classifies an error from DecodeConfig (of a JPEG or a PNG:
// a feature their decoders lack is ErrUnsupportedCoding).
func headerError(format string, err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s header: %v", ErrTruncated, format, err)
	case isUnsupported(err):
		return fmt.Errorf("%w: %s: %v", ErrUnsupportedCoding, format, err)
	}
	return fmt.Errorf("%w: %s header: %v", ErrNotImage, format, err)
}

// dataError classifies an error from decoding pixels after a good header.
func dataError(format string, err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s data: %v", ErrTruncated, format, err)
	case isUnsupported(err):
		return fmt.Errorf("%w: %s: %v", ErrUnsupportedCoding, format, err)
	}
	return fmt.Errorf("%w: %s data: %v", ErrCorrupt, format, err)
}

// isUnsupported reports whether err is a decoder's "valid but not handled"
// error, such as an arithmetic-coded or 12-bit JPEG.
func isUnsupported(err error) bool {
	var ju jpeg.UnsupportedError
	var pu png.UnsupportedError
	return errors.As(err, &ju) || errors.As(err, &pu)
}
