package auth

import (
	"context"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"path/filepath"
	"strconv"
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
	check := func(keys ...string) error { return begin(t, l, keys...) }
	fail := func(key string) {
		t.Helper()
		if err := l.Fail(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	fail("ip:9.9.9.9") // a key that fails once and never again
	for i := 0; i < 4; i++ {
		fail("u:wang")
		if err := check("u:wang"); err != nil {
			t.Fatalf("locked after %d failures: %v", i+1, err)
		}
	}
	wantWait := func(d time.Duration) {
		t.Helper()
		err := check("u:wang", "ip:1.2.3.4")
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
	if err := check("u:wang"); err != nil {
		t.Fatalf("still locked after the wait: %v", err)
	}
	for i := 0; i < 30; i++ {
		fail("u:wang")
	}
	wantWait(15 * time.Minute) // capped
	now = now.Add(2 * time.Hour)
	fail("u:wang") // counted afresh after an hour without failures
	if err := check("u:wang"); err != nil {
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
	if err := check("u:wang"); err != nil {
		t.Fatalf("success did not clear: %v", err)
	}
}

// begin begins an attempt and ends it at once, returning Begin's error.
func begin(t *testing.T, l *Limiter, keys ...string) error {
	t.Helper()
	done, err := l.Begin(context.Background(), keys[0], keys[1:]...)
	if err == nil {
		done()
	}
	return err
}

// TestLimiterBoundsAttemptsInFlight: attempts begun and not done count
// against a key's free tries, so that no more passwords are being checked
// at once than the key has tries left; once they are spent, one at a time.
// An address shared by several usernames is bounded the same way once it
// has a failure on record.
func TestLimiterBoundsAttemptsInFlight(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := NewLimiter(openStore(t), func() time.Time { return now })
	var dones []func()
	for i := range 5 {
		done, err := l.Begin(ctx, "u:wang", "ip:1.2.3."+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("attempt %d of five at once: %v", i+1, err)
		}
		dones = append(dones, done)
	}
	wantBusy := func(what string, keys ...string) {
		t.Helper()
		err := begin(t, l, keys...)
		if e, ok := err.(*server.Error); !ok || e.Code != syncproto.CodeTooManyTries || e.RetryAfter != time.Second {
			t.Fatalf("%s: %v, want too_many_attempts after 1 s", what, err)
		}
	}
	wantBusy("a sixth at once", "u:wang", "ip:5.5.5.5")
	if err := begin(t, l, "u:li", "ip:5.5.5.5"); err != nil {
		t.Fatalf("another username meanwhile: %v", err)
	}
	// Four fail: the fifth, still in flight, is the last free try.
	for _, done := range dones[:4] {
		if err := l.Fail(ctx, "u:wang"); err != nil {
			t.Fatal(err)
		}
		done()
	}
	wantBusy("a sixth with four failed and one in flight", "u:wang")
	dones[4]()
	// Four failures, nothing in flight: one try is left, one at a time.
	done, err := l.Begin(ctx, "u:wang")
	if err != nil {
		t.Fatalf("the fifth try: %v", err)
	}
	wantBusy("beside the fifth try", "u:wang")
	done()
	// An address without a failure on record takes many people signing
	// in at once (an office behind one address); once it has failures,
	// it is bounded as an account is: with one, four more at once.
	dones = dones[:0]
	for i := range 10 {
		done, err := l.Begin(ctx, "u:user"+strconv.Itoa(i), "ip:6.6.6.6")
		if err != nil {
			t.Fatalf("address without failures, attempt %d: %v", i+1, err)
		}
		dones = append(dones, done)
	}
	for _, done := range dones {
		done()
	}
	if err := l.Fail(ctx, "ip:6.6.6.6"); err != nil {
		t.Fatal(err)
	}
	dones = dones[:0]
	for i := range 4 {
		done, err := l.Begin(ctx, "u:other"+strconv.Itoa(i), "ip:6.6.6.6")
		if err != nil {
			t.Fatalf("address with a failure, attempt %d: %v", i+1, err)
		}
		dones = append(dones, done)
	}
	wantBusy("a fifth username at once from an address with a failure", "u:user9", "ip:6.6.6.6")
	for _, done := range dones {
		done()
	}
	if err := begin(t, l, "u:user9", "ip:6.6.6.6"); err != nil {
		t.Fatalf("after the address's attempts are done: %v", err)
	}
}

// TestLimiterInFlightAcrossServers: several servers on one store (two
// limiters here) bound a burst of guesses together, as one server does:
// five at once in all, not five on each; and an attempt a server began and
// never ended (it died) stops counting once its lease has run out.
func TestLimiterInFlightAcrossServers(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	st := openStore(t)
	servers := []*Limiter{NewLimiter(st, func() time.Time { return now }), NewLimiter(st, func() time.Time { return now })}
	for i := range 5 {
		if _, err := servers[i%2].Begin(ctx, "u:wang", "ip:10.0.0."+strconv.Itoa(i)); err != nil {
			t.Fatalf("attempt %d of five over two servers: %v", i+1, err)
		}
	}
	for i, l := range servers {
		if err := begin(t, l, "u:wang", "ip:10.0.1.1"); err == nil {
			t.Errorf("a sixth at once, on server %d: taken", i+1)
		}
	}
	// None of the five ends (their server died): after the lease they
	// no longer count.
	now = now.Add(inFlightLease + time.Second)
	if err := begin(t, servers[1], "u:wang", "ip:10.0.1.1"); err != nil {
		t.Errorf("after the lease of attempts never ended: %v", err)
	}
}
