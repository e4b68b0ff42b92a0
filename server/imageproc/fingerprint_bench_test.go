package imageproc_test

import (
	"bytes"
	"image/jpeg"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// BenchmarkFingerprint is the cost of one photo's fingerprint as the
// processor takes it: from its 1280×960 preview, decoded from JPEG.
func BenchmarkFingerprint(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimg.Scene(42, 1280, 960), &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	pic, err := imageproc.Decode(bytes.NewReader(buf.Bytes()), imageproc.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		pic.Fingerprint()
	}
}
