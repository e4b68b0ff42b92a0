package auth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLimiterSlowsDoublesAndForgets(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := NewLimiter(openStore(t), func() time.Time { return now })
	fail := func(key string) {
		t.Helper()
		if err := l.Fail(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	fail("ip:9.9.9.9") // a key that fails once and never again
	for i := 0; i < 4; i++ {
		fail("u:wang")
		if err := l.Check(ctx, "u:wang"); err != nil {
			t.Fatalf("locked after %d failures: %v", i+1, err)
		}
	}
	wantWait := func(d time.Duration) {
		t.Helper()
		err := l.Check(ctx, "u:wang", "ip:1.2.3.4")
		var e *server.Error
		if err == nil {
			t.Fatalf("not locked, want a wait of %s", d)
		}
		e = err.(*server.Error)
		if e.Code != "too_many_attempts" || e.RetryAfter != d {
			t.Fatalf("got %s wait %s, want too_many_attempts %s", e.Code, e.RetryAfter, d)
		}
	}
	fail("u:wang") // 5th
	wantWait(time.Second)
	now = now.Add(time.Second)
	fail("u:wang") // 6th doubles
	wantWait(2 * time.Second)
	now = now.Add(2 * time.Second)
	if err := l.Check(ctx, "u:wang"); err != nil {
		t.Fatalf("still locked after the wait: %v", err)
	}
	for i := 0; i < 30; i++ {
		fail("u:wang")
	}
	wantWait(15 * time.Minute) // capped
	now = now.Add(2 * time.Hour)
	fail("u:wang") // counted afresh after an hour without failures
	if err := l.Check(ctx, "u:wang"); err != nil {
		t.Fatalf("an old streak of failures still counts: %v", err)
	}
	if kept, err := l.store.LoginAttempts(ctx, []string{"ip:9.9.9.9", "u:wang"}); err != nil || len(kept) != 1 {
		t.Fatalf("keys kept after two hours: %v, %v; want only u:wang (the store forgets the others)", kept, err)
	}
	for i := 0; i < 10; i++ {
		fail("u:wang")
	}
	if err := l.Succeed(ctx, "u:wang"); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(ctx, "u:wang"); err != nil {
		t.Fatalf("success did not clear: %v", err)
	}
}
