package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/auth"
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

// TestSpentRefreshTokens: rotation keeps the spent hash until the token
// would have expired and deletes the expired ones, so the table cannot grow
// without bound; an expired spent token is just invalid, an unexpired one
// ends the session; signing in again forgets the device's spent tokens.
func TestSpentRefreshTokens(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "fieldsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
		rows, err := db.read.QueryContext(ctx, `SELECT hash FROM spent_refresh WHERE device_id = ? ORDER BY hash`, d.ID)
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
