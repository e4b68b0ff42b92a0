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
