package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
)

// TestCloseEndsEverySession: a server on PostgreSQL that is closed keeps
// no session open on its database — not its store's pools, not the upload
// locks' listener (which, left running, retried the closed pool every
// second and logged into whatever ran next).
func TestCloseEndsEverySession(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	cfg := app.DefaultConfig()
	cfg.DataDir, cfg.Database, cfg.BcryptCost = t.TempDir(), dsn, bcrypt.MinCost
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sessions := func() (n int) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sessions(); n == 0 {
		t.Fatal("the open server has no session on its database: the test would prove nothing")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A session's backend leaves pg_stat_activity a moment after its
	// client hangs up: wait for it, a while.
	deadline := time.Now().Add(10 * time.Second)
	for n := sessions(); n != 0; n = sessions() {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still open 10 s after Close", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
