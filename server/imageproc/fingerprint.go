package imageproc

import (
	"image"
	"math"
	"math/bits"
	"slices"
)

// A Fingerprint is the set of perceptual hashes reuse detection compares
// two photos by. A copy passed off as another photo is re-encoded,
// rescaled, brightened, cropped, mirrored, straightened or screenshotted;
// one hash of the whole picture survives the first three but not a crop
// or a mirror. So a fingerprint holds:
//
//   - HashDHash: the 64-bit dHash of the whole picture, the photo's
//     "phash" field since the first version (a photo processed before
//     fingerprints has only this one; it is compared with the same kind
//     within NearDuplicateDistance, as before);
//   - HashFull: the DCT hash (phash.go) of the picture's content, without
//     the black bands of a screenshot;
//   - window hashes: the DCT hashes of 49 windows of the content (see
//     windows): a crop that keeps 75–90% of each side is, as a picture,
//     close to one of them;
//   - the same 50 DCT hashes of the mirrored picture (HashMirrored + kind);
//   - for a lookup only, never stored: the DCT hashes of the content
//     turned by a few degrees either way (HashTurned), for straightened
//     copies, and of the content less 2% at one edge (HashTrimmed), for
//     crops that fall between two windows.
//
// Two photos match (Match) when the dHashes are within
// NearDuplicateDistance, or a DCT hash of one's content, straight or
// mirrored, is within WindowDistance of the other's content or of one of
// its windows, or the other way round, or a turned hash of one is within
// WindowDistance of the other's content or a centred window, or a trimmed
// hash of one within WindowDistance of the other's content or a window.
// The content, the windows and the dHash of every photo are indexed by
// three bands of 21–22 bits (Bands); the mirrored hashes are kept beside
// them only to look the photo up again, never matched as stored, since a
// mirrored query already covers that pair.
type Fingerprint []KindHash

// KindHash is one hash of a fingerprint and what it is a hash of.
type KindHash struct {
	Kind int
	Hash uint64
}

// Kinds of hash in a fingerprint.
const (
	HashDHash = 0 // the dHash of the whole picture (the photo's phash field)
	HashFull  = 1 // the DCT hash of the picture's content
	// Kinds HashFull+1 … HashFull+len(windows) are the windows'.
	// HashMirrored + k is kind k of the mirrored picture (k ≥ HashFull).
	HashMirrored = 100
	// HashTurned + i is the DCT hash of the content turned by turns[i]
	// degrees, cut to the largest upright rectangle inside: a lookup's
	// guess at undoing a straightening, matched like the content but never
	// stored.
	HashTurned = 200
	// HashTrimmed + i is the DCT hash of trims[i] of the content: a
	// lookup's second try at a crop that falls between the other photo's
	// windows, matched like the content but never stored.
	HashTrimmed = 300
)

// CentredKinds are the kinds of the hashes of the whole content and of the
// windows centred on it (each side cut alike at both ends): those a
// turned hash (HashTurned) is matched with, since a straightened copy
// turned back is a centred part of its original, and the original turned
// is the copy's whole. The stores' partial index for these lookups names
// them (migrations 019 and 007: kind IN (1, 2, 3, 4)).
var CentredKinds = func() []int {
	out := []int{HashFull}
	for i, f := range windows {
		if f.x0 == f.y0 && f.x1 == f.y1 && math.Abs(f.x0+f.x1-1) < 1e-9 {
			out = append(out, HashFull+1+i)
		}
	}
	return out
}()

// turns are the angles, in degrees, a lookup turns the new photo's content
// by (HashTurned): a photo straightened by 3–5° either way, then cut to
// an upright rectangle, is within a degree of one of them turned back, and
// its original, turned, within a degree of it. A turn that small leaves
// most of a DCT hash; 4° does not (BenchmarkReuseRecall).
var turns = []float64{-4, 4}

// trims are the frames of the content a lookup hashes besides the content
// itself (HashTrimmed): the content less 2% at its left, top, right or
// bottom edge. A cropped copy's content is compared with the original's
// 49 windows; when the crop falls between them, the copy a little
// smaller is often nearer one (BenchmarkReuseRecall: 0.87 of the uneven
// crops found instead of 0.74, docs/benchmarks.md). Only the
// straight picture's: a mirrored crop is rarer, and each trim adds as
// many comparisons as the content does.
var trims = []frame{{0.02, 0, 1, 1}, {0, 0.02, 1, 1}, {0, 0, 0.98, 1}, {0, 0, 1, 0.98}}

// WindowDistance is the largest Hamming distance between two DCT hashes
// at which their windows are taken to show the same picture. On generated
// photos of alike scenes (BenchmarkReuseRecall, docs/benchmarks.md) every
// false match among 128,700 unrelated pairs was at 10 bits and none
// closer, while 8 keeps 92% of the transformed copies; many more
// comparisons are made than with one dHash, so the limit is lower than
// NearDuplicateDistance.
const WindowDistance = 8

// windows are the frames hashed besides the whole content (kind
// HashFull+1+i for windows[i]), 49 of them:
//
//   - kinds 2–4, centred: the central 82.5%, 87.5% and 77.5% of each side
//     (a centred crop, a straightened copy: CentredKinds);
//   - kinds 5–16, one side whole: the other kept 87.5% or 77.5% at its
//     start, middle or end (a crop from one edge, a letterbox crop);
//   - kinds 17–50, both sides cut: twoSideWindows.
//
// A crop that cuts 10–25% of each side, from one edge or both, is within
// a few percent of one of them.
var windows = func() []frame {
	out := []frame{{0.0875, 0.0875, 0.9125, 0.9125}, {0.0625, 0.0625, 0.9375, 0.9375}, {0.1125, 0.1125, 0.8875, 0.8875}}
	for _, s := range oneSideSpans {
		out = append(out, frame{s[0], 0, s[1], 1}, frame{0, s[0], 1, s[1]})
	}
	return append(out, twoSideWindows...)
}()

// oneSideSpans are the spans [start, end) of a side that the windows with
// the other side whole keep: 87.5% and 77.5% of it, at its start, middle
// or end.
var oneSideSpans = [][2]float64{{0, 0.875}, {0.0625, 0.9375}, {0.125, 1}, {0, 0.775}, {0.1125, 0.8875}, {0.225, 1}}

// twoSideWindows are the windows that cut both sides, for crops that do
// (kinds 17–50). Until the index's third version they were every
// combination of the spans of oneSideSpans on each side (36 windows):
// an uneven crop, its cuts of a side split at random between the side's
// two edges, was often 5% from the nearest (BenchmarkReuseRecall: 0.66 of
// them found). These 34 were chosen greedily, by what the DCT hash
// tolerates rather than by geometry, from the 5,184 windows whose edges
// lie on a grid of 2.5% and cut 7.5–27.5% of each side: at each step the
// window whose hash is within 6 bits of the hashes of the most crops not
// yet found by the other windows, among 900 uneven crops and 450 crops
// of two adjacent edges (weighted twice, the date stamp in a corner) of
// 150 generated scenes other than the benchmark's (TestWindowSearch).
// They find 0.74 of the benchmark's uneven crops (0.87 with the trims)
// with the same number of windows, and as many of the other crops.
var twoSideWindows = []frame{
	{0, 0, 0.775, 0.8}, {0, 0, 0.775, 0.875}, {0, 0, 0.825, 0.8},
	{0, 0, 0.875, 0.775}, {0, 0.025, 0.875, 0.875}, {0, 0.15, 0.775, 1},
	{0, 0.15, 0.875, 1}, {0, 0.175, 0.825, 1}, {0, 0.225, 0.775, 1},
	{0, 0.225, 0.875, 1}, {0.025, 0, 0.85, 0.825}, {0.025, 0.025, 0.825, 0.875},
	{0.025, 0.075, 0.85, 0.925}, {0.025, 0.125, 0.825, 0.95}, {0.05, 0.025, 0.925, 0.875},
	{0.05, 0.05, 0.875, 0.9}, {0.05, 0.05, 0.9, 0.825}, {0.05, 0.125, 0.875, 0.95},
	{0.05, 0.15, 0.9, 0.975}, {0.075, 0.1, 0.95, 0.975}, {0.1, 0, 0.975, 0.875},
	{0.1, 0, 1, 0.825}, {0.1, 0.075, 0.975, 0.9}, {0.1, 0.15, 0.975, 0.975},
	{0.125, 0.025, 1, 0.9}, {0.125, 0.1, 0.975, 0.95}, {0.15, 0, 1, 0.8},
	{0.15, 0.15, 1, 1}, {0.15, 0.225, 1, 1}, {0.175, 0, 1, 0.85},
	{0.175, 0.125, 1, 0.975}, {0.2, 0, 1, 0.75}, {0.225, 0, 1, 0.85},
	{0.225, 0.2, 1, 1},
}

// Indexed reports whether hashes of this kind are stored in the band
// index: all but the mirrored, turned and trimmed ones.
func Indexed(kind int) bool { return kind < HashMirrored }

// Mirrors returns the kind of the hash of the mirror image that goes with
// a hash of kind k (stored in the same row), and whether there is one:
// every DCT hash has one, the dHash none.
func Mirrors(k int) (int, bool) {
	return k + HashMirrored, k >= HashFull && k < HashMirrored
}

// Fingerprint returns the picture's fingerprint as displayed (with its
// EXIF orientation applied): nil for a picture too uniform to hash (see
// MinDHashSpread). Its dHash, when it has one, comes first.
func (p *Picture) Fingerprint() Fingerprint {
	h, sp := p.dhash()
	return fingerprint(toGrey(p.img).orient(p.EXIF.Orientation), h, sp)
}

// FingerprintOf returns the fingerprint of img as given (no orientation),
// nil for a picture too uniform to hash.
func FingerprintOf(img image.Image) Fingerprint {
	h, sp := dhashImage(img)
	return fingerprint(toGrey(img), h, sp)
}

// MinDHashSpread and MinDCTSpread are the least spread (see spread), in
// grey levels of 255, of a dHash and of a DCT hash that says something
// about a picture. A hash compares 64 pairs of values — neighbouring
// blocks for the dHash, low-frequency coefficients with their median for
// a DCT hash — and a comparison decided by less than the noise of a
// camera and of JPEG coding is a coin flip or, where the values are
// equal, always the same bit: every flat picture (a black shot of a
// covered lens, a white blown-out one, a blank wall) had the dHash
// 0000000000000000 and matched every other at distance 0. So a hash is
// kept only when at least half its comparisons are decided by more than
// its minimum spread.
//
// Measured on JPEGs through the preview (TestFlatPicturesHaveNoFingerprint
// keeps the cases): flat pictures of grey levels 0–255 with Gaussian noise
// of σ up to 8 levels have DCT spreads of at most 0.32 (0.03 from 800×600
// up), and dHash spreads of at most 0.4 with σ up to 2 (0.7 with σ 4, 1.1
// with σ 8, at 64×48; under 0.13 from 800×600 up); a vertical gradient
// has 0. The 60 generated scenes of 800×600 (sky, ground, buildings; and
// patterns) have dHash spreads of 2.7 or more, and DCT spreads of 1.5 or
// more for their content and 0.9 or more for every window.
const (
	MinDHashSpread = 1.0
	MinDCTSpread   = 0.5
)

// spread returns the spread of a hash whose comparisons are decided by
// margins (in grey levels): the margin that half of them exceed.
func spread(margins []float64) float64 {
	s := slices.Clone(margins)
	slices.Sort(s)
	return s[len(s)/2]
}

// fingerprint returns the fingerprint of grey picture g, whose dHash is
// dhash, of spread dSpread: the hashes whose spread is not under their
// minimum (MinDHashSpread, MinDCTSpread), nil if none is. The hash of a
// flat part of a picture (a black band, a sky) would match any other
// flat part; a picture with no hash left is too uniform to hash, and
// has no phash. The dHash alone may go (a screenshot's black bars, a
// picture half sky make most of its comparisons), leaving the DCT hashes
// of the content.
func fingerprint(g *grey, dhash uint64, dSpread float64) Fingerprint {
	fp := make(Fingerprint, 0, 1+2*(1+len(windows))+len(turns)+len(trims))
	if dSpread >= MinDHashSpread {
		fp = append(fp, KindHash{HashDHash, dhash})
	}
	add := func(kind int, h uint64, sp float64) {
		if sp >= MinDCTSpread {
			fp = append(fp, KindHash{kind, h})
		}
	}
	r, t := g.content(), g.integral()
	for i, gg := range []*grey{g, g.mirror()} {
		gr, gt := r, t
		if i > 0 {
			gr, gt = gg.content(), gg.integral()
		}
		base := HashFull + i*HashMirrored
		h, sp := gt.hashFrame(gr, frame{0, 0, 1, 1})
		add(base, h, sp)
		for k, f := range windows {
			h, sp := gt.hashFrame(gr, f)
			add(base+1+k, h, sp)
		}
	}
	for i, f := range trims {
		h, sp := t.hashFrame(r, f)
		add(HashTrimmed+i, h, sp)
	}
	for i, deg := range turns {
		tg := g.turned(r, deg)
		h, sp := tg.integral().hashFrame(image.Rect(0, 0, tg.w, tg.h), frame{0, 0, 1, 1})
		add(HashTurned+i, h, sp)
	}
	if len(fp) == 0 {
		return nil
	}
	return fp
}

// NumBands is the number of bands a hash is indexed by (Bands).
const NumBands = 3

// Bands splits a hash into the three bands it is indexed by, of 22, 21
// and 21 bits: bit p of the hash (0 the least significant) is bit p/3 of
// band p%3. Interleaved, each band mixes coarse and fine frequencies of a
// DCT hash, whose most significant bits, the coarsest, are alike in many
// photos (sky above, ground below): contiguous bands would crowd the
// index's values. Two hashes within 8 bits have a band within 2 bits of
// each other (pigeonhole: three bands 3 bits apart or more are 9 bits),
// so probing each band's values within 2 bits finds every hash within
// WindowDistance.
func Bands(h uint64) [NumBands]uint32 {
	var b [NumBands]uint32
	for p := range 64 {
		b[p%NumBands] |= uint32(h>>p&1) << (p / NumBands)
	}
	return b
}

// bandBits is the width of each band of Bands.
var bandBits = [NumBands]int{22, 21, 21}

// BandProbes are the band values a lookup asks the index for, by band
// (Fingerprint.Probes): DHash finds stored dHashes (kind HashDHash), Any
// stored hashes of every kind, Full stored hashes of whole contents (kind
// HashFull), Centre stored hashes of the CentredKinds.
type BandProbes struct {
	DHash, Any, Full, Centre [NumBands][]uint32
}

// Probes returns the band values to look the fingerprint up by: for each
// hash, every value within 2 bits of each of its bands, so that every
// stored hash within 8 bits of it (WindowDistance) that the rules of
// Match allow is found, whichever of the two photos looks the other up.
// The dHash is probed against stored dHashes, both content hashes
// (straight and mirrored) and the trimmed ones against stored hashes of
// any kind, the windows only against stored whole contents, and the
// turned contents against the stored contents and centred windows.
// dHashes 9 or 10 bits apart are found most of the time (see the recall
// figures in docs/benchmarks.md). Each band's values are sorted, without
// repeats.
func (f Fingerprint) Probes() BandProbes {
	var p BandProbes
	for _, kh := range f {
		set := &p.Full
		switch {
		case kh.Kind == HashDHash:
			set = &p.DHash
		case kh.Kind == HashFull, kh.Kind == HashMirrored+HashFull, kh.Kind >= HashTrimmed:
			set = &p.Any
		case kh.Kind >= HashTurned:
			set = &p.Centre
		}
		for band, v := range Bands(kh.Hash) {
			n := bandBits[band]
			out := append(set[band], v)
			for i := range n {
				vi := v ^ 1<<i
				out = append(out, vi)
				for j := i + 1; j < n; j++ {
					out = append(out, vi^1<<j)
				}
			}
			set[band] = out
		}
	}
	for _, set := range []*[NumBands][]uint32{&p.DHash, &p.Any, &p.Full, &p.Centre} {
		for band := range set {
			slices.Sort(set[band])
			set[band] = slices.Compact(set[band])
		}
	}
	return p
}

// A Match says how a fingerprint matched a stored hash.
type Match struct {
	Distance int  // bits
	Mirrored bool // the query's mirror image matched
	Cropped  bool // a window of one matched the content of the other
}

// Match compares fingerprint f with one indexed hash of another photo and
// reports whether they match, and how closely: the smallest distance of
// the comparisons Fingerprint's rules allow (a dHash with a dHash; a
// content hash, straight, mirrored or trimmed, with any DCT hash; a window
// with a content hash; a turned content with a content or centred window,
// CentredKinds).
func (f Fingerprint) Match(kind int, hash uint64) (Match, bool) {
	best, ok := Match{Distance: 65}, false
	try := func(q KindHash, limit int) {
		d := bits.OnesCount64(q.Hash ^ hash)
		if d > limit || d >= best.Distance {
			return
		}
		qk := q.Kind
		mirrored := qk >= HashMirrored+HashFull && qk < HashTurned
		if mirrored {
			qk -= HashMirrored
		}
		best, ok = Match{Distance: d, Mirrored: mirrored, Cropped: qk > HashFull || kind > HashFull}, true
	}
	for _, q := range f {
		switch {
		case kind == HashDHash || q.Kind == HashDHash:
			if kind == q.Kind {
				try(q, NearDuplicateDistance)
			}
		case q.Kind >= HashTrimmed:
			try(q, WindowDistance) // f trimmed against the other's content or window
		case q.Kind >= HashTurned:
			if slices.Contains(CentredKinds, kind) {
				try(q, WindowDistance) // f turned against the other's content or centred window
			}
		case kind == HashFull:
			try(q, WindowDistance) // any DCT hash of f against the other's content
		case q.Kind == HashFull || q.Kind == HashMirrored+HashFull:
			try(q, WindowDistance) // f's content against the other's window
		}
	}
	return best, ok
}
