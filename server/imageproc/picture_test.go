package imageproc

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// quadrants returns a w×h picture with a distinct colour in each quarter,
// to tell where the stored top-left corner ends up.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	colours := [2][2]color.RGBA{
		{{255, 0, 0, 255}, {0, 255, 0, 255}},   // top: red left, green right
		{{0, 0, 255, 255}, {255, 255, 0, 255}}, // bottom: blue left, yellow right
	}
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, colours[y*2/h][x*2/w])
		}
	}
	return img
}

// nameColour names the nearest of the quadrant colours.
func nameColour(c color.Color) string {
	r, g, b, _ := c.RGBA()
	hi := func(v uint32) bool { return v > 0x8000 }
	switch {
	case hi(r) && hi(g) && !hi(b):
		return "yellow"
	case hi(r):
		return "red"
	case hi(g):
		return "green"
	case hi(b):
		return "blue"
	}
	return "black"
}

func TestDeriveAppliesOrientation(t *testing.T) {
	// The stored picture is 400×300 with red at the top left. For each EXIF
	// orientation: the thumbnail's size and the colours at its top-left and
	// top-right corners once the orientation is applied (CIPA DC-008).
	tests := []struct {
		orientation       int
		w, h              int
		topLeft, topRight string
	}{
		{0, 256, 192, "red", "green"},
		{1, 256, 192, "red", "green"},
		{2, 256, 192, "green", "red"},   // mirrored
		{3, 256, 192, "yellow", "blue"}, // upside down
		{4, 256, 192, "blue", "yellow"}, // flipped vertically
		{5, 192, 256, "red", "blue"},    // transposed
		{6, 192, 256, "blue", "red"},    // turned 90° clockwise: the usual portrait phone photo
		{7, 192, 256, "yellow", "green"},
		{8, 192, 256, "green", "yellow"}, // turned 90° anticlockwise
	}
	for _, tt := range tests {
		opt := testimg.Options{Width: 400, Height: 300, Orientation: tt.orientation, Make: "test"}
		src := testimg.EncodeJPEG(quadrants(400, 300), opt)
		thumb, err := Derive(bytes.NewReader(src), Limits{}, 256, 80)
		if err != nil {
			t.Fatalf("orientation %d: Derive: %v", tt.orientation, err)
		}
		img, err := jpeg.Decode(bytes.NewReader(thumb))
		if err != nil {
			t.Fatalf("orientation %d: thumbnail is not a JPEG: %v", tt.orientation, err)
		}
		b := img.Bounds()
		if b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("orientation %d: thumbnail %d×%d, want %d×%d", tt.orientation, b.Dx(), b.Dy(), tt.w, tt.h)
			continue
		}
		tl, tr := nameColour(img.At(10, 10)), nameColour(img.At(b.Dx()-10, 10))
		if tl != tt.topLeft || tr != tt.topRight {
			t.Errorf("orientation %d: top corners %s, %s; want %s, %s", tt.orientation, tl, tr, tt.topLeft, tt.topRight)
		}
	}
}

func TestPictureSizes(t *testing.T) {
	tests := []struct {
		name         string
		w, h         int
		orientation  int
		maxSide      int
		wantW, wantH int
	}{
		{"landscape thumbnail", 4000, 3000, 1, 256, 256, 192},
		{"portrait preview", 3000, 4000, 1, 1280, 960, 1280},
		{"rotated preview", 4000, 3000, 6, 1280, 960, 1280},
		{"never upscaled", 100, 80, 1, 256, 100, 80},
		{"never upscaled, rotated", 100, 80, 8, 1280, 80, 100},
		{"exact fit", 256, 100, 1, 256, 256, 100},
		{"a sliver keeps one pixel", 5000, 2, 1, 256, 256, 1},
		{"full size", 300, 200, 1, 0, 300, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.w*tt.h > 2e6 {
				// fitSize alone: no need to encode a 12-megapixel picture.
				w, h := fitSize(tt.w, tt.h, tt.maxSide)
				if tt.orientation >= 5 {
					w, h = h, w
				}
				if w != tt.wantW || h != tt.wantH {
					t.Errorf("fitSize = %d×%d, want %d×%d", w, h, tt.wantW, tt.wantH)
				}
				return
			}
			src := testimg.JPEG(testimg.Options{Width: tt.w, Height: tt.h, Orientation: tt.orientation, Make: "test"})
			pic, err := Decode(bytes.NewReader(src), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := pic.Fit(tt.maxSide).Bounds()
			if got.Dx() != tt.wantW || got.Dy() != tt.wantH {
				t.Errorf("Fit(%d) = %d×%d, want %d×%d", tt.maxSide, got.Dx(), got.Dy(), tt.wantW, tt.wantH)
			}
			if w, h := pic.Size(); (tt.orientation >= 5) != (w == tt.h && h == tt.w) {
				t.Errorf("Size() = %d×%d for a stored %d×%d, orientation %d", w, h, tt.w, tt.h, tt.orientation)
			}
		})
	}
}

// onlyReader hides everything but Read, as a network stream does.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestDecodeStreamMatchesInspect(t *testing.T) {
	for _, src := range [][]byte{
		testimg.JPEG(testimg.Options{Width: 320, Height: 240, Time: &shotAt, GPS: &xinzhou, GPSAccuracyM: ptr(5.0),
			Make: "vivo", Model: "V2309A", Software: "PD2309_A_14.1.10.5.W10", Orientation: 6}),
		testimg.PNG(testimg.Options{Width: 32, Height: 24, Time: &shotAt, Orientation: 3}),
	} {
		info, err := inspectBytes(t, src, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		pic, err := Decode(onlyReader{bytes.NewReader(src)}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if pic.Format != info.Format || pic.EXIF.Orientation != info.EXIF.Orientation ||
			pic.EXIF.Make != info.EXIF.Make || !pic.EXIF.Time.Equal(*info.EXIF.Time) {
			t.Errorf("Decode: %s %+v; Inspect: %s %+v", pic.Format, pic.EXIF, info.Format, info.EXIF)
		}
		w, h := pic.Size()
		if iw, ih := info.DisplaySize(); w != iw || h != ih {
			t.Errorf("Decode size %d×%d, Inspect display size %d×%d", w, h, iw, ih)
		}
	}
}

func TestDeriveRefuses(t *testing.T) {
	jpg := testimg.JPEG(testimg.Options{Width: 400, Height: 300, Seed: 3})
	corrupt := bytes.Clone(jpg)
	sos := bytes.Index(corrupt, []byte{0xff, 0xda})
	for i := sos + 20; i < len(corrupt)-2; i += 7 {
		corrupt[i] = 0xff // markers in the middle of entropy-coded data
	}
	// Small enough that the decoder's read-ahead reaches the end of the
	// data whatever goes wrong.
	corruptSmall := testimg.JPEG(testimg.Options{Width: 16, Height: 16, Seed: 3})
	sos = bytes.Index(corruptSmall, []byte{0xff, 0xda})
	for i := sos + 14; i < len(corruptSmall)-2; i++ {
		corruptSmall[i] = 0xff
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated JPEG", testimg.Truncated(jpg), ErrTruncated},
		{"JPEG cut right after its header", jpg[:sos+14], ErrTruncated},
		{"truncated PNG", testimg.PNG(testimg.Options{Width: 300, Height: 200})[:2000], ErrTruncated},
		{"corrupt JPEG data", corrupt, ErrCorrupt},
		{"small corrupt JPEG", corruptSmall, ErrCorrupt},
		{"PNG bomb", testimg.Bomb(50000, 50000), ErrTooLarge},
		{"JPEG with 101 scans", testimg.ManyScans(testimg.JPEG(testimg.Options{Width: 32, Height: 32}), maxJPEGScans+1), ErrTooLarge},
		{"JPEG bomb", testimg.BombJPEG(50000, 50000), ErrTooLarge},
		{"HEIC", testimg.HEIC(), ErrUnsupported},
		{"HEIC with EXIF", testimg.HEIF(testimg.Options{Make: "Apple"}), ErrUnsupported},
		{"random bytes", bytes.Repeat([]byte{0x42, 0x13, 0x99}, 100), ErrNotImage},
		{"empty", nil, ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Derive(bytes.NewReader(tt.data), Limits{}, 256, 80)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Derive = %d bytes, %v; want error %v", len(out), err, tt.want)
			}
			if _, err := DHashOf(bytes.NewReader(tt.data), Limits{}); !errors.Is(err, tt.want) {
				t.Errorf("DHashOf: %v, want error %v", err, tt.want)
			}
		})
	}
}

func TestDecodeAcceptsSeveralScans(t *testing.T) {
	src := testimg.ManyScans(testimg.JPEG(testimg.Options{Width: 32, Height: 32, Seed: 9}), 20)
	if _, err := Derive(bytes.NewReader(src), Limits{}, 256, 80); err != nil {
		t.Fatalf("a JPEG with 20 scans: %v", err)
	}
}

func TestScanCounter(t *testing.T) {
	tests := []struct {
		name string
		data string
		want int
	}{
		{"none", "abc\x00\xff\x00\xff\xd9", 0},
		{"one", "\xff\xd8\xff\xda", 1},
		{"after fill bytes", "\xff\xff\xff\xda", 1},
		{"two", "\xff\xda\x01\xff\xda", 2},
		{"stuffed FF then DA is not a marker", "\xff\x00\xda", 0},
	}
	for _, tt := range tests {
		// Feed one byte at a time, so markers straddle reads.
		for _, chunk := range []int{1, 2, len(tt.data)} {
			s := &scanCounter{r: &chunkReader{data: []byte(tt.data), n: chunk}}
			if _, err := io.ReadAll(s); err != nil {
				t.Fatal(err)
			}
			if s.scans != tt.want {
				t.Errorf("%s, reads of %d: %d scans, want %d", tt.name, chunk, s.scans, tt.want)
			}
		}
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[k:]
	return k, nil
}

func TestDeriveFlattensTransparency(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 40)) // fully transparent
	for x := range 20 {
		for y := range 40 {
			img.SetNRGBA(x, y, color.NRGBA{0, 0, 255, 255}) // opaque blue left half
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	out, err := Derive(&buf, Limits{}, 256, 90)
	if err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := got.At(35, 20).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
		t.Errorf("transparent area became %v, want white", got.At(35, 20))
	}
	if c := nameColour(got.At(5, 20)); c != "blue" {
		t.Errorf("opaque area became %s, want blue", c)
	}
}
