package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPathIDs: every route that names a record or a device in its path
// refuses an id that is not a lower-case UUID — one in upper case, one of
// another form, the nil UUID — with 400 invalid_id, as a push refuses such
// an id, rather than a 404 that says no such record exists (roadside
// probe: an existing check's id in upper case was "not found"); and only
// once the caller is known (no token: 401 first).
func TestPathIDs(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	office := accessToken(srv.Login(apptest.CountyOffice))
	admin := accessToken(srv.Login(apptest.Admin))
	routes := []struct {
		method, path, token, body string
	}{
		{http.MethodPost, "/api/v1/inspections/%s/review", office, `{"decision":"approve"}`},
		{http.MethodPost, "/api/v1/findings/%s/verify", office, `{"decision":"verify"}`},
		{http.MethodPost, "/api/v1/vehicle-checks/%s/void", office, `{"decision":"void","comment":"重复"}`},
		{http.MethodPost, "/api/v1/devices/%s/revoke", admin, ``},
		{http.MethodPost, "/api/v1/devices/%s/reinstate", admin, ``},
		{http.MethodGet, "/api/v1/photos/%s/thumb", office, ``},
		{http.MethodHead, "/api/v1/photos/%s/thumb", office, ``},
	}
	for _, rt := range routes {
		for _, id := range []string{strings.ToUpper(newID()), "not-an-id", "00000000-0000-0000-0000-000000000000", "%2e%2e"} {
			t.Run(rt.method+" "+rt.path+" "+id, func(t *testing.T) {
				req := request{method: rt.method, path: strings.Replace(rt.path, "%s", id, 1), token: rt.token, body: rt.body}
				if rt.body != "" {
					req.ctype = "application/json"
				}
				r := send(t, srv, req)
				if rt.method == http.MethodHead {
					if r.Status != http.StatusBadRequest {
						t.Errorf("HEAD: %d, want 400", r.Status)
					}
				} else {
					r.wantError(t, http.StatusBadRequest, syncproto.CodeInvalidID)
				}
				req.token = ""
				if r := send(t, srv, req); r.Status != http.StatusUnauthorized {
					t.Errorf("without a token: %d, want 401", r.Status)
				}
			})
		}
	}
}
