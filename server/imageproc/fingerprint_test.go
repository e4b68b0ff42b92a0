package imageproc

import (
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
	if n := len(orig); n != 1+2*(1+len(windows)) || len(stored(orig)) != 51 {
		t.Fatalf("fingerprint of %d hashes, %d indexed; want 101 and 51", n, len(stored(orig)))
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

// TestMatchRules: a dHash is compared only with a dHash, a window only with
// a whole content, and distances beyond the limits do not match.
func TestMatchRules(t *testing.T) {
	fp := Fingerprint{{HashDHash, 0}, {HashFull, 0}, {HashFull + 1, 0xff}, {HashMirrored + HashFull, 0xffff}}
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
	} {
		m, ok := fp.Match(tc.kind, tc.hash)
		if ok != tc.ok || (ok && m != tc.want) {
			t.Errorf("%s: %+v %v, want %+v %v", tc.name, m, ok, tc.want, tc.ok)
		}
	}
	anyKind, full := Fingerprint{{HashFull, 0x0001_0002_0003_0004}, {HashFull + 1, 0xf0f0_f0f0_f0f0_f0f0}}.Probes()
	if !slices.Contains(anyKind[0], 0x0001) || !slices.Contains(anyKind[0], 0x0000) || len(anyKind[0]) != 17 || len(anyKind[3]) != 17 {
		t.Errorf("content probes %v, want each band and its 16 neighbours", anyKind)
	}
	if !slices.Contains(full[2], 0xf0f0) || !slices.Contains(full[2], 0x70f0) || len(full[2]) != 17 || slices.Contains(full[0], 0x0001) {
		t.Errorf("window probes %v, want the window's bands and neighbours only", full)
	}
}
