package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSpentRefreshTokens: rotation keeps the spent hash until the token
// would have expired and deletes the expired ones, so the table cannot grow
// without bound; an expired spent token is just invalid, an unexpired one
// ends the session; signing in again forgets the device's spent tokens.
func TestSpentRefreshTokens(t *testing.T) {
	ctx := context.Background()
	db, _ := openNew(t)
	t0 := time.UnixMilli(1_800_000_000_000)
	u := &server.User{ID: "0195f4b2-0000-7000-8000-000000000002", Username: "li", Role: server.RoleInspector, CreatedAt: t0}
	if err := db.CreateUser(ctx, u, "x"); err != nil {
		t.Fatal(err)
	}
	d := &server.Device{ID: "0195f4b2-0000-7000-8000-0000000000cc", UserID: u.ID, CreatedAt: t0}
	if _, err := db.RegisterDevice(ctx, d, "h0", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	spent := func() (hashes []string) {
		t.Helper()
		rows, err := db.Pool().Query(ctx, `SELECT hash FROM spent_refresh WHERE device_id = $1 ORDER BY hash`, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h)
		}
		return hashes
	}
	session := func() int64 {
		t.Helper()
		p, err := db.Principal(ctx, u.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Session
	}
	rotate := func(old, new string, at time.Time) error {
		_, err := db.RotateRefresh(ctx, old, new, at.Add(10*time.Hour), at)
		return err
	}

	if err := rotate("h0", "h1", t0); err != nil { // h0 would expire at t0+1h
		t.Fatal(err)
	}
	if got := spent(); !slices.Equal(got, []string{"h0"}) {
		t.Fatalf("spent after one rotation %v", got)
	}
	if err := rotate("h1", "h2", t0.Add(2*time.Hour)); err != nil { // h1 would expire at t0+10h
		t.Fatal(err)
	}
	if got := spent(); !slices.Equal(got, []string{"h1"}) {
		t.Fatalf("spent after h0 expired %v, want h0 pruned", got)
	}
	for _, tc := range []struct {
		name, hash  string
		reuse       bool
		wantSession int64
	}{
		{"expired spent token", "h0", false, 0},
		{"unknown token", "nope", false, 0},
		{"spent token", "h1", true, 1},
		{"spent token again, session ended", "h1", false, 1},
		{"current token of the ended session", "h2", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rotate(tc.hash, "x-"+tc.name, t0.Add(3*time.Hour))
			if server.ErrorCode(err) != syncproto.CodeTokenInvalid || errors.Is(err, server.ErrRefreshReuse) != tc.reuse {
				t.Errorf("rotate: %v, want token_invalid (reuse %v)", err, tc.reuse)
			}
			if s := session(); s != tc.wantSession {
				t.Errorf("session %d, want %d", s, tc.wantSession)
			}
		})
	}
	s, err := db.RegisterDevice(ctx, d, "h3", t0.Add(30*time.Hour))
	if err != nil || s != 1 {
		t.Fatalf("sign in again: session %d, %v; want 1", s, err)
	}
	if got := spent(); len(got) != 0 {
		t.Errorf("spent after signing in again %v, want none", got)
	}
	if err := rotate("h3", "h4", t0.Add(4*time.Hour)); err != nil {
		t.Errorf("rotate after signing in again: %v", err)
	}
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
