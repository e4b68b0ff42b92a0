package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSchemaMatchesCatalog: every synced entity has a table whose columns
// are the meta columns plus exactly the entity's fields, and a feed index.
func TestSchemaMatchesCatalog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	meta := []string{"id", "county", "seq", "hlcs", "deleted_hlc", "created_device", "created_at", "updated_at", "created_by"}
	for _, e := range server.Entities {
		rows, err := raw.Query(`SELECT name FROM pragma_table_info(?)`, e.Name)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			cols = append(cols, c)
		}
		rows.Close()
		want := append([]string(nil), meta...)
		for _, f := range e.Fields {
			if !slices.Contains(want, f.Name) {
				want = append(want, f.Name)
			}
		}
		slices.Sort(cols)
		slices.Sort(want)
		if !slices.Equal(cols, want) {
			t.Errorf("table %s columns %v, want %v", e.Name, cols, want)
		}
		var n int
		raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, e.Name+"_feed").Scan(&n)
		if n != 1 {
			t.Errorf("table %s has no feed index", e.Name)
		}
	}
}

// TestReopenKeepsEpochAndSequence: migrations run once, the epoch survives
// a restart, and sequence numbers continue after the last one.
func TestReopenKeepsEpochAndSequence(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, s := openAt(t, path)
	epoch := db.Epoch()
	put(t, s, "140902")
	first, _ := db.Get(ctx, syncproto.EntityCounty, "140902")
	db.Close()

	db2, s2 := openAt(t, path)
	defer db2.Close()
	if db2.Epoch() != epoch {
		t.Fatalf("epoch changed across reopen: %s → %s", epoch, db2.Epoch())
	}
	put(t, s2, "140921")
	second, _ := db2.Get(ctx, syncproto.EntityCounty, "140921")
	if second.Seq <= first.Seq {
		t.Fatalf("seq after reopen %d not after %d", second.Seq, first.Seq)
	}
	if ok, err := db2.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}

// TestTwoProcessesShareTheSequence: two handles on one file (the server and
// a command-line tool) never hand out the same sequence number.
func TestTwoProcessesShareTheSequence(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	a, sa := openAt(t, path)
	defer a.Close()
	b, sb := openAt(t, path)
	defer b.Close()
	put(t, sa, "140902")
	put(t, sb, "140921")
	put(t, sa, "140922")
	seen := map[int64]string{}
	for _, code := range []string{"140902", "140921", "140922"} {
		r, err := a.Get(ctx, syncproto.EntityCounty, code)
		if err != nil || r == nil {
			t.Fatalf("get %s: %v", code, err)
		}
		if other, dup := seen[r.Seq]; dup {
			t.Fatalf("%s and %s share seq %d", code, other, r.Seq)
		}
		seen[r.Seq] = code
	}
}

func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, s := openAt(t, filepath.Join(dir, "fieldsync.db"))
	defer db.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			put(t, s, "140902")
		}
	}()
	out := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	<-done
	copyDB, err := sqlite.Open(ctx, out)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer copyDB.Close()
	if ok, err := copyDB.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("backup integrity_check = %q, %v", ok, err)
	}
	if copyDB.Epoch() != db.Epoch() {
		t.Fatalf("backup has another epoch")
	}
}

func openAt(t *testing.T, path string) (*sqlite.DB, *server.Syncer) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db, server.NewSyncer(db, nil)
}

// put writes a county record with a changing note (so every call writes).
func put(t *testing.T, s *server.Syncer, code string) {
	t.Helper()
	err := s.Store.Update(context.Background(), func(tx server.WriteTx) error {
		return s.Upsert(context.Background(), tx, syncproto.EntityCounty, code, "", map[string]any{
			"code": code, "name": "测试", "note": strings.Repeat("x", 1) + uuid.NewString()})
	})
	if err != nil {
		t.Fatal(err)
	}
}
