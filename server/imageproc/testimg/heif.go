package testimg

import "encoding/binary"

// HEIF returns a structurally valid HEIC file carrying opt's EXIF: an ftyp
// box, a meta box declaring a primary "hvc1" image item of opt's size
// (its "ispe" property) and an "Exif" item, and an mdat box with the EXIF
// block and a few placeholder bytes where the HEVC data would be. Readers
// of HEIF metadata (exiftool among them) read it; no decoder can show it.
func HEIF(opt Options) []byte {
	return heif(opt, FtypBox("heic", "mif1", "heic"))
}

// HEIFBrands is HEIF of the default options with an ftyp box of the given
// major and compatible brands (FtypBox): the files other phones write.
func HEIFBrands(major string, compatible ...string) []byte {
	return heif(Options{}, FtypBox(major, compatible...))
}

func heif(opt Options, ftyp []byte) []byte {
	w, h := opt.size()
	exif := append([]byte{0, 0, 0, 6}, "Exif\x00\x00"...) // offset to the TIFF header
	exif = append(exif, EXIF(opt)...)
	hevc := []byte{0, 0, 0, 1, 0x26, 0x01} // not a picture

	build := func(mdatData uint32) []byte {
		iloc := fullBox("iloc", 1, 0,
			[]byte{0x44, 0x00}, // offset and length sizes 4, base offset and index sizes 0
			u16(2),
			u16(1), u16(0), u16(0), u16(1), u32(mdatData+uint32(len(exif))), u32(uint32(len(hevc))),
			u16(2), u16(0), u16(0), u16(1), u32(mdatData), u32(uint32(len(exif))),
		)
		return box("meta", []byte{0, 0, 0, 0},
			fullBox("hdlr", 0, 0, u32(0), []byte("pict"), make([]byte, 12), []byte{0}),
			fullBox("pitm", 0, 0, u16(1)),
			fullBox("iinf", 0, 0, u16(2),
				fullBox("infe", 2, 0, u16(1), u16(0), []byte("hvc1"), []byte{0}),
				fullBox("infe", 2, 0, u16(2), u16(0), []byte("Exif"), []byte{0}),
			),
			iloc,
			box("iprp",
				box("ipco", fullBox("ispe", 0, 0, u32(uint32(w)), u32(uint32(h)))),
				fullBox("ipma", 0, 0, u32(1), u16(1), []byte{1, 0x81}), // item 1: property 1, essential
			),
		)
	}
	// The meta box's size does not depend on the offsets in it.
	mdatData := uint32(len(ftyp) + len(build(0)) + 8)
	out := append(ftyp, build(mdatData)...)
	return append(out, box("mdat", exif, hevc)...)
}

func box(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	out := append(u32(uint32(n)), typ...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func fullBox(typ string, version uint8, flags uint32, parts ...[]byte) []byte {
	vf := u32(uint32(version)<<24 | flags&0xffffff)
	return box(typ, append([][]byte{vf}, parts...)...)
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
