package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// TestPhotoHashWindowsMigration: rows of the second version's windows go
// at the next open (019; the processor fingerprints their photos again),
// and the centred lookups find the new centred kinds 2–4 and no longer
// the old ones (18, 42).
func TestPhotoHashWindowsMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPhotoHashes(ctx, "old", []server.PhotoHashRow{{Kind: 18, Hash: 7}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM schema_migrations WHERE name = 'migrations/019_photo_hash_windows.sql'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rows, err := db.PhotoHashRows(ctx, "old"); err != nil || len(rows) != 0 {
		t.Errorf("rows of the old windows: %+v %v, want none (reindexed at start)", rows, err)
	}
	for _, tc := range []struct {
		kind int
		want bool
	}{{1, true}, {2, true}, {3, true}, {4, true}, {5, false}, {18, false}, {42, false}} {
		h := uint64(0x0123_4567_89ab_cdef) ^ uint64(tc.kind)<<40
		if err := db.SetPhotoHashes(ctx, "p", []server.PhotoHashRow{{Kind: tc.kind, Hash: h}}); err != nil {
			t.Fatal(err)
		}
		var p server.HashProbes
		p.Centre[0] = []uint32{server.PhotoHashRow{Hash: h}.Bands()[0]}
		c, err := db.PhotoHashCandidates(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(c) == 1 && c[0].Kind == tc.kind; got != tc.want {
			t.Errorf("kind %d by the centred lookup: %+v, want found %v", tc.kind, c, tc.want)
		}
	}
}
