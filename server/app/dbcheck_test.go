package app

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// TestStartChecksTheDatabase: a server on SQLite checks its database once
// it has started and devices are quiet, and logs damage at ERROR (a file
// with pages overwritten by a failing disk was served as if sound, its
// pull pages unreadable, and backed up); a sound one is said ok.
func TestStartChecksTheDatabase(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.BcryptCost = "127.0.0.1:0", t.TempDir(), bcrypt.MinCost
	check := func() string {
		t.Helper()
		var log bytes.Buffer
		a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(&log, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		log.Reset()
		a.checkDatabase(ctx, a.DB.(*sqlite.DB))
		return log.String()
	}
	if got := check(); !strings.Contains(got, "database check: ok") {
		t.Fatalf("a sound database: %s", got)
	}
	damage(t, cfg.DBPath(), "conflicts", "early_delete")
	if got := check(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "the database is damaged") {
		t.Fatalf("a damaged database: %s", got)
	}
}

// damage overwrites the root page of each table with junk (the server's
// start reads none of them).
func damage(t *testing.T, path string, tables ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	var roots []int64
	for _, name := range tables {
		var root int64
		if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&root); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, root := range roots {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(pageSize)), (root-1)*pageSize); err != nil {
			t.Fatal(err)
		}
	}
}
