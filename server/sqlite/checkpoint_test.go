package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestBackgroundCheckpoint checks that a committed write is followed by a
// checkpoint on the checkpointer's own connection that copies the whole
// log into the database file, and that the writer keeps its larger
// backstop and its page cache.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	db, err := open(ctx, &DB{path: filepath.Join(t.TempDir(), "fieldsync.db"), checkpointed: make(chan checkpointResult, 4)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages, cache int
	if err := db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil || pages != backstopPages {
		t.Errorf("writer wal_autocheckpoint = %d (%v), want %d", pages, err, backstopPages)
	}
	if err := db.write.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache != -writerCacheKiB {
		t.Errorf("writer cache_size = %d (%v), want %d", cache, err, -writerCacheKiB)
	}
	for round := range 2 {
		err := db.writeSQL(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, 'x')`, "checkpoint-test-"+string(rune('a'+round)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case res := <-db.checkpointed:
			if res.Err != nil || res.Busy != 0 || res.Log == 0 || res.Copied != res.Log {
				t.Errorf("round %d: checkpoint %+v, want every frame of a non-empty log copied", round, res)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: no checkpoint after a commit", round)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.ckpt.done:
	default:
		t.Error("the checkpointer still runs after Close")
	}
}
