package imageproc

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// fuzzLimits keeps decoding in the fuzzers cheap: a 1-megapixel cap.
var fuzzLimits = Limits{MaxPixels: 1 << 20, MaxSide: 4096}

func fuzzSeeds() [][]byte {
	opt := testimg.Options{Width: 24, Height: 16, Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(3.0),
		Make: "Xiaomi", Model: "22081212C", Software: "MIUI Camera", Orientation: 6}
	be := opt
	be.BigEndian = true
	jpg := testimg.JPEG(opt)
	return [][]byte{
		jpg,
		testimg.JPEG(be),
		testimg.JPEG(testimg.Options{Width: 8, Height: 8}),
		testimg.PNG(opt),
		testimg.PNG(testimg.Options{Width: 8, Height: 8}),
		testimg.Truncated(jpg),
		testimg.Bomb(50000, 50000),
		testimg.BombJPEG(50000, 50000),
		testimg.HEIC(),
		testimg.HEIF(opt),
		testimg.FtypBox("avif", "mif1"),
		[]byte("GIF89a"),
		{0xff, 0xd8},
		nil,
	}
}

// FuzzInspect checks that no input makes Inspect (or Decode, when Inspect
// accepts a small image) panic, hang or return inconsistent results.
func FuzzInspect(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	known := []error{ErrNotImage, ErrTooLarge, ErrTruncated, ErrCorrupt, ErrUnsupported}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		info, err := Inspect(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			if info != nil {
				t.Fatalf("Inspect returned %+v with error %v", info, err)
			}
			if !isOneOf(err, known) {
				t.Fatalf("Inspect error %v wraps none of the sentinel errors", err)
			}
			return
		}
		e := info.EXIF
		switch {
		case e.Orientation < 1 || e.Orientation > 8:
			t.Fatalf("Orientation %d", e.Orientation)
		case e.GPS != nil && !e.GPS.Valid():
			t.Fatalf("invalid GPS %+v", *e.GPS)
		case info.Derivable() && fuzzLimits.check(info.Width, info.Height) != nil:
			t.Fatalf("accepted %d×%d beyond the limits", info.Width, info.Height)
		}
		if info.Derivable() {
			pic, err := Decode(bytes.NewReader(data), fuzzLimits)
			if err != nil && !isOneOf(err, known) {
				t.Fatalf("Decode error %v wraps none of the sentinel errors", err)
			}
			if err == nil {
				if w, h := pic.Size(); w*h != info.Width*info.Height {
					t.Fatalf("Decode size %d×%d, Inspect %d×%d", w, h, info.Width, info.Height)
				}
				if _, err := pic.JPEG(64, 75); err != nil {
					t.Fatalf("JPEG of a decoded picture: %v", err)
				}
				pic.DHash()
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}

// FuzzEXIF feeds TIFF structures straight to the EXIF parser, which is
// where most of the hostile-input handling is.
func FuzzEXIF(f *testing.F) {
	f.Add(testimg.EXIF(testimg.Options{Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(3.0),
		Make: "HUAWEI", Model: "ALP-AL00", Software: "美图秀秀", Orientation: 3}))
	f.Add(testimg.EXIF(testimg.Options{Time: &shotAt, GPS: &hequSite, BigEndian: true, NoOffset: true}))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := parseEXIF(data)
		if e.Orientation < 1 || e.Orientation > 8 || (e.GPS != nil && !e.GPS.Valid()) ||
			(e.GPSAccuracyM != nil && *e.GPSAccuracyM < 0) || len(e.Make) > 4*maxStringBytes {
			t.Fatalf("inconsistent %+v", e)
		}
	})
}

func isOneOf(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
