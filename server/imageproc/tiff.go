package imageproc

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"

	"github.com/rwcarlsen/goexif/tiff"
)

// Tags read (CIPA DC-008-2019, Exif 2.32, tables 4, 7, 8 and 15).
const (
	tagMake                 = 0x010f
	tagModel                = 0x0110
	tagOrientation          = 0x0112
	tagSoftware             = 0x0131
	tagDateTime             = 0x0132
	tagExifIFD              = 0x8769
	tagGPSIFD               = 0x8825
	tagDateTimeOriginal     = 0x9003
	tagDateTimeDigitized    = 0x9004
	tagOffsetTime           = 0x9010
	tagOffsetTimeOriginal   = 0x9011
	tagOffsetTimeDigitized  = 0x9012
	tagGPSLatitudeRef       = 0x0001
	tagGPSLatitude          = 0x0002
	tagGPSLongitudeRef      = 0x0003
	tagGPSLongitude         = 0x0004
	tagGPSHPositioningError = 0x001f
)

// TIFF field types read. UTF-8 is new in Exif 3.0.
const (
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
	typeUTF8      = 129
)

// Bounds on what readIFD hands to goexif.
const (
	maxIFDEntries   = 1024 // cameras write under 100
	maxStringBytes  = 256
	maxIntegers     = 1
	maxRationals    = 3
	ifdEntryBytes   = 12
	ifdFixedBytes   = 2 + 4 // entry count and next-IFD offset
	firstIFDAtLeast = 8     // after the TIFF header
)

// wanted lists, for one IFD, the tags read from it and the field types
// accepted for each.
type wanted map[uint16][]uint16

var (
	asciiTypes    = []uint16{typeASCII, typeUTF8}
	integerTypes  = []uint16{typeShort, typeLong}
	rationalTypes = []uint16{typeRational}

	ifd0Tags = wanted{
		tagMake: asciiTypes, tagModel: asciiTypes, tagSoftware: asciiTypes, tagDateTime: asciiTypes,
		tagOrientation: integerTypes, tagExifIFD: integerTypes, tagGPSIFD: integerTypes,
	}
	exifTags = wanted{
		tagDateTimeOriginal: asciiTypes, tagDateTimeDigitized: asciiTypes,
		tagOffsetTimeOriginal: asciiTypes, tagOffsetTimeDigitized: asciiTypes, tagOffsetTime: asciiTypes,
	}
	gpsTags = wanted{
		tagGPSLatitudeRef: asciiTypes, tagGPSLatitude: rationalTypes,
		tagGPSLongitudeRef: asciiTypes, tagGPSLongitude: rationalTypes,
		tagGPSHPositioningError: rationalTypes,
	}
)

// readIFD decodes the IFD at off in the TIFF structure b and returns the
// wanted tags found in it, or nil if there is no IFD there. It rewrites b.
//
// goexif's tiff package decodes, but not raw input: it trusts counts (an
// entry of 2³¹+1 SHORTs overflows its length check and makes it allocate
// 17 GB, which no recover can catch) and copies every value of every entry.
// So first each entry that is not wanted, has another type, an outsized
// count or a value outside b is rewritten as a harmless one-byte UNDEFINED
// value, and an IFD running past the end of b is shortened. goexif then
// allocates a few hundred bytes per wanted tag, and the work is bounded by
// the size of b. Only IFD0 and the Exif and GPS IFDs it points to are read,
// never chains of IFDs, so cycles cannot arise.
func readIFD(b []byte, order binary.ByteOrder, off uint32, want wanted) map[uint16]*tiff.Tag {
	if off < firstIFDAtLeast || uint64(off)+ifdFixedBytes > uint64(len(b)) {
		return nil
	}
	n := int(order.Uint16(b[off:]))
	fits := (len(b) - int(off) - ifdFixedBytes) / ifdEntryBytes
	if n > fits || n > maxIFDEntries {
		n = min(fits, maxIFDEntries)
		order.PutUint16(b[off:], uint16(n))
	}
	for i := range n {
		start := int(off) + 2 + i*ifdEntryBytes
		sanitiseEntry(b, order, b[start:start+ifdEntryBytes], want)
	}
	r := bytes.NewReader(b)
	if _, err := r.Seek(int64(off), io.SeekStart); err != nil {
		return nil
	}
	dir, _, err := tiff.DecodeDir(r, order)
	if err != nil {
		return nil
	}
	tags := make(map[uint16]*tiff.Tag)
	for _, t := range dir.Tags {
		if _, dup := tags[t.Id]; !dup && t.Type != typeUndefined { // the first wins, as in most readers
			tags[t.Id] = t
		}
	}
	return tags
}

// sanitiseEntry rewrites the IFD entry e, a slice of b, as a one-byte
// UNDEFINED value unless it is wanted, well typed and within bounds.
func sanitiseEntry(b []byte, order binary.ByteOrder, e []byte, want wanted) {
	tag, typ, count := order.Uint16(e), order.Uint16(e[2:]), uint64(order.Uint32(e[4:]))
	var unit, maxCount uint64
	switch typ {
	case typeASCII, typeUTF8:
		unit, maxCount = 1, maxStringBytes
	case typeShort:
		unit, maxCount = 2, maxIntegers
	case typeLong:
		unit, maxCount = 4, maxIntegers
	case typeRational:
		unit, maxCount = 8, maxRationals
	}
	ok := false
	for _, t := range want[tag] {
		ok = ok || t == typ
	}
	size := unit * count
	ok = ok && count > 0 && count <= maxCount &&
		(size <= 4 || uint64(order.Uint32(e[8:]))+size <= uint64(len(b)))
	switch {
	case !ok:
		order.PutUint16(e[2:], typeUndefined)
		order.PutUint32(e[4:], 1)
	case typ == typeUTF8:
		// The same bytes as ASCII (NUL-terminated), which goexif knows.
		order.PutUint16(e[2:], typeASCII)
	}
}

// pointer returns the offset held by an IFD pointer tag, or 0.
func pointer(tags map[uint16]*tiff.Tag, tag uint16) uint32 {
	v, ok := uintAt(tags[tag], 0)
	if !ok || v > math.MaxUint32 {
		return 0
	}
	return uint32(v)
}

// uintAt returns the i'th value of an integer tag.
func uintAt(t *tiff.Tag, i int) (uint64, bool) {
	if t == nil || t.Format() != tiff.IntVal || i >= int(t.Count) {
		return 0, false
	}
	v, err := t.Int64(i)
	if err != nil || v < 0 {
		return 0, false
	}
	return uint64(v), true
}

// ratAt returns the i'th value of a rational tag; false for a zero
// denominator.
func ratAt(t *tiff.Tag, i int) (float64, bool) {
	if t == nil || t.Format() != tiff.RatVal || i >= int(t.Count) {
		return 0, false
	}
	num, den, err := t.Rat2(i)
	if err != nil || den == 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}
