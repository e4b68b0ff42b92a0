package imageproc

import (
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// A reuse transform: what is done to a photo to pass it off as another.
type reuseTransform struct {
	name string
	do   func(img image.Image, rng *rand.Rand) image.Image
}

// reuseTransforms are the transforms BenchmarkReuseRecall measures, each
// with its parameters drawn per photo from the ranges the issue names.
var reuseTransforms = []reuseTransform{
	{"reencode", func(img image.Image, rng *rand.Rand) image.Image { return testimg.Reencode(img, 50+rng.IntN(21)) }},
	{"resize50", func(img image.Image, rng *rand.Rand) image.Image { return testimg.Scale(img, 0.5) }},
	{"brightness", func(img image.Image, rng *rand.Rand) image.Image {
		f := 1 + (0.15+0.1*rng.Float64())*sign(rng)
		return testimg.Reencode(testimg.Brightness(img, f), 85)
	}},
	{"saturation", func(img image.Image, rng *rand.Rand) image.Image {
		return testimg.Reencode(testimg.Saturation(img, []float64{0.3, 1.6}[rng.IntN(2)]), 85)
	}},
	{"mirror", func(img image.Image, rng *rand.Rand) image.Image { return testimg.Reencode(imaging.FlipH(img), 85) }},
	{"crop", func(img image.Image, rng *rand.Rand) image.Image {
		// 10–25% of each side, split at random between its two edges.
		cut := func() (float64, float64) { c := 0.10 + 0.15*rng.Float64(); a := c * rng.Float64(); return a, c - a }
		l, r := cut()
		t, b := cut()
		return testimg.Reencode(testimg.Crop(img, l, t, r, b), 85)
	}},
	{"crop_one_edge", func(img image.Image, rng *rand.Rand) image.Image {
		var cut [4]float64
		cut[rng.IntN(4)] = 0.10 + 0.15*rng.Float64()
		return testimg.Reencode(testimg.Crop(img, cut[0], cut[1], cut[2], cut[3]), 85)
	}},
	{"crop_centred", func(img image.Image, rng *rand.Rand) image.Image {
		c := (0.10 + 0.15*rng.Float64()) / 2
		return testimg.Reencode(testimg.Crop(img, c, c, c, c), 85)
	}},
	{"rotate", func(img image.Image, rng *rand.Rand) image.Image {
		return testimg.Reencode(testimg.Rotate(img, (3+2*rng.Float64())*sign(rng)), 85)
	}},
	{"mirror_crop", func(img image.Image, rng *rand.Rand) image.Image {
		c := (0.10 + 0.10*rng.Float64()) / 2
		return testimg.Reencode(imaging.FlipH(testimg.Crop(img, c, c, c, c)), 85)
	}},
	{"screenshot", func(img image.Image, rng *rand.Rand) image.Image { return testimg.Screenshot(img, 1080, 2340) }},
	{"screenshot_jpeg", func(img image.Image, rng *rand.Rand) image.Image {
		return testimg.Reencode(testimg.Screenshot(img, 720, 1560), 70)
	}},
	// Last, so that the others draw the same parameters as before it.
	{"crop_corner", func(img image.Image, rng *rand.Rand) image.Image {
		// 10–25% from each of two adjacent edges (a date stamp's corner).
		var cut [4]float64
		k := rng.IntN(4)
		cut[k], cut[(k+1)%4] = 0.10+0.15*rng.Float64(), 0.10+0.15*rng.Float64()
		return testimg.Reencode(testimg.Crop(img, cut[0], cut[1], cut[2], cut[3]), 85)
	}},
}

func sign(rng *rand.Rand) float64 {
	if rng.IntN(2) == 0 {
		return -1
	}
	return 1
}

// bandIndex is the store's band index in memory: indexed hashes by band
// value, the candidates of a lookup verified with Fingerprint.Match, as
// the processor does with the store's rows.
type bandIndex struct {
	bands [NumBands]map[uint32][]indexRow
}

type indexRow struct {
	photo int
	kh    KindHash
}

func (x *bandIndex) add(photo int, fp Fingerprint) {
	for _, kh := range fp {
		if !Indexed(kh.Kind) {
			continue
		}
		for i, v := range Bands(kh.Hash) {
			if x.bands[i] == nil {
				x.bands[i] = map[uint32][]indexRow{}
			}
			x.bands[i][v] = append(x.bands[i][v], indexRow{photo, kh})
		}
	}
}

// lookup returns the photos fp matches with the closest distance of each,
// and how many candidate rows the bands gave.
func (x *bandIndex) lookup(fp Fingerprint) (map[int]int, int) {
	out, n := map[int]int{}, 0
	p := fp.Probes()
	for set, probes := range [][NumBands][]uint32{p.Any, p.DHash, p.Full, p.Centre} {
		for i, vs := range probes {
			for _, v := range vs {
				for _, r := range x.bands[i][v] {
					if (set == 1 && r.kh.Kind != HashDHash) || (set == 2 && r.kh.Kind != HashFull) ||
						(set == 3 && !slices.Contains(CentredKinds, r.kh.Kind)) {
						continue // the store's partial indexes hold only these
					}
					n++
					if m, ok := fp.Match(r.kh.Kind, r.kh.Hash); ok {
						if d, seen := out[r.photo]; !seen || m.Distance < d {
							out[r.photo] = m.Distance
						}
					}
				}
			}
		}
	}
	return out, n
}

// BenchmarkReuseRecall measures reuse detection on generated photos: of
// reusePhotos distinct scenes (testimg.Scene), each transformed photo is
// looked up in a band index holding every original, as the processor looks
// it up in the store. recall_<transform> is the share of transformed
// photos that match their own original; false_match_rate the share of
// (query, unrelated original) pairs that match, over every transformed
// photo and every original it was not made from; candidates_per_lookup the
// rows the bands gave per lookup. Run with -benchtime=1x: the figures do
// not depend on b.N.
func BenchmarkReuseRecall(b *testing.B) {
	const reusePhotos = 100
	for b.Loop() {
		rng := rand.New(rand.NewPCG(15, 1))
		originals := make([]image.Image, reusePhotos)
		var idx bandIndex
		for i := range originals {
			w, h := 800, 600
			if i%4 == 3 {
				w, h = 600, 800 // some portrait photos
			}
			originals[i] = testimg.Scene(uint64(1000+i), w, h)
			idx.add(i, FingerprintOf(testimg.Reencode(originals[i], 90)))
		}
		var falseMatches, pairs, candidates, lookups int
		var missed []string
		// Distances of true and false matches, for the table by limit.
		var trueAt, falseAt [max(WindowDistance, NearDuplicateDistance) + 1]int
		for _, tr := range reuseTransforms {
			found := 0
			for i, img := range originals {
				m, n := idx.lookup(FingerprintOf(tr.do(img, rng)))
				candidates += n
				lookups++
				if d, ok := m[i]; ok {
					found++
					trueAt[d]++
				} else if len(missed) < 10 {
					missed = append(missed, fmt.Sprintf("%s/%d", tr.name, i))
				}
				delete(m, i)
				for _, d := range m {
					falseAt[d]++
				}
				falseMatches += len(m)
				pairs += reusePhotos - 1
			}
			b.ReportMetric(float64(found)/reusePhotos, "recall_"+tr.name)
		}
		// Unrelated originals against each other.
		for i, img := range originals {
			m, _ := idx.lookup(FingerprintOf(testimg.Reencode(img, 80)))
			delete(m, i)
			for _, d := range m {
				falseAt[d]++
			}
			falseMatches += len(m)
			pairs += reusePhotos - 1
		}
		b.ReportMetric(float64(falseMatches)/float64(pairs), "false_match_rate")
		b.ReportMetric(float64(falseMatches), "false_matches")
		b.ReportMetric(float64(pairs), "unrelated_pairs")
		b.ReportMetric(float64(candidates)/float64(lookups), "candidates_per_lookup")
		var tp, fp int
		for d := range trueAt {
			tp += trueAt[d]
			fp += falseAt[d]
			if d < 4 {
				continue // b.Logf keeps ten lines
			}
			b.Logf("within %2d bits: %4d true matches (recall %.3f), %2d false", d, tp, float64(tp)/float64(len(reuseTransforms)*reusePhotos), fp)
		}
		b.Logf("first misses: %v", missed)
	}
}
