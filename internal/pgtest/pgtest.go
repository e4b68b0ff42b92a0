// Package pgtest gives a test its own PostgreSQL database on the server the
// development and CI machines run (127.0.0.1:5432, trust authentication),
// dropped when the test ends.
//
// FIELDSYNC_POSTGRES names another server (a URL whose database is used only
// to create and drop the test's own). When no server answers, tests skip,
// unless FIELDSYNC_REQUIRE_POSTGRES is set (as .ci/run sets it), when they
// fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServer is the server tests use unless FIELDSYNC_POSTGRES is set.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Server returns the admin URL of the test server.
func Server() string {
	if s := os.Getenv("FIELDSYNC_POSTGRES"); s != "" {
		return s
	}
	return DefaultServer
}

// NewDatabase creates an empty database for t and returns its URL. The
// database is dropped (its connections ended) when t ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, Server())
	if err != nil {
		if os.Getenv("FIELDSYNC_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL is required (FIELDSYNC_REQUIRE_POSTGRES) but does not answer: %v", err)
		}
		t.Skipf("no PostgreSQL at %s: %v", Server(), err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "fieldsync_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, Server())
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(Server())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
