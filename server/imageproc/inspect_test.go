package imageproc

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func ptr[T any](v T) *T { return &v }

var (
	cst      = time.FixedZone("", 8*3600)
	shotAt   = time.Date(2024, 5, 17, 9, 30, 15, 0, cst)
	xinzhou  = geo.Point{Lon: 112.733512, Lat: 38.416238}
	hequSite = geo.Point{Lon: 111.146872, Lat: 39.384511}
)

func inspectBytes(t testing.TB, b []byte, lim Limits) (*Info, error) {
	t.Helper()
	return Inspect(bytes.NewReader(b), int64(len(b)), lim)
}

func TestInspectReadsBackEXIF(t *testing.T) {
	newYork := time.FixedZone("", -5*3600)
	india := time.FixedZone("", 5*3600+1800)
	tests := []struct {
		name   string
		opt    testimg.Options
		format string // and so which container testimg makes
		// wantTime is the instant and zone offset expected.
		wantTime        *time.Time
		wantZoneAssumed bool
	}{
		{
			name: "Android JPEG, Intel order, full EXIF",
			opt: testimg.Options{Width: 400, Height: 300, Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(4.5),
				Make: "Xiaomi", Model: "Redmi Note 12", Software: "MIUI Camera", Orientation: 6},
			format: FormatJPEG, wantTime: &shotAt,
		},
		{
			name: "Motorola order, another site",
			opt: testimg.Options{Width: 120, Height: 90, Time: &shotAt, GPS: &hequSite, GPSAccuracyM: ptr(12.25),
				Make: "Apple", Model: "iPhone 13", Software: "17.1.2", Orientation: 1, BigEndian: true},
			format: FormatJPEG, wantTime: &shotAt,
		},
		{
			name: "mock location: accuracy exactly 0",
			opt: testimg.Options{Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(0.0),
				Make: "HUAWEI", Model: "ALP-AL00", Orientation: 3},
			format: FormatJPEG, wantTime: &shotAt,
		},
		{
			name: "no offset: China Standard Time assumed",
			opt: testimg.Options{Time: ptr(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)), NoOffset: true,
				Make: "OPPO", Model: "PEEM00"},
			format:   FormatJPEG,
			wantTime: ptr(time.Date(2023, 12, 31, 23, 59, 59, 0, cst)), wantZoneAssumed: true,
		},
		{
			name:     "western and southern hemispheres, negative offset",
			opt:      testimg.Options{Time: ptr(time.Date(2022, 1, 2, 3, 4, 5, 0, newYork)), GPS: &geo.Point{Lon: -74.0445, Lat: -40.6892}},
			format:   FormatJPEG,
			wantTime: ptr(time.Date(2022, 1, 2, 3, 4, 5, 0, newYork)),
		},
		{
			name:     "half-hour offset",
			opt:      testimg.Options{Time: ptr(time.Date(2022, 1, 2, 3, 4, 5, 0, india))},
			format:   FormatJPEG,
			wantTime: ptr(time.Date(2022, 1, 2, 3, 4, 5, 0, india)),
		},
		{
			name:     "software only, Chinese editor name in UTF-8",
			opt:      testimg.Options{Software: "美图秀秀 9.9"},
			format:   FormatJPEG,
			wantTime: nil,
		},
		{
			name: "PNG with an eXIf chunk",
			opt: testimg.Options{Width: 50, Height: 40, Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(3.0),
				Make: "Google", Model: "Pixel 8", Software: "HDR+ 1.0.540104767zd", Orientation: 8},
			format: FormatPNG, wantTime: &shotAt,
		},
		{
			name: "iPhone HEIC",
			opt: testimg.Options{Width: 4032, Height: 3024, Time: &shotAt, GPS: &hequSite, GPSAccuracyM: ptr(35.0),
				Make: "Apple", Model: "iPhone 15", Software: "17.1.2", Orientation: 6, BigEndian: true},
			format: FormatHEIC, wantTime: &shotAt,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := map[string]func(testimg.Options) []byte{
				FormatJPEG: testimg.JPEG, FormatPNG: testimg.PNG, FormatHEIC: testimg.HEIF,
			}[tt.format](tt.opt)
			info, err := inspectBytes(t, b, Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			w, h := 64, 48
			if tt.opt.Width != 0 {
				w, h = tt.opt.Width, tt.opt.Height
			}
			if info.Format != tt.format || info.Width != w || info.Height != h {
				t.Errorf("Format, size = %s %d×%d, want %s %d×%d", info.Format, info.Width, info.Height, tt.format, w, h)
			}
			e := info.EXIF
			if !e.Present {
				t.Error("EXIF.Present = false")
			}
			switch {
			case tt.wantTime == nil && e.Time != nil:
				t.Errorf("EXIF.Time = %v, want nil", e.Time)
			case tt.wantTime != nil && e.Time == nil:
				t.Errorf("EXIF.Time = nil, want %v", tt.wantTime)
			case tt.wantTime != nil:
				_, gotOff := e.Time.Zone()
				_, wantOff := tt.wantTime.Zone()
				if !e.Time.Equal(*tt.wantTime) || gotOff != wantOff {
					t.Errorf("EXIF.Time = %v, want %v", e.Time, tt.wantTime)
				}
			}
			if e.TimeZoneAssumed != tt.wantZoneAssumed {
				t.Errorf("EXIF.TimeZoneAssumed = %v, want %v", e.TimeZoneAssumed, tt.wantZoneAssumed)
			}
			switch {
			case tt.opt.GPS == nil && e.GPS != nil:
				t.Errorf("EXIF.GPS = %v, want nil", *e.GPS)
			case tt.opt.GPS != nil && e.GPS == nil:
				t.Errorf("EXIF.GPS = nil, want %v", *tt.opt.GPS)
			case tt.opt.GPS != nil:
				if math.Abs(e.GPS.Lat-tt.opt.GPS.Lat) > 1e-6 || math.Abs(e.GPS.Lon-tt.opt.GPS.Lon) > 1e-6 {
					t.Errorf("EXIF.GPS = %+v, want %+v within 1e-6°", *e.GPS, *tt.opt.GPS)
				}
			}
			switch {
			case tt.opt.GPSAccuracyM == nil && e.GPSAccuracyM != nil:
				t.Errorf("EXIF.GPSAccuracyM = %v, want nil", *e.GPSAccuracyM)
			case tt.opt.GPSAccuracyM != nil && (e.GPSAccuracyM == nil || *e.GPSAccuracyM != *tt.opt.GPSAccuracyM):
				t.Errorf("EXIF.GPSAccuracyM = %v, want %v", e.GPSAccuracyM, *tt.opt.GPSAccuracyM)
			}
			if e.Make != tt.opt.Make || e.Model != tt.opt.Model || e.Software != tt.opt.Software {
				t.Errorf("Make, Model, Software = %q, %q, %q; want %q, %q, %q",
					e.Make, e.Model, e.Software, tt.opt.Make, tt.opt.Model, tt.opt.Software)
			}
			wantOrientation := max(tt.opt.Orientation, 1)
			if e.Orientation != wantOrientation {
				t.Errorf("EXIF.Orientation = %d, want %d", e.Orientation, wantOrientation)
			}
		})
	}
}

func TestInspectWithoutEXIF(t *testing.T) {
	for _, b := range [][]byte{testimg.JPEG(testimg.Options{}), testimg.PNG(testimg.Options{})} {
		info, err := inspectBytes(t, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if want := (EXIF{Orientation: 1}); info.EXIF != want {
			t.Errorf("%s without EXIF: EXIF = %+v, want %+v", info.Format, info.EXIF, want)
		}
	}
}

func TestInspectDisplaySize(t *testing.T) {
	for o := 1; o <= 8; o++ {
		info, err := inspectBytes(t, testimg.JPEG(testimg.Options{Width: 40, Height: 30, Orientation: o}), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		w, h := info.DisplaySize()
		if want := o >= 5; (w == 30 && h == 40) != want {
			t.Errorf("orientation %d: DisplaySize = %d×%d", o, w, h)
		}
	}
}

func TestInspectRefuses(t *testing.T) {
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rand.N(256))
	}
	random[0] = 'x' // not a JPEG SOI by chance
	jpg := testimg.JPEG(testimg.Options{Width: 200, Height: 100, Time: &shotAt, GPS: &xinzhou})
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"random bytes", random, Limits{}, ErrNotImage},
		{"text", []byte("<html><body>not a photo</body></html>"), Limits{}, ErrNotImage},
		{"empty", nil, Limits{}, ErrNotImage},
		{"JPEG signature only", []byte{0xff, 0xd8}, Limits{}, ErrTruncated},
		{"PNG signature cut", []byte("\x89PN"), Limits{}, ErrTruncated},
		{"JPEG cut inside its header", jpg[:300], Limits{}, ErrTruncated},
		{"PNG cut inside IHDR", testimg.PNG(testimg.Options{})[:20], Limits{}, ErrTruncated},
		{"PNG bomb 50000×50000", testimg.Bomb(50000, 50000), Limits{}, ErrTooLarge},
		{"JPEG bomb 50000×50000", testimg.BombJPEG(50000, 50000), Limits{}, ErrTooLarge},
		{"PNG 2³¹−1 wide", testimg.Bomb(math.MaxInt32, 1), Limits{}, ErrTooLarge},
		{"long side over MaxSide", testimg.Bomb(25000, 10), Limits{}, ErrTooLarge},
		{"pixels over a custom MaxPixels", jpg, Limits{MaxPixels: 200*100 - 1}, ErrTooLarge},
		{"side over a custom MaxSide", jpg, Limits{MaxSide: 199}, ErrTooLarge},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Limits{}, ErrUnsupported},
		{"WebP", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), Limits{}, ErrUnsupported},
		{"TIFF", []byte("II*\x00\x08\x00\x00\x00\x00\x00"), Limits{}, ErrUnsupported},
		{"AVIF", testimg.FtypBox("avif", "mif1", "miaf"), Limits{}, ErrUnsupported},
		{"MP4 video", testimg.FtypBox("isom", "iso2", "mp41"), Limits{}, ErrNotImage},
		// A HEIF brand is not a HEIF image: its meta box must declare the
		// primary image and its size.
		{"HEIC ftyp box alone", testimg.FtypBox("heic", "mif1", "heic"), Limits{}, ErrNotImage},
		{"HEIC ftyp box before zeros", append([]byte("\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic"), make([]byte, 100)...), Limits{}, ErrNotImage},
		{"HEIC ftyp box before text", append(testimg.FtypBox("heic", "mif1"), "not a picture at all, just words"...), Limits{}, ErrNotImage},
		{"HEIC cut inside its meta box", testimg.HEIC()[:len(testimg.FtypBox("heic", "mif1", "heic"))+40], Limits{}, ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := inspectBytes(t, tt.data, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Inspect = %+v, %v; want error %v", info, err, tt.want)
			}
			if info != nil {
				t.Errorf("Inspect returned %+v with its error", info)
			}
		})
	}
}

func TestInspectAccepts(t *testing.T) {
	tests := []struct {
		name       string
		data       []byte
		format     string
		derivable  bool
		wantWidth  int
		wantHeight int
	}{
		{"HEIC", testimg.HEIC(), FormatHEIC, false, 64, 48},
		{"HEIF with mif1 major brand", testimg.HEIFBrands("mif1", "heic"), FormatHEIC, false, 64, 48},
		{"HEIC burst (msf1)", testimg.HEIFBrands("msf1", "hevc"), FormatHEIC, false, 64, 48},
		{"truncated JPEG: the header is intact", testimg.Truncated(testimg.JPEG(testimg.Options{Width: 300, Height: 200})), FormatJPEG, true, 300, 200},
		{"exactly at the limits", testimg.Bomb(20000, 5000), FormatPNG, true, 20000, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The default pixel limits, with room for the 381 MiB the
			// 100-megapixel RGBA takes to decode (memory_test.go tests
			// MaxBytes).
			info, err := inspectBytes(t, tt.data, Limits{MaxBytes: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tt.format || info.Derivable() != tt.derivable || info.Width != tt.wantWidth || info.Height != tt.wantHeight {
				t.Errorf("Inspect = %+v (derivable %v), want %s %d×%d derivable %v",
					info, info.Derivable(), tt.format, tt.wantWidth, tt.wantHeight, tt.derivable)
			}
		})
	}
}

// bytesAllocated returns the average heap bytes allocated by f over n runs.
func bytesAllocated(n int, f func()) uint64 {
	f() // warm up: one-time initialisation is not the point
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

func TestBombsAllocateNothing(t *testing.T) {
	bombs := map[string][]byte{
		"PNG":  testimg.Bomb(50000, 50000),
		"JPEG": testimg.BombJPEG(50000, 50000),
	}
	for name, bomb := range bombs {
		t.Run(name, func(t *testing.T) {
			perInspect := bytesAllocated(10, func() {
				if _, err := inspectBytes(t, bomb, Limits{}); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Inspect: %v, want ErrTooLarge", err)
				}
			})
			perDecode := bytesAllocated(10, func() {
				if _, err := Decode(bytes.NewReader(bomb), Limits{}); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Decode: %v, want ErrTooLarge", err)
				}
			})
			t.Logf("%s bomb: Inspect allocates %d B, Decode %d B", name, perInspect, perDecode)
			if perInspect > 1<<20 || perDecode > 1<<20 {
				t.Errorf("refusing a bomb allocates %d B (Inspect) and %d B (Decode), want < 1 MiB each", perInspect, perDecode)
			}
		})
	}
}

// TestEXIFStringsInGBK: EXIF strings written in GBK by older Chinese
// software read as the text they are, so that an editor named so is
// recognised; bytes that are neither UTF-8 nor GBK are replaced, not kept.
func TestEXIFStringsInGBK(t *testing.T) {
	gbk := func(s string) string {
		b, err := simplifiedchinese.GBK.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := testimg.JPEG(testimg.Options{Make: gbk("华为"), Software: gbk("醒图 3.2")})
	info, err := inspectBytes(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.EXIF.Make != "华为" || info.EXIF.Software != "醒图 3.2" {
		t.Errorf("Make, Software = %q, %q; want 华为, 醒图 3.2", info.EXIF.Make, info.EXIF.Software)
	}
	if _, ok := EditedBy(info.EXIF.Software); !ok {
		t.Errorf("software %q named in GBK is not recognised as an editor", info.EXIF.Software)
	}
	if got := cleanText("ab\xff\xfe"); got != "ab\uFFFD" && !utf8.ValidString(got) {
		t.Errorf("cleanText of bytes neither UTF-8 nor GBK = %q, want valid UTF-8", got)
	}
}

// TestEXIFStringsOnOneLine (API probe): a camera make and model written
// with a direction override, zero-width and control characters read
// without them, as a phone's text must be: they are passed on to every
// phone of the county and the console beside the evidence, where they
// showed reversed or hidden text.
func TestEXIFStringsOnOneLine(t *testing.T) {
	b := testimg.JPEG(testimg.Options{Make: "Evil\u202eCorp\x01\x02", Model: "\u200b\u2066X\u2069\x7f 14", Software: "Cam\nera\u200d"})
	info, err := inspectBytes(t, b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if e := info.EXIF; e.Make != "EvilCorp" || e.Model != "X 14" || e.Software != "Cam era" {
		t.Errorf("Make, Model, Software = %q, %q, %q; want EvilCorp, X 14, Cam era", e.Make, e.Model, e.Software)
	}
}
