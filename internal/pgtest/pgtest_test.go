package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestNewDatabase: the database is new, empty and writable.
func TestNewDatabase(t *testing.T) {
	dsn := NewDatabase(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("tables in a new database: %d, %v", n, err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
}
