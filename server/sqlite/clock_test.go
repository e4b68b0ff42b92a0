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

// TestHighHLCSurvivesReopen: the greatest HLC ever committed is kept, so a
// server restarted with a clock behind it resumes after it; a database
// from before the mark existed gets it from its tables on first open.
func TestHighHLCSurvivesReopen(t *testing.T) {
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
	if got, err := db.HighHLC(context.Background()); err != nil || got != want {
		t.Fatalf("HighHLC = %s, %v; want %s", got, err, want)
	}
	db.Close()

	db, s = openAt(t, path)
	if err := s.RestoreClock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if now := s.Clock.Now(); now.Compare(want) <= 0 {
		t.Fatalf("restored clock issues %s, not after the stored %s", now, want)
	}
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

// TestServerWriteWinsOverFutureStamps: the server's own write (an office
// decision) takes effect on every field even when its clock is behind the
// record's HLCs — a clock set back, or a mark lost.
func TestServerWriteWinsOverFutureStamps(t *testing.T) {
	db, s := openAt(t, filepath.Join(t.TempDir(), "fs.db"))
	defer db.Close()
	ahead := time.Now().Add(10 * time.Minute)
	s.Clock = syncproto.NewClock(syncproto.ServerNode, func() time.Time { return ahead })
	upsertNote(t, s, "149902", "first")
	s.Clock = syncproto.NewClock(syncproto.ServerNode, nil) // behind the stored stamps
	upsertNote(t, s, "149902", "second")
	rec, err := db.Get(context.Background(), syncproto.EntityCounty, "149902")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Text("note"); got != "second" {
		t.Fatalf("note = %q after the server's second write, want %q", got, "second")
	}
}
