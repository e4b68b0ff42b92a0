package imageproc

import (
	"encoding/binary"
	"io"
)

// What decoding costs. Go's image/png and image/jpeg allocate the whole
// picture at the size the header declares before reading any pixel data,
// so the cost is known from the header alone. The figures below follow
// what those decoders allocate (Go 1.26); a few kilobytes of tables and
// row buffers are left out.

// decodeMemory returns the bytes Decode allocates for the image of format
// in r (size bytes), w×h pixels, and whether it decodes to
// an *image.YCbCr. What the header does not say is assumed at its worst.
func decodeMemory(format string, r io.ReaderAt, size int64, w, h int) (int64, bool) {
	switch format {
	case FormatPNG:
		var ihdr [13]byte
		if _, err := r.ReadAt(ihdr[:], 16); err != nil { // after the signature and IHDR's length and type
			return pngMemory(w, h, 16, 6, true), false
		}
		return pngMemory(w, h, int(ihdr[8]), int(ihdr[9]), ihdr[12] == 1), false
	case FormatJPEG:
		f := readJPEGFrame(r, size)
		return f.memory(w, h), f.decodesToYCbCr()
	}
	return 0, false
}

// pngMemory is what image/png allocates for a w×h image of this bit depth
// and colour type: one image of 1 (paletted), 2 (16-bit grey), 4 (8-bit,
// as RGBA or NRGBA) or 8 (16-bit, as RGBA64 or NRGBA64) bytes a pixel —
// greys with a tRNS chunk become NRGBA, which is counted for every grey —
// and, for an Adam7-interlaced image, as much again in its seven passes.
func pngMemory(w, h, depth, colorType int, interlaced bool) int64 {
	per := int64(4)
	switch {
	case colorType == 3:
		per = 1
	case depth == 16:
		per = 8
	}
	n := int64(w) * int64(h) * per
	if interlaced {
		n *= 2
	}
	channels := map[int]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
	row := (int64(w)*channels*int64(max(depth, 1)) + 7) / 8
	return n + 2*(row+1) // the current and the previous row
}

// jpegFrame is what a JPEG's header says about its decoding.
type jpegFrame struct {
	found       bool
	progressive bool
	jfif        bool // an APP0 JFIF segment
	adobe       bool // an APP14 Adobe segment,
	transform   byte // with this colour transform
	comps       []jpegComp
}

type jpegComp struct {
	id   byte
	h, v int
}

// maxJPEGSegments bounds the segments read looking for the frame header.
const maxJPEGSegments = 1024

// readJPEGFrame walks the JPEG's segments up to its frame header (SOFn),
// noting the JFIF and Adobe segments, which decide the colour model.
func readJPEGFrame(r io.ReaderAt, size int64) jpegFrame {
	var f jpegFrame
	var hdr [4]byte
	off := int64(2) // after SOI
	for range maxJPEGSegments {
		if off+4 > size {
			return f
		}
		if _, err := r.ReadAt(hdr[:2], off); err != nil || hdr[0] != 0xff {
			return f
		}
		marker := hdr[1]
		switch {
		case marker == 0xff: // fill byte
			off++
			continue
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd9: // no length
			off += 2
			continue
		case marker == 0xda: // a scan before any frame header
			return f
		}
		if _, err := r.ReadAt(hdr[2:4], off+2); err != nil {
			return f
		}
		n := int64(binary.BigEndian.Uint16(hdr[2:4])) - 2 // the segment's data
		if n < 0 {
			return f
		}
		data := func(max int64) []byte {
			b := make([]byte, min(n, max))
			if _, err := r.ReadAt(b, off+4); err != nil {
				return nil
			}
			return b
		}
		switch marker {
		case 0xe0:
			if b := data(5); string(b) == "JFIF\x00" {
				f.jfif = true
			}
		case 0xee:
			if b := data(12); len(b) == 12 && string(b[:5]) == "Adobe" {
				f.adobe, f.transform = true, b[11]
			}
		case 0xc0, 0xc1, 0xc2: // the frames image/jpeg decodes
			b := data(6 + 3*4)
			if len(b) < 6 || len(b) < 6+3*int(b[5]) {
				return f
			}
			f.found, f.progressive = true, marker == 0xc2
			for i := range int(b[5]) {
				c := b[6+3*i:]
				f.comps = append(f.comps, jpegComp{id: c[0], h: int(max(c[1]>>4, 1)), v: int(max(c[1]&0x0f, 1))})
			}
			return f
		}
		off += 4 + n
	}
	return f
}

// isRGB is image/jpeg's test for three components stored as RGB rather
// than YCbCr.
func (f jpegFrame) isRGB() bool {
	if f.jfif {
		return false
	}
	if f.adobe && f.transform == 0 {
		return true
	}
	return len(f.comps) == 3 && f.comps[0].id == 'R' && f.comps[1].id == 'G' && f.comps[2].id == 'B'
}

func (f jpegFrame) decodesToYCbCr() bool {
	return f.found && len(f.comps) == 3 && !f.isRGB()
}

// memory is what image/jpeg allocates for a w×h image with this frame: a
// byte per sample of each component, padded to whole blocks (the Y, Cb
// and Cr planes and the black plane of CMYK); a 4-byte-a-pixel copy when
// the result is converted to RGBA or CMYK; and for a progressive JPEG the
// coefficients of every block (64 int32, 4 bytes a sample), kept from scan
// to scan. A frame header that cannot be read counts as the worst case.
func (f jpegFrame) memory(w, h int) int64 {
	px := int64(w) * int64(h)
	if !f.found || len(f.comps) == 0 {
		return px * (4 + 4 + 4*4) // 4:4:4:4, converted, progressive
	}
	h0, v0 := f.comps[0].h, f.comps[0].v
	if len(f.comps) == 1 {
		h0, v0 = 1, 1
	}
	mxx := int64((w + 8*h0 - 1) / (8 * h0))
	myy := int64((h + 8*v0 - 1) / (8 * v0))
	var samples int64
	for _, c := range f.comps {
		ch, cv := c.h, c.v
		if len(f.comps) == 1 {
			ch, cv = 1, 1 // a single component is never subsampled
		}
		samples += 8 * int64(ch) * mxx * 8 * int64(cv) * myy
	}
	n := samples
	if len(f.comps) == 4 || (len(f.comps) == 3 && f.isRGB()) {
		n += 4 * px
	}
	if f.progressive {
		n += 4 * samples
	}
	return n
}

// MemoryNeed is the most memory Decode followed by Picture.JPEG(maxSide,
// …) holds at once for this image: DecodeBytes, and what making the
// derivative adds while the decoded picture is still held — a shrunken
// copy of a JPEG (below twice the derivative's size) or, for other
// images, imaging's intermediate of the derivative's width by the full
// height, then the derivative itself, oriented, and made opaque, at 4
// bytes a pixel each.
func (i *Info) MemoryNeed(maxSide int) int64 {
	if !i.Derivable() {
		return 0
	}
	W, H := i.Width, i.Height
	dw, dh := fitSize(W, H, maxSide)
	out := 4 * int64(dw) * int64(dh)
	switch k := min(W/max(dw, 1), H/max(dh, 1)); {
	case dw == W && dh == H:
		return i.DecodeBytes + 3*out // a clone
	case i.ycbcr && k >= 2:
		sw, sh := int64(W/k), int64(H/k)
		return i.DecodeBytes + 4*sw*sh + 4*int64(dw)*sh + 3*out
	default:
		return i.DecodeBytes + 4*int64(dw)*int64(H) + 3*out
	}
}
