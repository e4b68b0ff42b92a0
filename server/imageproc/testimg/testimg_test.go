package testimg

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server/geo"
)

func TestJPEGIsARealJPEGWithEXIFFirst(t *testing.T) {
	at := time.Date(2024, 5, 17, 9, 30, 15, 0, time.FixedZone("", 8*3600))
	acc := 4.5
	opt := Options{Width: 120, Height: 80, Seed: 4, Time: &at, GPS: &geo.Point{Lon: 112.73, Lat: 38.42},
		GPSAccuracyM: &acc, Make: "Xiaomi", Model: "Redmi Note 12", Software: "MIUI Camera", Orientation: 6}
	for _, bigEndian := range []bool{false, true} {
		opt.BigEndian = bigEndian
		b := JPEG(opt)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 120 || cfg.Height != 80 {
			t.Fatalf("DecodeConfig = %+v, %v", cfg, err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if b[2] != 0xff || b[3] != 0xe1 || string(b[6:12]) != "Exif\x00\x00" {
			t.Fatalf("no Exif APP1 right after SOI: % x", b[:12])
		}
		n := int(binary.BigEndian.Uint16(b[4:]))
		checkTIFF(t, b[12:4+n])
	}
}

// checkTIFF walks the structure EXIF wrote and checks what readers rely
// on: a valid header, entries sorted by tag, values inside the block.
func checkTIFF(t *testing.T, b []byte) {
	t.Helper()
	var order binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		t.Fatalf("bad TIFF header % x", b[:4])
	}
	sizes := map[uint16]uint32{typeByte: 1, typeASCII: 1, typeShort: 2, typeLong: 4, typeRational: 8, typeUndefined: 1}
	queue := []uint32{order.Uint32(b[4:])}
	seen := 0
	for len(queue) > 0 {
		off := queue[0]
		queue = queue[1:]
		seen++
		if off%2 != 0 || int(off)+2 > len(b) {
			t.Fatalf("IFD at %d", off)
		}
		n := int(order.Uint16(b[off:]))
		prev := -1
		for i := range n {
			e := b[int(off)+2+12*i:]
			tag, typ, count := order.Uint16(e), order.Uint16(e[2:]), order.Uint32(e[4:])
			if int(tag) <= prev {
				t.Errorf("tag %#x after %#x: not sorted", tag, prev)
			}
			prev = int(tag)
			size := sizes[typ] * count
			if size == 0 {
				t.Errorf("tag %#x: type %d count %d", tag, typ, count)
			}
			if size > 4 {
				if v := order.Uint32(e[8:]); v%2 != 0 || int(v+size) > len(b) {
					t.Errorf("tag %#x: value at %d+%d outside %d bytes", tag, v, size, len(b))
				}
			}
			if tag == tagExifIFD || tag == tagGPSIFD {
				queue = append(queue, order.Uint32(e[8:]))
			}
		}
		if next := order.Uint32(b[int(off)+2+12*n:]); next != 0 {
			t.Errorf("IFD at %d links to another at %d", off, next)
		}
	}
	if seen != 3 {
		t.Errorf("%d IFDs, want IFD0, Exif and GPS", seen)
	}
}

func TestNoOptionsNoEXIF(t *testing.T) {
	if b := EXIF(Options{Width: 10, Height: 10, Seed: 3, Quality: 50}); b != nil {
		t.Errorf("EXIF of options without metadata = % x, want nil", b)
	}
	if j := JPEG(Options{}); bytes.Contains(j[:64], []byte("Exif")) {
		t.Error("JPEG without metadata has an Exif segment")
	}
}

func TestPNGWithEXIFChunk(t *testing.T) {
	b := PNG(Options{Width: 30, Height: 20, Make: "Google"})
	img, err := png.Decode(bytes.NewReader(b)) // checks every CRC
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != 30 || got.Y != 20 {
		t.Errorf("size %v", got)
	}
	if string(b[33+4:33+8]) != "eXIf" {
		t.Errorf("chunk after IHDR is %q, want eXIf", b[33+4:33+8])
	}
}

func TestDeterministic(t *testing.T) {
	a, b := JPEG(Options{Seed: 1}), JPEG(Options{Seed: 1})
	if !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	if bytes.Equal(a, JPEG(Options{Seed: 2})) {
		t.Error("different seeds, same bytes")
	}
}

func TestBadFiles(t *testing.T) {
	cfg, err := png.DecodeConfig(bytes.NewReader(Bomb(50000, 40000)))
	if err != nil || cfg.Width != 50000 || cfg.Height != 40000 {
		t.Errorf("Bomb: DecodeConfig = %+v, %v", cfg, err)
	}
	if n := len(Bomb(50000, 50000)); n > 100 {
		t.Errorf("Bomb is %d bytes, want tiny", n)
	}
	cfg, err = jpeg.DecodeConfig(bytes.NewReader(BombJPEG(50000, 30000)))
	if err != nil || cfg.Width != 50000 || cfg.Height != 30000 {
		t.Errorf("BombJPEG: DecodeConfig = %+v, %v", cfg, err)
	}
	j := JPEG(Options{Width: 200, Height: 100})
	cut := Truncated(j)
	if len(cut) >= len(j) || !bytes.Contains(cut, []byte{0xff, 0xda}) {
		t.Errorf("Truncated: %d of %d bytes", len(cut), len(j))
	}
	if _, err := jpeg.Decode(bytes.NewReader(cut)); err == nil {
		t.Error("Truncated JPEG decodes")
	}
	if _, err := jpeg.Decode(bytes.NewReader(ManyScans(JPEG(Options{}), 3))); err != nil {
		t.Errorf("ManyScans: %v", err)
	}
	h := HEIC()
	if ftyp := int(binary.BigEndian.Uint32(h)); string(h[4:12]) != "ftypheic" || ftyp >= len(h) || string(h[ftyp+4:ftyp+8]) != "meta" {
		t.Errorf("HEIC = % x", h)
	}
}

func TestPNG16IsARealSixteenBitPNG(t *testing.T) {
	for _, size := range [][2]int{{300, 200}, {1, 1}, {2, 3}, {33, 40}, {1000, 7}} {
		w, h := size[0], size[1]
		b := PNG16(w, h)
		img, err := png.Decode(bytes.NewReader(b)) // checks the zlib checksum too
		if err != nil {
			t.Fatalf("%d×%d: Decode: %v", w, h, err)
		}
		m, ok := img.(*image.NRGBA64)
		if !ok || m.Bounds().Dx() != w || m.Bounds().Dy() != h {
			t.Fatalf("%d×%d: decoded %T %v, want an *image.NRGBA64", w, h, img, img.Bounds())
		}
		want := color.NRGBA64{R: 0x8000, G: 0x8000, B: 0x8000, A: 0xffff}
		for _, p := range [][2]int{{0, 0}, {w - 1, 0}, {w / 2, h / 2}, {w - 1, h - 1}} {
			if c := m.NRGBA64At(p[0], p[1]); c != want {
				t.Errorf("%d×%d: pixel %v is %v, want %v", w, h, p, c, want)
			}
		}
	}
	if big := PNG16(4000, 4000); len(big) > 4000*4000*8/100 {
		t.Errorf("a 4000×4000 PNG16 is %d bytes, want it under 1%% of its 128 MB of pixels", len(big))
	}
}
