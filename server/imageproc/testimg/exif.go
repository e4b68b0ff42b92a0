package testimg

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"
)

// TIFF field types used here (TIFF 6.0 §2, Exif 2.32 §4.6.2).
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
)

// Tag numbers written by EXIF (Exif 2.32 tables 4, 7, 8 and 15).
const (
	tagMake               = 0x010f
	tagModel              = 0x0110
	tagOrientation        = 0x0112
	tagSoftware           = 0x0131
	tagXResolution        = 0x011a
	tagYResolution        = 0x011b
	tagResolutionUnit     = 0x0128
	tagDateTime           = 0x0132
	tagYCbCrPositioning   = 0x0213
	tagExifIFD            = 0x8769
	tagGPSIFD             = 0x8825
	tagExifVersion        = 0x9000
	tagDateTimeOriginal   = 0x9003
	tagOffsetTime         = 0x9010
	tagOffsetTimeOriginal = 0x9011
	tagComponentsConfig   = 0x9101
	tagFlashpixVersion    = 0xa000
	tagColorSpace         = 0xa001
	tagPixelXDimension    = 0xa002
	tagPixelYDimension    = 0xa003
	tagGPSVersionID       = 0x0000
	tagGPSLatitudeRef     = 0x0001
	tagGPSLatitude        = 0x0002
	tagGPSLongitudeRef    = 0x0003
	tagGPSLongitude       = 0x0004
	tagGPSMapDatum        = 0x0012
	tagGPSHPositioning    = 0x001f
)

// entry is one IFD entry before layout: its value, already encoded in the
// file's byte order, is placed inline when it fits in four bytes.
type entry struct {
	tag   uint16
	typ   uint16
	count uint32
	value []byte
	// sub, when set, makes this entry a pointer (LONG) to that IFD.
	sub *ifd
}

type ifd struct {
	entries []entry
	offset  uint32 // assigned by layout
}

// size is the IFD's length including its out-of-line values.
func (d *ifd) size() uint32 {
	n := uint32(2 + 12*len(d.entries) + 4)
	for _, e := range d.entries {
		if len(e.value) > 4 {
			n += uint32(len(e.value)+1) &^ 1 // values start on a word boundary
		}
	}
	return n
}

// EXIF returns the TIFF structure ("II*\0"… or "MM\0*"…) of an EXIF block
// describing opt, without the "Exif\0\0" prefix or any container around it.
// It returns nil when opt asks for no metadata at all.
func EXIF(opt Options) []byte {
	var order byteOrder = binary.LittleEndian
	if opt.BigEndian {
		order = binary.BigEndian
	}
	enc := encoder{order}

	ifd0 := &ifd{}
	exifIFD := &ifd{}
	gpsIFD := &ifd{}
	if opt.Make != "" {
		ifd0.add(enc.ascii(tagMake, opt.Make))
	}
	if opt.Model != "" {
		ifd0.add(enc.ascii(tagModel, opt.Model))
	}
	if opt.Orientation != 0 {
		ifd0.add(enc.short(tagOrientation, uint16(opt.Orientation)))
	}
	if opt.Software != "" {
		ifd0.add(enc.ascii(tagSoftware, opt.Software))
	}
	if opt.Time != nil {
		stamp := opt.Time.Format("2006:01:02 15:04:05")
		ifd0.add(enc.ascii(tagDateTime, stamp))
		switch {
		case opt.DateTimeOnly && !opt.NoOffset:
			exifIFD.add(enc.ascii(tagOffsetTime, offsetString(*opt.Time)))
		case opt.DateTimeOnly:
		default:
			exifIFD.add(enc.ascii(tagDateTimeOriginal, stamp))
			if !opt.NoOffset {
				exifIFD.add(enc.ascii(tagOffsetTimeOriginal, offsetString(*opt.Time)))
			}
		}
	}
	if opt.GPS != nil {
		gpsIFD.add(entry{tag: tagGPSVersionID, typ: typeByte, count: 4, value: []byte{2, 3, 0, 0}})
		latRef, lonRef := "N", "E"
		lat, lon := opt.GPS.Lat, opt.GPS.Lon
		if lat < 0 {
			latRef, lat = "S", -lat
		}
		if lon < 0 {
			lonRef, lon = "W", -lon
		}
		gpsIFD.add(enc.ascii(tagGPSLatitudeRef, latRef))
		gpsIFD.add(enc.rationals(tagGPSLatitude, dms(lat)))
		gpsIFD.add(enc.ascii(tagGPSLongitudeRef, lonRef))
		gpsIFD.add(enc.rationals(tagGPSLongitude, dms(lon)))
		gpsIFD.add(enc.ascii(tagGPSMapDatum, "WGS-84"))
		if opt.GPSAccuracyM != nil {
			gpsIFD.add(enc.rationals(tagGPSHPositioning, [][2]uint32{rational(*opt.GPSAccuracyM, 1000)}))
		}
	}
	if len(ifd0.entries) == 0 && len(exifIFD.entries) == 0 && len(gpsIFD.entries) == 0 {
		return nil
	}

	// The tags Exif 2.32 requires of a JPEG (exiftool -validate checks them).
	w, h := opt.size()
	ifd0.add(enc.rationals(tagXResolution, [][2]uint32{{72, 1}}))
	ifd0.add(enc.rationals(tagYResolution, [][2]uint32{{72, 1}}))
	ifd0.add(enc.short(tagResolutionUnit, 2)) // inches
	ifd0.add(enc.short(tagYCbCrPositioning, 1))
	exifIFD.add(entry{tag: tagExifVersion, typ: typeUndefined, count: 4, value: []byte("0232")})
	exifIFD.add(entry{tag: tagComponentsConfig, typ: typeUndefined, count: 4, value: []byte{1, 2, 3, 0}})
	exifIFD.add(entry{tag: tagFlashpixVersion, typ: typeUndefined, count: 4, value: []byte("0100")})
	exifIFD.add(enc.short(tagColorSpace, 1)) // sRGB
	exifIFD.add(enc.long(tagPixelXDimension, uint32(w)))
	exifIFD.add(enc.long(tagPixelYDimension, uint32(h)))

	ifd0.add(entry{tag: tagExifIFD, typ: typeLong, count: 1, sub: exifIFD})
	if len(gpsIFD.entries) > 0 {
		ifd0.add(entry{tag: tagGPSIFD, typ: typeLong, count: 1, sub: gpsIFD})
	}

	// Layout: header, IFD0 and its values, then the sub-IFDs in order.
	ifds := []*ifd{ifd0}
	for _, e := range ifd0.entries {
		if e.sub != nil {
			ifds = append(ifds, e.sub)
		}
	}
	off := uint32(8)
	for _, d := range ifds {
		d.offset = off
		off += d.size()
	}

	out := make([]byte, 8, off)
	if opt.BigEndian {
		copy(out, "MM")
	} else {
		copy(out, "II")
	}
	order.PutUint16(out[2:], 42)
	order.PutUint32(out[4:], ifd0.offset)
	for _, d := range ifds {
		out = enc.writeIFD(out, d)
	}
	return out
}

func (d *ifd) add(e entry) { d.entries = append(d.entries, e) }

// byteOrder is what binary.LittleEndian and binary.BigEndian both provide.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type encoder struct{ order byteOrder }

func (enc encoder) ascii(tag uint16, s string) entry {
	v := append([]byte(s), 0)
	return entry{tag: tag, typ: typeASCII, count: uint32(len(v)), value: v}
}

func (enc encoder) short(tag uint16, v uint16) entry {
	b := enc.order.AppendUint16(nil, v)
	return entry{tag: tag, typ: typeShort, count: 1, value: b}
}

func (enc encoder) long(tag uint16, v uint32) entry {
	b := enc.order.AppendUint32(nil, v)
	return entry{tag: tag, typ: typeLong, count: 1, value: b}
}

func (enc encoder) rationals(tag uint16, rs [][2]uint32) entry {
	var b []byte
	for _, r := range rs {
		b = enc.order.AppendUint32(b, r[0])
		b = enc.order.AppendUint32(b, r[1])
	}
	return entry{tag: tag, typ: typeRational, count: uint32(len(rs)), value: b}
}

// writeIFD appends d, which must start at len(out) == d.offset, to out.
func (enc encoder) writeIFD(out []byte, d *ifd) []byte {
	if uint32(len(out)) != d.offset {
		panic(fmt.Sprintf("testimg: IFD laid out at %d but written at %d", d.offset, len(out)))
	}
	// TIFF requires entries sorted by tag.
	sort.SliceStable(d.entries, func(i, j int) bool { return d.entries[i].tag < d.entries[j].tag })
	out = enc.order.AppendUint16(out, uint16(len(d.entries)))
	data := d.offset + uint32(2+12*len(d.entries)+4)
	var values []byte
	for _, e := range d.entries {
		out = enc.order.AppendUint16(out, e.tag)
		out = enc.order.AppendUint16(out, e.typ)
		out = enc.order.AppendUint32(out, e.count)
		switch {
		case e.sub != nil:
			out = enc.order.AppendUint32(out, e.sub.offset)
		case len(e.value) <= 4:
			var inline [4]byte // left-justified, zero-padded
			copy(inline[:], e.value)
			out = append(out, inline[:]...)
		default:
			out = enc.order.AppendUint32(out, data+uint32(len(values)))
			values = append(values, e.value...)
			if len(values)%2 == 1 {
				values = append(values, 0)
			}
		}
	}
	out = enc.order.AppendUint32(out, 0) // no next IFD: no thumbnail
	return append(out, values...)
}

// dms splits decimal degrees into the three rationals EXIF uses, keeping
// microsecond-of-arc precision (about 3 cm) in the seconds.
func dms(deg float64) [][2]uint32 {
	d := math.Floor(deg)
	m := math.Floor((deg - d) * 60)
	s := (deg - d - m/60) * 3600
	return [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, rational(s, 1000000)}
}

// rational approximates v ≥ 0 as n/den.
func rational(v float64, den uint32) [2]uint32 {
	return [2]uint32{uint32(math.Round(v * float64(den))), den}
}

// offsetString formats t's zone offset as EXIF's OffsetTime: "+08:00".
func offsetString(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}
