package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// benchPhotos is a city's year of photos: hundreds of inspectors, a few
// photos each a working day.
const benchPhotos = 300_000

// BenchmarkNearDuplicateLookup looks a photo's fingerprint up in a real
// SQLite store holding benchPhotos processed photos' fingerprint rows (51
// indexed hashes each, with their mirror hashes: 15 million rows), as the
// processor does for every photo: PhotoHashCandidates over the three band
// indexes (and their partial ones), then
// Fingerprint.Match on each candidate (server.NearPhotos). The stored
// hashes are drawn around 64 fingerprints of generated scenes with a
// fifth of their bits flipped, so that band values cluster as those of
// photos of similar sites do (uniformly random hashes would spread
// thinner and flatter the index). One of them is a copy of the query
// photo, cropped and mirrored; the benchmark fails if it is not found.
//
// The database is generated once into the temporary directory
// (fieldsync-phash-bench-v4-300000.db, 5–15 minutes) and reused.
func BenchmarkNearDuplicateLookup(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("fieldsync-phash-bench-v4-%d.db", benchPhotos))
	scene := testimg.Scene(777_777, 800, 600)
	query := imageproc.FingerprintOf(scene)
	planted := imageproc.FingerprintOf(testimg.Reencode(testimg.Crop(imaging.FlipH(scene), 0.1, 0.1, 0.1, 0.1), 70))
	if _, err := os.Stat(path); err != nil {
		if err := generateHashDB(ctx, path, planted); err != nil {
			os.Remove(path)
			b.Fatal(err)
		}
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	match := func(kind int, hash uint64) (server.NearMatch, bool) {
		m, ok := query.Match(kind, hash)
		return server.NearMatch{Distance: m.Distance, Mirrored: m.Mirrored, Cropped: m.Cropped}, ok
	}
	probes := server.HashProbes(query.Probes())
	cands, err := db.PhotoHashCandidates(ctx, probes)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var near []server.NearMatch
	for b.Loop() {
		if near, err = server.NearPhotos(ctx, db, "", probes, match); err != nil {
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

// generateHashDB makes a migrated database at path with benchPhotos
// processed photos and their fingerprint rows; photo "planted" has
// fingerprint planted.
func generateHashDB(ctx context.Context, path string, planted imageproc.Fingerprint) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	db.Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		return err
	}
	defer raw.Close()
	var templates []imageproc.Fingerprint
	for i := range 64 {
		templates = append(templates, imageproc.FingerprintOf(testimg.Scene(uint64(50_000+i), 320, 240)))
	}
	rng := rand.New(rand.NewPCG(15, 300))
	raw.SetMaxOpenConns(1)
	// The band indexes are built after the rows, in one sort each, rather
	// than updated row by row.
	if _, err := raw.ExecContext(ctx, `PRAGMA cache_size = -1000000`); err != nil {
		return err
	}
	for band := range imageproc.NumBands {
		for _, set := range []string{"", "dhash_", "full_", "centre_"} {
			if _, err := raw.ExecContext(ctx, fmt.Sprintf(`DROP INDEX photo_hash_%sb%d`, set, band)); err != nil {
				return err
			}
		}
	}
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO county (id, seq, created_at, updated_at, name) VALUES ('140902', 1, 0, 0, '忻府区')`); err != nil {
		return err
	}
	photo, err := tx.PrepareContext(ctx, `INSERT INTO photo (id, county, seq, created_at, updated_at, uploaded, processed_at, phash, site_id)
		VALUES (?, '140902', ?, 0, 0, 1, '2026-11-30T00:00:00Z', ?, ?)`)
	if err != nil {
		return err
	}
	hash, err := tx.PrepareContext(ctx, `INSERT INTO photo_hash (photo_id, kind, hash, mirror, b0, b1, b2) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range benchPhotos {
		id := fmt.Sprintf("p%07d", i)
		var fp imageproc.Fingerprint
		if i == benchPhotos/2 {
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
		if _, err := photo.ExecContext(ctx, id, i+1, fmt.Sprintf("%016x", fp[0].Hash), fmt.Sprintf("site%d", i%5000)); err != nil {
			return err
		}
		mirrors := map[int]int64{}
		for _, kh := range fp {
			mirrors[kh.Kind] = int64(kh.Hash)
		}
		for _, kh := range fp {
			if !imageproc.Indexed(kh.Kind) {
				continue
			}
			var mirror any
			if mk, ok := imageproc.Mirrors(kh.Kind); ok {
				mirror = mirrors[mk]
			}
			bs := imageproc.Bands(kh.Hash)
			if _, err := hash.ExecContext(ctx, id, kh.Kind, int64(kh.Hash), mirror, bs[0], bs[1], bs[2]); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for band := range imageproc.NumBands {
		for _, q := range []string{`CREATE INDEX photo_hash_b%d ON photo_hash(b%d, hash)`,
			`CREATE INDEX photo_hash_dhash_b%d ON photo_hash(b%d, hash) WHERE kind = 0`,
			`CREATE INDEX photo_hash_full_b%d ON photo_hash(b%d, hash) WHERE kind = 1`,
			`CREATE INDEX photo_hash_centre_b%d ON photo_hash(b%d, hash) WHERE kind IN (1, 2, 3, 4)`} {
			if _, err := raw.ExecContext(ctx, fmt.Sprintf(q, band, band)); err != nil {
				return err
			}
		}
	}
	return nil
}
