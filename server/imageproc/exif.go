package imageproc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/rwcarlsen/goexif/tiff"

	"github.com/xinzhou-eco/fieldsync/server/geo"
)

// EXIF is the metadata of a photo that the evidence flags use. Fields the
// file does not have (or has in a form that cannot be read) are zero.
type EXIF struct {
	// Present reports whether the file had an EXIF block at all. Photos
	// from a camera have one; screenshots, many gallery pickers and
	// editing apps leave none.
	Present bool
	// Time is the capture time, DateTimeOriginal (or DateTimeDigitized
	// when that is missing), in the zone of OffsetTimeOriginal (or
	// OffsetTimeDigitized). Phones that write no offset (many Android
	// phones before 2020) are taken to be on China Standard Time, UTC+8,
	// which has had no daylight saving since 1991; TimeZoneAssumed is then
	// set.
	Time            *time.Time
	TimeZoneAssumed bool
	// GPS is the position as the file states it (GPSLatitude/Longitude
	// with their references). EXIF GPS is meant to be WGS-84; phones in
	// China write the raw GNSS fix there, not GCJ-02. Nil if absent or
	// out of range.
	GPS *geo.Point
	// GPSAccuracyM is GPSHPositioningError in metres, if present. Android's
	// mock locations report exactly 0.
	GPSAccuracyM *float64
	// Make, Model and Software are the IFD0 strings, trimmed.
	Make, Model, Software string
	// Orientation is the EXIF orientation, 1–8; 1 (upright) when absent
	// or invalid.
	Orientation int
}

// Bounds on the EXIF block: JPEG cannot hold more than 64 KiB in its APP1
// segment; a PNG eXIf chunk could, but not from any camera.
const (
	maxEXIFBytes   = 1 << 20
	maxJPEGMarkers = 256
	maxPNGChunks   = 256
	maxStringBytes = 256
)

// findEXIF returns the TIFF structure of the EXIF block in a JPEG's first
// APP1 "Exif" segment or a PNG's eXIf chunk, or nil. Only segment headers
// before the image data are read.
func findEXIF(format string, r io.ReaderAt, size int64) []byte {
	switch format {
	case FormatJPEG:
		return jpegEXIF(r, size)
	case FormatPNG:
		return pngEXIF(r, size)
	}
	return nil
}

func jpegEXIF(r io.ReaderAt, size int64) []byte {
	off := int64(2) // after SOI
	var hdr [4]byte
	for range maxJPEGMarkers {
		if _, err := r.ReadAt(hdr[:2], off); err != nil || hdr[0] != 0xff {
			return nil
		}
		switch m := hdr[1]; {
		case m == 0xff: // fill byte
			off++
			continue
		case m == 0x01 || m >= 0xd0 && m <= 0xd8: // TEM, RSTn, SOI: no length
			off += 2
			continue
		case m == 0xda || m == 0xd9: // SOS, EOI: metadata comes before
			return nil
		}
		if _, err := r.ReadAt(hdr[2:], off+2); err != nil {
			return nil
		}
		n := int64(binary.BigEndian.Uint16(hdr[2:]))
		if n < 2 || off+2+n > size {
			return nil
		}
		if hdr[1] == 0xe1 && n >= 2+6+8 {
			seg := make([]byte, n-2)
			if _, err := r.ReadAt(seg, off+4); err != nil {
				return nil
			}
			if bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
				return seg[6:]
			}
		}
		off += 2 + n
	}
	return nil
}

func pngEXIF(r io.ReaderAt, size int64) []byte {
	off := int64(len(magicPNG))
	var hdr [8]byte
	for range maxPNGChunks {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return nil
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		switch string(hdr[4:]) {
		case "eXIf":
			if n < 8 || n > maxEXIFBytes || off+8+n > size {
				return nil
			}
			b := make([]byte, n)
			if _, err := r.ReadAt(b, off+8); err != nil {
				return nil
			}
			return b
		case "IDAT", "IEND":
			return nil
		}
		off += 12 + n
	}
	return nil
}

// parseEXIF reads the fields of EXIF from a TIFF structure. It never fails:
// what cannot be read is left zero.
func parseEXIF(b []byte) (e EXIF) {
	e.Orientation = 1
	if len(b) < 8 {
		return e
	}
	e.Present = true
	defer func() {
		// goexif is not known to panic on the sanitised input it gets, but
		// a panic here must not take a worker down.
		if recover() != nil {
			e = EXIF{Present: true, Orientation: 1}
		}
	}()
	var order binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return e
	}
	// Work on a copy: sanitising rewrites entries in place.
	b = bytes.Clone(b)
	ifd0 := readIFD(b, order, order.Uint32(b[4:]), ifd0Tags)
	exif := readIFD(b, order, pointer(ifd0, tagExifIFD), exifTags)
	gps := readIFD(b, order, pointer(ifd0, tagGPSIFD), gpsTags)

	e.Make = str(ifd0[tagMake])
	e.Model = str(ifd0[tagModel])
	e.Software = str(ifd0[tagSoftware])
	if o, ok := uintAt(ifd0[tagOrientation], 0); ok && o >= 1 && o <= 8 {
		e.Orientation = int(o)
	}
	e.Time, e.TimeZoneAssumed = captureTime(exif)
	e.GPS = gpsPoint(gps)
	if acc, ok := ratAt(gps[tagGPSHPositioningError], 0); ok && acc >= 0 {
		e.GPSAccuracyM = &acc
	}
	return e
}

// Tag numbers read (Exif 2.32 / CIPA DC-008-2019).
const (
	tagMake                  = 0x010f
	tagModel                 = 0x0110
	tagOrientation           = 0x0112
	tagSoftware              = 0x0131
	tagExifIFD               = 0x8769
	tagGPSIFD                = 0x8825
	tagDateTimeOriginal      = 0x9003
	tagDateTimeDigitized     = 0x9004
	tagOffsetTimeOriginal    = 0x9011
	tagOffsetTimeDigitized   = 0x9012
	tagGPSLatitudeRef        = 0x0001
	tagGPSLatitude           = 0x0002
	tagGPSLongitudeRef       = 0x0003
	tagGPSLongitude          = 0x0004
	tagGPSHPositioningError  = 0x001f
	typeASCII                = 2
	typeShort                = 3
	typeLong                 = 4
	typeRational             = 5
	typeUndefined            = 7
	typeUTF8                 = 129 // Exif 3.0
	ifdEntrySize             = 12
	maxRationalsPerEntry     = 3
	maxIntegersPerEntry      = 1
	maxIFDEntries            = 1024
	minValidIFDOffset        = 8
	entryCountAndNextPointer = 2 + 4
)

// wanted is, for one IFD, the tags read from it and the field types
// accepted for each.
type wanted map[uint16][]uint16

var (
	ascii     = []uint16{typeASCII, typeUTF8}
	integer   = []uint16{typeShort, typeLong}
	rationals = []uint16{typeRational}
	ifd0Tags  = wanted{tagMake: ascii, tagModel: ascii, tagSoftware: ascii, tagOrientation: integer,
		tagExifIFD: integer, tagGPSIFD: integer}
	exifTags = wanted{tagDateTimeOriginal: ascii, tagDateTimeDigitized: ascii,
		tagOffsetTimeOriginal: ascii, tagOffsetTimeDigitized: ascii}
	gpsTags = wanted{tagGPSLatitudeRef: ascii, tagGPSLatitude: rationals, tagGPSLongitudeRef: ascii,
		tagGPSLongitude: rationals, tagGPSHPositioningError: rationals}
)

// readIFD decodes the IFD at off in the TIFF structure b and returns the
// wanted tags found in it; nil if there is no IFD there.
//
// goexif decodes, but not on raw input: it trusts counts (a SHORT entry of
// count 2³¹+1 overflows its length check and allocates 17 GB) and copies
// every value of every entry. So first every entry that is not wanted, has
// an unexpected type, an outsized count or a value outside b is rewritten in
// b as a harmless one-byte UNDEFINED value, and an IFD running past the end
// of b is shortened. Allocation is then bounded by a few hundred bytes per
// wanted tag, and the work by the size of b.
func readIFD(b []byte, order binary.ByteOrder, off uint32, want wanted) map[uint16]*tiff.Tag {
	if off < minValidIFDOffset || uint64(off)+entryCountAndNextPointer > uint64(len(b)) {
		return nil
	}
	n := int(order.Uint16(b[off:]))
	fits := (len(b) - int(off) - entryCountAndNextPointer) / ifdEntrySize
	if n > fits || n > maxIFDEntries {
		n = min(fits, maxIFDEntries)
		putUint16(order, b[off:], uint16(n))
	}
	for i := range n {
		sanitiseEntry(b, order, b[int(off)+2+i*ifdEntrySize:][:ifdEntrySize], want)
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
		if t.Type != typeUndefined {
			if _, dup := tags[t.Id]; !dup { // first wins, like most readers
				tags[t.Id] = t
			}
		}
	}
	return tags
}

// sanitiseEntry rewrites the 12-byte IFD entry e of b as a one-byte
// UNDEFINED value unless it is wanted, well typed and within bounds.
func sanitiseEntry(b []byte, order binary.ByteOrder, e []byte, want wanted) {
	tag, typ, count := order.Uint16(e), order.Uint16(e[2:]), order.Uint32(e[4:])
	ok := false
	if types, found := want[tag]; found {
		for _, t := range types {
			ok = ok || t == typ
		}
	}
	var unit, maxCount uint64
	switch typ {
	case typeASCII, typeUTF8:
		unit, maxCount = 1, maxStringBytes
	case typeShort:
		unit, maxCount = 2, maxIntegersPerEntry
	case typeLong:
		unit, maxCount = 4, maxIntegersPerEntry
	case typeRational:
		unit, maxCount = 8, maxRationalsPerEntry
	}
	size := unit * uint64(count)
	if ok && (count == 0 || uint64(count) > maxCount) {
		ok = false
	}
	if ok && size > 4 && uint64(order.Uint32(e[8:]))+size > uint64(len(b)) {
		ok = false
	}
	if !ok {
		putUint16(order, e[2:], typeUndefined)
		putUint32(order, e[4:], 1)
		return
	}
	if typ == typeUTF8 {
		// Same bytes as ASCII (NUL-terminated), which goexif knows.
		putUint16(order, e[2:], typeASCII)
	}
}

func putUint16(order binary.ByteOrder, b []byte, v uint16) { order.PutUint16(b, v) }
func putUint32(order binary.ByteOrder, b []byte, v uint32) { order.PutUint32(b, v) }

// pointer returns the offset held by an IFD pointer tag, or 0.
func pointer(tags map[uint16]*tiff.Tag, tag uint16) uint32 {
	v, ok := uintAt(tags[tag], 0)
	if !ok || v > math.MaxUint32 {
		return 0
	}
	return uint32(v)
}

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

// str returns an ASCII tag's value, trimmed, as valid UTF-8 (Chinese apps
// write UTF-8 into ASCII fields).
func str(t *tiff.Tag) string {
	if t == nil || t.Format() != tiff.StringVal {
		return ""
	}
	s, err := t.StringVal()
	if err != nil {
		return ""
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Trim(s, "\x00"))
}

// chinaStandardTime is the zone assumed when a photo states none.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// captureTime returns the capture time from the Exif IFD and whether its zone
// was assumed.
func captureTime(exif map[uint16]*tiff.Tag) (*time.Time, bool) {
	for _, pair := range [][2]uint16{
		{tagDateTimeOriginal, tagOffsetTimeOriginal},
		{tagDateTimeDigitized, tagOffsetTimeDigitized},
	} {
		stamp := str(exif[pair[0]])
		if stamp == "" {
			continue
		}
		zone, assumed := parseOffset(str(exif[pair[1]])), false
		if zone == nil {
			zone, assumed = chinaStandardTime, true
		}
		// "2006:01:02 15:04:05"; some writers use dashes in the date.
		stamp = strings.Replace(stamp, "-", ":", 2)
		t, err := time.ParseInLocation("2006:01:02 15:04:05", stamp, zone)
		if err != nil || t.Year() < 1990 {
			continue // "0000:00:00 00:00:00" and other placeholders
		}
		return &t, assumed
	}
	return nil, false
}

// parseOffset reads an EXIF OffsetTime ("+08:00", "-05:30"; "Z" is not in
// the standard but seen), or returns nil.
func parseOffset(s string) *time.Location {
	if s == "Z" {
		return time.UTC
	}
	var sign byte
	var h, m int
	if len(s) != 6 || s[3] != ':' {
		return nil
	}
	if _, err := fmt.Sscanf(s, "%c%02d:%02d", &sign, &h, &m); err != nil {
		return nil
	}
	if (sign != '+' && sign != '-') || h > 14 || m > 59 {
		return nil
	}
	off := (h*60 + m) * 60
	if sign == '-' {
		off = -off
	}
	return time.FixedZone(s, off)
}

// gpsPoint returns the GPS position, or nil if it is missing or invalid.
func gpsPoint(gps map[uint16]*tiff.Tag) *geo.Point {
	lat, ok1 := degrees(gps[tagGPSLatitude])
	lon, ok2 := degrees(gps[tagGPSLongitude])
	if !ok1 || !ok2 {
		return nil
	}
	if ref := str(gps[tagGPSLatitudeRef]); ref == "S" || ref == "s" {
		lat = -lat
	}
	if ref := str(gps[tagGPSLongitudeRef]); ref == "W" || ref == "w" {
		lon = -lon
	}
	p := geo.Point{Lon: lon, Lat: lat}
	if !p.Valid() {
		return nil
	}
	return &p
}

// degrees reads a GPSLatitude/GPSLongitude triple of degrees, minutes and
// seconds (writers that use fewer rationals, or decimal degrees in the
// first, work too).
func degrees(t *tiff.Tag) (float64, bool) {
	if t == nil || t.Count == 0 {
		return 0, false
	}
	var v float64
	for i, scale := range []float64{1, 60, 3600} {
		if i >= int(t.Count) {
			break
		}
		part, ok := ratAt(t, i)
		if !ok {
			return 0, false
		}
		v += part / scale
	}
	return v, !math.IsNaN(v) && !math.IsInf(v, 0)
}
