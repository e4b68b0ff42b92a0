package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func openEmpty(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSigningKeys: keys list newest first, a taken id is a conflict, and
// removal spares the newest key even when it is older than the limit.
func TestSigningKeys(t *testing.T) {
	ctx := context.Background()
	var st server.KeyStore = openEmpty(t)
	ids := func() []string {
		t.Helper()
		keys, err := st.SigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range keys {
			if len(k.Secret) != 32 {
				t.Errorf("key %s has %d bytes", k.ID, len(k.Secret))
			}
			out = append(out, k.ID)
		}
		return out
	}
	if got := ids(); len(got) != 0 {
		t.Fatalf("new database has keys %v", got)
	}
	t0 := time.UnixMilli(1_800_000_000_000)
	for i, id := range []string{"a", "b", "c"} {
		k := server.SigningKey{ID: id, Secret: make([]byte, 32), CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		k.Secret[0] = byte(i)
		if err := st.AddSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	err := st.AddSigningKey(ctx, server.SigningKey{ID: "b", Secret: make([]byte, 32), CreatedAt: t0})
	if server.ErrorCode(err) != syncproto.CodeConflict {
		t.Fatalf("adding a taken id: %v, want conflict", err)
	}
	if got := ids(); len(got) != 3 || got[0] != "c" || got[1] != "b" || got[2] != "a" {
		t.Fatalf("keys %v, want c b a", got)
	}
	keys, _ := st.SigningKeys(ctx)
	if !keys[0].CreatedAt.Equal(t0.Add(2*time.Hour)) || keys[0].Secret[0] != 2 {
		t.Fatalf("newest key read back as %+v", keys[0])
	}
	if n, err := st.RemoveSigningKeys(ctx, t0.Add(90*time.Minute)); err != nil || n != 2 {
		t.Fatalf("remove before b's hour and a half: %d, %v; want 2", n, err)
	}
	if n, err := st.RemoveSigningKeys(ctx, t0.Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("remove spares the newest: %d, %v", n, err)
	}
	if got := ids(); len(got) != 1 || got[0] != "c" {
		t.Fatalf("keys %v, want c", got)
	}
}

// TestLoginAttempts: states are stored per key, replaced, and forgotten by
// key or once their last failure is old.
func TestLoginAttempts(t *testing.T) {
	ctx := context.Background()
	var st server.LoginStore = openEmpty(t)
	t0 := time.UnixMilli(1_800_000_000_000)
	if err := st.PutLoginAttempts(ctx, map[string]server.LoginAttempts{
		"u:wang":     {Failures: 5, Until: t0.Add(time.Second), Last: t0},
		"ip:1.2.3.4": {Failures: 1, Last: t0.Add(-2 * time.Hour)},
		"u:li":       {Failures: 2, Last: t0},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := st.LoginAttempts(ctx, []string{"u:wang", "ip:1.2.3.4", "u:nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["u:wang"].Failures != 5 || !got["u:wang"].Until.Equal(t0.Add(time.Second)) ||
		!got["u:wang"].Last.Equal(t0) || got["ip:1.2.3.4"].Failures != 1 {
		t.Fatalf("read %+v", got)
	}
	if err := st.PutLoginAttempts(ctx, map[string]server.LoginAttempts{"u:wang": {Failures: 6, Until: t0.Add(3 * time.Second), Last: t0.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.LoginAttempts(ctx, []string{"u:wang"}); got["u:wang"].Failures != 6 {
		t.Fatalf("replaced state read %+v", got)
	}
	if err := st.ClearLoginAttempts(ctx, "u:wang", t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = st.LoginAttempts(ctx, []string{"u:wang", "ip:1.2.3.4", "u:li"})
	if len(got) != 1 || got["u:li"].Failures != 2 {
		t.Fatalf("after clearing u:wang and what failed last before an hour ago: %+v", got)
	}
	if got, err := st.LoginAttempts(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}
