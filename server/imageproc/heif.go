package imageproc

import (
	"encoding/binary"
	"io"
)

// HEIF (ISO/IEC 23008-12) keeps its metadata in a "meta" box: items
// ("iinf"), where their bytes are ("iloc"), which is the primary image
// ("pitm") and its properties ("iprp": "ipco" holds them, "ipma" assigns
// them), among which "ispe", the image size. The EXIF block is the item of
// type "Exif". Nothing here decodes HEVC.

// Bounds on reading HEIF: phones write a meta box of a few kilobytes.
const (
	maxHEIFTopBoxes = 64
	maxHEIFMetaSize = 1 << 20
)

// heifInfo reads the primary image's size and the EXIF block (its TIFF
// structure) of the HEIF file in r. What cannot be found is zero or nil.
// Only the primary image's and the Exif item's entries are kept from the
// tables, so memory stays within a small multiple of the meta box.
func heifInfo(r io.ReaderAt, size int64) (w, h int, tiff []byte) {
	meta := heifMeta(r, size)
	if meta == nil {
		return 0, 0, nil
	}
	var pitm, iinf, iloc, ipco, ipma []byte
	first := func(dst *[]byte, body []byte) {
		if *dst == nil {
			*dst = body
		}
	}
	eachBox(meta[4:], func(typ string, body []byte) { // meta is a FullBox
		switch typ {
		case "pitm":
			first(&pitm, body)
		case "iinf":
			first(&iinf, body)
		case "iloc":
			first(&iloc, body)
		case "iprp":
			eachBox(body, func(typ string, body []byte) {
				switch typ {
				case "ipco":
					first(&ipco, body)
				case "ipma":
					first(&ipma, body)
				}
			})
		}
	})
	w, h = heifSize(ipco, heifProperties(ipma, heifPrimary(pitm)))
	if id := heifExifItem(iinf); id != 0 {
		tiff = heifExifBlock(r, size, heifExtents(iloc, id))
	}
	return w, h, tiff
}

// heifMeta returns the body of the top-level meta box, read into memory.
func heifMeta(r io.ReaderAt, size int64) []byte {
	var off int64
	var hdr [16]byte
	for range maxHEIFTopBoxes {
		if off+8 > size {
			return nil
		}
		if _, err := r.ReadAt(hdr[:8], off); err != nil {
			return nil
		}
		n, head := int64(binary.BigEndian.Uint32(hdr[:4])), int64(8)
		switch n {
		case 0: // to the end of the file
			n = size - off
		case 1: // 64-bit size follows the type
			if _, err := r.ReadAt(hdr[8:16], off+8); err != nil {
				return nil
			}
			n, head = int64(binary.BigEndian.Uint64(hdr[8:16])), 16
		}
		if n < head || n > size-off {
			return nil
		}
		if string(hdr[4:8]) == "meta" {
			if n-head > maxHEIFMetaSize || n-head < 4 {
				return nil
			}
			b := make([]byte, n-head)
			if _, err := r.ReadAt(b, off+head); err != nil {
				return nil
			}
			return b
		}
		off += n
	}
	return nil
}

// eachBox calls fn for each complete box in b, stopping at the first that
// is malformed.
func eachBox(b []byte, fn func(typ string, body []byte)) {
	for len(b) >= 8 {
		n, head := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		switch n {
		case 0:
			n = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return
			}
			n, head = binary.BigEndian.Uint64(b[8:]), 16
		}
		if n < head || n > uint64(len(b)) {
			return
		}
		fn(string(b[4:8]), b[head:n])
		b = b[n:]
	}
}

// heifPrimary reads a pitm box body: the primary item's ID.
func heifPrimary(body []byte) uint32 {
	c := cursor{b: body}
	version := c.u8()
	c.skip(3)
	if version == 0 {
		return uint32(c.u16())
	}
	return c.u32()
}

// heifExifItem returns the ID of the first item of type "Exif" in an iinf
// box body, or 0.
func heifExifItem(body []byte) uint32 {
	c := cursor{b: body}
	if c.u8() == 0 {
		c.skip(3)
		c.u16() // entry count; the boxes that follow are what counts
	} else {
		c.skip(3)
		c.u32()
	}
	if c.bad {
		return 0
	}
	var id uint32
	eachBox(c.b, func(typ string, body []byte) {
		if typ != "infe" || id != 0 {
			return
		}
		e := cursor{b: body}
		version := e.u8()
		e.skip(3)
		var item uint32
		switch version {
		case 2:
			item = uint32(e.u16())
		case 3:
			item = e.u32()
		default:
			return // versions 0 and 1 have no item type
		}
		e.u16() // protection index
		if t := e.bytes(4); !e.bad && string(t) == "Exif" {
			id = item
		}
	})
	return id
}

// extent is a byte range of an item in the file.
type extent struct{ off, len uint64 }

// maxExtents bounds the extents of one item: phones write one.
const maxExtents = 32

// heifExtents reads an iloc box body and returns the extents of item id if
// its bytes are in the file itself (construction method 0).
func heifExtents(body []byte, id uint32) []extent {
	c := cursor{b: body}
	version := c.u8()
	c.skip(3)
	sizes := c.u8()
	offSize, lenSize := int(sizes>>4), int(sizes&15)
	sizes = c.u8()
	baseSize, indexSize := int(sizes>>4), int(sizes&15)
	if version == 0 {
		indexSize = 0
	}
	var count uint32
	if version < 2 {
		count = uint32(c.u16())
	} else {
		count = c.u32()
	}
	// Every item takes at least six bytes, so count cannot make this loop
	// outrun the body.
	for range count {
		var item uint32
		if version < 2 {
			item = uint32(c.u16())
		} else {
			item = c.u32()
		}
		method := uint16(0)
		if version >= 1 {
			method = c.u16() & 15
		}
		c.u16() // data reference index
		base := c.uN(baseSize)
		n := int(c.u16())
		if c.bad || n > maxExtents {
			return nil
		}
		var extents []extent
		for range n {
			c.uN(indexSize)
			off, length := c.uN(offSize), c.uN(lenSize)
			extents = append(extents, extent{base + off, length})
		}
		if c.bad {
			return nil
		}
		if item == id {
			if method != 0 {
				return nil // in the meta box's idat, or another item
			}
			return extents
		}
	}
	return nil
}

// heifProperties reads an ipma box body and returns the property indices
// (from 1, into ipco) associated with item id.
func heifProperties(body []byte, id uint32) []int {
	c := cursor{b: body}
	version := c.u8()
	c.skip(2)
	wide := c.u8()&1 == 1 // flags: 15-bit indices
	count := c.u32()
	for range count {
		var item uint32
		if version < 1 {
			item = uint32(c.u16())
		} else {
			item = c.u32()
		}
		n := int(c.u8())
		var props []int
		for range n {
			if wide {
				props = append(props, int(c.u16()&0x7fff))
			} else {
				props = append(props, int(c.u8()&0x7f))
			}
		}
		if c.bad {
			return nil
		}
		if item == id {
			return props
		}
	}
	return nil
}

// heifSize returns the size in the first ispe property among props, the
// 1-based indices of properties in the ipco box body.
func heifSize(ipco []byte, props []int) (w, h int) {
	i := 0
	eachBox(ipco, func(typ string, body []byte) {
		i++
		if w != 0 || typ != "ispe" {
			return
		}
		for _, p := range props {
			if p == i {
				c := cursor{b: body}
				c.skip(4) // version, flags
				pw, ph := c.u32(), c.u32()
				if !c.bad && pw > 0 && ph > 0 && pw <= 1<<30 && ph <= 1<<30 {
					w, h = int(pw), int(ph)
				}
				return
			}
		}
	})
	return w, h
}

// heifExifBlock reads the Exif item from its extents and returns its TIFF
// structure: the item starts with a 32-bit offset from its fifth byte to
// the TIFF header, which normally skips "Exif\0\0".
func heifExifBlock(r io.ReaderAt, size int64, extents []extent) []byte {
	var item []byte
	for _, e := range extents {
		if e.len == 0 || e.len > maxEXIFBytes || uint64(len(item))+e.len > maxEXIFBytes ||
			e.off > uint64(size) || e.len > uint64(size)-e.off {
			return nil
		}
		start := len(item)
		item = append(item, make([]byte, e.len)...)
		if _, err := r.ReadAt(item[start:], int64(e.off)); err != nil {
			return nil
		}
	}
	if len(item) < 4 {
		return nil
	}
	skip := uint64(binary.BigEndian.Uint32(item))
	if skip > uint64(len(item)-4) {
		return nil
	}
	return item[4+skip:]
}

// cursor reads big-endian fields from b; reading past the end sets bad and
// yields zeros.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) bytes(n int) []byte {
	if c.bad || n > len(c.b) {
		c.bad = true
		return make([]byte, n)
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) skip(n int)  { c.bytes(n) }
func (c *cursor) u8() uint8   { return c.bytes(1)[0] }
func (c *cursor) u16() uint16 { return binary.BigEndian.Uint16(c.bytes(2)) }
func (c *cursor) u32() uint32 { return binary.BigEndian.Uint32(c.bytes(4)) }
func (c *cursor) u64() uint64 { return binary.BigEndian.Uint64(c.bytes(8)) }

// uN reads an n-byte field (n is 0, 4 or 8 in iloc; 0 reads nothing).
func (c *cursor) uN(n int) uint64 {
	switch n {
	case 0:
		return 0
	case 4:
		return uint64(c.u32())
	case 8:
		return c.u64()
	}
	c.bad = true
	return 0
}
