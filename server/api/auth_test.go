package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Counties of the demo accounts.
const (
	xinfu  = "140902" // 忻府区: inspector, inspector2, county
	ningwu = "140925" // 宁武县: ningwu
)

// ---- helpers shared by auth_test.go and badinput_test.go ----

// rawClient sends requests that are wrong on purpose. They bypass
// apptest.SpecTransport, which would (rightly) refuse them before they reach
// the server; well-formed requests go through the spec-checked clients.
var rawClient = &http.Client{Timeout: 60 * time.Second}

// request is one raw HTTP request.
type request struct {
	method, path string
	token        string // bearer token; "" sends no Authorization
	header       map[string]string
	ctype        string // Content-Type; "" sends none
	body         string
}

// reply is a raw HTTP response.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func send(t *testing.T, srv *apptest.Server, r request) reply {
	t.Helper()
	return sendBody(t, srv, r, strings.NewReader(r.body), int64(len(r.body)))
}

// sendBody sends r with body (size bytes, -1 for chunked).
func sendBody(t *testing.T, srv *apptest.Server, r request, body io.Reader, size int64) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), r.method, srv.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// wantError checks an error response: exact status, JSON body with the
// exact code, a Chinese message, and the server's HLC.
func (r reply) wantError(t *testing.T, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d (body %s)", r.Status, status, truncate(r.Body))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var eb syncproto.ErrorBody
	if err := json.Unmarshal(r.Body, &eb); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, truncate(r.Body))
	}
	if eb.Code != code {
		t.Errorf("code %q, want %q (message %q)", eb.Code, code, eb.Message)
	}
	checkChinese(t, eb.Message)
	// What the request sent is quoted back with its hidden characters
	// escaped: a direction override would make the message, or the
	// field a phone shows, read in another order.
	for _, s := range []string{eb.Message, eb.Field} {
		if strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
		}) {
			t.Errorf("error %q (field %q) says a hidden character as it is", eb.Message, eb.Field)
		}
	}
	if _, err := syncproto.ParseHLC(r.Header.Get(syncproto.HeaderServerHLC)); err != nil || r.Header.Get(syncproto.HeaderServerHLC) == "" {
		t.Errorf("missing or bad %s header %q", syncproto.HeaderServerHLC, r.Header.Get(syncproto.HeaderServerHLC))
	}
}

// wantStatus checks a successful response's status.
func (r reply) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d (body %s)", r.Status, status, truncate(r.Body))
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// checkChinese checks a message shown to users: Chinese, and free of Go
// internals (type names, encoding/json's wording, blank field names).
func checkChinese(t *testing.T, msg string) {
	t.Helper()
	if !strings.ContainsFunc(msg, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Errorf("message %q is not a Chinese message", msg)
	}
	for _, leak := range []string{"syncproto.", "api.", "[]", "json:", "map[", "interface", "字段  "} {
		if strings.Contains(msg, leak) {
			t.Errorf("message %q shows %q", msg, leak)
		}
	}
	// Go's own formatting of a list or a duration.
	if m := goFormatted.FindString(msg); m != "" {
		t.Errorf("message %q shows Go's formatting %q", msg, m)
	}
	// A kind of record is named in Chinese (检查记录, not inspection);
	// field names are the API's own and stay as they are.
	if m := entityWireName.FindString(msg); m != "" {
		t.Errorf("message %q names a kind of record as the API does, %q", msg, m)
	}
}

// entityWireName matches, as a word, the wire name of an entity that is
// not also a field's name.
var entityWireName = func() *regexp.Regexp {
	fields := map[string]bool{}
	for _, e := range server.Entities {
		for _, f := range e.Fields {
			fields[f.Name] = true
		}
	}
	var names []string
	for _, e := range server.Entities {
		if !fields[e.Name] {
			names = append(names, regexp.QuoteMeta(e.Name))
		}
	}
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
}()

var goFormatted = regexp.MustCompile(`\[[a-z_]+( [a-z_]+)+\]|\d+[hm]\d+[ms]|\d+(\.\d+)?(ms|µs|ns)\b`)

// wantAPIError checks an error returned by the syncproto client.
func wantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *syncproto.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want API error %d %s", err, status, code)
	}
	if ae.Status != status || ae.Body.Code != code {
		t.Errorf("got %d %s (%s), want %d %s", ae.Status, ae.Body.Code, ae.Body.Message, status, code)
	}
	checkChinese(t, ae.Body.Message)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// F is a mutation's fields before encoding.
type F map[string]any

func (f F) raw(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	if f == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(f))
	for k, v := range f {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

// upsert is a device write stamped by the client's clock.
func upsert(t *testing.T, c *syncproto.Client, entity, id string, f F) syncproto.Mutation {
	return syncproto.Mutation{Entity: entity, ID: id, Fields: f.raw(t), HLC: c.Clock.Now().String()}
}

// remove is a device delete stamped by the client's clock.
func remove(c *syncproto.Client, entity, id string) syncproto.Mutation {
	return syncproto.Mutation{Entity: entity, ID: id, Delete: true, HLC: c.Clock.Now().String()}
}

// wantResult checks one push result.
func wantResult(t *testing.T, r syncproto.PushResult, status, code string) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Errorf("%s %s: %s %q (%s), want %s %q", r.Entity, r.ID, r.Status, r.Code, r.Message, status, code)
	}
	if status == syncproto.StatusRejected {
		checkChinese(t, r.Message)
	}
}

// demoSites returns the ids of the demo sites in county.
func demoSites(t *testing.T, county string) []string {
	t.Helper()
	d, err := seeds.LoadDemo()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range d.Sites {
		if s.County == county {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("want two demo sites in %s, have %d", county, len(ids))
	}
	return ids
}

func newSite(county, name string) F {
	return F{"county": county, "kind": "construction_site", "name": name, "lon": 112.74, "lat": 38.43}
}

func newInspection(site, status string) F {
	return F{"site_id": site, "template_id": "construction_dust", "template_version": 1, "status": status,
		"started_at": time.Now().UTC().Format(time.RFC3339)}
}

// submitted creates a submitted inspection at site and returns its id.
func submitted(t *testing.T, c *syncproto.Client, site string) string {
	t.Helper()
	id := newID()
	apptest.PushApplied(t, c, upsert(t, c, syncproto.EntityInspection, id, newInspection(site, "submitted")))
	return id
}

// pullAll pulls every change visible to c.
func pullAll(t *testing.T, c *syncproto.Client) []syncproto.Change {
	t.Helper()
	var all []syncproto.Change
	if _, err := c.PullAll(t.Context(), "", 0, func(p *syncproto.PullResponse) error {
		all = append(all, p.Changes...)
		return nil
	}); err != nil {
		t.Fatalf("pull: %v", err)
	}
	return all
}

func reviewPath(id string) string { return "/api/v1/inspections/" + id + "/review" }
func revokePath(id string) string { return "/api/v1/devices/" + id + "/revoke" }

func accessToken(c *syncproto.Client) string {
	a, _ := c.Tokens()
	return a
}

func refreshToken(c *syncproto.Client) string {
	_, r := c.Tokens()
	return r
}

func refreshBody(token string) string {
	b, _ := json.Marshal(syncproto.RefreshRequest{RefreshToken: token})
	return string(b)
}

func loginBody(username, password, deviceID string) string {
	b, _ := json.Marshal(syncproto.LoginRequest{Username: username, Password: password, DeviceID: deviceID, DeviceName: "测试手机"})
	return string(b)
}

func rawLogin(t *testing.T, srv *apptest.Server, username, password, deviceID string) reply {
	t.Helper()
	return send(t, srv, request{method: http.MethodPost, path: syncproto.PathLogin, ctype: "application/json",
		body: loginBody(username, password, deviceID)})
}

func rawRefresh(t *testing.T, srv *apptest.Server, token string) reply {
	t.Helper()
	return send(t, srv, request{method: http.MethodPost, path: syncproto.PathRefresh, ctype: "application/json",
		body: refreshBody(token)})
}

// jwtKey is the server's real token key (the store's newest).
func jwtKey(t *testing.T, srv *apptest.Server) []byte {
	t.Helper()
	keys, err := srv.App.DB.SigningKeys(t.Context())
	if err != nil || len(keys) == 0 {
		t.Fatalf("signing keys: %v, %v", keys, err)
	}
	return keys[0].Secret
}

// claimsOf returns valid access-token claims for c's user and device.
func claimsOf(t *testing.T, c *syncproto.Client) auth.Claims {
	t.Helper()
	u, err := c.Me(t.Context())
	if err != nil {
		t.Fatalf("me: %v", err)
	}
	now := time.Now()
	return auth.Claims{DeviceID: c.DeviceID, Role: u.Role, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "fieldsync", Subject: u.ID, ID: "test", IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	}}
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c auth.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func expired(c auth.Claims) auth.Claims {
	now := time.Now()
	c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
	c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
	return c
}

// ---- A. tokens and authentication ----

// TestAuth runs the authentication and authorization scenarios against one
// server (each makes its own devices and records). Login failures and the
// limiter have servers of their own: failed logins count per client
// address, and every test client is 127.0.0.1.
func TestAuth(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	for _, s := range []struct {
		name string
		run  func(*testing.T, *apptest.Server)
	}{
		{"access tokens", testAccessTokens},
		{"refresh and logout", testRefreshAndLogout},
		{"revoked device", testRevokedDevice},
		{"disabled user", testDisabledUser},
		{"roles", testRoles},
		{"cross-county writes", testCrossCountyWrites},
		{"cross-county reads", testCrossCountyReads},
	} {
		t.Run(s.name, func(t *testing.T) { s.run(t, srv) })
	}
}

// testAccessTokens sends GET /api/v1/me with every kind of bad credential.
func testAccessTokens(t *testing.T, srv *apptest.Server) {
	c := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.NingwuInsp)
	key := jwtKey(t, srv)
	valid := claimsOf(t, c)

	otherKey := bytes.Repeat([]byte{7}, 32)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, valid).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*auth.Claims)) auth.Claims {
		cl := valid
		f(&cl)
		return cl
	}
	// A real token whose payload is swapped for one claiming another device:
	// the signature no longer matches.
	realTok := accessToken(c)
	parts := strings.Split(realTok, ".")
	payload, _ := json.Marshal(mod(func(cl *auth.Claims) { cl.Role = "admin" }))
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	cases := []struct {
		name   string
		header string // Authorization; "" sends none
		status int
		code   string
	}{
		{"valid", "Bearer " + realTok, 200, ""},
		{"valid self-signed with real key", "Bearer " + sign(t, jwt.SigningMethodHS256, key, valid), 200, ""},
		{"scheme case-insensitive", "bearer " + realTok, 200, ""},
		{"missing", "", 401, syncproto.CodeUnauthorized},
		{"basic scheme", "Basic aW5zcGVjdG9yOmluc3BlY3RvcjEyMw==", 401, syncproto.CodeTokenInvalid},
		{"bearer without token", "Bearer", 401, syncproto.CodeTokenInvalid},
		{"token without scheme", realTok, 401, syncproto.CodeTokenInvalid},
		{"other scheme", "Token " + realTok, 401, syncproto.CodeTokenInvalid},
		// "Bearer" 1*SP token (RFC 6750 section 2.1).
		{"two spaces", "Bearer  " + realTok, 200, ""},
		{"not a jwt", "Bearer abc", 401, syncproto.CodeTokenInvalid},
		{"three garbage segments", "Bearer a.b.c", 401, syncproto.CodeTokenInvalid},
		{"truncated signature", "Bearer " + realTok[:len(realTok)-4], 401, syncproto.CodeTokenInvalid},
		{"tampered payload", "Bearer " + tampered, 401, syncproto.CodeTokenInvalid},
		{"forged with another key", "Bearer " + sign(t, jwt.SigningMethodHS256, otherKey, valid), 401, syncproto.CodeTokenInvalid},
		{"alg none", "Bearer " + none, 401, syncproto.CodeTokenInvalid},
		{"HS512 with real key", "Bearer " + sign(t, jwt.SigningMethodHS512, key, valid), 401, syncproto.CodeTokenInvalid},
		{"HS384 with real key", "Bearer " + sign(t, jwt.SigningMethodHS384, key, valid), 401, syncproto.CodeTokenInvalid},
		{"RS256", "Bearer " + sign(t, jwt.SigningMethodRS256, rsaKey, valid), 401, syncproto.CodeTokenInvalid},
		{"ES256", "Bearer " + sign(t, jwt.SigningMethodES256, ecKey, valid), 401, syncproto.CodeTokenInvalid},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, key, expired(valid)), 401, syncproto.CodeTokenExpired},
		// An expired token that is also forged must not be reported as
		// merely expired (the client would then try to refresh).
		{"expired and forged", "Bearer " + sign(t, jwt.SigningMethodHS256, otherKey, expired(valid)), 401, syncproto.CodeTokenInvalid},
		{"wrong issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.Issuer = "evil" })), 401, syncproto.CodeTokenInvalid},
		{"no issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.Issuer = "" })), 401, syncproto.CodeTokenInvalid},
		{"no expiry", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.ExpiresAt = nil })), 401, syncproto.CodeTokenInvalid},
		{"no device", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.DeviceID = "" })), 401, syncproto.CodeTokenInvalid},
		{"no subject", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.Subject = "" })), 401, syncproto.CodeTokenInvalid},
		{"unknown user", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.Subject = newID() })), 401, syncproto.CodeTokenInvalid},
		{"unknown device", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.DeviceID = newID() })), 401, syncproto.CodeTokenInvalid},
		{"another user's device", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.DeviceID = other.DeviceID })), 401, syncproto.CodeTokenInvalid},
		{"not yet valid", "Bearer " + sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) })), 401, syncproto.CodeTokenInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, header: map[string]string{"Authorization": tc.header}})
			if tc.code == "" {
				r.wantStatus(t, tc.status)
				var u syncproto.User
				if err := json.Unmarshal(r.Body, &u); err != nil || u.Username != apptest.Inspector || u.DeviceID != c.DeviceID {
					t.Errorf("me = %s (%v)", r.Body, err)
				}
				return
			}
			r.wantError(t, tc.status, tc.code)
			// The refusal's code in WWW-Authenticate too, for a HEAD,
			// whose answer has no body: token_expired (refresh) or
			// token_invalid (sign in again); none without a token.
			head := send(t, srv, request{method: http.MethodHead, path: syncproto.PathMe, header: map[string]string{"Authorization": tc.header}})
			want := `Bearer realm="fieldsync", error="invalid_token", error_description="` + tc.code + `"`
			if tc.code == syncproto.CodeUnauthorized {
				want = `Bearer realm="fieldsync"`
			}
			for _, got := range []string{r.Header.Get("WWW-Authenticate"), head.Header.Get("WWW-Authenticate")} {
				if got != want {
					t.Errorf("WWW-Authenticate %q, want %q", got, want)
				}
			}
		})
	}

	// The role claim is not trusted: the user's role comes from the
	// database, so a token claiming "admin" (even one signed with the real
	// key) does not open the office endpoints.
	t.Run("role claim ignored", func(t *testing.T) {
		tok := sign(t, jwt.SigningMethodHS256, key, mod(func(cl *auth.Claims) { cl.Role = "admin" }))
		send(t, srv, request{method: http.MethodGet, path: "/api/v1/devices", token: tok}).wantError(t, 403, syncproto.CodeForbidden)
	})
}

// testRefreshAndLogout covers refresh rotation, the client's automatic
// refresh, logout, and a device bound to another user.
func testRefreshAndLogout(t *testing.T, srv *apptest.Server) {
	key := jwtKey(t, srv)

	t.Run("rotation", func(t *testing.T) {
		c := srv.Login(apptest.Inspector)
		old := refreshToken(c)
		if err := c.Refresh(t.Context()); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		rotated := refreshToken(c)
		if rotated == old || rotated == "" {
			t.Fatalf("refresh token not rotated")
		}
		r := rawRefresh(t, srv, rotated)
		r.wantStatus(t, 200)
		var tr syncproto.TokenResponse
		if err := json.Unmarshal(r.Body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" || tr.RefreshToken == rotated ||
			tr.User.Username != apptest.Inspector || tr.User.DeviceID != c.DeviceID {
			t.Fatalf("refresh answer %s (%v)", r.Body, err)
		}
		send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: tr.AccessToken}).wantStatus(t, 200)
		// Both tokens used are spent (what their reuse does to the device's
		// session: TestDeviceSessions).
		rawRefresh(t, srv, old).wantError(t, 401, syncproto.CodeTokenInvalid)
		rawRefresh(t, srv, rotated).wantError(t, 401, syncproto.CodeTokenInvalid)
	})

	t.Run("refresh token errors", func(t *testing.T) {
		cases := []struct {
			name, token string
			status      int
			code        string
		}{
			{"garbage", "not-a-token", 401, syncproto.CodeTokenInvalid},
			{"access token as refresh token", accessToken(srv.Login(apptest.Inspector2)), 401, syncproto.CodeTokenInvalid},
			{"empty", "", 400, syncproto.CodeMissingField},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { rawRefresh(t, srv, tc.token).wantError(t, tc.status, tc.code) })
		}
	})

	t.Run("client refreshes an expired access token", func(t *testing.T) {
		c := srv.Login(apptest.Inspector)
		stale := sign(t, jwt.SigningMethodHS256, key, expired(claimsOf(t, c)))
		oldRefresh := refreshToken(c)
		send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: stale}).wantError(t, 401, syncproto.CodeTokenExpired)
		c.SetTokens(stale, oldRefresh)
		u, err := c.Me(t.Context())
		if err != nil {
			t.Fatalf("me with expired access token: %v", err)
		}
		if u.Username != apptest.Inspector || u.DeviceID != c.DeviceID {
			t.Errorf("me = %+v", u)
		}
		access, refresh := c.Tokens()
		if access == stale || refresh == oldRefresh {
			t.Errorf("client did not install new tokens")
		}
		rawRefresh(t, srv, oldRefresh).wantError(t, 401, syncproto.CodeTokenInvalid)
	})

	t.Run("logout ends the refresh token", func(t *testing.T) {
		c := srv.Login(apptest.Inspector)
		refresh := refreshToken(c)
		send(t, srv, request{method: http.MethodPost, path: syncproto.PathLogout}).wantError(t, 401, syncproto.CodeUnauthorized)
		if err := c.Do(t.Context(), http.MethodPost, syncproto.PathLogout, nil, nil); err != nil {
			t.Fatalf("logout: %v", err)
		}
		rawRefresh(t, srv, refresh).wantError(t, 401, syncproto.CodeTokenInvalid)
		// Logging in again on the same device works and gives a new pair.
		rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], c.DeviceID).wantStatus(t, 200)
	})

	t.Run("logout ends the access tokens issued before it", func(t *testing.T) {
		c := srv.Login(apptest.Inspector)
		me, err := c.Me(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// A token of this device's session (its first: 0) issued a few
		// seconds ago, still unexpired.
		earlier := *srv.App.Auth
		earlier.Now = func() time.Time { return time.Now().Add(-5 * time.Second) }
		old, err := earlier.AccessToken(me.ID, c.DeviceID, server.RoleInspector, 0)
		if err != nil {
			t.Fatal(err)
		}
		send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: old}).wantStatus(t, 200)
		if err := c.Do(t.Context(), http.MethodPost, syncproto.PathLogout, nil, nil); err != nil {
			t.Fatalf("logout: %v", err)
		}
		send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: old}).wantError(t, 401, syncproto.CodeTokenInvalid)
		// Signing in again gives tokens that work; the old one stays void.
		var tr syncproto.TokenResponse
		r := rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], c.DeviceID)
		r.wantStatus(t, 200)
		if err := json.Unmarshal(r.Body, &tr); err != nil {
			t.Fatal(err)
		}
		send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: tr.AccessToken}).wantStatus(t, 200)
		send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: old}).wantError(t, 401, syncproto.CodeTokenInvalid)
		// Another device of the same user is not signed out.
		other := srv.Login(apptest.Inspector)
		if _, err := other.Me(t.Context()); err != nil {
			t.Errorf("another device after this one signed out: %v", err)
		}
	})

	t.Run("device bound to another user", func(t *testing.T) {
		c := srv.Login(apptest.Inspector)
		rawLogin(t, srv, apptest.Inspector2, apptest.Passwords[apptest.Inspector2], c.DeviceID).wantError(t, 409, syncproto.CodeConflict)
		// The owner keeps it.
		if _, err := c.Me(t.Context()); err != nil {
			t.Errorf("owner after conflict: %v", err)
		}
		rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], c.DeviceID).wantStatus(t, 200)
	})
}

// testRevokedDevice: a revoked device is refused at once, everywhere.
func testRevokedDevice(t *testing.T, srv *apptest.Server) {
	admin := srv.Login(apptest.Admin)
	c := srv.Login(apptest.Inspector)
	bystander := srv.Login(apptest.Inspector)
	access, refresh := c.Tokens()

	for _, who := range []*syncproto.Client{c, srv.Login(apptest.CountyOffice), srv.Login(apptest.CityOffice)} {
		err := who.Do(t.Context(), http.MethodPost, revokePath(bystander.DeviceID), nil, nil)
		wantAPIError(t, err, 403, syncproto.CodeForbidden)
	}
	err := admin.Do(t.Context(), http.MethodPost, revokePath(newID()), nil, nil)
	wantAPIError(t, err, 404, syncproto.CodeNotFound)

	if err := admin.Do(t.Context(), http.MethodPost, revokePath(c.DeviceID), nil, nil); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	// Revoking twice is harmless.
	if err := admin.Do(t.Context(), http.MethodPost, revokePath(c.DeviceID), nil, nil); err != nil {
		t.Fatalf("revoke again: %v", err)
	}

	send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: access}).wantError(t, 403, syncproto.CodeDeviceRevoked)
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull, token: access}).wantError(t, 403, syncproto.CodeDeviceRevoked)
	_, err = c.Push(t.Context(), newID(), []syncproto.Mutation{upsert(t, c, syncproto.EntitySite, newID(), newSite(xinfu, "撤销后"))})
	wantAPIError(t, err, 403, syncproto.CodeDeviceRevoked)
	// The refresh token is refused with the reason, so the app can tell its user.
	rawRefresh(t, srv, refresh).wantError(t, 403, syncproto.CodeDeviceRevoked)
	rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], c.DeviceID).wantError(t, 403, syncproto.CodeDeviceRevoked)

	// The user and their other devices are unaffected; a new device works.
	if _, err := bystander.Me(t.Context()); err != nil {
		t.Errorf("other device of the same user: %v", err)
	}
	rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], newID()).wantStatus(t, 200)

	var list struct{ Devices []api.DeviceInfo }
	if err := admin.Do(t.Context(), http.MethodGet, "/api/v1/devices", nil, &list); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list.Devices, func(d api.DeviceInfo) bool { return d.ID == c.DeviceID })
	if i < 0 || list.Devices[i].RevokedAt == nil {
		t.Errorf("revoked device not listed as revoked")
	}

	// Reinstated (admin only; twice is harmless): the device signs in
	// again, its old tokens staying ended.
	reinstate := "/api/v1/devices/" + c.DeviceID + "/reinstate"
	wantAPIError(t, bystander.Do(t.Context(), http.MethodPost, reinstate, nil, nil), 403, syncproto.CodeForbidden)
	wantAPIError(t, admin.Do(t.Context(), http.MethodPost, "/api/v1/devices/"+newID()+"/reinstate", nil, nil), 404, syncproto.CodeNotFound)
	for range 2 {
		if err := admin.Do(t.Context(), http.MethodPost, reinstate, nil, nil); err != nil {
			t.Fatalf("reinstate: %v", err)
		}
	}
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: access}).wantError(t, 401, syncproto.CodeTokenInvalid)
	rawRefresh(t, srv, refresh).wantError(t, 401, syncproto.CodeTokenInvalid)
	rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], c.DeviceID).wantStatus(t, 200)

	// Each change is in the audit log once (the second of each, changing
	// nothing, is not), by the administrator, naming the device's user.
	entries, err := srv.App.DB.AuditHistory(t.Context(), "device", c.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		ch := e.DecodeChanges()
		ops = append(ops, string(ch["operation"].New))
		if !strings.HasSuffix(e.ActorName, "（"+apptest.Admin+"）") || e.ActorID == "" || string(ch["user"].New) != `"`+apptest.Inspector+`"` {
			t.Errorf("entry by %q (%q), user %s: want the administrator, and %s", e.ActorName, e.ActorID, ch["user"].New, apptest.Inspector)
		}
	}
	slices.Sort(ops)
	if want := []string{`"device_reinstated"`, `"device_revoked"`}; !slices.Equal(ops, want) {
		t.Errorf("audit entries of the device %v, want %v", ops, want)
	}
}

// testDisabledUser: disabling a user stops their tokens at once and for
// good. It uses an
// account of its own, since the server is shared.
func testDisabledUser(t *testing.T, srv *apptest.Server) {
	const name, pw = "disabled-test", "disabled-pw-1"
	if _, err := srv.App.AddUser(t.Context(), name, pw, "停用测试", server.RoleInspector, []string{xinfu}); err != nil {
		t.Fatal(err)
	}
	c := srv.NewClient()
	if _, err := c.Login(t.Context(), name, pw, "停用测试手机"); err != nil {
		t.Fatal(err)
	}
	access, refresh := c.Tokens()
	if err := srv.App.DB.SetUserDisabled(t.Context(), name, true); err != nil {
		t.Fatal(err)
	}
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: access}).wantError(t, 403, syncproto.CodeUserDisabled)
	_, err := c.Pull(t.Context(), "", 0)
	wantAPIError(t, err, 403, syncproto.CodeUserDisabled)
	rawRefresh(t, srv, refresh).wantError(t, 401, syncproto.CodeTokenInvalid) // disabling ended its session
	rawLogin(t, srv, name, pw, newID()).wantError(t, 403, syncproto.CodeUserDisabled)
	r := rawLogin(t, srv, name, pw, c.DeviceID)
	r.wantError(t, 403, syncproto.CodeUserDisabled)
	// The message says whom to ask (the SDK probe: 账号已停用 alone did not).
	var eb syncproto.ErrorBody
	if err := json.Unmarshal(r.Body, &eb); err != nil || !strings.Contains(eb.Message, "请联系县督查室") {
		t.Errorf("a disabled user is told %q, not whom to ask", eb.Message)
	}

	// Disabling ended the device's session: enabling again does not bring
	// the old tokens back, signing in again works.
	if err := srv.App.DB.SetUserDisabled(t.Context(), name, false); err != nil {
		t.Fatal(err)
	}
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: access}).wantStatus(t, http.StatusUnauthorized)
	if _, err := c.Login(t.Context(), name, pw, "停用测试手机"); err != nil {
		t.Fatalf("login after enabling again: %v", err)
	}
	if _, err := c.Me(t.Context()); err != nil {
		t.Errorf("me after enabling again: %v", err)
	}
}

// TestLoginErrors checks login answers that are not about slowing.
func TestLoginErrors(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	pw := apptest.Passwords[apptest.Inspector]
	cases := []struct {
		name, user, password, device string
		status                       int
		code                         string
	}{
		{"ok", apptest.Inspector, pw, newID(), 200, ""},
		{"wrong password", apptest.Inspector, pw + "x", newID(), 401, syncproto.CodeInvalidLogin},
		{"unknown user", "nobody", pw, newID(), 401, syncproto.CodeInvalidLogin},
		{"password of another user", apptest.Inspector, apptest.Passwords[apptest.Admin], newID(), 401, syncproto.CodeInvalidLogin},
		{"empty password", apptest.Inspector, "", newID(), 400, syncproto.CodeMissingField},
		{"empty username", "", pw, newID(), 400, syncproto.CodeMissingField},
		{"device id not a uuid", apptest.Inspector, pw, "phone-1", 400, syncproto.CodeInvalidField},
		{"device id upper case", apptest.Inspector, pw, strings.ToUpper(newID()), 400, syncproto.CodeInvalidField},
		{"device id empty", apptest.Inspector, pw, "", 400, syncproto.CodeInvalidField},
		{"device id the nil UUID", apptest.Inspector, pw, "00000000-0000-0000-0000-000000000000", 400, syncproto.CodeInvalidField},
		{"device id the max UUID", apptest.Inspector, pw, "ffffffff-ffff-ffff-ffff-ffffffffffff", 400, syncproto.CodeInvalidField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rawLogin(t, srv, tc.user, tc.password, tc.device)
			if tc.code != "" {
				r.wantError(t, tc.status, tc.code)
				return
			}
			r.wantStatus(t, tc.status)
			var tr syncproto.TokenResponse
			if err := json.Unmarshal(r.Body, &tr); err != nil || tr.TokenType != "Bearer" || tr.AccessToken == "" ||
				tr.RefreshToken == "" || tr.ExpiresIn <= 0 || tr.User.Role != "inspector" || !slices.Equal(tr.User.Counties, []string{xinfu}) {
				t.Errorf("login answer %s (%v)", r.Body, err)
			}
		})
	}
	t.Run("device name too long", func(t *testing.T) {
		b, _ := json.Marshal(syncproto.LoginRequest{Username: apptest.Inspector, Password: pw, DeviceID: newID(), DeviceName: strings.Repeat("机", 101)})
		send(t, srv, request{method: http.MethodPost, path: syncproto.PathLogin, ctype: "application/json", body: string(b)}).
			wantError(t, 400, syncproto.CodeInvalidField)
	})
}

// TestLoginSlowedAfterFailures: five wrong passwords, then even the right
// one is refused for a while with Retry-After.
func TestLoginSlowedAfterFailures(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	for i := range 5 {
		rawLogin(t, srv, apptest.Inspector, wrongPassword(i), newID()).wantError(t, 401, syncproto.CodeInvalidLogin)
	}
	r := rawLogin(t, srv, apptest.Inspector, apptest.Passwords[apptest.Inspector], newID())
	r.wantError(t, 429, syncproto.CodeTooManyTries)
	if s := r.Header.Get("Retry-After"); s == "" || s == "0" || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		t.Errorf("Retry-After %q, want a positive number of seconds", s)
	}
	// The Go client reports the wait.
	_, err := srv.NewClient().Login(t.Context(), apptest.Inspector, apptest.Passwords[apptest.Inspector], "x")
	wantAPIError(t, err, 429, syncproto.CodeTooManyTries)
	var ae *syncproto.APIError
	if errors.As(err, &ae) && ae.RetryAfter < time.Second {
		t.Errorf("client RetryAfter %v", ae.RetryAfter)
	}
	if !syncproto.Temporary(err) {
		t.Errorf("too_many_attempts should be temporary")
	}
}

func wrongPassword(i int) string { return "wrong-password-" + string(rune('a'+i)) }

// ---- B. roles and scope ----

// testRoles checks who may review, list and revoke.
func testRoles(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	nw := srv.Login(apptest.NingwuInsp)
	county := srv.Login(apptest.CountyOffice)
	city := srv.Login(apptest.CityOffice)
	admin := srv.Login(apptest.Admin)
	xinfuSite, ningwuSite := apptest.DemoSite(t, xinfu), apptest.DemoSite(t, ningwu)

	approve := api.ReviewRequest{Decision: "approve"}
	giveBack := api.ReviewRequest{Decision: "return", Comment: "照片不清晰，请补拍围挡"}
	cases := []struct {
		name   string
		who    *syncproto.Client
		method string
		path   func(t *testing.T) string
		body   any
		status int
		code   string
	}{
		{"inspector reviews", insp, "POST", func(t *testing.T) string { return reviewPath(submitted(t, insp, xinfuSite)) }, approve, 403, syncproto.CodeForbidden},
		{"inspector lists devices", insp, "GET", func(t *testing.T) string { return "/api/v1/devices" }, nil, 403, syncproto.CodeForbidden},
		{"inspector lists conflicts", insp, "GET", func(t *testing.T) string { return "/api/v1/conflicts" }, nil, 403, syncproto.CodeForbidden},
		{"inspector revokes", insp, "POST", func(t *testing.T) string { return revokePath(nw.DeviceID) }, nil, 403, syncproto.CodeForbidden},
		{"county office revokes", county, "POST", func(t *testing.T) string { return revokePath(insp.DeviceID) }, nil, 403, syncproto.CodeForbidden},
		{"city office revokes", city, "POST", func(t *testing.T) string { return revokePath(insp.DeviceID) }, nil, 403, syncproto.CodeForbidden},
		{"county office approves own county", county, "POST", func(t *testing.T) string { return reviewPath(submitted(t, insp, xinfuSite)) }, approve, 200, ""},
		{"county office returns own county", county, "POST", func(t *testing.T) string { return reviewPath(submitted(t, insp, xinfuSite)) }, giveBack, 200, ""},
		{"county office reviews another county", county, "POST", func(t *testing.T) string { return reviewPath(submitted(t, nw, ningwuSite)) }, approve, 403, syncproto.CodeOutOfScope},
		{"city office reviews 宁武", city, "POST", func(t *testing.T) string { return reviewPath(submitted(t, nw, ningwuSite)) }, approve, 200, ""},
		{"city office reviews 忻府", city, "POST", func(t *testing.T) string { return reviewPath(submitted(t, insp, xinfuSite)) }, giveBack, 200, ""},
		{"admin reviews", admin, "POST", func(t *testing.T) string { return reviewPath(submitted(t, nw, ningwuSite)) }, approve, 200, ""},
		{"county office lists devices", county, "GET", func(t *testing.T) string { return "/api/v1/devices" }, nil, 200, ""},
		{"county office lists conflicts", county, "GET", func(t *testing.T) string { return "/api/v1/conflicts" }, nil, 200, ""},
		{"admin revokes", admin, "POST", func(t *testing.T) string { return revokePath(srv.Login(apptest.Inspector2).DeviceID) }, nil, 204, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out json.RawMessage
			err := tc.who.Do(t.Context(), tc.method, tc.path(t), tc.body, &out)
			if tc.code != "" {
				wantAPIError(t, err, tc.status, tc.code)
				// A record named by its id: which county holds it
				// is not said.
				if err != nil && strings.Contains(err.Error(), "宁武") {
					t.Errorf("the refusal names the record's county: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("want %d, got %v", tc.status, err)
			}
		})
	}

	t.Run("a returned inspection syncs back", func(t *testing.T) {
		id := submitted(t, insp, xinfuSite)
		var ch syncproto.Change
		if err := county.Do(t.Context(), "POST", reviewPath(id), giveBack, &ch); err != nil {
			t.Fatal(err)
		}
		if ch.ID != id || string(ch.Fields["status"]) != `"returned"` || string(ch.Fields["review_comment"]) != `"照片不清晰，请补拍围挡"` {
			t.Errorf("review answer %+v", ch)
		}
		// Returned: the inspector may edit it again.
		apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, F{"summary": "已补拍"}))
	})

	t.Run("a review names the version it decides on", func(t *testing.T) {
		id := newID()
		apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, newInspection(xinfuSite, "draft")))
		seq := func() int64 { // as a pull in the fields form gives it
			t.Helper()
			var page syncproto.PullResponse
			for cursor := ""; ; cursor = page.Cursor {
				page = syncproto.PullResponse{}
				if err := county.Do(t.Context(), "GET", "/api/v1/sync/pull?limit=5000&cursor="+cursor, nil, &page); err != nil {
					t.Fatal(err)
				}
				for _, ch := range page.Changes {
					if ch.ID == id {
						return ch.Seq
					}
				}
				if !page.HasMore {
					t.Fatal("the inspection is not pulled")
				}
			}
		}
		seen := seq() // the draft; then the phone changes it and submits
		apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, F{"summary": "提交前又改过", "status": "submitted"}))
		stale := map[string]any{"decision": "approve", "seq": seen}
		err := county.Do(t.Context(), "POST", reviewPath(id), stale, nil)
		wantAPIError(t, err, http.StatusConflict, syncproto.CodeConflict)
		err = county.Do(t.Context(), "POST", reviewPath(id), map[string]any{"decision": "approve", "seq": -1}, nil)
		wantAPIError(t, err, http.StatusBadRequest, syncproto.CodeInvalidField)
		var ch syncproto.Change
		if err := county.Do(t.Context(), "POST", reviewPath(id), map[string]any{"decision": "approve", "seq": seq()}, &ch); err != nil || string(ch.Fields["status"]) != `"approved"` {
			t.Fatalf("approve the version read: %+v %v", ch, err)
		}
	})

	t.Run("office lists are limited to scope", func(t *testing.T) {
		var cl, dl struct{ Devices []api.DeviceInfo }
		if err := county.Do(t.Context(), "GET", "/api/v1/devices", nil, &cl); err != nil {
			t.Fatal(err)
		}
		if err := city.Do(t.Context(), "GET", "/api/v1/devices", nil, &dl); err != nil {
			t.Fatal(err)
		}
		has := func(ds []api.DeviceInfo, id string) bool {
			return slices.ContainsFunc(ds, func(d api.DeviceInfo) bool { return d.ID == id })
		}
		if !has(cl.Devices, insp.DeviceID) || has(cl.Devices, nw.DeviceID) {
			t.Errorf("county office devices: own %v, 宁武 %v", has(cl.Devices, insp.DeviceID), has(cl.Devices, nw.DeviceID))
		}
		if !has(dl.Devices, insp.DeviceID) || !has(dl.Devices, nw.DeviceID) {
			t.Errorf("city office devices miss a county")
		}

		// A conflict in 宁武 (an older write of one phone losing to a
		// newer one of another).
		site := newID()
		nw2 := srv.Login(apptest.NingwuInsp)
		h := nw.Clock.Now()
		newer, older := h.String(), syncproto.HLC{Wall: h.Wall - 1000, Node: nw2.DeviceID}.String()
		apptest.PushApplied(t, nw, syncproto.Mutation{Entity: syncproto.EntitySite, ID: site, Fields: newSite(ningwu, "新名").raw(t), HLC: newer})
		r := apptest.Push(t, nw2, syncproto.Mutation{Entity: syncproto.EntitySite, ID: site, Fields: F{"name": "旧名"}.raw(t), HLC: older})
		wantResult(t, r.Results[0], syncproto.StatusStale, "")
		var cc, dc struct{ Conflicts []json.RawMessage }
		if err := county.Do(t.Context(), "GET", "/api/v1/conflicts?record_id="+site, nil, &cc); err != nil {
			t.Fatal(err)
		}
		if err := city.Do(t.Context(), "GET", "/api/v1/conflicts?record_id="+site, nil, &dc); err != nil {
			t.Fatal(err)
		}
		if len(cc.Conflicts) != 0 || len(dc.Conflicts) != 1 {
			t.Errorf("conflicts of a 宁武 record: county office sees %d (want 0), city office %d (want 1)", len(cc.Conflicts), len(dc.Conflicts))
		}
	})
}

// testCrossCountyWrites: each write outside the user's counties is rejected
// on its own while the rest of the batch applies.
func testCrossCountyWrites(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	nw := srv.Login(apptest.NingwuInsp)
	city := srv.Login(apptest.CityOffice)
	ningwuSite := apptest.DemoSite(t, ningwu)

	// Records the 宁武 inspector made.
	nwSite, nwInsp, nwFinding := newID(), newID(), newID()
	apptest.PushApplied(t, nw,
		upsert(t, nw, syncproto.EntitySite, nwSite, newSite(ningwu, "宁武某煤场")),
		upsert(t, nw, syncproto.EntityInspection, nwInsp, newInspection(ningwuSite, "draft")),
		upsert(t, nw, syncproto.EntityFinding, nwFinding, F{"inspection_id": nwInsp, "description": "未苫盖"}),
	)

	mine, foreignSite, foreignInsp, foreignPhoto := newID(), newID(), newID(), newID()
	resp := apptest.Push(t, insp,
		upsert(t, insp, syncproto.EntitySite, foreignSite, newSite(ningwu, "越权工地")),
		upsert(t, insp, syncproto.EntityInspection, foreignInsp, newInspection(ningwuSite, "draft")),
		upsert(t, insp, syncproto.EntitySite, nwSite, F{"name": "被改名"}),
		upsert(t, insp, syncproto.EntitySite, mine, newSite(xinfu, "本县工地")),
		upsert(t, insp, syncproto.EntityInspection, nwInsp, F{"summary": "越权修改"}),
		upsert(t, insp, syncproto.EntityFinding, newID(), F{"inspection_id": nwInsp, "description": "越权问题"}),
		upsert(t, insp, syncproto.EntityPhoto, foreignPhoto, F{"inspection_id": nwInsp, "sha256": strings.Repeat("ab", 32)}),
		upsert(t, insp, syncproto.EntityVehicleCheck, newID(), F{"county": ningwu, "checkpoint": "宁武检查站", "plate": "晋H12345",
			"checked_at": time.Now().UTC().Format(time.RFC3339)}),
		remove(insp, syncproto.EntityFinding, nwFinding),
	)
	want := []struct{ status, code string }{
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusApplied, ""},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
		{syncproto.StatusRejected, syncproto.CodeOutOfScope},
	}
	for i, w := range want {
		wantResult(t, resp.Results[i], w.status, w.code)
	}
	// A new record refused names the field that put it in another county
	// (the referential probe: a photo's or finding's inspection_id did
	// not, its vehicle_check_id did).
	for i, field := range map[int]string{0: "county", 1: "site_id", 5: "inspection_id", 6: "inspection_id", 7: "county"} {
		if resp.Results[i].Field != field {
			t.Errorf("result %d (%s) names field %q, want %q", i, resp.Results[i].Message, resp.Results[i].Field, field)
		}
	}
	// A refused write to another county's record (named by its id: the
	// rename, the update, the new finding under it, the delete) does not
	// say which county holds it.
	for _, i := range []int{2, 4, 5, 8} {
		if strings.Contains(resp.Results[i].Message, "宁武") {
			t.Errorf("result %d names the record's county: %q", i, resp.Results[i].Message)
		}
	}

	// Nothing of the rejected mutations was stored.
	byID := map[string]syncproto.Change{}
	for _, ch := range pullAll(t, city) {
		byID[ch.ID] = ch
	}
	for _, id := range []string{foreignSite, foreignInsp, foreignPhoto} {
		if _, ok := byID[id]; ok {
			t.Errorf("rejected create %s was stored", id)
		}
	}
	if got := string(byID[nwSite].Fields["name"]); got != `"宁武某煤场"` {
		t.Errorf("宁武 site name %s after a rejected rename", got)
	}
	if _, ok := byID[nwInsp].Fields["summary"]; ok {
		t.Errorf("宁武 inspection got a summary from a rejected update")
	}
	if byID[nwFinding].Deleted {
		t.Errorf("宁武 finding deleted by a rejected delete")
	}
	if byID[mine].County != xinfu {
		t.Errorf("the valid mutation of the batch was not stored")
	}
}

// testCrossCountyReads: a pull carries the user's counties and the global
// reference data, nothing else.
func testCrossCountyReads(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	nw := srv.Login(apptest.NingwuInsp)
	city := srv.Login(apptest.CityOffice)
	county := srv.Login(apptest.CountyOffice)

	xSite, xInsp, xFinding, xCheck := newID(), newID(), newID(), newID()
	apptest.PushApplied(t, insp,
		upsert(t, insp, syncproto.EntitySite, xSite, newSite(xinfu, "忻府新工地")),
		upsert(t, insp, syncproto.EntityInspection, xInsp, newInspection(xSite, "draft")),
		upsert(t, insp, syncproto.EntityFinding, xFinding, F{"inspection_id": xInsp, "description": "围挡缺失"}),
		upsert(t, insp, syncproto.EntityVehicleCheck, xCheck, F{"county": xinfu, "checkpoint": "豆罗检查站", "plate": "晋H00001",
			"checked_at": time.Now().UTC().Format(time.RFC3339)}),
	)
	nSite := newID()
	apptest.PushApplied(t, nw, upsert(t, nw, syncproto.EntitySite, nSite, newSite(ningwu, "宁武新工地")))

	type view struct {
		entities map[string]int
		counties map[string]int
		ids      map[string]bool
	}
	see := func(c *syncproto.Client) view {
		v := view{entities: map[string]int{}, counties: map[string]int{}, ids: map[string]bool{}}
		for _, ch := range pullAll(t, c) {
			v.entities[ch.Entity]++
			v.counties[ch.County]++
			v.ids[ch.ID] = true
		}
		return v
	}

	t.Run("宁武 inspector", func(t *testing.T) {
		v := see(nw)
		for c, n := range v.counties {
			if c != "" && c != ningwu {
				t.Errorf("%d changes of county %s", n, c)
			}
		}
		for _, e := range []string{syncproto.EntityCounty, syncproto.EntityTemplate, syncproto.EntityTask, syncproto.EntitySite} {
			if v.entities[e] == 0 {
				t.Errorf("no %s in the pull", e)
			}
		}
		for _, id := range []string{xSite, xInsp, xFinding, xCheck} {
			if v.ids[id] {
				t.Errorf("忻府 record %s in a 宁武 pull", id)
			}
		}
		if !v.ids[nSite] || !v.ids[xinfu] || !v.ids[ningwu] {
			t.Errorf("own site or county records missing")
		}
	})
	t.Run("忻府 inspector and county office", func(t *testing.T) {
		for _, c := range []*syncproto.Client{insp, county} {
			v := see(c)
			if v.ids[nSite] || v.counties[ningwu] > 0 {
				t.Errorf("宁武 records in a 忻府 pull")
			}
			for _, id := range []string{xSite, xInsp, xFinding, xCheck} {
				if !v.ids[id] {
					t.Errorf("own record %s missing", id)
				}
			}
		}
	})
	t.Run("city office", func(t *testing.T) {
		v := see(city)
		for _, id := range []string{xSite, xInsp, xFinding, xCheck, nSite} {
			if !v.ids[id] {
				t.Errorf("record %s missing from the city pull", id)
			}
		}
		if v.entities[syncproto.EntityTemplate] == 0 || v.entities[syncproto.EntityTask] == 0 {
			t.Errorf("reference data missing")
		}
	})
}
