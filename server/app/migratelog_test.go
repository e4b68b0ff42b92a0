package app_test

import (
	"bytes"
	"context"
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
	if again := open(); strings.Contains(again, "migrated") {
		t.Errorf("a database already up to date is said to be migrated:\n%s", again)
	}
}
