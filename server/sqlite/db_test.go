package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// migratedRaw opens a new store (its schema migrated), closes it, and
// returns a plain handle on its file, closed with the test.
func migratedRaw(t *testing.T) *sql.DB {
	t.Helper()
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
	t.Cleanup(func() { raw.Close() })
	return raw
}

// TestSchemaMatchesCatalog: storetest.SchemaMatchesCatalog, read from
// SQLite's catalog.
func TestSchemaMatchesCatalog(t *testing.T) {
	raw := migratedRaw(t)
	storetest.SchemaMatchesCatalog(t, func(table string) []string {
		rows, err := raw.Query(`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		return cols
	}, func(name string) bool {
		var n int
		raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n)
		return n == 1
	})
}

// TestReopenIntegrity: a file written, closed and opened again passes
// SQLite's integrity check (that the epoch and the sequence survive is
// storetest's Reopen).
func TestReopenIntegrity(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, s := openAt(t, path)
	put(t, s, "140902")
	db.Close()

	db2, s2 := openAt(t, path)
	defer db2.Close()
	put(t, s2, "140921")
	if ok, err := db2.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
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
	// What a backup killed half-way left: its partial copy and journal.
	for _, f := range []string{out + ".partial", out + ".partial-journal"} {
		if err := os.WriteFile(f, []byte("half a backup"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	<-done
	for _, f := range []string{out + ".partial", out + ".partial-journal"} {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left beside the backup (%v)", filepath.Base(f), err)
		}
	}
	copyDB, err := sqlite.Open(ctx, out)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer copyDB.Close()
	if ok, err := copyDB.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("backup integrity_check = %q, %v", ok, err)
	}
	if copyDB.Epoch() == db.Epoch() || copyDB.Epoch() == "" {
		t.Fatalf("backup epoch %q, the live database's %q: want its own", copyDB.Epoch(), db.Epoch())
	}
}

// TestRestoredBackupRefusesLaterCursors: a phone that pulled past the end
// of a backup is told to resync when the backup is served again, however
// many changes the restored database has numbered since; a cursor the
// backup itself made stays valid.
func TestRestoredBackupRefusesLaterCursors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, s := openAt(t, filepath.Join(dir, "fieldsync.db"))
	defer db.Close()
	city := &server.Principal{Role: server.RoleCityOffice}
	put(t, s, "140902")
	early, err := s.Pull(ctx, city, "", 100, server.FormFields)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		put(t, s, "140921")
	}
	late, err := s.Pull(ctx, city, early.Cursor, 100, server.FormFields)
	if err != nil || len(late.Changes) == 0 {
		t.Fatalf("pull after the backup: %v, %v", late, err)
	}

	restored, s2 := openAt(t, out)
	defer restored.Close()
	for range 5 { // the restored feed numbers past the late cursor again
		put(t, s2, "140925")
	}
	for name, cursor := range map[string]string{"before the backup": early.Cursor, "after the backup": late.Cursor} {
		_, err := s2.Pull(ctx, city, cursor, 100, server.FormFields)
		var se *server.Error
		if !errors.As(err, &se) || se.Code != syncproto.CodeResyncRequired {
			t.Errorf("cursor made %s, on the restored backup: %v, want resync_required", name, err)
		}
	}
	first, err := s2.Pull(ctx, city, "", 100, server.FormFields)
	if err != nil || first.HasMore {
		t.Fatalf("full pull of the restored backup: %v, %v", first, err)
	}
	if next, err := s2.Pull(ctx, city, first.Cursor, 100, server.FormFields); err != nil || len(next.Changes) != 0 {
		t.Errorf("the restored backup's own cursor: %v, %v", next, err)
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

// TestNewerDatabaseRefused: a database holding a migration this version
// does not have (written by a newer fieldsync, then the binary rolled
// back) is refused at open, and by CheckBackup, rather than served by code
// that does not know its schema; this version's own database passes.
func TestNewerDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	path := newDBFile(t)
	if err := sqlite.CheckBackup(ctx, path); err != nil {
		t.Fatalf("this version's database: %v", err)
	}
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (name) VALUES ('migrations/999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := sqlite.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer fieldsync") {
		if db != nil {
			db.Close()
		}
		t.Errorf("open of a newer database: %v, want refused", err)
	}
	if err := sqlite.CheckBackup(ctx, path); err == nil || !strings.Contains(err.Error(), "newer fieldsync") {
		t.Errorf("CheckBackup of a newer database: %v, want refused", err)
	}
}

// newDBFile makes a database of this version's schema in a temporary
// directory, closed, and returns its path.
func newDBFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path
}

// TestDiskFullIsUnavailable: a write the database has no room for (its
// disk full; here its page limit reached) fails as the storage full —
// unavailable, to be sent again later — not as an internal error, and
// the database takes writes again once there is room. Meanwhile its Ping
// (the readiness probe's) says the storage is full.
func TestDiskFullIsUnavailable(t *testing.T) {
	ctx := context.Background()
	db, s := openAt(t, filepath.Join(t.TempDir(), "fieldsync.db"))
	defer db.Close()
	var pages int
	if err := sqlite.Writer(db).QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Writer(db).ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		for i := range 200 {
			if err := s.Upsert(ctx, tx, syncproto.EntityCounty, "9"+strconv.Itoa(100000+i), "", map[string]any{
				"code": "x", "name": "测试", "note": strings.Repeat("满", 2000)}); err != nil {
				return err
			}
		}
		return nil
	})
	if code := server.ErrorCode(err); code != syncproto.CodeUnavailable || server.RetryAfterSeconds(err) <= 0 {
		t.Fatalf("a write past the disk's room: %v (code %q), want unavailable with a Retry-After", err, code)
	}
	// Not ready (a load balancer sends phones elsewhere) while the disk is full ...
	if err := db.Ping(ctx); !server.StorageFull(err) {
		t.Fatalf("Ping with the disk full: %v, want the storage full", err)
	}
	if _, err := sqlite.Writer(db).ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "140902")
	// ... and ready again once a write succeeds.
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after a write succeeded: %v", err)
	}
}

// TestBackupReadOnly: a database file read as it is (a data directory on
// a file system remounted read-only, where the store cannot open) is
// backed up whole — what its write-ahead log holds included — checked,
// and given an epoch of its own; a missing file is an error, and no file
// is left.
func TestBackupReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "fieldsync.db")
	db, s := openAt(t, path)
	defer db.Close()
	for _, code := range []string{"990001", "990002", "990003"} {
		put(t, s, code)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := sqlite.BackupReadOnly(ctx, path, out); err != nil {
		t.Fatal(err)
	}
	copyDB, err := sqlite.Open(ctx, out)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer copyDB.Close()
	for _, code := range []string{"990001", "990002", "990003"} {
		if r, err := copyDB.Get(ctx, syncproto.EntityCounty, code); err != nil || r == nil {
			t.Errorf("county %s not in the backup: %v", code, err)
		}
	}
	if copyDB.Epoch() == db.Epoch() {
		t.Error("the backup kept the live database's epoch")
	}
	missing := filepath.Join(t.TempDir(), "none.db")
	if err := sqlite.BackupReadOnly(ctx, filepath.Join(dir, "absent.db"), missing); err == nil {
		t.Error("a backup of no file: no error")
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file left at %s: %v", missing, err)
	}
}
