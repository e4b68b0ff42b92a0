package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestOwnPassword: a user changes their own password from a device
// (POST /api/v1/auth/password). Refusals change nothing; a change ends
// the user's other sessions and the old password, the calling device
// goes on under the tokens of the answer, and the audit log has it. Its
// own server: wrong passwords count against the loopback address.
func TestOwnPassword(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	ctx := t.Context()
	const name, pw, next = "pw-own", "first-password-1", "第二个密码ok"
	if _, err := srv.App.AddUser(ctx, name, pw, "改密测试", server.RoleInspector, []string{xinfu}); err != nil {
		t.Fatal(err)
	}
	phone, other := srv.NewClient(), srv.NewClient()
	for _, c := range []*syncproto.Client{phone, other} {
		if _, err := c.Login(ctx, name, pw, "改密测试手机"); err != nil {
			t.Fatal(err)
		}
	}
	oldAccess, oldRefresh := phone.Tokens()
	body := func(current, next string) string {
		b, _ := json.Marshal(syncproto.PasswordRequest{CurrentPassword: current, NewPassword: next})
		return string(b)
	}
	change := func(token, body string) reply {
		return send(t, srv, request{method: http.MethodPost, path: syncproto.PathPassword, token: token, ctype: "application/json", body: body})
	}

	for _, tc := range []struct {
		name, body, token string
		status            int
		code, field       string
	}{
		{"no token", body(pw, next), "", 401, syncproto.CodeUnauthorized, ""},
		{"no current password", body("", next), oldAccess, 400, syncproto.CodeMissingField, "current_password"},
		{"new one too short", body(pw, "short7b"), oldAccess, 400, syncproto.CodeInvalidField, "new_password"},
		{"new one too long", body(pw, strings.Repeat("长", 25)), oldAccess, 400, syncproto.CodeInvalidField, "new_password"},
		{"new one the same", body(pw, pw), oldAccess, 400, syncproto.CodeInvalidField, "new_password"},
		{"wrong current password", body("not-the-password", next), oldAccess, 400, syncproto.CodeInvalidField, "current_password"},
		{"unknown field", `{"current_password":"` + pw + `","new_password":"` + next + `","confirm":"x"}`, oldAccess, 400, syncproto.CodeUnknownField, ""},
		{"wrong type", `{"current_password":1,"new_password":"` + next + `"}`, oldAccess, 400, syncproto.CodeInvalidField, ""},
		{"not JSON", `{"current_password":`, oldAccess, 400, syncproto.CodeBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := change(tc.token, tc.body)
			r.wantError(t, tc.status, tc.code)
			var eb syncproto.ErrorBody
			_ = json.Unmarshal(r.Body, &eb)
			if tc.field != "" && eb.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", eb.Field, tc.field, eb.Message)
			}
		})
	}
	// Refused, nothing changed: both devices' tokens and the password work.
	for _, c := range []*syncproto.Client{phone, other} {
		if _, err := c.Me(ctx); err != nil {
			t.Fatalf("a refused change ended a session: %v", err)
		}
	}
	rawLogin(t, srv, name, pw, newID()).wantStatus(t, 200)

	tr, err := phone.ChangePassword(ctx, pw, next)
	if err != nil {
		t.Fatalf("change: %v", err)
	}
	if tr.User.Username != name || tr.User.DeviceID != phone.DeviceID || tr.AccessToken == oldAccess || tr.RefreshToken == oldRefresh {
		t.Errorf("answer %+v: want this device's user and new tokens", tr.User)
	}
	// This device goes on under the new tokens, its refresh token too.
	if _, err := phone.Me(ctx); err != nil {
		t.Errorf("the changing device with its new token: %v", err)
	}
	if err := phone.Refresh(ctx); err != nil {
		t.Errorf("the new refresh token: %v", err)
	}
	// Its old tokens, the other device's and the old password are ended.
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathMe, token: oldAccess}).wantError(t, 401, syncproto.CodeTokenInvalid)
	rawRefresh(t, srv, oldRefresh).wantError(t, 401, syncproto.CodeTokenInvalid)
	_, err = other.Me(ctx)
	wantAPIError(t, err, 401, syncproto.CodeTokenInvalid)
	rawLogin(t, srv, name, pw, other.DeviceID).wantError(t, 401, syncproto.CodeInvalidLogin)
	rawLogin(t, srv, name, next, other.DeviceID).wantStatus(t, 200)

	// In the audit log, by the user, naming the device.
	entries, err := srv.App.DB.AuditHistory(ctx, "user", name)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		ch := e.DecodeChanges()
		if e.Action == "account" && string(ch["operation"].New) == `"password_changed"` {
			found++
			if e.ActorName != "改密测试（"+name+"）" || string(ch["device_name"].New) != `"改密测试手机"` {
				t.Errorf("entry by %q, device %s: want the user and the phone's name", e.ActorName, ch["device_name"].New)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d password_changed entries, want 1 (refusals are not changes)", found)
	}

	// Wrong current passwords are slowed as failed sign-ins are.
	var last reply
	for i := range 6 {
		if last = change(accessToken(phone), body(wrongPassword(i), "third-password")); last.Status == 429 {
			break
		}
	}
	last.wantError(t, 429, syncproto.CodeTooManyTries)
	if last.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if _, err := phone.Me(ctx); err != nil {
		t.Errorf("slowed, the device's session still works: %v", err)
	}
}
