package imageproc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rwcarlsen/goexif/tiff"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
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
	// OffsetTimeDigitized). Photos without an offset (Exif 2.31 added it
	// in 2016, and many phones still omit it) are taken to be on China
	// Standard Time, UTC+8 (Asia/Shanghai, which has had no daylight saving
	// since 1991), and TimeZoneAssumed is set.
	Time            *time.Time
	TimeZoneAssumed bool
	// GPS is the position as the file states it (GPSLatitude/Longitude
	// with their references), not converted: EXIF GPS is meant to be
	// WGS-84, and phone cameras write the GNSS fix. Nil if absent or out
	// of range.
	GPS *geo.Point
	// GPSInvalid: the file has GPS coordinates that state no position — a
	// latitude beyond 90°, a zero denominator, one coordinate without the
	// other — which no camera's fix writes (a forged or corrupted
	// position); GPS is nil. A camera's 0,0 without a fix is not invalid.
	GPSInvalid bool
	// GPSAccuracyM is GPSHPositioningError in metres, if present. Exactly
	// 0 is the mark of Android mock-location apps: real fixes jitter.
	GPSAccuracyM *float64
	// Make, Model and Software are the IFD0 strings, trimmed.
	Make, Model, Software string
	// Orientation is the EXIF orientation, 1–8; 1 (upright) when absent
	// or invalid.
	Orientation int
}

// Bounds on finding the EXIF block: a JPEG's APP1 segment cannot hold more
// than 64 KiB; a PNG eXIf chunk could, but not from any camera.
const (
	maxEXIFBytes   = 1 << 20
	maxJPEGMarkers = 256
	maxPNGChunks   = 256
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
	e.Time, e.TimeZoneAssumed = captureTime(ifd0, exif)
	e.GPS, e.GPSInvalid = gpsPoint(gps)
	if acc, ok := ratAt(gps[tagGPSHPositioningError], 0); ok && acc >= 0 {
		e.GPSAccuracyM = &acc
	}
	return e
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
	return cleanText(s)
}

// cleanText is an EXIF string as text: UTF-8 as phones write it today,
// else GB18030 (GBK), as older Chinese software did (醒图, 美图秀秀 named
// in GBK would otherwise be unreadable, and not recognised as editors),
// else with its invalid bytes replaced; on one line, without the
// characters a phone may not send in a name (syncproto.OneLineText: a
// direction override or a control character in a camera's model,
// passed on to every phone of the county and the console, would show
// reversed or hidden text as the evidence's metadata).
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		if d, err := simplifiedchinese.GB18030.NewDecoder().String(s); err == nil && utf8.ValidString(d) {
			s = d
		} else {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
	}
	return syncproto.OneLineText(strings.Trim(s, "\x00"))
}

// chinaStandardTime is the zone assumed when a photo states none.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// captureTime returns the capture time, and whether its zone was assumed:
// the Exif IFD's DateTimeOriginal, else its DateTimeDigitized, else IFD0's
// DateTime (when the file was last written: what is left when the others
// were stripped, the date of the picture at the latest), each with its
// OffsetTime.
func captureTime(ifd0, exif map[uint16]*tiff.Tag) (*time.Time, bool) {
	for _, pair := range []struct {
		stamp, offset *tiff.Tag
	}{
		{exif[tagDateTimeOriginal], exif[tagOffsetTimeOriginal]},
		{exif[tagDateTimeDigitized], exif[tagOffsetTimeDigitized]},
		{ifd0[tagDateTime], exif[tagOffsetTime]},
	} {
		stamp := str(pair.stamp)
		if stamp == "" {
			continue
		}
		zone, assumed := parseOffset(str(pair.offset)), false
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

// gpsPoint returns the GPS position, or nil if it is missing or invalid,
// and whether coordinates were there and stated none (EXIF.GPSInvalid).
func gpsPoint(gps map[uint16]*tiff.Tag) (*geo.Point, bool) {
	lat, ok1 := degrees(gps[tagGPSLatitude])
	lon, ok2 := degrees(gps[tagGPSLongitude])
	if !ok1 || !ok2 {
		return nil, gps[tagGPSLatitude] != nil || gps[tagGPSLongitude] != nil
	}
	latSign, ok1 := hemisphere(str(gps[tagGPSLatitudeRef]), "N", "S")
	lonSign, ok2 := hemisphere(str(gps[tagGPSLongitudeRef]), "E", "W")
	if !ok1 || !ok2 {
		// A reference that names no hemisphere: which side is unknown.
		return nil, true
	}
	lat, lon = lat*latSign, lon*lonSign
	p := geo.Point{Lon: lon, Lat: lat}
	if lat == 0 && lon == 0 {
		// 0,0 (in the Gulf of Guinea) is what cameras without a fix
		// write: no position, not one 12,000 km away.
		return nil, false
	}
	if !p.Valid() {
		return nil, true
	}
	return &p, false
}

// hemisphere reads a GPSLatitudeRef or GPSLongitudeRef: 1 for pos (N, E),
// -1 for neg (S, W), either case; a missing one is taken as pos, as
// readers do. Any other value is not a hemisphere (false).
func hemisphere(ref, pos, neg string) (float64, bool) {
	switch strings.ToUpper(strings.TrimSpace(ref)) {
	case "", pos:
		return 1, true
	case neg:
		return -1, true
	}
	return 0, false
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
