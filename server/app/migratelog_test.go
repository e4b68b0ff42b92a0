package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/server/app"
)

// TestMigrationsLogged: a server that migrates its database says so in
// its log, naming each migration it applied (an upgrade that changes the
// schema is otherwise silent), and says nothing of migrations when the
// database is already up to date.
func TestMigrationsLogged(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.DataDir, cfg.BcryptCost = t.TempDir(), bcrypt.MinCost
	open := func() string {
		t.Helper()
		var buf bytes.Buffer
		a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	names, err := os.ReadDir("../sqlite/migrations")
	if err != nil || len(names) < 2 {
		t.Fatalf("migrations: %v, %v", names, err)
	}
	first := open()
	if !strings.Contains(first, `msg="database migrated"`) {
		t.Fatalf("a new database's log says nothing of its migrations:\n%s", first)
	}
	for _, n := range names {
		if n := n.Name(); !strings.Contains(first, n) {
			t.Errorf("the log does not name migration %s:\n%s", n, first)
		}
	}
	if again := open(); strings.Contains(again, "migrated") || strings.Contains(again, "triggers") {
		t.Errorf("a database already up to date is said to be migrated, or its triggers missing:\n%s", again)
	}
	// The audit log's append-only triggers dropped by hand: said at
	// start, at ERROR, and put back.
	raw, err := sql.Open("sqlite3", "file:"+cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DROP TRIGGER audit_seals_no_delete`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if got := open(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "append-only triggers were missing") || !strings.Contains(got, "audit_seals_no_delete") {
		t.Errorf("a start without an audit trigger:\n%s", got)
	}
	if got := open(); strings.Contains(got, "triggers") {
		t.Errorf("the trigger was not put back:\n%s", got)
	}
}
