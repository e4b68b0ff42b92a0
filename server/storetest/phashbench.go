package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

// BenchPhotos is the number of photos of the hash-index benchmarks: a
// city's year of photos, hundreds of inspectors, a few photos each a
// working day.
const BenchPhotos = 300_000

// BenchHashRow is one row of photo_hash as the stores hold it.
type BenchHashRow struct {
	Kind   int
	Hash   int64
	Mirror any // int64, or nil for a kind without a mirror
	Bands  [imageproc.NumBands]uint32
}

// BenchPhotoHashes calls emit for each of n processed photos, with its id
// ("p0000042", or "planted" for photo n/2, whose fingerprint is planted),
// its phash and its photo_hash rows, the same ones on every run. The
// fingerprints are drawn around 64 fingerprints of generated scenes with
// a fifth of their bits flipped, so that band values cluster as those of
// photos of similar sites do (uniformly random hashes would spread thinner
// and flatter the index).
func BenchPhotoHashes(n int, planted imageproc.Fingerprint, emit func(i int, id, phash string, rows []BenchHashRow) error) error {
	var templates []imageproc.Fingerprint
	for i := range 64 {
		templates = append(templates, imageproc.FingerprintOf(testimg.Scene(uint64(50_000+i), 320, 240)))
	}
	rng := rand.New(rand.NewPCG(15, 300))
	for i := range n {
		id := fmt.Sprintf("p%07d", i)
		var fp imageproc.Fingerprint
		if i == n/2 {
			id, fp = "planted", planted
		} else {
			for _, kh := range templates[rng.IntN(len(templates))] {
				var flip uint64
				for bit := range 64 {
					if rng.Float64() < 0.2 {
						flip |= 1 << bit
					}
				}
				fp = append(fp, imageproc.KindHash{Kind: kh.Kind, Hash: kh.Hash ^ flip})
			}
		}
		mirrors := map[int]int64{}
		for _, kh := range fp {
			mirrors[kh.Kind] = int64(kh.Hash)
		}
		var rows []BenchHashRow
		for _, kh := range fp {
			if !imageproc.Indexed(kh.Kind) {
				continue
			}
			r := BenchHashRow{Kind: kh.Kind, Hash: int64(kh.Hash), Bands: imageproc.Bands(kh.Hash)}
			if mk, ok := imageproc.Mirrors(kh.Kind); ok {
				r.Mirror = mirrors[mk]
			}
			rows = append(rows, r)
		}
		if err := emit(i, id, fmt.Sprintf("%016x", fp[0].Hash), rows); err != nil {
			return err
		}
	}
	return nil
}

// BenchQuery returns the fingerprint the hash-index benchmarks look up,
// and that of its planted copy (cropped, mirrored, re-encoded), to be
// stored as photo "planted" (BenchPhotoHashes).
func BenchQuery() (query, planted imageproc.Fingerprint) {
	scene := testimg.Scene(777_777, 800, 600)
	return imageproc.FingerprintOf(scene),
		imageproc.FingerprintOf(testimg.Reencode(testimg.Crop(imaging.FlipH(scene), 0.1, 0.1, 0.1, 0.1), 70))
}

// BenchNearDuplicateLookup times server.NearPhotos of query in st, a
// store holding BenchPhotoHashes' rows, as the photo processor looks up
// every photo, and fails unless the planted copy is found.
func BenchNearDuplicateLookup(b *testing.B, st server.HashCandidates, query imageproc.Fingerprint) {
	ctx := context.Background()
	match := func(kind int, hash uint64) (server.NearMatch, bool) {
		m, ok := query.Match(kind, hash)
		return server.NearMatch{Distance: m.Distance, Mirrored: m.Mirrored, Cropped: m.Cropped}, ok
	}
	probes := server.HashProbes(query.Probes())
	cands, err := st.PhotoHashCandidates(ctx, probes)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var near []server.NearMatch
	for b.Loop() {
		if near, err = server.NearPhotos(ctx, st, "", probes, match); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(cands)), "candidates/op")
	b.ReportMetric(float64(len(near)), "matches/op")
	found := false
	for _, m := range near {
		found = found || m.PhotoID == "planted"
	}
	if !found {
		b.Fatalf("the planted copy is not found: %+v", near)
	}
}
