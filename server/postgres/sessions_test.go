package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
)

// TestSpentRefreshTokens: the spent_refresh table is pruned and forgotten
// as storetest.SpentTokensPruned says.
func TestSpentRefreshTokens(t *testing.T) {
	ctx := context.Background()
	db, _ := openNew(t)
	storetest.SpentTokensPruned(t, db, func(device string) []string {
		t.Helper()
		rows, err := db.Pool().Query(ctx, `SELECT hash FROM spent_refresh WHERE device_id = $1`, device)
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return hashes
	})
}

// TestRotateRefreshRace: two servers rotating the same refresh token at
// once: one rotation succeeds and the other is a reuse that ends the
// session, as if they had come one after the other.
func TestRotateRefreshRace(t *testing.T) {
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		db, _ := openNew(t)
		t0 := time.Now()
		u := &server.User{ID: "0195f4b2-0000-7000-8000-000000000003", Username: "zhao", Role: server.RoleInspector, CreatedAt: t0}
		if err := db.CreateUser(ctx, u, "x"); err != nil {
			t.Fatal(err)
		}
		d := &server.Device{ID: "0195f4b2-0000-7000-8000-0000000000dd", UserID: u.ID, CreatedAt: t0}
		if _, err := db.RegisterDevice(ctx, d, "h0", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.RotateRefresh(ctx, "h0", []string{"a", "b"}[i], t0.Add(2*time.Hour), t0)
			}()
		}
		wg.Wait()
		ok, reused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, server.ErrRefreshReuse):
				reused++
			default:
				t.Fatalf("rotate: %v", err)
			}
		}
		if ok != 1 || reused != 1 {
			t.Fatalf("round %d: %d rotations, %d reuses; want 1 and 1", round, ok, reused)
		}
		if p, err := db.Principal(ctx, u.ID, d.ID); err != nil || p.Session != 1 {
			t.Fatalf("session after reuse: %+v %v", p, err)
		}
		db.Close()
	}
}
