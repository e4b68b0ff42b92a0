package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// TestCheckpointStartsLogOver checks that the background checkpoint leaves
// the log whole in the database file when commits keep landing while it
// copies, so that the next write starts the log over instead of making it
// longer: each catch-up pass is followed by another commit (as pushes that
// come back to back make them), the last of them after the last pass.
func TestCheckpointStartsLogOver(t *testing.T) {
	ctx := context.Background()
	var busy atomic.Bool
	var db *DB
	commits := 0
	write := func(key string, rows int) {
		t.Helper()
		err := db.writeSQL(ctx, func(tx *sql.Tx) error {
			for i := range rows {
				if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, fmt.Sprintf("%s-%d", key, i), strings.Repeat("x", 2000)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	db = &DB{path: filepath.Join(t.TempDir(), "fieldsync.db"), checkpointed: make(chan checkpointResult, 4), checkpointBetween: func() {
		if busy.Load() { // a push commits during each pass
			commits++
			write(fmt.Sprintf("during-%d", commits), 20)
		}
	}}
	if _, err := open(ctx, db); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	next := func() checkpointResult {
		t.Helper()
		select {
		case res := <-db.checkpointed:
			if res.Err != nil || res.Busy != 0 || res.Copied != res.Log {
				t.Fatalf("checkpoint %+v, want every frame of the log copied", res)
			}
			return res
		case <-time.After(30 * time.Second):
			t.Fatal("no checkpoint after a commit")
		}
		return checkpointResult{}
	}
	busy.Store(true)
	write("first", 20)
	first := next()
	busy.Store(false)
	if commits != catchUpPasses+1 {
		t.Fatalf("%d commits during the passes, want %d", commits, catchUpPasses+1)
	}
	write("after", 1)
	if after := next(); after.Log >= first.Log {
		t.Errorf("log after one more small write: %d frames, after the busy round %d: the log was not started over", after.Log, first.Log)
	}
}

// TestCheckpointDoesNotWaitForBusyWriter checks that a background
// checkpoint round ends without waiting for a writer in the middle of a
// transaction (it holds DB.mu), so that it never makes a push wait.
func TestCheckpointDoesNotWaitForBusyWriter(t *testing.T) {
	ctx := context.Background()
	var db *DB
	held := make(chan struct{})
	var once sync.Once
	db = &DB{path: filepath.Join(t.TempDir(), "fieldsync.db"), checkpointed: make(chan checkpointResult, 4), checkpointBetween: func() {
		once.Do(func() { db.mu.Lock(); close(held) }) // a push begins its transaction
	}}
	if _, err := open(ctx, db); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.writeSQL(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('busy-writer', 'x')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-db.checkpointed:
		<-held
		db.mu.Unlock()
		if res.Err != nil || res.Copied != res.Log {
			t.Errorf("checkpoint %+v, want every frame it saw copied", res)
		}
	case <-time.After(30 * time.Second):
		<-held
		db.mu.Unlock() // so that Close can stop the checkpointer
		t.Fatal("the checkpoint round waited for the writer")
	}
}

// TestRoundGap checks that a round which found a long log is followed
// sooner than one which found a short one (or failed).
func TestRoundGap(t *testing.T) {
	for _, tc := range []struct {
		res  checkpointResult
		want time.Duration
	}{
		{checkpointResult{Log: 0}, checkpointEvery},
		{checkpointResult{Log: soonFrames - 1, Copied: soonFrames - 1}, checkpointEvery},
		{checkpointResult{Log: soonFrames, Copied: soonFrames}, checkpointSoon},
		{checkpointResult{Log: 5000, Copied: 4000}, checkpointSoon},
		{checkpointResult{Busy: 1, Log: -1, Copied: -1}, checkpointEvery},
	} {
		if got := roundGap(tc.res); got != tc.want {
			t.Errorf("roundGap(%+v) = %v, want %v", tc.res, got, tc.want)
		}
	}
	if checkpointSoon >= checkpointEvery {
		t.Errorf("checkpointSoon %v is not sooner than checkpointEvery %v", checkpointSoon, checkpointEvery)
	}
}
