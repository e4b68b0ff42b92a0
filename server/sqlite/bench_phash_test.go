package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
)

// benchPhotos is a city's year of photos (storetest.BenchPhotos).
const benchPhotos = storetest.BenchPhotos

// BenchmarkNearDuplicateLookup looks a photo's fingerprint up in a real
// SQLite store holding benchPhotos processed photos' fingerprint rows (51
// indexed hashes each, with their mirror hashes: 15 million rows), as the
// processor does for every photo: PhotoHashCandidates over the three band
// indexes (and their partial ones), then
// Fingerprint.Match on each candidate (server.NearPhotos). The stored
// hashes are storetest.BenchPhotoHashes'. One of them is a copy of the
// query photo, cropped and mirrored; the benchmark fails if it is not
// found (storetest.BenchNearDuplicateLookup).
//
// The database is generated once into the temporary directory
// (fieldsync-phash-bench-v4-300000.db, 5–15 minutes) and reused.
func BenchmarkNearDuplicateLookup(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("fieldsync-phash-bench-v4-%d.db", benchPhotos))
	query, planted := storetest.BenchQuery()
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
	// The first lookup starts the band filter's read of the index's 15
	// million rows (about ten seconds), until which lookups ask for every
	// value: the benchmark measures the lookups after it.
	if _, err := db.PhotoHashCandidates(ctx, server.HashProbes(query.Probes())); err != nil {
		b.Fatal(err)
	}
	<-sqlite.BandsBuilt(db)
	storetest.BenchNearDuplicateLookup(b, db, query)
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
	err = storetest.BenchPhotoHashes(benchPhotos, planted, func(i int, id, phash string, rows []storetest.BenchHashRow) error {
		if _, err := photo.ExecContext(ctx, id, i+1, phash, fmt.Sprintf("site%d", i%5000)); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := hash.ExecContext(ctx, id, r.Kind, r.Hash, r.Mirror, r.Bands[0], r.Bands[1], r.Bands[2]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
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
