package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/disintegration/imaging"
)

// Picture is a decoded JPEG or PNG together with its EXIF. Derivatives made
// from it have the EXIF orientation applied.
//
// A Picture holds the full-size pixels: about 1.5 to 3 bytes per pixel for
// a baseline JPEG (18 MB for 12 megapixels), 4 for a PNG (8 if 16-bit), and
// while a progressive JPEG is decoded another 6 (Info.DecodeBytes says how
// much for a given file). Share a Budget among the goroutines that decode.
type Picture struct {
	// Format is FormatJPEG or FormatPNG.
	Format string
	// EXIF is read from the same bytes as the pixels.
	EXIF EXIF
	img  image.Image // as stored, before orientation
}

// Decode reads a JPEG or PNG from r. It reads the header first, refuses
// dimensions, or a decode memory (Info.DecodeBytes), beyond lim before any
// pixel memory is allocated, then decodes
// the rest of the stream, so r need not be seekable. Errors wrap
// ErrNotImage, ErrTooLarge, ErrTruncated or ErrCorrupt as Inspect's do,
// and ErrUnsupported for HEIC and any format other than JPEG and PNG.
//
// Unlike imaging.Decode with AutoOrientation, Decode does not rotate the
// full-size pixels: orientation is applied to each derivative after it has
// been scaled down, which saves a full-size copy (48 MB for 12 megapixels)
// and the time to make it.
func Decode(r io.Reader, lim Limits) (*Picture, error) {
	src := &eofReader{r: r}
	// Everything read while sniffing and reading the header is kept, to
	// find the EXIF in and to replay to the pixel decoder.
	var head bytes.Buffer
	tee := io.TeeReader(src, &head)
	var magic [32]byte
	n, err := io.ReadFull(tee, magic[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("imageproc: read header: %w", err)
	}
	format, err := sniff(magic[:n])
	if err != nil {
		return nil, err
	}
	if format == FormatHEIC {
		return nil, fmt.Errorf("%w: heic is stored as the original only", ErrUnsupported)
	}
	cfg, err := decodeConfig(format, io.MultiReader(bytes.NewReader(magic[:n]), tee))
	if err != nil {
		return nil, err
	}
	if err := lim.check(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	// The header read so far holds PNG's IHDR and JPEG's frame header.
	hd := bytes.NewReader(head.Bytes())
	need, _ := decodeMemory(format, hd, hd.Size(), cfg.Width, cfg.Height)
	if err := lim.checkBytes(cfg.Width, cfg.Height, need); err != nil {
		return nil, err
	}
	if format == FormatPNG {
		// The eXIf chunk follows IHDR, which is all DecodeConfig read.
		readPNGChunksBeforeIDAT(tee)
	}
	hb := head.Bytes()
	pic := &Picture{
		Format: format,
		EXIF:   parseEXIF(findEXIF(format, bytes.NewReader(hb), int64(len(hb)))),
	}
	rest := io.MultiReader(bytes.NewReader(hb), src)
	switch format {
	case FormatJPEG:
		scans := &scanCounter{r: rest}
		pic.img, err = jpeg.Decode(scans)
		if scans.tooMany() {
			return nil, fmt.Errorf("%w: jpeg has more than %d scans", ErrTooLarge, maxJPEGScans)
		}
	case FormatPNG:
		pic.img, err = png.Decode(rest)
	}
	if err != nil {
		if src.cutShort(format) {
			// The decoders report running out of data in several ways
			// ("short Huffman data", "not enough pixel data").
			return nil, fmt.Errorf("%w: %s data ends early: %v", ErrTruncated, format, err)
		}
		return nil, dataError(format, err)
	}
	return pic, nil
}

// eofReader remembers whether r reported the end of its data, and the last
// bytes before it.
type eofReader struct {
	r    io.Reader
	eof  bool
	tail []byte
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	const keep = 8
	if n >= keep {
		e.tail = append(e.tail[:0], p[n-keep:n]...)
	} else {
		e.tail = append(e.tail, p[:n]...)
		e.tail = e.tail[max(0, len(e.tail)-keep):]
	}
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// cutShort reports whether the data ended without the marker that ends a
// complete file: EOI for JPEG, the IEND chunk for PNG. Data after the end
// (phones append trailers) is never read, as decoding stops at the end.
func (e *eofReader) cutShort(format string) bool {
	if !e.eof {
		return false
	}
	switch format {
	case FormatJPEG:
		return !bytes.HasSuffix(e.tail, []byte{0xff, 0xd9})
	case FormatPNG:
		return !bytes.HasSuffix(e.tail, []byte("IEND\xae\x42\x60\x82"))
	}
	return false
}

// maxJPEGScans bounds the scans (SOS markers) of a JPEG. Each scan of a
// progressive JPEG revisits every block of the image, and the standard lets
// a scan take a few bytes, so a small file can demand minutes of decoding
// (libjpeg-turbo's "LJT-01-003"). Cameras write 1 to 3 scans, progressive
// encoders about 10, mozjpeg at most a few dozen.
const maxJPEGScans = 100

// errTooManyScans stops the JPEG decoder once maxJPEGScans is exceeded.
var errTooManyScans = errors.New("imageproc: too many jpeg scans")

// scanCounter counts the SOS markers (FF DA, possibly after FF fill bytes)
// in what it reads and fails once there are more than maxJPEGScans. The
// count may include FF DA bytes inside metadata segments (an embedded EXIF
// thumbnail has a scan of its own), which only makes it err on the safe
// side; entropy-coded data cannot contain FF DA.
type scanCounter struct {
	r      io.Reader
	scans  int
	lastFF bool
}

func (s *scanCounter) Read(p []byte) (int, error) {
	if s.tooMany() {
		return 0, errTooManyScans
	}
	n, err := s.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		if s.lastFF {
			s.lastFF = false
			if b[0] == 0xda {
				s.scans++
			} else if b[0] == 0xff {
				s.lastFF = true // fill byte
			}
			b = b[1:]
			continue
		}
		i := bytes.IndexByte(b, 0xff)
		if i < 0 {
			break
		}
		s.lastFF = true
		b = b[i+1:]
	}
	if s.tooMany() {
		return n, errTooManyScans
	}
	return n, err
}

func (s *scanCounter) tooMany() bool { return s.scans > maxJPEGScans }

// readPNGChunksBeforeIDAT reads (and discards: the caller keeps a copy of
// what r delivers) the PNG chunks after IHDR up to the first IDAT, where an
// eXIf chunk must be, reading at most maxEXIFBytes beyond IHDR.
func readPNGChunksBeforeIDAT(r io.Reader) {
	var hdr [8]byte
	budget := int64(maxEXIFBytes)
	for range maxPNGChunks {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4])) + 4 // data and CRC
		if t := string(hdr[4:]); t == "IDAT" || t == "IEND" || n > budget {
			return
		}
		budget -= n
		if _, err := io.CopyN(io.Discard, r, n); err != nil {
			return
		}
	}
}

// Size returns the picture's dimensions as displayed, after orientation.
func (p *Picture) Size() (w, h int) {
	b := p.img.Bounds()
	if p.EXIF.Orientation >= 5 {
		return b.Dy(), b.Dx()
	}
	return b.Dx(), b.Dy()
}

// Fit returns the picture scaled down to fit in maxSide×maxSide, keeping its
// aspect ratio, with the EXIF orientation applied. It never scales up; a
// maxSide ≤ 0 means full size. The filter is Lanczos-3.
func (p *Picture) Fit(maxSide int) *image.NRGBA {
	b := p.img.Bounds()
	w, h := fitSize(b.Dx(), b.Dy(), maxSide)
	var out *image.NRGBA
	if w == b.Dx() && h == b.Dy() {
		out = imaging.Clone(p.img)
	} else {
		out = resize(p.img, w, h, imaging.Lanczos)
	}
	return orient(out, p.EXIF.Orientation)
}

// fitSize scales w×h to fit in side×side without scaling up.
func fitSize(w, h, side int) (int, int) {
	if side <= 0 || (w <= side && h <= side) {
		return w, h
	}
	if w >= h {
		return side, max(1, int((int64(h)*int64(side)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(side)+int64(h)/2)/int64(h))), side
}

// JPEG returns Fit(maxSide) encoded as a baseline JPEG at quality (1–100;
// 0 means 85). Transparent areas of a PNG are put on white.
func (p *Picture) JPEG(maxSide, quality int) ([]byte, error) {
	if quality <= 0 {
		quality = 85
	}
	quality = min(quality, 100)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, opaqueRGBA(p.Fit(maxSide)), &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("imageproc: encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// opaqueRGBA returns img as an *image.RGBA, which image/jpeg encodes several
// times faster than other types. An opaque NRGBA already has RGBA's bytes;
// otherwise img is composited onto white.
func opaqueRGBA(img *image.NRGBA) *image.RGBA {
	if img.Opaque() {
		return &image.RGBA{Pix: img.Pix, Stride: img.Stride, Rect: img.Rect}
	}
	out := image.NewRGBA(img.Rect)
	draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Rect, img, img.Rect.Min, draw.Over)
	return out
}

// orient applies EXIF orientation o to img: the transform that turns the
// stored pixels into the picture as taken (CIPA DC-008, Orientation).
func orient(img *image.NRGBA, o int) *image.NRGBA {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// Derive decodes the JPEG or PNG in r (see Decode for the checks and errors)
// and returns it scaled to fit maxSide×maxSide, oriented, as a JPEG at
// quality: a 256 px thumbnail or a 1280 px preview. To make several
// derivatives of one photo, Decode once and call Picture.JPEG for each.
func Derive(r io.Reader, lim Limits, maxSide, quality int) ([]byte, error) {
	pic, err := Decode(r, lim)
	if err != nil {
		return nil, err
	}
	return pic.JPEG(maxSide, quality)
}
