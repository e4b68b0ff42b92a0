package imageproc

import (
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// stored returns the hashes of fp the index holds.
func stored(fp Fingerprint) []KindHash {
	return slices.DeleteFunc(slices.Clone(fp), func(kh KindHash) bool { return !Indexed(kh.Kind) })
}

// bestMatch is the closest match of fp with any indexed hash of other.
func bestMatch(fp, other Fingerprint) (Match, bool) {
	best, found := Match{Distance: 65}, false
	for _, kh := range stored(other) {
		if m, ok := fp.Match(kh.Kind, kh.Hash); ok && m.Distance < best.Distance {
			best, found = m, true
		}
	}
	return best, found
}

// TestFingerprintMatches: each transform matches its original from both
// sides, and says whether it was mirrored; another scene does not match.
func TestFingerprintMatches(t *testing.T) {
	scene := testimg.Scene(31, 800, 600)
	orig := FingerprintOf(scene)
	if n := len(orig); n != 1+2*(1+len(windows))+len(turns)+len(trims) || len(stored(orig)) != 51 {
		t.Fatalf("fingerprint of %d hashes, %d indexed; want 107 and 51", n, len(stored(orig)))
	}
	for _, tc := range []struct {
		name     string
		fp       Fingerprint
		mirrored bool
	}{
		{"re-encoded", FingerprintOf(testimg.Reencode(scene, 50)), false},
		{"mirrored", FingerprintOf(imaging.FlipH(scene)), true},
		{"a fifth cut from the bottom", FingerprintOf(testimg.Crop(scene, 0, 0, 0, 0.2)), false},
		{"mirrored, a tenth cut from the left", FingerprintOf(imaging.FlipH(testimg.Crop(scene, 0.1, 0, 0, 0))), true},
		{"screenshot", FingerprintOf(testimg.Screenshot(scene, 720, 1560)), false},
	} {
		m, ok := bestMatch(tc.fp, orig)
		if !ok || m.Mirrored != tc.mirrored {
			t.Errorf("%s → original: %+v %v, want a match, mirrored %v", tc.name, m, ok, tc.mirrored)
		}
		if _, ok := bestMatch(orig, tc.fp); !ok {
			t.Errorf("original → %s: no match", tc.name)
		}
	}
	if m, ok := bestMatch(FingerprintOf(testimg.Scene(32, 800, 600)), orig); ok {
		t.Errorf("another scene matches: %+v", m)
	}
}

// TestStraightenedMatches: a copy straightened by 4–5° either way (turned,
// cut to an upright rectangle) matches its original through the turned
// content hashes, from both sides; the windows and contents alone miss
// these two.
func TestStraightenedMatches(t *testing.T) {
	for _, tc := range []struct {
		seed uint64
		deg  float64
	}{{1001, 4.5}, {1000, -5}} {
		scene := testimg.Scene(tc.seed, 800, 600)
		orig, deg := FingerprintOf(testimg.Reencode(scene, 90)), tc.deg
		fp := FingerprintOf(testimg.Reencode(testimg.Rotate(scene, deg), 85))
		if m, ok := bestMatch(fp, orig); !ok || !m.Cropped || m.Mirrored {
			t.Errorf("straightened by %v° → original: %+v %v, want a cropped match", deg, m, ok)
		}
		if m, ok := bestMatch(orig, fp); !ok || !m.Cropped {
			t.Errorf("original → straightened by %v°: %+v %v, want a cropped match", deg, m, ok)
		}
	}
}

// TestMatchRules: a dHash is compared only with a dHash, a window only with
// a whole content, and distances beyond the limits do not match.
func TestMatchRules(t *testing.T) {
	fp := Fingerprint{{HashDHash, 0}, {HashFull, 0}, {HashFull + 1, 0xff}, {HashMirrored + HashFull, 0xffff}, {HashTurned + 1, 0xff00_0000}, {HashTrimmed + 2, 0xff << 48}}
	for _, tc := range []struct {
		name string
		kind int
		hash uint64
		want Match
		ok   bool
	}{
		{"dHash with dHash", HashDHash, 0b111, Match{Distance: 3}, true},
		{"dHash at the limit", HashDHash, 1<<NearDuplicateDistance - 1, Match{Distance: NearDuplicateDistance}, true},
		{"dHash beyond the limit", HashDHash, 1<<(NearDuplicateDistance+1) - 1, Match{}, false},
		{"content with content", HashFull, 0b1, Match{Distance: 1}, true},
		{"window with content", HashFull, 0xff, Match{Distance: 0, Cropped: true}, true},
		{"mirror with content", HashFull, 0xffff, Match{Distance: 0, Mirrored: true}, true},
		{"content with a stored window", HashFull + 7, 0b11, Match{Distance: 2, Cropped: true}, true},
		{"window with a stored window is not compared", HashFull + 7, 0xff, Match{Distance: 8, Cropped: true}, true},
		{"window with a stored window, content too far", HashFull + 7, 0x1ff << 20, Match{}, false},
		{"content beyond the limit", HashFull, 1<<(WindowDistance+1) - 1 | 0xff<<40, Match{}, false},
		{"turned with content", HashFull, 0xff00_0001, Match{Distance: 1, Cropped: true}, true},
		{"turned with a centred window", 3, 0xff00_0000, Match{Distance: 0, Cropped: true}, true},
		{"turned with another window is not compared", 17, 0xff00_0000, Match{Distance: 8, Cropped: true}, true},
		{"turned with another window, content too far", 17, 0xff00_0000 | 0x1ff<<40, Match{}, false},
		{"trimmed with a stored window", 30, 0xff<<48 | 0b1, Match{Distance: 1, Cropped: true}, true},
		{"trimmed with content", HashFull, 0xff<<48 | 0b11, Match{Distance: 2, Cropped: true}, true},
		{"trimmed beyond the limit", 30, 0xff<<48 | 0x1ff<<8, Match{}, false},
	} {
		m, ok := fp.Match(tc.kind, tc.hash)
		if ok != tc.ok || (ok && m != tc.want) {
			t.Errorf("%s: %+v %v, want %+v %v", tc.name, m, ok, tc.want, tc.ok)
		}
	}
	p := Fingerprint{{HashDHash, 0x8000_0000_0000_0000}, {HashFull, 0x0001_0002_0003_0004}, {HashFull + 1, 0xf0f0_f0f0_f0f0_f0f0},
		{HashTurned, 0x0001_0002_0003_0004}}.Probes()
	if !slices.Equal(CentredKinds, []int{1, 2, 3, 4}) {
		t.Errorf("centred kinds %v, want 1, 2, 3, 4 (the stores' partial indexes name them)", CentredKinds)
	}
	within2 := func(n int) int { return 1 + n + n*(n-1)/2 }
	content, window := Bands(0x0001_0002_0003_0004), Bands(0xf0f0_f0f0_f0f0_f0f0)
	for band, n := range bandBits {
		if !slices.Contains(p.Any[band], content[band]) || !slices.Contains(p.Any[band], content[band]^0b101) ||
			slices.Contains(p.Any[band], content[band]^0b111) || len(p.Any[band]) != within2(n) {
			t.Errorf("content probes of band %d: %d values, want its %d within 2 bits", band, len(p.Any[band]), within2(n))
		}
		if !slices.Contains(p.Full[band], window[band]) || slices.Contains(p.Full[band], content[band]) || len(p.Full[band]) != within2(n) {
			t.Errorf("window probes of band %d: %d values, want the window's only", band, len(p.Full[band]))
		}
		if !slices.Equal(p.Centre[band], p.Any[band]) {
			t.Errorf("turned probes of band %d: %d values, want the turned hash's", band, len(p.Centre[band]))
		}
		if len(p.DHash[band]) != within2(n) || !slices.IsSorted(p.DHash[band]) {
			t.Errorf("dHash probes of band %d: %d values, want %d, sorted", band, len(p.DHash[band]), within2(n))
		}
	}
	// A trimmed content is probed as the content, against every kind.
	trimmed := Fingerprint{{HashTrimmed + 3, 0x0001_0002_0003_0004}}.Probes()
	for band := range bandBits {
		if !slices.Equal(trimmed.Any[band], p.Any[band]) || len(trimmed.Full[band]) > 0 || len(trimmed.Centre[band]) > 0 || len(trimmed.DHash[band]) > 0 {
			t.Errorf("trimmed probes of band %d: %d of any kind, %d, %d, %d; want the content's, of any kind only",
				band, len(trimmed.Any[band]), len(trimmed.Full[band]), len(trimmed.Centre[band]), len(trimmed.DHash[band]))
		}
	}
	if last := p.DHash[0][len(p.DHash[0])-1]; last != 1<<21|1<<20|1<<19 {
		t.Errorf("dHash probes of band 0 end at %x, want 380000 (its top bit and the next two set)", last)
	}
}

// TestBandsFindWithinEight: every hash within 8 bits of another has a band
// within 2 bits of the other's (what Probes relies on), and the bands
// together are the hash.
func TestBandsFindWithinEight(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for range 20000 {
		a := rng.Uint64()
		b := a
		for range rng.IntN(9) {
			b ^= 1 << rng.IntN(64)
		}
		ba, bb := Bands(a), Bands(b)
		near := false
		for i := range ba {
			near = near || bits.OnesCount32(ba[i]^bb[i]) <= 2
		}
		if !near {
			t.Fatalf("%x and %x (%d bits apart): no band within 2 bits", a, b, bits.OnesCount64(a^b))
		}
		var back uint64
		for p := range 64 {
			back |= uint64(ba[p%3]>>(p/3)&1) << p
		}
		if back != a || ba[0] >= 1<<22 || ba[1] >= 1<<21 || ba[2] >= 1<<21 {
			t.Fatalf("bands of %x make %x", a, back)
		}
	}
}

// TestGreyOrient: turning the grey picture is turning the picture, for
// every EXIF orientation.
func TestGreyOrient(t *testing.T) {
	img := imaging.Clone(testimg.Scene(5, 60, 40))
	for o := 1; o <= 8; o++ {
		want, got := toGrey(orient(img, o)), toGrey(img).orient(o)
		if got.w != want.w || got.h != want.h || !slices.Equal(got.v, want.v) {
			t.Errorf("orientation %d: %d×%d grey differs from the turned picture's %d×%d", o, got.w, got.h, want.w, want.h)
		}
	}
}

// TestLumaGrey: a decoded JPEG's grey picture, from its Y plane alone, is
// the luma of its colours within rounding, and its hashes within 2 bits of
// those of the colours.
func TestLumaGrey(t *testing.T) {
	img := testimg.Reencode(testimg.Scene(6, 1280, 960), 85)
	src, ok := img.(*image.YCbCr)
	if !ok {
		t.Fatalf("decoded JPEG is %T", img)
	}
	luma := toGrey(src)
	rgb := toGrey(imaging.Clone(src))
	if luma.w != 256 || luma.h != 192 || rgb.w != luma.w || rgb.h != luma.h {
		t.Fatalf("grey %d×%d and %d×%d, want 256×192", luma.w, luma.h, rgb.w, rgb.h)
	}
	var diff float64
	for i := range luma.v {
		diff += math.Abs(luma.v[i] - rgb.v[i])
	}
	if mean := diff / float64(len(luma.v)); mean > 1 {
		t.Errorf("mean difference %.2f grey levels from the colours' luma, want under 1", mean)
	}
	a, b := fingerprint(luma, 0, MinDHashSpread), fingerprint(rgb, 0, MinDHashSpread)
	for i := range a {
		if d := bits.OnesCount64(a[i].Hash ^ b[i].Hash); d > 2 {
			t.Errorf("hash of kind %d: %d bits from the colours', want at most 2", a[i].Kind, d)
		}
	}
}

// TestLumaDHash: a decoded JPEG's dHash, from its Y plane alone, is within
// 2 bits of the dHash of its colours, for every orientation, and the
// picture's fingerprint carries it.
func TestLumaDHash(t *testing.T) {
	for seed := range uint64(4) {
		src := testimg.Reencode(testimg.Scene(60+seed, 640, 480), 85)
		if _, ok := src.(*image.YCbCr); !ok {
			t.Fatalf("decoded JPEG is %T", src)
		}
		for o := 1; o <= 8; o++ {
			p := &Picture{img: src, EXIF: EXIF{Orientation: o}}
			got, want := p.DHash(), DHash(orient(imaging.Clone(src), o))
			if d := bits.OnesCount64(got ^ want); d > 2 {
				t.Errorf("scene %d, orientation %d: dHash %016x, %d bits from the colours' %016x", seed, o, got, d, want)
			}
			if o == 6 && p.Fingerprint()[0] != (KindHash{HashDHash, got}) {
				t.Errorf("scene %d: the fingerprint's dHash is not the picture's", seed)
			}
		}
	}
}
