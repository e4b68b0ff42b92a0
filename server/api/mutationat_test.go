package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPushErrorNamesTheMutation: a push refused whole for one malformed
// mutation names it by its index, whatever is wrong with it (a member of
// the wrong type, an unknown member, not an object), so that a phone can
// set that one aside (sync.md section 11) and send the rest.
func TestPushErrorNamesTheMutation(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	access := accessToken(insp)
	good := func() string {
		return `{"entity":"vehicle_check","id":"` + newID() + `","fields":{"county":"` + xinfu + `","plate":"晋H12345"},"hlc":"` +
			insp.Clock.Now().String() + `"}`
	}
	for _, tc := range []struct {
		name, bad, code, want string
	}{
		{"hlc a number", `{"entity":"vehicle_check","id":"` + newID() + `","fields":{},"hlc":12345}`, syncproto.CodeInvalidField, "mutations[2].hlc"},
		{"fields an array", `{"entity":"vehicle_check","id":"` + newID() + `","fields":["x"],"hlc":"x"}`, syncproto.CodeInvalidField, "mutations[2].fields"},
		{"delete a number", `{"entity":"vehicle_check","id":"` + newID() + `","delete":1,"hlc":"x"}`, syncproto.CodeInvalidField, "mutations[2].delete"},
		{"not an object", `5`, syncproto.CodeInvalidField, "mutations[2] 的类型错误"},
		{"an unknown member", `{"entity":"vehicle_check","id":"` + newID() + `","fields":{},"hlc":"x","bogus":null}`, syncproto.CodeUnknownField, "mutations[2] 中有未知字段"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[` + good() + `,` + good() + `,` + tc.bad + `]}`
			r := send(t, srv, request{method: http.MethodPost, path: syncproto.PathPush, token: access, ctype: "application/json", body: body})
			r.wantError(t, 400, tc.code)
			if !strings.Contains(string(r.Body), tc.want) {
				t.Errorf("%s: %s does not name %q", tc.name, r.Body, tc.want)
			}
		})
	}
}

// TestServerHLCAfterWhatAPushStored: a push stamped ahead of the server's
// clock (a phone's clock a minute fast, within the allowed skew) is
// answered with an X-Server-HLC after the HLC it stored, as the body's
// server_hlc is: the header was read before the push ran.
func TestServerHLCAfterWhatAPushStored(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	ahead := insp.Clock.Now()
	ahead.Wall += 60_000
	body := `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"vehicle_check","id":"` + newID() +
		`","fields":{"county":"` + xinfu + `","checkpoint":"豆罗检查站","plate":"晋H12345","checked_at":"2026-11-20T10:00:00+08:00"},"hlc":"` + ahead.String() + `"}]}`
	r := send(t, srv, request{method: http.MethodPost, path: syncproto.PathPush, token: accessToken(insp), ctype: "application/json", body: body})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"applied"`) {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	h, err := syncproto.ParseHLC(r.Header.Get(syncproto.HeaderServerHLC))
	if err != nil || h.Compare(ahead) <= 0 {
		t.Errorf("X-Server-HLC %s (%v), want after the stored %s\n%.300s", r.Header.Get(syncproto.HeaderServerHLC), err, ahead, r.Body)
	}
}
