package imageproc

import (
	"bytes"
	"encoding/binary"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// tiffBuilder lays out hostile TIFF structures by hand: data first, IFDs
// after, so that entries can point anywhere.
type tiffBuilder struct {
	order byteOrder
	b     []byte
}

// byteOrder is what binary.LittleEndian and binary.BigEndian provide.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func newTIFF(order byteOrder) *tiffBuilder {
	t := &tiffBuilder{order: order, b: make([]byte, 8)}
	if order == binary.LittleEndian {
		copy(t.b, "II")
	} else {
		copy(t.b, "MM")
	}
	order.PutUint16(t.b[2:], 42)
	return t
}

// data appends v and returns its offset.
func (t *tiffBuilder) data(v []byte) uint32 {
	off := uint32(len(t.b))
	t.b = append(t.b, v...)
	if len(t.b)%2 == 1 {
		t.b = append(t.b, 0)
	}
	return off
}

type rawEntry struct {
	tag, typ     uint16
	count, value uint32 // value: the offset, or the inline value left-justified
}

// ifd appends an IFD declaring count entries (normally len(es)) and
// returns its offset.
func (t *tiffBuilder) ifd(count uint16, next uint32, es ...rawEntry) uint32 {
	off := uint32(len(t.b))
	t.b = t.order.AppendUint16(t.b, count)
	for _, e := range es {
		t.b = t.order.AppendUint16(t.b, e.tag)
		t.b = t.order.AppendUint16(t.b, e.typ)
		t.b = t.order.AppendUint32(t.b, e.count)
		t.b = t.order.AppendUint32(t.b, e.value)
	}
	t.b = t.order.AppendUint32(t.b, next)
	return off
}

func (t *tiffBuilder) root(off uint32) []byte {
	t.order.PutUint32(t.b[4:], off)
	return t.b
}

// short returns an inline SHORT value as the entry's value field holds it.
func (t *tiffBuilder) short(v uint16) uint32 {
	var b [4]byte
	t.order.PutUint16(b[:], v)
	return t.order.Uint32(b[:])
}

func (t *tiffBuilder) rationals(vs ...uint32) uint32 {
	var b []byte
	for _, v := range vs {
		b = t.order.AppendUint32(b, v)
	}
	return t.data(b)
}

// gpsWithRefs appends a GPS IFD at 38.5, 112.5 with the hemisphere
// references latRef and lonRef (one character each, inline) and returns
// its offset.
func gpsWithRefs(t *tiffBuilder, latRef, lonRef string) uint32 {
	inline := func(s string) uint32 { return t.order.Uint32([]byte{s[0], 0, 0, 0}) }
	lat := t.rationals(38, 1, 30, 1, 0, 1)
	lon := t.rationals(112, 1, 30, 1, 0, 1)
	return t.ifd(4, 0, rawEntry{tagGPSLatitudeRef, typeASCII, 2, inline(latRef)}, rawEntry{tagGPSLatitude, typeRational, 3, lat},
		rawEntry{tagGPSLongitudeRef, typeASCII, 2, inline(lonRef)}, rawEntry{tagGPSLongitude, typeRational, 3, lon})
}

func TestParseEXIFHostile(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *tiffBuilder) []byte
		check func(t *testing.T, e EXIF)
	}{
		{
			// goexif alone allocates 2³¹ int64s (17 GB) for this entry:
			// 2 × (2³¹+1) overflows its uint32 length check to 2.
			name: "SHORT count that overflows 32 bits",
			build: func(t *tiffBuilder) []byte {
				mk := t.data([]byte("Xiaomi\x00"))
				return t.root(t.ifd(2, 0,
					rawEntry{tagMake, typeASCII, 7, mk},
					rawEntry{tagOrientation, typeShort, 1<<31 + 1, t.short(6)}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.Make != "Xiaomi" || e.Orientation != 1 {
					t.Errorf("Make %q, Orientation %d; want the good tag read and the bad one ignored", e.Make, e.Orientation)
				}
			},
		},
		{
			name: "value far outside the block",
			build: func(t *tiffBuilder) []byte {
				return t.root(t.ifd(1, 0, rawEntry{tagModel, typeASCII, 0xffffffff, 0xfffffff0}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.Model != "" {
					t.Errorf("Model = %q", e.Model)
				}
			},
		},
		{
			name: "Exif IFD pointing back at IFD0, GPS pointer into the header",
			build: func(t *tiffBuilder) []byte {
				sw := t.data([]byte("Snapseed 2.0\x00"))
				return t.root(t.ifd(3, 8,
					rawEntry{tagSoftware, typeASCII, 13, sw},
					rawEntry{tagExifIFD, typeLong, 1, 8 + 14 + 2},
					rawEntry{tagGPSIFD, typeLong, 1, 2}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.Software != "Snapseed 2.0" || e.GPS != nil || e.Time != nil {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name: "IFD declaring 65535 entries in a few bytes",
			build: func(t *tiffBuilder) []byte {
				return t.root(t.ifd(0xffff, 0, rawEntry{tagOrientation, typeShort, 1, t.short(8)}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.Orientation != 8 {
					t.Errorf("Orientation = %d, want the one entry that fits read", e.Orientation)
				}
			},
		},
		{
			name: "GPS with zero denominators and time placeholders",
			build: func(t *tiffBuilder) []byte {
				lat := t.rationals(38, 0, 24, 1, 58, 1)
				lon := t.rationals(112, 1, 44, 1, 0, 1)
				gps := t.ifd(2, 0, rawEntry{tagGPSLatitude, typeRational, 3, lat}, rawEntry{tagGPSLongitude, typeRational, 3, lon})
				dt := t.data([]byte("0000:00:00 00:00:00\x00"))
				exif := t.ifd(1, 0, rawEntry{tagDateTimeOriginal, typeASCII, 20, dt})
				return t.root(t.ifd(2, 0, rawEntry{tagExifIFD, typeLong, 1, exif}, rawEntry{tagGPSIFD, typeLong, 1, gps}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.GPS != nil || e.Time != nil || !e.GPSInvalid {
					t.Errorf("GPS %v, Time %v, GPSInvalid %v; want both nil, the GPS invalid", e.GPS, e.Time, e.GPSInvalid)
				}
			},
		},
		{
			name: "latitude beyond the pole, orientation 9, offset +25:00",
			build: func(t *tiffBuilder) []byte {
				lat := t.rationals(95, 1, 0, 1, 0, 1)
				lon := t.rationals(112, 1, 0, 1, 0, 1)
				gps := t.ifd(2, 0, rawEntry{tagGPSLatitude, typeRational, 3, lat}, rawEntry{tagGPSLongitude, typeRational, 3, lon})
				dt := t.data([]byte("2024:05:17 09:30:15\x00"))
				off := t.data([]byte("+25:00\x00"))
				exif := t.ifd(2, 0, rawEntry{tagDateTimeOriginal, typeASCII, 20, dt}, rawEntry{tagOffsetTimeOriginal, typeASCII, 7, off})
				return t.root(t.ifd(3, 0, rawEntry{tagOrientation, typeShort, 1, t.short(9)},
					rawEntry{tagExifIFD, typeLong, 1, exif}, rawEntry{tagGPSIFD, typeLong, 1, gps}))
			},
			check: func(t *testing.T, e EXIF) {
				want := time.Date(2024, 5, 17, 9, 30, 15, 0, chinaStandardTime)
				if e.GPS != nil || !e.GPSInvalid || e.Orientation != 1 || e.Time == nil || !e.Time.Equal(want) || !e.TimeZoneAssumed {
					t.Errorf("got %+v; want no GPS (invalid), orientation 1, %v with the zone assumed", e, want)
				}
			},
		},
		{
			// A camera without a fix writes 0,0: no position, not an invalid one.
			name: "GPS 0,0",
			build: func(t *tiffBuilder) []byte {
				zero := t.rationals(0, 1, 0, 1, 0, 1)
				gps := t.ifd(2, 0, rawEntry{tagGPSLatitude, typeRational, 3, zero}, rawEntry{tagGPSLongitude, typeRational, 3, t.rationals(0, 1, 0, 1, 0, 1)})
				return t.root(t.ifd(1, 0, rawEntry{tagGPSIFD, typeLong, 1, gps}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.GPS != nil || e.GPSInvalid {
					t.Errorf("GPS %v, GPSInvalid %v; want no GPS, not invalid", e.GPS, e.GPSInvalid)
				}
			},
		},
		{
			// A reference that names no hemisphere (probe: X and Y were read
			// as north and east): which side is unknown, the GPS invalid.
			name: "GPS references X and Y",
			build: func(t *tiffBuilder) []byte {
				return t.root(t.ifd(1, 0, rawEntry{tagGPSIFD, typeLong, 1, gpsWithRefs(t, "X", "Y")}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.GPS != nil || !e.GPSInvalid {
					t.Errorf("GPS %v, GPSInvalid %v; want no GPS, invalid", e.GPS, e.GPSInvalid)
				}
			},
		},
		{
			name: "GPS references s and w, lower case",
			build: func(t *tiffBuilder) []byte {
				return t.root(t.ifd(1, 0, rawEntry{tagGPSIFD, typeLong, 1, gpsWithRefs(t, "s", "w")}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.GPS == nil || e.GPS.Lat != -38.5 || e.GPS.Lon != -112.5 || e.GPSInvalid {
					t.Errorf("GPS %v, GPSInvalid %v; want -38.5, -112.5", e.GPS, e.GPSInvalid)
				}
			},
		},
		{
			name: "a latitude without its longitude",
			build: func(t *tiffBuilder) []byte {
				gps := t.ifd(1, 0, rawEntry{tagGPSLatitude, typeRational, 3, t.rationals(38, 1, 24, 1, 58, 1)})
				return t.root(t.ifd(1, 0, rawEntry{tagGPSIFD, typeLong, 1, gps}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.GPS != nil || !e.GPSInvalid {
					t.Errorf("GPS %v, GPSInvalid %v; want no GPS, invalid", e.GPS, e.GPSInvalid)
				}
			},
		},
		{
			name: "Exif 3.0 UTF-8 Software, dashes in the date, duplicate Make",
			build: func(t *tiffBuilder) []byte {
				sw := t.data([]byte("醒图 6.2\x00"))
				dt := t.data([]byte("2024-05-17 09:30:15\x00"))
				huawei, honor := t.data([]byte("HUAWEI\x00")), t.data([]byte("HONOR\x00"))
				exif := t.ifd(1, 0, rawEntry{tagDateTimeOriginal, typeASCII, 20, dt})
				return t.root(t.ifd(4, 0,
					rawEntry{tagMake, typeASCII, 7, huawei},
					rawEntry{tagMake, typeASCII, 6, honor},
					rawEntry{tagSoftware, typeUTF8, uint32(len("醒图 6.2")) + 1, sw},
					rawEntry{tagExifIFD, typeLong, 1, exif}))
			},
			check: func(t *testing.T, e EXIF) {
				if e.Software != "醒图 6.2" || e.Make != "HUAWEI" || e.Time == nil || e.Time.Day() != 17 {
					t.Errorf("got %+v", e)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(tt.name+"/"+order.String(), func(t *testing.T) {
				blob := tt.build(newTIFF(order))
				var e EXIF
				allocated := bytesAllocated(5, func() { e = parseEXIF(blob) })
				if allocated > 1<<20 {
					t.Errorf("parseEXIF allocated %d B, want < 1 MiB", allocated)
				}
				if !e.Present {
					t.Error("Present = false")
				}
				tt.check(t, e)
			})
		}
	}
}

func TestParseEXIFNeverPanics(t *testing.T) {
	// Mutations of a real EXIF block: every single-byte change and random
	// multi-byte ones must parse without panicking.
	valid := testimg.EXIF(testimg.Options{Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(3.0),
		Make: "HUAWEI", Model: "ALP-AL00", Software: "ALP-AL00 9.1.0.226", Orientation: 6})
	for i := range valid {
		for _, v := range []byte{0, 0xff, valid[i] + 1} {
			b := bytes.Clone(valid)
			b[i] = v
			parseEXIF(b)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := bytes.Clone(valid)
		for range 1 + rng.IntN(8) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		parseEXIF(b[:rng.IntN(len(b)+1)])
	}
}

// TestEXIFNullIsland: a GPS of exactly 0,0, which cameras without a fix
// write, is no position (the photo was flagged 12,000 km from its site);
// a real one, however near the equator or the meridian, is kept.
func TestEXIFNullIsland(t *testing.T) {
	for _, tc := range []struct {
		at   geo.Point
		want bool
	}{
		{geo.Point{}, false},
		{xinzhou, true},
		{geo.Point{Lon: 0.0001, Lat: 0}, true},
		{geo.Point{Lon: 0, Lat: -0.0001}, true},
	} {
		e := parseEXIF(testimg.EXIF(testimg.Options{Time: &shotAt, GPS: &tc.at}))
		if got := e.GPS != nil; got != tc.want {
			t.Errorf("GPS %v: position read %v (%v), want %v", tc.at, got, e.GPS, tc.want)
		}
	}
}
