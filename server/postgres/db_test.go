package postgres_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSchemaMatchesCatalog: storetest.SchemaMatchesCatalog, read from
// PostgreSQL's catalog.
func TestSchemaMatchesCatalog(t *testing.T) {
	ctx := context.Background()
	db, _ := openNew(t)
	storetest.SchemaMatchesCatalog(t, func(table string) []string {
		rows, err := db.Pool().Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return cols
	}, func(name string) bool {
		var n int
		db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, name).Scan(&n)
		return n == 1
	})
}

// TestReopenAppliesMigrationsOnce: each embedded migration is applied
// once, not again at a reopen, and the epoch is 16 characters (that the
// epoch and the sequence survive is storetest's Reopen).
func TestReopenAppliesMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, _ := openAt(t, dsn)
	if epoch := db.Epoch(); len(epoch) != 16 {
		t.Fatalf("epoch %q", epoch)
	}
	entries, _ := fs.ReadDir(postgres.Migrations, "migrations")
	if got := db.Migrated(); len(got) != len(entries) || got[0] != entries[0].Name() {
		t.Errorf("a new database: Migrated() = %v, want every migration (%d) in order", got, len(entries))
	}
	db.Close()

	db2, _ := openAt(t, dsn)
	if got := db2.Migrated(); len(got) != 0 {
		t.Errorf("a database up to date: Migrated() = %v, want none", got)
	}
	var n int
	if err := db2.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(entries) || n < 2 {
		t.Fatalf("schema_migrations: %d rows, %v; want one per migration (%d)", n, err, len(entries))
	}
}

// TestNewerDatabaseRefused: a database a newer fieldsync migrated (it
// holds a migration this version does not have) is refused at open.
func TestNewerDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, _ := openAt(t, dsn)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ('migrations/999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := postgres.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer fieldsync") {
		if db != nil {
			db.Close()
		}
		t.Errorf("open of a newer database: %v, want refused", err)
	}
}

// TestOpenTogether: servers starting at once on an empty database create
// the schema once and agree on the epoch.
func TestOpenTogether(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const n = 4
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(context.Background(), dsn)
		}()
	}
	wg.Wait()
	applied := map[string]int{}
	for i, db := range dbs {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer db.Close()
		if db.Epoch() != dbs[0].Epoch() {
			t.Errorf("epochs differ: %s, %s", db.Epoch(), dbs[0].Epoch())
		}
		for _, name := range db.Migrated() {
			applied[name]++
		}
	}
	// Each migration is said applied by the one server that applied it.
	entries, _ := fs.ReadDir(postgres.Migrations, "migrations")
	for _, e := range entries {
		if applied[e.Name()] != 1 {
			t.Errorf("migration %s said applied by %d servers, want 1", e.Name(), applied[e.Name()])
		}
	}
}

// TestPoolSizes: the request pool has DefaultMaxConns connections unless
// the DSN's pool_max_conns says otherwise, and advisory locks have a pool
// of their own, so locks held for uploads never take the requests'
// connections.
func TestPoolSizes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db, _ := openAt(t, dsn)
	if got := db.Pool().Config().MaxConns; got != postgres.DefaultMaxConns {
		t.Errorf("request pool of %d, want %d", got, postgres.DefaultMaxConns)
	}
	if got := db.LockPool().Config().MaxConns; got != postgres.LockConns || db.LockPool() == db.Pool() {
		t.Errorf("lock pool of %d (same pool: %v), want its own of %d", got, db.LockPool() == db.Pool(), postgres.LockConns)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db7, _ := openAt(t, dsn+sep+"pool_max_conns=7")
	if got := db7.Pool().Config().MaxConns; got != 7 {
		t.Errorf("pool_max_conns=7: request pool of %d", got)
	}
}

// TestDatabaseOutOfReach: a database that refuses connections (stopped,
// a wrong port) is out of reach, not an internal error: a request that
// needs it answers 503 unavailable with a Retry-After.
func TestDatabaseOutOfReach(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = postgres.Open(context.Background(), "postgres://postgres@"+addr+"/fieldsync?connect_timeout=2")
	if err == nil {
		t.Fatal("opened a database at a closed port")
	}
	if code := server.ErrorCode(err); code != syncproto.CodeUnavailable || server.RetryAfterSeconds(err) == 0 {
		t.Errorf("a database refusing connections: %q (%v), want unavailable with a Retry-After", code, err)
	}
	// A proxy, load balancer or pooler in front of a database that is
	// down takes the connection and closes it (multi-server probe: the
	// start gave up at once, and a third of the requests answered 500).
	closer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	go func() {
		for {
			c, err := closer.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = postgres.Open(context.Background(), "postgres://postgres@"+closer.Addr().String()+"/fieldsync?connect_timeout=2")
	if code := server.ErrorCode(err); code != syncproto.CodeUnavailable {
		t.Errorf("a database whose proxy closes each connection: %q (%v), want unavailable", code, err)
	}
	// What the rest of the program says of an end of input is not the
	// database's.
	if code := server.ErrorCode(fmt.Errorf("decode: %w", io.ErrUnexpectedEOF)); code != syncproto.CodeInternal {
		t.Errorf("an unexpected EOF of no driver: %q", code)
	}
	// What PostgreSQL itself says of a connection lost or a server
	// shutting down or starting; not what it says of a bad password.
	for code, want := range map[string]string{"08006": syncproto.CodeUnavailable, "57P01": syncproto.CodeUnavailable,
		"57P03": syncproto.CodeUnavailable, "28P01": syncproto.CodeInternal, "42P01": syncproto.CodeInternal} {
		if got := server.ErrorCode(fmt.Errorf("query: %w", &pgconn.PgError{Code: code})); got != want {
			t.Errorf("SQLSTATE %s: %q, want %q", code, got, want)
		}
	}
}
