package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func TestUsersAndDevices(t *testing.T) {
	srv := apptest.Start(t)
	admin := loggedIn(t, srv, apptest.Admin)
	st, page := admin.get("/console/users")
	if st != http.StatusOK || !strings.Contains(page, "添加用户") || !strings.Contains(page, apptest.Inspector) {
		t.Fatalf("users page: %d\n%s", st, page)
	}
	token := csrf(t, page)

	// Without the CSRF token nothing is added.
	form := url.Values{"username": {"wang.li"}, "password": {"wangli-secret"}, "name": {"王力"}, "role": {"inspector"}, "counties": {apptest.Xinfu}}
	if st, _ := admin.post("/console/users", form); st != http.StatusForbidden {
		t.Fatalf("add user without csrf: %d", st)
	}
	form.Set("csrf", token)
	if st, page := admin.post("/console/users", form); st != http.StatusOK || !strings.Contains(page, "wang.li") || !strings.Contains(page, "王力") {
		t.Fatalf("add user: %d\n%s", st, page)
	}

	// The new user logs in on a phone.
	phone := srv.NewClient()
	tok, err := phone.Login(ctx, "wang.li", "wangli-secret", "王力的手机")
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.User.Counties; len(got) != 1 || got[0] != apptest.Xinfu {
		t.Fatalf("counties: %v", got)
	}
	if _, err := phone.Me(ctx); err != nil {
		t.Fatal(err)
	}

	// A county office sees the user but may not change anything.
	county := loggedIn(t, srv, apptest.CountyOffice)
	st, cpage := county.get("/console/users")
	if st != http.StatusOK || !strings.Contains(cpage, "wang.li") || strings.Contains(cpage, "添加用户") {
		t.Fatalf("county users page: %d\n%s", st, cpage)
	}
	ctoken := csrf(t, cpage)
	for path, f := range map[string]url.Values{
		"/console/users":                                    {"csrf": {ctoken}, "username": {"x.y"}, "password": {"xy-secret-1"}, "role": {"admin"}},
		"/console/users/wang.li/counties":                   {"csrf": {ctoken}, "counties": {apptest.Ningwu}},
		"/console/devices/" + tok.User.DeviceID + "/revoke": {"csrf": {ctoken}},
	} {
		if st, _ := county.post(path, f); st != http.StatusForbidden {
			t.Errorf("county office POST %s: %d, want 403", path, st)
		}
	}

	// The admin moves the user to another county.
	if st, page := admin.post("/console/users/wang.li/counties", url.Values{"csrf": {token}, "counties": {apptest.Ningwu}}); st != http.StatusOK || !strings.Contains(page, "已更新区县") {
		t.Fatalf("set counties: %d\n%s", st, page)
	}
	if me, err := phone.Me(ctx); err != nil || len(me.Counties) != 1 || me.Counties[0] != apptest.Ningwu {
		t.Fatalf("me after counties: %+v %v", me, err)
	}

	// Revoking without the CSRF token fails; with it, the phone is stopped.
	if st, _ := admin.post("/console/devices/"+tok.User.DeviceID+"/revoke", url.Values{}); st != http.StatusForbidden {
		t.Fatalf("revoke without csrf: %d", st)
	}
	if _, err := phone.Me(ctx); err != nil {
		t.Fatalf("device stopped without a valid revoke: %v", err)
	}
	if st, page := admin.post("/console/devices/"+tok.User.DeviceID+"/revoke", url.Values{"csrf": {token}}); st != http.StatusOK || !strings.Contains(page, "已吊销") {
		t.Fatalf("revoke: %d\n%s", st, page)
	}
	if _, err := phone.Me(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeDeviceRevoked {
		t.Fatalf("after revoke: %v", err)
	}
}

func TestQueueFlagFilter(t *testing.T) {
	srv := apptest.Start(t)
	id := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CityOffice)
	if st, page := b.get("/console/queue"); st != http.StatusOK || !strings.Contains(page, id) || !strings.Contains(page, `name="flag"`) {
		t.Fatalf("queue: %d", st)
	}
	if st, page := b.get("/console/queue?flag=no_gps"); st != http.StatusOK || strings.Contains(page, id) {
		t.Fatalf("flag filter kept an inspection without photos: %d", st)
	}
	if st, _ := b.get("/console/queue?flag=bogus"); st != http.StatusBadRequest {
		t.Fatalf("unknown flag: %d, want 400", st)
	}
}
