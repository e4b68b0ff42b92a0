package imageproc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// allocated returns the bytes fn allocates on the heap.
func allocated(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeBytesIsWhatDecodeAllocates compares the header's estimate with
// what Go's decoders really allocate, for each kind of image they turn into
// a different pixel layout: the estimate may not be lower (it budgets
// memory), and where it is exact it may not be much higher.
func TestDecodeBytesIsWhatDecodeAllocates(t *testing.T) {
	const w, h = 1500, 1000
	rgba := testimg.Image(testimg.Options{Width: w, Height: h, Seed: 1})
	gray := image.NewGray(rgba.Rect)
	pal := image.NewPaletted(rgba.Rect, color.Palette{color.Black, color.White})
	tests := []struct {
		name    string
		data    []byte
		perPix  float64 // the layout Go decodes to, bytes a pixel
		roughly bool    // the estimate must also be close to it
	}{
		{"JPEG 4:2:0 (YCbCr)", encodeJPEG(t, rgba), 1.5, true},
		{"grey JPEG", encodeJPEG(t, gray), 1, true},
		{"8-bit RGBA PNG", encodePNG(t, rgba), 4, true},
		{"16-bit RGBA PNG", testimg.PNG16(w, h), 8, true},
		{"paletted PNG", encodePNG(t, pal), 1, true},
		{"grey PNG (counted as if it had a tRNS chunk)", encodePNG(t, gray), 1, false},
	}
	for _, tc := range tests {
		info, err := inspectBytes(t, tc.data, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var pic *Picture
		got := allocated(func() { pic, err = Decode(bytes.NewReader(tc.data), Limits{}) })
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		pixels := int64(tc.perPix * w * h)
		t.Logf("%s: DecodeBytes %d, pixels %d, Decode allocated %d", tc.name, info.DecodeBytes, pixels, got)
		if info.DecodeBytes < pixels {
			t.Errorf("%s: DecodeBytes %d, below the %d bytes of decoded pixels", tc.name, info.DecodeBytes, pixels)
		}
		if tc.roughly && (info.DecodeBytes > pixels*11/10+64<<10 || got > info.DecodeBytes*11/10+512<<10) {
			t.Errorf("%s: DecodeBytes %d, pixels %d, allocated %d: not within 10%%", tc.name, info.DecodeBytes, pixels, got)
		}
		need := info.MemoryNeed(1280)
		if total := allocated(func() { _, err = pic.JPEG(1280, 85) }) + info.DecodeBytes; need < total*9/10 {
			t.Errorf("%s: MemoryNeed(1280) %d, below decoding and deriving's %d", tc.name, need, total)
		}
	}
}

// TestDecodeBytesFromTheFrameHeader checks the JPEG estimate for frames
// Go's encoder does not write: progressive (coefficients kept between
// scans), 4:4:4, CMYK, RGB.
func TestDecodeBytesFromTheFrameHeader(t *testing.T) {
	w, h := 1600, 1200
	px := int64(w * h)
	sof := func(marker byte, comps ...[2]byte) jpegFrame {
		var seg []byte
		seg = append(seg, 0xff, 0xd8, 0xff, marker, 0, byte(8+3*len(comps)), 8, byte(h>>8), byte(h), byte(w>>8), byte(w), byte(len(comps)))
		for _, c := range comps {
			seg = append(seg, c[0], c[1], 0)
		}
		return readJPEGFrame(bytes.NewReader(seg), int64(len(seg)))
	}
	tests := []struct {
		name string
		f    jpegFrame
		want int64
	}{
		{"baseline 4:2:0", sof(0xc0, [2]byte{1, 0x22}, [2]byte{2, 0x11}, [2]byte{3, 0x11}), px * 3 / 2},
		{"progressive 4:2:0", sof(0xc2, [2]byte{1, 0x22}, [2]byte{2, 0x11}, [2]byte{3, 0x11}), px * 3 / 2 * 5},
		{"baseline 4:4:4", sof(0xc0, [2]byte{1, 0x11}, [2]byte{2, 0x11}, [2]byte{3, 0x11}), px * 3},
		{"RGB by component ids", sof(0xc0, [2]byte{'R', 0x11}, [2]byte{'G', 0x11}, [2]byte{'B', 0x11}), px * (3 + 4)},
		{"CMYK", sof(0xc0, [2]byte{1, 0x11}, [2]byte{2, 0x11}, [2]byte{3, 0x11}, [2]byte{4, 0x11}), px * (4 + 4)},
		{"no frame header", sof(0xc3, [2]byte{1, 0x11}), px * 24},
	}
	for _, tc := range tests {
		if got := tc.f.memory(w, h); got != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, got, tc.want)
		}
	}
	// A JFIF segment makes three components YCbCr whatever their ids;
	// an Adobe segment with transform 0 makes them RGB.
	jfif := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 7, 'J', 'F', 'I', 'F', 0, 0xff, 0xc0, 0, 17, 8, 0, 16, 0, 16, 3, 'R', 0x11, 0, 'G', 0x11, 0, 'B', 0x11, 0}
	if f := readJPEGFrame(bytes.NewReader(jfif), int64(len(jfif))); !f.found || f.isRGB() || !f.decodesToYCbCr() {
		t.Errorf("JFIF RGB ids: %+v, want YCbCr", f)
	}
	adobe := []byte{0xff, 0xd8, 0xff, 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0, 0xff, 0xc0, 0, 17, 8, 0, 16, 0, 16, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0}
	if f := readJPEGFrame(bytes.NewReader(adobe), int64(len(adobe))); !f.found || !f.isRGB() {
		t.Errorf("Adobe transform 0: %+v, want RGB", f)
	}
}

// TestSixteenBitPNGIsRefusedByItsMemory: a 10000×10000 16-bit PNG is within
// the pixel limits but takes 800 MB to decode; Inspect and Decode refuse it
// with a *SizeError naming its real size, without allocating its pixels.
func TestSixteenBitPNGIsRefusedByItsMemory(t *testing.T) {
	big := testimg.PNG16(10000, 10000)
	if _, err := inspectBytes(t, big, Limits{MaxBytes: 1 << 30}); err != nil {
		t.Fatalf("within a 1 GiB limit: %v", err)
	}
	_, err := inspectBytes(t, big, Limits{})
	var se *SizeError
	if !errors.As(err, &se) || !errors.Is(err, ErrTooLarge) || se.Width != 10000 || se.Height != 10000 || se.Bytes < 800e6 || se.MaxBytes != DefaultMaxBytes {
		t.Fatalf("Inspect: %v (%+v), want a SizeError of 10000×10000 and 800 MB over 256 MiB", err, se)
	}
	got := allocated(func() { _, err = Decode(bytes.NewReader(big), Limits{}) })
	if !errors.As(err, &se) || se.Width != 10000 || got > 10<<20 {
		t.Fatalf("Decode: %v after allocating %d bytes, want a SizeError before the pixels", err, got)
	}
	// The pixel limits' errors name the size too.
	_, err = inspectBytes(t, testimg.Bomb(50000, 40000), Limits{})
	if !errors.As(err, &se) || se.Width != 50000 || se.Height != 40000 || se.Bytes != 0 {
		t.Fatalf("bomb: %v (%+v), want a SizeError of 50000×40000", err, se)
	}
}

// waitQueued yields until b has n waiters (no sleeping: the goroutines
// only need to be scheduled).
func waitQueued(t *testing.T, b *Budget, n int) {
	t.Helper()
	for range 1_000_000 {
		b.mu.Lock()
		k := len(b.waiting)
		b.mu.Unlock()
		if k == n {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("never %d waiters", n)
}

func TestBudget(t *testing.T) {
	ctx := context.Background()
	b := NewBudget(10)
	first, err := b.Acquire(ctx, 6)
	if err != nil || b.InUse() != 6 {
		t.Fatalf("first: %v, in use %d", err, b.InUse())
	}
	// got hears which ran; the big one holds its turn until proceed is
	// closed (on a channel of its own: on got it could hear itself).
	got, proceed := make(chan string, 2), make(chan struct{})
	go func() { // more than the whole budget: waits, then runs alone
		release, _ := b.Acquire(ctx, 25)
		got <- "big"
		<-proceed
		release()
	}()
	waitQueued(t, b, 1)
	go func() { // fits beside the first, but queues behind the big one
		release, _ := b.Acquire(ctx, 1)
		got <- "small"
		release()
	}()
	waitQueued(t, b, 2)
	if b.InUse() != 6 {
		t.Fatalf("in use %d while both wait, want 6", b.InUse())
	}
	first()
	first() // a second call gives nothing back twice
	if w := <-got; w != "big" || b.InUse() != 10 {
		t.Fatalf("after the first is released: %s runs, %d in use; want the big one alone", w, b.InUse())
	}
	close(proceed)
	if w := <-got; w != "small" {
		t.Fatalf("then %s, want small", w)
	}

	// A cancelled wait takes nothing and lets the next one in.
	hold, _ := b.Acquire(ctx, 10)
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error)
	go func() {
		_, err := b.Acquire(cctx, 5)
		errc <- err
	}()
	waitQueued(t, b, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	hold()
	if b.InUse() != 0 {
		t.Fatalf("in use %d at the end", b.InUse())
	}
	// The big one, the small one and the cancelled one waited; the
	// budget was full (the big one's 25 counts as the whole 10).
	if peak, waits := b.Stats(); peak != 10 || waits != 3 {
		t.Errorf("stats: peak %d, %d waits; want 10 and 3", peak, waits)
	}
}
