package postgres_test

import (
	"context"
	"testing"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
)

// TestConformance runs the store conformance suite against PostgreSQL,
// each subtest on a database of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) server.Store {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestConformanceReopen runs the restart part of the suite: one database
// opened again.
func TestConformanceReopen(t *testing.T) {
	storetest.RunReopen(t, func(t testing.TB) func() server.Store {
		dsn := pgtest.NewDatabase(t)
		return func() server.Store {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	})
}
