package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
)

// TestConformance runs the store conformance suite against SQLite, the
// reference implementation.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) server.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fieldsync.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestConformanceReopen runs the restart part of the suite: one database
// file opened again.
func TestConformanceReopen(t *testing.T) {
	storetest.RunReopen(t, func(t testing.TB) func() server.Store {
		path := filepath.Join(t.TempDir(), "fieldsync.db")
		return func() server.Store {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	})
}
