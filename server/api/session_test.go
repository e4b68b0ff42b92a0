package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestDeviceSessions (issue 9): logout ends a device's tokens whatever the
// timing, and the reuse of a spent refresh token ends the device's session.
// The server's auth clock stands still, so login, logout and the new login
// all happen in the same millisecond: only the device's session generation
// can tell the tokens apart.
func TestDeviceSessions(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	at := time.Now().Truncate(time.Second).Add(100 * time.Millisecond)
	// Set before the first request to this server; every request reads it
	// after the write (the race detector sees the socket as a sync point).
	srv.App.Auth.Now = func() time.Time { return at }
	logs := &logBuffer{}
	srv.App.Auth.Log = slog.New(slog.NewJSONHandler(logs, nil))
	t.Run("logout in the second of the login", func(t *testing.T) { testLogoutSameInstant(t, srv) })
	t.Run("refresh token reuse ends the family", func(t *testing.T) { testRefreshReuse(t, srv, logs) })
	t.Run("a new login starts a new family", func(t *testing.T) { testReloginNewFamily(t, srv, logs) })
	t.Run("failed and throttled sign-ins are logged", func(t *testing.T) { testFailedLoginsLogged(t, srv, logs) })
}

// testFailedLoginsLogged: each failed sign-in is a security event naming
// the username and the address (never the password), and so is one
// refused for too many failures.
func testFailedLoginsLogged(t *testing.T, srv *apptest.Server, logs *logBuffer) {
	const password = "guess-Pa55word"
	for i := range 6 {
		body := `{"username":"nobody.here","password":"` + password + `","device_id":"` + newID() + `","device_name":"x"}`
		resp, err := srv.HTTPClient().Post(srv.URL+syncproto.PathLogin, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 429, false: 401}[i == 5]; resp.StatusCode != want {
			t.Fatalf("sign-in %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	kinds := map[any]int{}
	for _, e := range logs.events(t, "username", "nobody.here") {
		kinds[e["kind"]]++
		if e["client_ip"] != "127.0.0.1" || e["level"] != "WARN" {
			t.Errorf("security event %v: want WARN with the client's address", e)
		}
	}
	if kinds["login_failed"] != 5 || kinds["login_throttled"] != 1 {
		t.Errorf("security events by kind %v, want 5 login_failed and 1 login_throttled", kinds)
	}
	if strings.Contains(logs.String(), password) {
		t.Error("the log holds a password")
	}
}

// TestFailedLoginKnownUser: a real user's failed sign-in is logged as a
// known user's whatever the password's length — one longer than bcrypt
// reads (72 bytes) was logged as an unknown name's (API probe), hiding a
// guess at a real account among noise — and an unknown name's as not.
func TestFailedLoginKnownUser(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	logs := &logBuffer{}
	srv.App.Auth.Log = slog.New(slog.NewJSONHandler(logs, nil))
	for _, guess := range []string{"short-guess", strings.Repeat("a", 80), strings.Repeat("密", 30)} {
		body, _ := json.Marshal(map[string]string{"username": apptest.DingxiangOffice, "password": guess, "device_id": newID()})
		resp, err := srv.HTTPClient().Post(srv.URL+syncproto.PathLogin, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong password of %d bytes: %d", len(guess), resp.StatusCode)
		}
	}
	failed := logs.events(t, "username", apptest.DingxiangOffice)
	if len(failed) != 3 {
		t.Fatalf("%d events for the real user, want 3", len(failed))
	}
	for _, e := range failed {
		if e["kind"] != "login_failed" || e["known_user"] != true {
			t.Errorf("a real user's failed sign-in logged as %v", e)
		}
	}
	body, _ := json.Marshal(map[string]string{"username": "nobody.here", "password": strings.Repeat("a", 80), "device_id": newID()})
	resp, err := srv.HTTPClient().Post(srv.URL+syncproto.PathLogin, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e := logs.events(t, "username", "nobody.here"); len(e) != 1 || e[0]["known_user"] != false {
		t.Errorf("an unknown name's failed sign-in logged as %v", e)
	}
}

// logBuffer collects the server's JSON log lines.
type logBuffer struct{ logtest.Buffer }

// securityEvents returns the security events logged about a device.
func (b *logBuffer) securityEvents(t *testing.T, deviceID string) []map[string]any {
	t.Helper()
	return b.events(t, "device_id", deviceID)
}

// events returns the security events logged whose key is value.
func (b *logBuffer) events(t *testing.T, key, value string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range b.Records("security event") {
		if rec[key] == value {
			out = append(out, rec)
		}
	}
	return out
}

// check is one request with a token and the answer it must get.
type check struct {
	name   string
	path   string // GET with an access token, or PathRefresh with a refresh token
	token  string
	status int
	code   string // "" for success
}

func runChecks(t *testing.T, srv *apptest.Server, checks []check) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var r reply
			if c.path == syncproto.PathRefresh {
				r = rawRefresh(t, srv, c.token)
			} else {
				r = send(t, srv, request{method: http.MethodGet, path: c.path, token: c.token})
			}
			if c.code == "" {
				r.wantStatus(t, c.status)
				return
			}
			r.wantError(t, c.status, c.code)
		})
	}
}

// login signs in on deviceID with raw HTTP and returns the token pair.
func login(t *testing.T, srv *apptest.Server, username, deviceID string) syncproto.TokenResponse {
	t.Helper()
	r := rawLogin(t, srv, username, apptest.Passwords[username], deviceID)
	r.wantStatus(t, http.StatusOK)
	var tr syncproto.TokenResponse
	if err := json.Unmarshal(r.Body, &tr); err != nil {
		t.Fatalf("login answer %s: %v", r.Body, err)
	}
	return tr
}

// refresh exchanges a refresh token and returns the new pair.
func refresh(t *testing.T, srv *apptest.Server, token string) syncproto.TokenResponse {
	t.Helper()
	r := rawRefresh(t, srv, token)
	r.wantStatus(t, http.StatusOK)
	var tr syncproto.TokenResponse
	if err := json.Unmarshal(r.Body, &tr); err != nil {
		t.Fatalf("refresh answer %s: %v", r.Body, err)
	}
	return tr
}

func testLogoutSameInstant(t *testing.T, srv *apptest.Server) {
	c := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.Inspector) // another device of the same user
	access, refreshTok := c.Tokens()
	runChecks(t, srv, []check{
		{"me before logout", syncproto.PathMe, access, 200, ""},
		{"pull before logout", syncproto.PathPull, access, 200, ""},
	})
	if err := c.Do(t.Context(), http.MethodPost, syncproto.PathLogout, nil, nil); err != nil {
		t.Fatalf("logout: %v", err)
	}
	runChecks(t, srv, []check{
		{"me after logout", syncproto.PathMe, access, 401, syncproto.CodeTokenInvalid},
		{"pull after logout", syncproto.PathPull, access, 401, syncproto.CodeTokenInvalid},
		{"refresh after logout", syncproto.PathRefresh, refreshTok, 401, syncproto.CodeTokenInvalid},
		{"other device", syncproto.PathMe, accessToken(other), 200, ""},
	})

	// Signing in again works at once, in the same millisecond; the old
	// token stays refused.
	again := login(t, srv, apptest.Inspector, c.DeviceID)
	runChecks(t, srv, []check{
		{"new token", syncproto.PathMe, again.AccessToken, 200, ""},
		{"new token pulls", syncproto.PathPull, again.AccessToken, 200, ""},
		{"old token after the new login", syncproto.PathPull, access, 401, syncproto.CodeTokenInvalid},
		{"old refresh token after the new login", syncproto.PathRefresh, refreshTok, 401, syncproto.CodeTokenInvalid},
	})
	// The new session's refresh token works (and rotates) as usual.
	next := refresh(t, srv, again.RefreshToken)
	runChecks(t, srv, []check{{"refreshed token", syncproto.PathMe, next.AccessToken, 200, ""}})
}

func testRefreshReuse(t *testing.T, srv *apptest.Server, logs *logBuffer) {
	dev := newID()
	first := login(t, srv, apptest.Inspector, dev)
	other := srv.Login(apptest.Inspector) // another device of the same user
	second := refresh(t, srv, first.RefreshToken)

	// R1 again: a spent token is back, so someone else holds a copy. Its
	// whole family ends: R2, and every access token of the device.
	runChecks(t, srv, []check{
		{"replay R1", syncproto.PathRefresh, first.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"R2 after the replay", syncproto.PathRefresh, second.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"replay R1 again", syncproto.PathRefresh, first.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"access token of R2", syncproto.PathMe, second.AccessToken, 401, syncproto.CodeTokenInvalid},
		{"access token of the login", syncproto.PathPull, first.AccessToken, 401, syncproto.CodeTokenInvalid},
		{"other device", syncproto.PathMe, accessToken(other), 200, ""},
	})
	// One security event, for the first replay (the refused R2 and the
	// replay in the ended family are not).
	events := logs.securityEvents(t, dev)
	if len(events) != 1 {
		t.Fatalf("security events %v, want one", events)
	}
	want := map[string]any{"level": "WARN", "kind": "refresh_token_reuse", "device_id": dev, "user_id": first.User.ID, "client_ip": "127.0.0.1"}
	for k, v := range want {
		if events[0][k] != v {
			t.Errorf("security event %s = %v, want %v (%v)", k, events[0][k], v, events[0])
		}
	}

	// Signing in again starts a new family; replaying the old tokens
	// does not end it.
	fresh := login(t, srv, apptest.Inspector, dev)
	runChecks(t, srv, []check{
		{"fresh login", syncproto.PathMe, fresh.AccessToken, 200, ""},
		{"replay R1 after the fresh login", syncproto.PathRefresh, first.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"replay R2 after the fresh login", syncproto.PathRefresh, second.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"fresh login after the replays", syncproto.PathPull, fresh.AccessToken, 200, ""},
	})
	next := refresh(t, srv, fresh.RefreshToken)
	runChecks(t, srv, []check{{"fresh family refreshes", syncproto.PathMe, next.AccessToken, 200, ""}})
	if n := len(logs.securityEvents(t, dev)); n != 1 {
		t.Errorf("%d security events after replays of an ended family, want still 1", n)
	}
}

// testReloginNewFamily: signing in again without signing out replaces the
// refresh token; the tokens spent before that login belong to an ended
// family and their replay does not end the new one.
func testReloginNewFamily(t *testing.T, srv *apptest.Server, logs *logBuffer) {
	dev := newID()
	first := login(t, srv, apptest.Inspector, dev)
	second := refresh(t, srv, first.RefreshToken)
	fresh := login(t, srv, apptest.Inspector, dev)
	runChecks(t, srv, []check{
		{"replay R1", syncproto.PathRefresh, first.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"replaced R2", syncproto.PathRefresh, second.RefreshToken, 401, syncproto.CodeTokenInvalid},
		{"new login's access token", syncproto.PathMe, fresh.AccessToken, 200, ""},
	})
	refresh(t, srv, fresh.RefreshToken)
	if ev := logs.securityEvents(t, dev); len(ev) != 0 {
		t.Errorf("security events %v for tokens of a family a login replaced", ev)
	}
}

// TestClientRefreshesOnce: requests of one syncproto.Client that find their
// access token expired at the same time refresh it once between them. Two
// refreshes with the same token would be a reuse, ending the session.
func TestClientRefreshesOnce(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	c := srv.Login(apptest.Inspector)
	stale := sign(t, jwt.SigningMethodHS256, jwtKey(t, srv), expired(claimsOf(t, c)))
	c.SetTokens(stale, refreshToken(c))
	const n = 8
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			_, err := c.Me(t.Context())
			errs <- err
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("me with an expired token: %v", err)
		}
	}
	if _, err := c.Me(t.Context()); err != nil {
		t.Errorf("me after the refreshes: %v", err)
	}
}

// TestRequestLogLine: each request's log line says who asked from where
// and how long the answer took, beside its route and status.
func TestRequestLogLine(t *testing.T) {
	var logs logtest.Buffer
	srv := apptest.StartLogged(t, &logs)
	c := srv.Login(apptest.Inspector)
	if _, err := c.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range logs.Records("request") {
		if rec["route"] != syncproto.PathMe {
			continue
		}
		found = true
		if rec["client_ip"] != "127.0.0.1" || rec["user"] != apptest.Inspector || rec["status"] != float64(200) {
			t.Errorf("request line %v", rec)
		}
		if d, ok := rec["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("request line without its duration: %v", rec)
		}
	}
	if !found {
		t.Error("no request line for GET /me")
	}
}
