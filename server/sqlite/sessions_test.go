package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// openAt creates a database at path with the migrations up to and
// including last applied, as a server of that version left it.
func openAt(t *testing.T, path, last string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	w, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	old := &DB{path: path, write: w}
	if _, err := w.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, name := range names {
		if name > "migrations/"+last {
			break
		}
		if err := old.migrateOne(ctx, name); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
	}
	return w
}

// TestSignedOutBeforeSessions (issue 9): a device that signed out under
// migration 004 (which compared signed_out_at with the token's whole-second
// iat) keeps its access tokens void after migration 005, even one issued
// in the very second of the sign-out; a device that never signed out keeps
// working, and the signed-out one can sign in again.
func TestSignedOutBeforeSessions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	raw := openAt(t, path, "004_sign_out.sql")

	login := time.Now().Truncate(time.Second).Add(100 * time.Millisecond)
	signedOut := login.Add(50 * time.Millisecond)
	const user, pw = "0195f4b2-0000-7000-8000-000000000001", "inspector123"
	const gone, active = "0195f4b2-0000-7000-8000-0000000000aa", "0195f4b2-0000-7000-8000-0000000000bb"
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, 'wang', ?, 'inspector', 0)`, []any{user, string(hash)}},
		{`INSERT INTO devices (id, user_id, created_at, last_seen_at, refresh_hash, refresh_expires_at, signed_out_at) VALUES (?, ?, 0, 0, '', 0, ?)`,
			[]any{gone, user, signedOut.UnixMilli()}},
		{`INSERT INTO devices (id, user_id, created_at, last_seen_at, refresh_hash, refresh_expires_at) VALUES (?, ?, 0, 0, ?, ?)`,
			[]any{active, user, auth.HashToken("active-refresh"), login.Add(time.Hour).UnixMilli()}},
	} {
		if _, err := raw.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, path) // applies 005 and later
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret := []byte("0123456789abcdef0123456789abcdef")
	if err := db.AddSigningKey(ctx, server.SigningKey{ID: auth.LegacyKeyID, Secret: secret, CreatedAt: login}); err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(db, nil, func() time.Time { return login.Add(time.Second) })
	// Tokens as the server of migration 004 signed them: no generation.
	oldToken := func(device string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "fieldsync", "sub": user, "did": device, "role": "inspector", "jti": "old-" + device,
			"iat": login.Unix(), "exp": login.Add(15 * time.Minute).Unix(),
		}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name, device, code string
	}{
		{"signed out in the second of its token", gone, syncproto.CodeTokenInvalid},
		{"never signed out", active, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := svc.Authenticate(ctx, oldToken(tc.device))
			if got := server.ErrorCode(err); got != tc.code {
				t.Fatalf("authenticate: code %q (%v), want %q", got, err, tc.code)
			}
			if tc.code == "" && (p.DeviceID != tc.device || p.UserID != user) {
				t.Errorf("principal %+v", p)
			}
		})
	}

	t.Run("the active device refreshes", func(t *testing.T) {
		tr, err := svc.Refresh(ctx, "active-refresh", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, tr.AccessToken); err != nil {
			t.Errorf("refreshed token: %v", err)
		}
	})
	t.Run("the signed-out device signs in again", func(t *testing.T) {
		tr, err := svc.Login(ctx, &syncproto.LoginRequest{Username: "wang", Password: pw, DeviceID: gone}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, tr.AccessToken); err != nil {
			t.Errorf("new token: %v", err)
		}
		if _, err := svc.Authenticate(ctx, oldToken(gone)); server.ErrorCode(err) != syncproto.CodeTokenInvalid {
			t.Errorf("old token after signing in again: %v", err)
		}
	})
}

// TestSpentRefreshTokens: the spent_refresh table is pruned and forgotten
// as storetest.SpentTokensPruned says.
func TestSpentRefreshTokens(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.SpentTokensPruned(t, db, func(device string) []string {
		t.Helper()
		rows, err := db.read.QueryContext(ctx, `SELECT hash FROM spent_refresh WHERE device_id = ?`, device)
		if err != nil {
			t.Fatal(err)
		}
		hashes, err := scanIDs(rows)
		if err != nil {
			t.Fatal(err)
		}
		return hashes
	})
}
