package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func upsertNote(t *testing.T, s *server.Syncer, code, note string) {
	t.Helper()
	err := s.Store.Update(context.Background(), func(tx server.WriteTx) error {
		return s.Upsert(context.Background(), tx, syncproto.EntityCounty, code, "", map[string]any{"code": code, "name": "测试", "note": note})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHighHLCRecomputed: a database from before the high-water mark of
// HLCs existed gets it from its tables on first open (that the mark
// survives a restart is storetest's Reopen).
func TestHighHLCRecomputed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fs.db")
	db, s := openAt(t, path)
	ahead := time.Now().Add(3 * time.Minute)
	s.Clock = syncproto.NewClock(syncproto.ServerNode, func() time.Time { return ahead })
	upsertNote(t, s, "149901", "ahead")
	rec, err := db.Get(context.Background(), syncproto.EntityCounty, "149901")
	if err != nil || rec == nil {
		t.Fatalf("get: %v", err)
	}
	want := rec.State.Highest()
	db.Close()

	// A database written before the high-water mark existed.
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DELETE FROM meta WHERE key = 'hlc_high'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, _ = openAt(t, path)
	defer db.Close()
	if got, err := db.HighHLC(context.Background()); err != nil || got != want {
		t.Fatalf("HighHLC recomputed = %s, %v; want %s", got, err, want)
	}
}
