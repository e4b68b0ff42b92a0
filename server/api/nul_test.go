package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestTextNoStoreKeeps: text no store can keep (a NUL character, invalid
// UTF-8) is refused with a clear error wherever a request carries it — a
// field value, a sign-in, a query parameter, a console form — on both
// stores: PostgreSQL refuses NUL in text, which reached it before as a
// 500. Nothing of a refused push is stored.
func TestTextNoStoreKeeps(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			var opts []func(*app.Config)
			if store == "postgres" {
				dsn := pgtest.NewDatabase(t)
				opts = append(opts, func(c *app.Config) { c.Database = dsn })
			}
			srv := apptest.Start(t, opts...)
			insp := srv.Login(apptest.Inspector)
			access := accessToken(insp)

			site := newID()
			for _, name := range []string{`a\u0000b`, `\u0000`} {
				body := `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":"` + site +
					`","fields":{"county":"` + xinfu + `","kind":"construction_site","name":"` + name + `","lon":112.7,"lat":38.4},"hlc":"` +
					insp.Clock.Now().String() + `"}]}`
				r := send(t, srv, request{method: http.MethodPost, path: syncproto.PathPush, token: access, ctype: "application/json", body: body})
				r.wantError(t, 400, syncproto.CodeInvalidField)
				if !strings.Contains(string(r.Body), "mutations[0].fields.name") {
					t.Errorf("push with %s: %s does not name the field", name, r.Body)
				}
			}
			// An answer in a map field, inside a JSON value, likewise.
			answer := `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"inspection","id":"` + newID() +
				`","fields":{"answers.closed_shed":{"note":"x\u0000"}},"hlc":"` + insp.Clock.Now().String() + `"}]}`
			send(t, srv, request{method: http.MethodPost, path: syncproto.PathPush, token: access, ctype: "application/json", body: answer}).
				wantError(t, 400, syncproto.CodeInvalidField)
			pr, err := insp.Pull(t.Context(), "", 5000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range pr.Changes {
				if ch.ID == site {
					t.Errorf("refused site stored: %v", ch.Fields)
				}
			}

			send(t, srv, request{method: http.MethodPost, path: syncproto.PathLogin, ctype: "application/json",
				body: `{"username":"inspector\u0000","password":"x","device_id":"` + newID() + `"}`}).wantError(t, 400, syncproto.CodeInvalidField)
			for _, q := range []string{"cursor=%00", "limit=%ff", "hlcs=grouped%00"} {
				send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?" + q, token: access}).wantError(t, 400, syncproto.CodeBadRequest)
			}
			// On a route that takes any parameter, one whose name is only
			// a NUL, or empty, is said to have none: never a gap.
			for _, q := range []string{"%00", "=%00", "%00=1"} {
				r := send(t, srv, request{method: http.MethodGet, path: "/readyz?" + q})
				r.wantError(t, 400, syncproto.CodeBadRequest)
				if !strings.Contains(string(r.Body), "查询参数 （名称为空或只有空字符） 含有空字符") {
					t.Errorf("?%s: %s", q, r.Body)
				}
			}
			// The console answers the same refusals with its own page.
			form := url.Values{"username": {"office\x00"}, "password": {"x"}}.Encode()
			for _, r := range []reply{
				send(t, srv, request{method: http.MethodPost, path: "/console/login", ctype: "application/x-www-form-urlencoded", body: form}),
				send(t, srv, request{method: http.MethodGet, path: "/console/login?next=%00"}),
			} {
				if r.Status != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
					!strings.Contains(string(r.Body), "含有空字符或无效的 UTF-8 编码") {
					t.Errorf("console request with NUL: %d %s, want the console's 400 page", r.Status, r.Header.Get("Content-Type"))
				}
			}
		})
	}
}
