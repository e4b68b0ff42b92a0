package imageproc

import (
	"image"
	"math/bits"
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
//     windows): a crop that keeps 75–100% of each side is, as a picture,
//     close to one of them;
//   - the same 50 DCT hashes of the mirrored picture (HashMirrored + kind).
//
// Two photos match (Match) when the dHashes are within
// NearDuplicateDistance, or a DCT hash of one's content, straight or
// mirrored, is within WindowDistance of the other's content or of one of
// its windows, or the other way round. The windows and the dHash of every
// photo are indexed by four 16-bit bands (Bands); the mirrored hashes are
// kept beside them only to look the photo up again, never matched as
// stored, since a mirrored query already covers that pair.
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
)

// WindowDistance is the largest Hamming distance between two DCT hashes
// at which their windows are taken to show the same picture. On generated
// photos of alike scenes (BenchmarkReuseRecall, docs/benchmarks.md) every
// false match among 128,700 unrelated pairs was at 10 bits and none
// closer, while 8 keeps 92% of the transformed copies; many more
// comparisons are made than with one dHash, so the limit is lower than
// NearDuplicateDistance.
const WindowDistance = 8

// windows are the frames hashed besides the whole content (kind
// HashFull+1+i for windows[i]): the central 90%, and every combination of
// a side kept whole, or 85% or 75% of it kept at its start, middle or end
// (the side's other edges cut), for each side — 49 windows. A crop that
// cuts up to a quarter of each side, from one edge or both, is within a
// few percent of one of them.
var windows = func() []frame {
	type span struct{ a, b float64 }
	spans := []span{{0, 1}}
	for _, s := range []float64{0.85, 0.75} {
		for _, at := range []float64{0, 0.5, 1} {
			spans = append(spans, span{(1 - s) * at, (1-s)*at + s})
		}
	}
	out := []frame{{0.05, 0.05, 0.95, 0.95}}
	for _, y := range spans {
		for _, x := range spans {
			if x != spans[0] || y != spans[0] {
				out = append(out, frame{x.a, y.a, x.b, y.b})
			}
		}
	}
	return out
}()

// Indexed reports whether hashes of this kind are stored in the band
// index: all but the mirrored ones.
func Indexed(kind int) bool { return kind < HashMirrored }

// Mirrors returns the kind of the hash of the mirror image that goes with
// a hash of kind k (stored in the same row), and whether there is one:
// every DCT hash has one, the dHash none.
func Mirrors(k int) (int, bool) {
	return k + HashMirrored, k >= HashFull && k < HashMirrored
}

// Fingerprint returns the picture's fingerprint as displayed (with its
// EXIF orientation applied).
func (p *Picture) Fingerprint() Fingerprint {
	b := p.img.Bounds()
	w, h := fitSize(b.Dx(), b.Dy(), workSide)
	small := orient(areaAverage(p.img, max(w, 1), max(h, 1)), p.EXIF.Orientation)
	return fingerprint(small, p.DHash())
}

// FingerprintOf returns the fingerprint of img as given (no orientation).
func FingerprintOf(img image.Image) Fingerprint {
	return fingerprint(img, DHash(img))
}

func fingerprint(img image.Image, dhash uint64) Fingerprint {
	g := toGrey(img)
	fp := make(Fingerprint, 0, 1+2*(1+len(windows)))
	fp = append(fp, KindHash{HashDHash, dhash})
	for i, gg := range []*grey{g, g.mirror()} {
		r, t := gg.content(), gg.integral()
		base := HashFull + i*HashMirrored
		fp = append(fp, KindHash{base, t.hashFrame(r, frame{0, 0, 1, 1})})
		for k, f := range windows {
			fp = append(fp, KindHash{base + 1 + k, t.hashFrame(r, f)})
		}
	}
	return fp
}

// Bands splits a hash into the four 16-bit bands it is indexed by, most
// significant first. Two hashes within 3 bits have one band equal
// (pigeonhole); within 7 bits, one band within 1 bit.
func Bands(h uint64) [4]uint16 {
	return [4]uint16{uint16(h >> 48), uint16(h >> 32), uint16(h >> 16), uint16(h)}
}

// Probes returns, per band, the band values to look the fingerprint up
// by, each hash's own and every value one bit from it, so that every
// stored hash within 7 bits of one of them is found whichever of the two
// photos looks the other up (a band of a 64-bit hash 7 bits away is
// within one bit: pigeonhole): anyKind are the dHash's and both content
// hashes', to be matched with stored hashes of any kind; full are the
// windows', to be matched only with stored hashes of whole contents
// (HashFull). Hashes further apart, up to the match distances, are found
// most of the time (see the recall figures in docs/benchmarks.md).
func (f Fingerprint) Probes() (anyKind, full [4][]uint16) {
	var seen [2][4]map[uint16]bool
	add := func(set int, out *[4][]uint16, h uint64) {
		for band, v := range Bands(h) {
			if seen[set][band] == nil {
				seen[set][band] = map[uint16]bool{}
			}
			for b := -1; b < 16; b++ {
				p := v
				if b >= 0 {
					p ^= 1 << b
				}
				if !seen[set][band][p] {
					seen[set][band][p] = true
					out[band] = append(out[band], p)
				}
			}
		}
	}
	for _, kh := range f {
		if kh.Kind == HashDHash || kh.Kind == HashFull || kh.Kind == HashMirrored+HashFull {
			add(0, &anyKind, kh.Hash)
		} else {
			add(1, &full, kh.Hash)
		}
	}
	return anyKind, full
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
// content hash with any DCT hash; a window with a content hash).
func (f Fingerprint) Match(kind int, hash uint64) (Match, bool) {
	best, ok := Match{Distance: 65}, false
	try := func(q KindHash, limit int) {
		d := bits.OnesCount64(q.Hash ^ hash)
		if d > limit || d >= best.Distance {
			return
		}
		qk := q.Kind
		mirrored := qk >= HashMirrored+HashFull
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
		case kind == HashFull:
			try(q, WindowDistance) // any DCT hash of f against the other's content
		case q.Kind == HashFull || q.Kind == HashMirrored+HashFull:
			try(q, WindowDistance) // f's content against the other's window
		}
	}
	return best, ok
}
