package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// TestPhotoHashBandsMigration: a database indexed by the four 16-bit
// bands of migration 015 is emptied and reindexed by three bands at the
// next open (018): the old rows go (the photo processor fingerprints their
// photos again at start), column b3 goes, and rows are written and found
// by the new bands.
func TestPhotoHashBandsMigration(t *testing.T) {
	ctx := context.Background()
	path := newDBFile(t)
	// Back to before 018: the old table, with a row.
	old, err := os.ReadFile("migrations/015_photo_hash_index.sql")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE photo_hash`, string(old),
		`INSERT INTO photo_hash (photo_id, kind, hash, mirror, b0, b1, b2, b3) VALUES ('p', 1, 42, NULL, 0, 0, 0, 42)`,
		`DELETE FROM schema_migrations WHERE name = 'migrations/018_photo_hash_bands.sql'`} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	raw.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rows, err := db.PhotoHashRows(ctx, "p"); err != nil || len(rows) != 0 {
		t.Errorf("rows of the old index: %+v %v, want none (reindexed at start)", rows, err)
	}
	raw, err = sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var cols []string
	rows, err := raw.QueryContext(ctx, `SELECT name FROM pragma_table_info('photo_hash')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, c)
	}
	rows.Close()
	if want := []string{"photo_id", "kind", "hash", "mirror", "b0", "b1", "b2"}; !slices.Equal(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	h := uint64(0xfedc_ba98_7654_3210)
	if err := db.SetPhotoHashes(ctx, "p", []server.PhotoHashRow{{Kind: 1, Hash: h}}); err != nil {
		t.Fatal(err)
	}
	bands := server.PhotoHashRow{Hash: h}.Bands()
	for band, v := range bands {
		var p server.HashProbes
		p.Full[band] = []uint32{v}
		if c, err := db.PhotoHashCandidates(ctx, p); err != nil || len(c) != 1 || c[0].Hash != h {
			t.Errorf("by band %d: %+v %v, want the row", band, c, err)
		}
	}
}
