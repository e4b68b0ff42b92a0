package auth

import (
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

func TestLimiterSlowsDoublesAndForgets(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := NewLimiter(func() time.Time { return now })
	for i := 0; i < 4; i++ {
		l.Fail("u:wang")
		if err := l.Check("u:wang"); err != nil {
			t.Fatalf("locked after %d failures: %v", i+1, err)
		}
	}
	wantWait := func(d time.Duration) {
		t.Helper()
		err := l.Check("u:wang", "ip:1.2.3.4")
		var e *server.Error
		if err == nil {
			t.Fatalf("not locked, want a wait of %s", d)
		}
		e = err.(*server.Error)
		if e.Code != "too_many_attempts" || e.RetryAfter != d {
			t.Fatalf("got %s wait %s, want too_many_attempts %s", e.Code, e.RetryAfter, d)
		}
	}
	l.Fail("u:wang") // 5th
	wantWait(time.Second)
	now = now.Add(time.Second)
	l.Fail("u:wang") // 6th doubles
	wantWait(2 * time.Second)
	now = now.Add(2 * time.Second)
	if err := l.Check("u:wang"); err != nil {
		t.Fatalf("still locked after the wait: %v", err)
	}
	for i := 0; i < 30; i++ {
		l.Fail("u:wang")
	}
	wantWait(15 * time.Minute) // capped
	now = now.Add(2 * time.Hour)
	l.Fail("u:wang") // counted afresh after an hour without failures
	if err := l.Check("u:wang"); err != nil {
		t.Fatalf("an old streak of failures still counts: %v", err)
	}
	l.Succeed("u:wang")
	if err := l.Check("u:wang"); err != nil {
		t.Fatalf("success did not clear: %v", err)
	}
}
