package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
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

	// Usernames are typed on phones and are segments of the console's
	// URLs: anything but letters, digits and . _ @ - is refused on the
	// form, and nothing is added.
	for _, bad := range []string{"a/b", "h#k", "q?z", "..", ".hidden", "u2/password#", "cоunty", "王力", "x y", strings.Repeat("a", 65)} {
		f := url.Values{"csrf": {token}, "username": {bad}, "password": {"long-enough-1"}, "role": {"inspector"}, "counties": {apptest.Xinfu}}
		if st, _ := admin.post("/console/users", f); st < 400 || st >= 500 {
			t.Errorf("username %q: %d, want a 4xx", bad, st)
		}
	}
	// The name offices read beside a user's records is one line of at most
	// 100 characters; an unknown role is refused in Chinese.
	for i, bad := range []string{"王\n力", "王力\u202e", "王\u200b力", strings.Repeat("王", 101)} {
		f := url.Values{"csrf": {token}, "username": {"named" + strconv.Itoa(i)}, "password": {"long-enough-1"}, "name": {bad},
			"role": {"inspector"}, "counties": {apptest.Xinfu}}
		if st, page := admin.post("/console/users", f); st != http.StatusBadRequest || !strings.Contains(page, "姓名应为一行文字") {
			t.Errorf("name %q: %d, want 400 naming the name's form", bad, st)
		}
	}
	// A name that differs from one in use only in case is refused.
	lookalike := url.Values{"csrf": {token}, "username": {"Wang.Li"}, "password": {"long-enough-1"}, "role": {"inspector"}, "counties": {apptest.Xinfu}}
	if st, page := admin.post("/console/users", lookalike); st != http.StatusConflict || !strings.Contains(page, "只差大小写") {
		t.Errorf("username Wang.Li beside wang.li: %d, want 409", st)
	}
	f := url.Values{"csrf": {token}, "username": {"super"}, "password": {"long-enough-1"}, "role": {"superadmin"}}
	if st, page := admin.post("/console/users", f); st != http.StatusBadRequest || !strings.Contains(page, "巡查员") || strings.Contains(page, "superadmin") {
		t.Errorf("role superadmin: %d, want 400 listing the roles by name", st)
	}
	_, users := admin.get("/console/users")
	if strings.Contains(users, "u2/password") || strings.Contains(users, "cоunty") || strings.Contains(users, "named0") || strings.Contains(users, "super") {
		t.Error("a refused username was added")
	}
	// Each user's actions go to that user's URL, also for a name made
	// before usernames had a form (written to the store directly).
	old := &server.User{ID: uuid.NewString(), Username: "h#k?z", Role: server.RoleInspector, Counties: []string{apptest.Xinfu}, CreatedAt: time.Now()}
	if err := srv.App.DB.CreateUser(ctx, old, "x"); err != nil {
		t.Fatal(err)
	}
	_, users = admin.get("/console/users")
	for _, want := range []string{`action="/console/users/wang.li/disable"`, `action="/console/users/h%23k%3Fz/disable"`} {
		if !strings.Contains(users, want) {
			t.Errorf("users page lacks %s", want)
		}
	}
	if st, _ := admin.post("/console/users/h%23k%3Fz/disable", url.Values{"csrf": {token}}); st != http.StatusOK {
		t.Errorf("disable h#k?z at its escaped URL: %d", st)
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

	// Every box unticked would leave an inspector nothing to do: refused,
	// the counties kept.
	if st, page := admin.post("/console/users/wang.li/counties", url.Values{"csrf": {token}}); st != http.StatusBadRequest || !strings.Contains(page, "至少要有一个区县") {
		t.Errorf("set no county: %d\n%s", st, page)
	}
	if me, err := phone.Me(ctx); err != nil || len(me.Counties) == 0 {
		t.Fatalf("me after a refused change of counties: %+v %v", me, err)
	}

	// A city office sees every county: the users page says so, offers no
	// county form for it, and a list sent anyway is refused (it was
	// stored and shown as if it limited the account).
	page = mustGet(t, admin, "/console/users")
	row := page[strings.Index(page, `data-username="`+apptest.CityOffice+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "全部区县") || strings.Contains(row, "/counties") {
		t.Errorf("the city office's row: %s", row)
	}
	if st, page := admin.post("/console/users/"+apptest.CityOffice+"/counties", url.Values{"csrf": {token}, "counties": {apptest.Xinfu}}); st != http.StatusBadRequest || !strings.Contains(page, "查看全部区县，不能限定区县") {
		t.Errorf("counties set on the city office: %d\n%s", st, page)
	}
	if st, page := admin.post("/console/users", url.Values{"csrf": {token}, "username": {"city2"}, "password": {"city2-secret"}, "name": {"市二"},
		"role": {"city_office"}, "counties": {apptest.Xinfu}}); st != http.StatusBadRequest || !strings.Contains(page, "不能限定区县") {
		t.Errorf("a city office added with one county: %d\n%s", st, page)
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
	// The first POST asks to confirm, naming the device and what it still
	// owes; only the confirmation revokes, and its notice names the device.
	st, page = admin.post("/console/devices/"+tok.User.DeviceID+"/revoke", url.Values{"csrf": {token}})
	if st != http.StatusOK || !strings.Contains(page, "确认吊销") || !strings.Contains(page, "无法上传") || !strings.Contains(page, `id="revoke-device"`) {
		t.Fatalf("revoke asks no confirmation: %d\n%s", st, page)
	}
	if _, err := phone.Me(ctx); err != nil {
		t.Fatalf("the device was revoked before the confirmation: %v", err)
	}
	if st, page := admin.post("/console/devices/"+tok.User.DeviceID+"/revoke", url.Values{"csrf": {token}, "confirm": {"1"}}); st != http.StatusOK ||
		!regexp.MustCompile(`id="revoked">已吊销用户 [^<]*的设备“[^”]+”`).MatchString(page) {
		t.Fatalf("revoke: %d\n%s", st, page)
	}
	if st, _ := admin.post("/console/devices/"+uuid.NewString()+"/revoke", url.Values{"csrf": {token}, "confirm": {"1"}}); st != http.StatusNotFound {
		t.Errorf("revoking a device that does not exist: %d, want 404", st)
	}
	if _, err := phone.Me(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeDeviceRevoked {
		t.Fatalf("after revoke: %v", err)
	}

	// Revoked by mistake: reinstated (a county office may not), the phone
	// signs in again — the tokens it held stay ended.
	if st, _ := county.post("/console/devices/"+tok.User.DeviceID+"/reinstate", url.Values{"csrf": {ctoken}}); st != http.StatusForbidden {
		t.Errorf("county office reinstating a device: %d, want 403", st)
	}
	_, page = admin.get("/console/users")
	if !strings.Contains(page, `action="/console/devices/`+tok.User.DeviceID+`/reinstate"`) {
		t.Fatal("the users page offers no reinstatement of the revoked device")
	}
	for range 2 { // sent twice: answered as the first
		if st, page := admin.post("/console/devices/"+tok.User.DeviceID+"/reinstate", url.Values{"csrf": {token}}); st != http.StatusOK ||
			!regexp.MustCompile(`id="reinstated">已恢复用户 [^<]*的设备“[^”]+”`).MatchString(page) {
			t.Fatalf("reinstate: %d\n%s", st, page)
		}
	}
	if _, err := phone.Me(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeTokenInvalid {
		t.Errorf("the reinstated phone's old token: %v, want token_invalid", err)
	}
	if _, err := phone.Login(ctx, "wang.li", "wangli-secret", "王力的手机"); err != nil {
		t.Errorf("sign in on the reinstated phone: %v", err)
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

// TestAddUserRefusedKeepsTheForm: a refused 添加用户 (the username taken, a
// short password, no county) shows the users page again saying why, with
// the form as it was filled in — name, role, counties ticked — but never
// the password.
func TestAddUserRefusedKeepsTheForm(t *testing.T) {
	srv := apptest.Start(t)
	admin := loggedIn(t, srv, apptest.Admin)
	_, page := admin.get("/console/users")
	token := csrf(t, page)
	for _, tc := range []struct {
		name     string
		username string
		password string
		counties []string
		status   int
		says     string
	}{
		{"username taken", apptest.CountyOffice, "newpass123", []string{apptest.Ningwu}, http.StatusConflict, "已存在"},
		{"short password", "newclerk", "short", []string{apptest.Ningwu}, http.StatusBadRequest, "密码至少 8 位"},
	} {
		st, page := admin.post("/console/users", url.Values{"csrf": {token}, "username": {tc.username}, "password": {tc.password},
			"name": {"新来的王科员"}, "role": {"county_office"}, "counties": tc.counties})
		form := regexp.MustCompile(`(?s)<form method="post" action="/console/users" class="add-user">.*?</form>`).FindString(page)
		if st != tc.status || !strings.Contains(page, `id="add-user-error"`) || !strings.Contains(page, tc.says) {
			t.Errorf("%s: %d, want %d saying %q", tc.name, st, tc.status, tc.says)
			continue
		}
		for _, want := range []string{`name="username" autocapitalize="off" spellcheck="false" required value="` + tc.username + `"`,
			`value="新来的王科员"`, `<option value="county_office" selected>`, `value="` + apptest.Ningwu + `" checked>`} {
			if !strings.Contains(form, want) {
				t.Errorf("%s: the form lost %s", tc.name, want)
			}
		}
		if strings.Contains(form, tc.password) {
			t.Errorf("%s: the form shows the password again", tc.name)
		}
	}
}

// TestFormAfterSessionEnded: a form sent after the session ended (signed
// out in another tab, or expired) keeps what was typed for copying and
// offers to sign in again, back to the page the form was on.
func TestFormAfterSessionEnded(t *testing.T) {
	srv := apptest.Start(t)
	id := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/inspections/" + id)
	token := csrf(t, page)
	if st, _ := b.post("/console/logout", url.Values{"csrf": {token}}); st != http.StatusOK {
		t.Fatalf("logout: %d", st)
	}
	st, page := b.post("/console/inspections/"+id+"/review", url.Values{"csrf": {token}, "decision": {"return"}, "comment": {"围挡照片不清楚，请重拍"}})
	want := `href="/console/login?next=` + url.QueryEscape("/console/inspections/"+id) + `"`
	if st != http.StatusUnauthorized || !strings.Contains(page, "围挡照片不清楚，请重拍") || !strings.Contains(page, `id="login-again"`) || !strings.Contains(page, want) {
		t.Fatalf("a review sent after the session ended: %d\n%s", st, page)
	}
	// The heading says what happened, not the HTTP status.
	if !strings.Contains(page, "<h1>需要重新登录</h1>") || strings.Contains(page, "（401）") {
		t.Errorf("the page's heading: %s", regexp.MustCompile(`<h1>.*?</h1>`).FindString(page))
	}

	// A session an administrator ended: the browser still holds its
	// cookie, and the page says the sign-in has lapsed, not only 请先登录.
	b = loggedIn(t, srv, apptest.CountyOffice)
	_, page = b.get("/console/inspections/" + id)
	token = csrf(t, page)
	admin := loggedIn(t, srv, apptest.Admin)
	_, users := admin.get("/console/users")
	row := users[strings.Index(users, `data-username="`+apptest.CountyOffice+`"`):]
	m := sessionRE.FindStringSubmatch(row[:strings.Index(row, "</tr>")])
	if m == nil {
		t.Fatalf("no console session listed for %s", apptest.CountyOffice)
	}
	if st, _ := admin.post("/console/sessions/"+m[1]+"/revoke", url.Values{"csrf": {csrf(t, users)}}); st != http.StatusOK {
		t.Fatalf("revoke session: %d", st)
	}
	st, page = b.post("/console/inspections/"+id+"/review", url.Values{"csrf": {token}, "decision": {"return"}, "comment": {"请补拍"}})
	if st != http.StatusUnauthorized || !strings.Contains(page, "登录已失效") || !strings.Contains(page, "被管理员结束") || !strings.Contains(page, `id="login-again"`) {
		t.Errorf("a review sent after an administrator ended the session: %d %s", st, regexp.MustCompile(`(?s)<section class="error">.*?</section>`).FindString(page))
	}
}
