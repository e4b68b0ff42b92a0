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

// BenchmarkProbes is the cost of a lookup's band values: every value within
// 2 bits of each band of a photo's 107 hashes, sorted and without repeats
// per set and band (about 64,000 for this scene).
func BenchmarkProbes(b *testing.B) {
	fp := imageproc.FingerprintOf(testimg.Scene(42, 800, 600))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		p := fp.Probes()
		n = 0
		for _, set := range [][imageproc.NumBands][]uint32{p.Any, p.DHash, p.Full, p.Centre} {
			for _, vs := range set {
				n += len(vs)
			}
		}
	}
	b.ReportMetric(float64(n), "values/op")
}
