package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"golang.org/x/crypto/bcrypt"
)

// openAt opens the store on the database at dsn, closed when the test
// ends, with a syncer on it.
func openAt(t testing.TB, dsn string) (*postgres.DB, *server.Syncer) {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, server.NewSyncer(db, nil)
}

// openNew opens the store on a new database.
func openNew(t testing.TB) (*postgres.DB, *server.Syncer) {
	t.Helper()
	return openAt(t, pgtest.NewDatabase(t))
}

// openSeeded opens the store on a new database with the reference data.
func openSeeded(t testing.TB) (*postgres.DB, *server.Syncer) {
	t.Helper()
	db, s := openNew(t)
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := app.LoadReference(context.Background(), s, set); err != nil {
		t.Fatal(err)
	}
	return db, s
}

// openDemo opens the store on a new database with the reference data and
// the demo's users, sites and roadside checks, as apptest.Start gives the
// SQLite store.
func openDemo(t testing.TB) (*postgres.DB, *app.App) {
	t.Helper()
	db, s := openSeeded(t)
	a := &app.App{Cfg: app.Config{BcryptCost: bcrypt.MinCost}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Syncer: s}
	if err := a.LoadDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, a
}

// registerDevice adds an inspector of 140902 with one device.
func registerDevice(tb testing.TB, db *postgres.DB) *server.Principal {
	tb.Helper()
	ctx := context.Background()
	u := &server.User{ID: uuid.NewString(), Username: "insp-" + uuid.NewString()[:8], Role: server.RoleInspector,
		Counties: []string{"140902"}, CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, u, "x"); err != nil {
		tb.Fatal(err)
	}
	d := &server.Device{ID: uuid.Must(uuid.NewV7()).String(), UserID: u.ID, CreatedAt: time.Now()}
	if _, err := db.RegisterDevice(ctx, d, "", time.Now().Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
	p, err := db.Principal(ctx, u.ID, d.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
