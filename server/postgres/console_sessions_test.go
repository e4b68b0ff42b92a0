package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestConsoleSessions: the store's console sessions expire on their idle
// and absolute limits, revoke, list, and end when their user is disabled
// or given a new password (with the user's device sessions).
func TestConsoleSessions(t *testing.T) {
	ctx := context.Background()
	db, _ := openSeeded(t)
	p := registerDevice(t, db)
	var st server.ConsoleSessionStore = db
	now := time.Now()
	const idle = time.Hour
	newSession := func(id string) {
		t.Helper()
		if err := st.CreateConsoleSession(ctx, &server.ConsoleSession{ID: id, UserID: p.UserID, CSRF: "c-" + id,
			CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(id string, at time.Time) bool {
		t.Helper()
		_, err := st.TouchConsoleSession(ctx, id, idle, at)
		if err != nil && server.ErrorCode(err) != syncproto.CodeUnauthorized {
			t.Fatal(err)
		}
		return err != nil
	}
	newSession("a")
	newSession("b")
	s, err := st.TouchConsoleSession(ctx, "a", idle, now.Add(50*time.Minute))
	if err != nil || s.Username != p.Username || s.CSRF != "c-a" {
		t.Fatalf("touch: %+v %v", s, err)
	}
	if refused("a", now.Add(100*time.Minute)) { // 50 min after its last use
		t.Error("a session in use refused")
	}
	if !refused("b", now.Add(61*time.Minute)) {
		t.Error("idle session accepted")
	}
	if !refused("a", now.Add(24*time.Hour)) {
		t.Error("session accepted at its absolute limit")
	}
	if !refused("nope", now) {
		t.Error("unknown session accepted")
	}

	newSession("c")
	list, err := st.ConsoleSessions(ctx, p.Username, idle, now)
	if err != nil || len(list) != 3 {
		t.Fatalf("sessions: %d %v", len(list), err)
	}
	if err := st.RevokeConsoleSession(ctx, "c", now); err != nil {
		t.Fatal(err)
	}
	if !refused("c", now) {
		t.Error("revoked session accepted")
	}
	if err := st.RevokeConsoleSession(ctx, "zzz", now); server.ErrorCode(err) != syncproto.CodeNotFound {
		t.Errorf("revoke unknown: %v", err)
	}

	for i, end := range []func() error{
		func() error { return st.SetUserDisabled(ctx, p.Username, true) },
		func() error { return st.SetUserPassword(ctx, p.Username, "new-hash") },
	} {
		if err := st.SetUserDisabled(ctx, p.Username, false); err != nil {
			t.Fatal(err)
		}
		id := string(rune('d' + i))
		newSession(id)
		before, err := db.Principal(ctx, p.UserID, p.DeviceID)
		if err != nil {
			t.Fatal(err)
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
		if !refused(id, now) {
			t.Error("session survived disabling or a new password")
		}
		if err := st.SetUserDisabled(ctx, p.Username, false); err != nil {
			t.Fatal(err)
		}
		after, err := db.Principal(ctx, p.UserID, p.DeviceID)
		if err != nil || after.Session == before.Session {
			t.Errorf("device session not ended: %d → %+v %v", before.Session, after, err)
		}
	}
	if err := st.SetUserDisabled(ctx, "nobody", true); server.ErrorCode(err) != syncproto.CodeNotFound {
		t.Errorf("disable unknown: %v", err)
	}
}
