package postgres_test

import (
	"context"
	"testing"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
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
