package console_test

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/server/sqlstore"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// signedIn reports whether b's console session is accepted.
func signedIn(t *testing.T, b *browser) bool {
	t.Helper()
	st, page := b.get("/console/queue")
	return st == http.StatusOK && strings.Contains(page, "审核队列")
}

// TestSessionSurvivesRestart: the cookie still works after the server is
// stopped and started on the same data directory; logout revokes it.
func TestSessionSurvivesRestart(t *testing.T) {
	var cfg app.Config
	first := apptest.Start(t, func(c *app.Config) { cfg = *c })
	b := loggedIn(t, first, apptest.CityOffice)
	first.Stop()

	second := apptest.StartConfig(t, cfg)
	u, _ := url.Parse(first.URL + "/console/")
	cookies := b.c.Jar.Cookies(u)
	b.base = second.URL // another port: carry the cookies over
	u2, _ := url.Parse(second.URL + "/console/")
	b.c.Jar.SetCookies(u2, cookies)
	if !signedIn(t, b) {
		t.Fatal("console session lost on restart")
	}

	// Logout revokes the session: the old cookie is refused afterwards.
	_, page := b.get("/console/queue")
	var token string
	for _, ck := range cookies {
		if ck.Name == "fs_console" {
			token = ck.Value
		}
	}
	if st, _ := b.post("/console/logout", url.Values{"csrf": {csrf(t, page)}}); st != http.StatusOK {
		t.Fatalf("logout: %d", st)
	}
	replay := newBrowser(t, second)
	replay.c.Jar.SetCookies(u2, []*http.Cookie{{Name: "fs_console", Value: token, Path: "/console"}})
	if signedIn(t, replay) {
		t.Fatal("the cookie of a logged-out session still works")
	}
}

// ageSessions moves these time columns of every console session of srv
// back by d, as if d had passed since.
func ageSessions(t *testing.T, srv *apptest.Server, d time.Duration, cols ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+srv.App.Cfg.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range cols {
		if _, err := db.ExecContext(ctx, `UPDATE console_sessions SET `+c+` = `+c+` - ?`, d.Milliseconds()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionExpires: a session idle for longer than SessionTTL, or older
// than SessionMaxAge however used, is refused.
func TestSessionExpires(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CityOffice)
	ageSessions(t, srv, console.SessionTTL-time.Minute, "last_seen_at")
	if !signedIn(t, b) {
		t.Fatal("session refused within the idle limit")
	}
	ageSessions(t, srv, console.SessionTTL+time.Minute, "last_seen_at")
	if signedIn(t, b) {
		t.Fatal("idle session accepted")
	}

	// In use all along (last seen just now), but signed in almost
	// SessionMaxAge ago: accepted until the absolute limit, then refused.
	b = loggedIn(t, srv, apptest.CityOffice)
	ageSessions(t, srv, console.SessionMaxAge-time.Minute, "created_at", "expires_at")
	if !signedIn(t, b) {
		t.Fatal("session in use refused before the absolute limit")
	}
	ageSessions(t, srv, 2*time.Minute, "created_at", "expires_at")
	if signedIn(t, b) {
		t.Fatal("session accepted past the absolute limit")
	}
}

var sessionRE = regexp.MustCompile(`data-session="([0-9a-f]+)"`)

// TestAdminAccountActions: disable (ends console sessions and device
// tokens), enable, reset password, set counties and revoke a session,
// through the console forms; non-admins are refused and CSRF is required.
func TestAdminAccountActions(t *testing.T) {
	srv := apptest.Start(t)
	admin := loggedIn(t, srv, apptest.Admin)
	_, page := admin.get("/console/users")
	token := csrf(t, page)
	if !strings.Contains(page, `name="counties" value="`+apptest.Xinfu+`" checked`) {
		t.Error("a user's counties are not ticked on the users page")
	}

	county := loggedIn(t, srv, apptest.CountyOffice)
	_, cpage := county.get("/console/users")
	ctoken := csrf(t, cpage)
	phone := srv.Login(apptest.CountyOffice)
	if _, err := phone.Me(ctx); err != nil {
		t.Fatal(err)
	}

	paths := []string{"/console/users/" + apptest.CityOffice + "/disable", "/console/users/" + apptest.CityOffice + "/enable",
		"/console/users/" + apptest.CityOffice + "/password", "/console/users/" + apptest.CityOffice + "/counties"}
	for _, p := range paths {
		if st, _ := county.post(p, url.Values{"csrf": {ctoken}, "counties": {apptest.Ningwu}}); st != http.StatusForbidden {
			t.Errorf("county office POST %s: %d, want 403", p, st)
		}
		if st, _ := admin.post(p, url.Values{"counties": {apptest.Ningwu}}); st != http.StatusForbidden {
			t.Errorf("admin POST %s without csrf: %d, want 403", p, st)
		}
	}

	// The admin sees the county office's console session and revokes it.
	_, page = admin.get("/console/users")
	row := page[strings.Index(page, `data-username="`+apptest.CountyOffice+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	m := sessionRE.FindStringSubmatch(row)
	if m == nil {
		t.Fatalf("no console session listed for %s:\n%s", apptest.CountyOffice, row)
	}
	if st, page := admin.post("/console/sessions/"+m[1]+"/revoke", url.Values{"csrf": {token}}); st != http.StatusOK || !strings.Contains(page, "已注销") {
		t.Fatalf("revoke session: %d", st)
	}
	if signedIn(t, county) {
		t.Fatal("revoked console session still works")
	}

	// Disabling ends the console session and the phone's tokens.
	county = loggedIn(t, srv, apptest.CountyOffice)
	if st, page := admin.post("/console/users/"+apptest.CountyOffice+"/disable", url.Values{"csrf": {token}}); st != http.StatusOK || !strings.Contains(page, "已停用用户") {
		t.Fatalf("disable: %d\n%s", st, page)
	}
	if signedIn(t, county) {
		t.Fatal("a disabled user's console session still works")
	}
	if _, err := phone.Me(ctx); err == nil {
		t.Fatal("a disabled user's device token still works")
	}
	if st, _ := newBrowser(t, srv).login(apptest.CountyOffice, apptest.Passwords[apptest.CountyOffice]); st == http.StatusOK {
		t.Fatal("a disabled user signed in")
	}
	if st, _ := admin.post("/console/users/"+apptest.CountyOffice+"/enable", url.Values{"csrf": {token}}); st != http.StatusOK {
		t.Fatalf("enable: %d", st)
	}
	if _, err := phone.Me(ctx); syncproto.ErrorCodeOf(err) == "" {
		t.Fatal("the device token issued before disabling works again after enabling")
	}
	county = loggedIn(t, srv, apptest.CountyOffice)

	// A reset password is shown once, on a page a reload does not post
	// again (it reset the password anew, and the user was told one
	// already replaced); the old one and the old session stop.
	var landed *http.Request
	admin.c.CheckRedirect = func(req *http.Request, via []*http.Request) error { landed = req; return nil }
	st, page := admin.post("/console/users/"+apptest.CountyOffice+"/password", url.Values{"csrf": {token}})
	admin.c.CheckRedirect = nil
	if landed == nil || landed.Method != http.MethodGet || landed.URL.Path != "/console/users" {
		t.Errorf("the reset's answer is not a redirect to the users page: %+v", landed)
	}
	pm := regexp.MustCompile(`新密码：<code>([^<]+)</code>`).FindStringSubmatch(page)
	if st != http.StatusOK || pm == nil {
		t.Fatalf("reset password: %d\n%s", st, page)
	}
	// The password went to the page in a cookie sealed to the session:
	// not readable from the cookie, as a proxy logging cookies keeps it
	// (ops probe: base64 of done=password&password=…).
	for _, ck := range landed.Response.Cookies() {
		plain, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(ck.Value, "s."))
		if strings.Contains(ck.Value, pm[1]) || strings.Contains(string(plain), pm[1]) || (ck.Name == "fieldsync_notice" && !strings.HasPrefix(ck.Value, "s.")) {
			t.Errorf("the new password is readable from the cookie %s=%s", ck.Name, ck.Value)
		}
	}
	if signedIn(t, county) {
		t.Fatal("session survived a password reset")
	}
	if st, _ := newBrowser(t, srv).login(apptest.CountyOffice, apptest.Passwords[apptest.CountyOffice]); st == http.StatusOK {
		t.Fatal("old password still works")
	}
	if st, page := newBrowser(t, srv).login(apptest.CountyOffice, pm[1]); st != http.StatusOK || !strings.Contains(page, "审核队列") {
		t.Fatalf("new password: %d", st)
	}
	if _, page := admin.get("/console/users"); strings.Contains(page, pm[1]) {
		t.Fatal("the new password is shown again")
	}

	// An inspector's form says what a county taken away does to the work
	// still on the phone; an office's has no phone work to say it of
	// (admin probe: a move refused the old county's unsent work unsaid).
	_, users := admin.get("/console/users")
	inspectorForm := regexp.MustCompile(`(?s)action="/console/users/` + apptest.Inspector + `/counties".*?</form>`).FindString(users)
	officeForm := regexp.MustCompile(`(?s)action="/console/users/` + apptest.CountyOffice + `/counties".*?</form>`).FindString(users)
	if !strings.Contains(inspectorForm, "尚未上传的该区县记录会被拒收") || officeForm == "" || strings.Contains(officeForm, "会被拒收") {
		t.Errorf("the county forms do not say what a county taken away does to the phone's unsent work:\n%s\n%s", inspectorForm, officeForm)
	}
	// Counties through the same checkboxes as the add-user form.
	if st, _ := admin.post("/console/users/"+apptest.CountyOffice+"/counties", url.Values{"csrf": {token}, "counties": {apptest.Xinfu, apptest.Ningwu}}); st != http.StatusOK {
		t.Fatalf("set counties: %d", st)
	}
	u, _, err := srv.App.DB.UserByUsername(ctx, apptest.CountyOffice)
	if err != nil || len(u.Counties) != 2 {
		t.Fatalf("counties after the form: %+v %v", u, err)
	}
	if u.Role != server.RoleCountyOffice {
		t.Fatal(u.Role)
	}
}

// TestDevicesPageNames: the devices page names people and does not call a
// device that never synced 正常.
func TestDevicesPageNames(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector) // signs in, never pulls or pushes
	_ = phone
	u, _, err := srv.App.DB.UserByUsername(ctx, apptest.Inspector)
	if err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, srv, apptest.CityOffice)
	st, page := b.get("/console/devices")
	if st != http.StatusOK {
		t.Fatal(st)
	}
	if u.DisplayName == "" || !strings.Contains(page, u.DisplayName) {
		t.Errorf("devices page lacks the display name %q", u.DisplayName)
	}
	if !strings.Contains(page, "从未同步") || strings.Contains(page, ">正常<") {
		t.Errorf("a device that never synced:\n%s", page)
	}
}

// TestAdminActionsLogged: an administrator's changes to accounts are
// logged with who made them, from where and to whom (never the password),
// so that a reset or a county change can be traced.
func TestAdminActionsLogged(t *testing.T) {
	var logs logtest.Buffer
	srv := apptest.StartLogged(t, &logs)
	admin := loggedIn(t, srv, apptest.Admin)
	page := mustGet(t, admin, "/console/users")
	const password = "new-Secret-77"
	if st, body := admin.post("/console/users/inspector2/password", url.Values{"csrf": {csrf(t, page)}, "password": {password}}); st != http.StatusOK {
		t.Fatalf("reset: %d\n%s", st, body)
	}
	if st, body := admin.post("/console/users/inspector2/disable", url.Values{"csrf": {csrf(t, page)}}); st != http.StatusOK {
		t.Fatalf("disable: %d\n%s", st, body)
	}
	got := map[string]bool{}
	for _, rec := range logs.Records("admin action") {
		if rec["by"] != "admin" || rec["user"] != "inspector2" || rec["client_ip"] == "" {
			t.Errorf("admin action logged as %v", rec)
		}
		got[fmt.Sprint(rec["action"])] = true
	}
	if !got["password_reset"] || !got["user_disabled"] {
		t.Errorf("admin actions logged: %v, want the reset and the disabling", got)
	}
	if strings.Contains(logs.String(), password) {
		t.Error("the log holds the new password")
	}
}

// TestSessionUseRecordedOncePerMinute: a page view records the session's
// use only when the recorded one is ConsoleTouchEvery old, so that
// reading the console is not a write of the database — on a full disk
// every page, the monthly export included, answered 503 for want of it.
func TestSessionUseRecordedOncePerMinute(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CityOffice)
	lastSeen := func() (ms int64) {
		t.Helper()
		db, err := sql.Open("sqlite3", "file:"+srv.App.Cfg.DBPath())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRowContext(ctx, `SELECT last_seen_at FROM console_sessions WHERE revoked_at IS NULL`).Scan(&ms); err != nil {
			t.Fatal(err)
		}
		return ms
	}
	ageSessions(t, srv, 30*time.Second, "last_seen_at")
	before := lastSeen()
	if !signedIn(t, b) {
		t.Fatal("session refused")
	}
	if got := lastSeen(); got != before {
		t.Errorf("a page view 30 s after the last recorded one wrote last_seen_at (%d → %d)", before, got)
	}
	ageSessions(t, srv, sqlstore.ConsoleTouchEvery, "last_seen_at")
	before = lastSeen()
	if !signedIn(t, b) {
		t.Fatal("session refused")
	}
	if got := lastSeen(); got <= before {
		t.Errorf("a page view a minute and a half after the last recorded one did not record it (%d → %d)", before, got)
	}
}

// TestAccountActionsAudited: an administrator's changes to accounts and
// devices — a password reset (which lets them sign in as the user), a
// disable and enable, counties changed, a device revoked and reinstated —
// are in the sealed audit log, by the administrator, and listed on the
// user's row (账号操作记录); the chain still verifies. They were only in
// the server's log.
func TestAccountActionsAudited(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector2)
	admin := loggedIn(t, srv, apptest.Admin)
	token := csrf(t, mustGet(t, admin, "/console/users"))
	user := "/console/users/" + apptest.Inspector2
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{user + "/password", url.Values{"password": {"new-secret-123"}}},
		{user + "/disable", nil},
		{user + "/enable", nil},
		{user + "/counties", url.Values{"counties": {apptest.Xinfu, apptest.Ningwu}}},
		{"/console/devices/" + phone.DeviceID + "/revoke", url.Values{"confirm": {"1"}}},
		{"/console/devices/" + phone.DeviceID + "/reinstate", nil},
	} {
		form := url.Values{"csrf": {token}}
		for k, v := range step.form {
			form[k] = v
		}
		if st, page := admin.post(step.path, form); st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", step.path, st, page)
		}
	}
	entries, err := srv.App.DB.AuditEntries(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	adminUser, _, err := srv.App.DB.UserByUsername(ctx, apptest.Admin)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		if e.Action != "account" {
			continue
		}
		// The username beside the name: names are not unique.
		if want := adminUser.DisplayName + "（" + apptest.Admin + "）"; e.ActorID != adminUser.ID || e.ActorName != want {
			t.Errorf("entry %d made by %q %q, want the administrator %q", e.Seq, e.ActorID, e.ActorName, want)
		}
		ops = append(ops, e.Entity+":"+string(e.DecodeChanges()["operation"].New))
	}
	want := []string{`user:"password_reset"`, `user:"user_disabled"`, `user:"user_enabled"`, `user:"user_counties_set"`,
		`device:"device_revoked"`, `device:"device_reinstated"`}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Errorf("account entries %v, want %v", ops, want)
	}
	check, err := server.VerifyAudit(ctx, srv.App.DB, nil)
	if err != nil || len(check.Problems) > 0 {
		t.Fatalf("audit log after the account entries: %v %+v", err, check)
	}
	// A console session ended is the user's entry (not its id: a token's
	// hash, whose row goes in time).
	loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, admin, "/console/users")
	row := page[strings.Index(page, `data-username="`+apptest.CountyOffice+`"`):]
	m := regexp.MustCompile(`data-session="([0-9a-f]+)"`).FindStringSubmatch(row)
	if m == nil {
		t.Fatal("no session listed for the county office")
	}
	if st, _ := admin.post("/console/sessions/"+m[1]+"/revoke", url.Values{"csrf": {token}}); st != http.StatusOK {
		t.Fatalf("revoke session: %d", st)
	}
	if es, err := srv.App.DB.AuditHistory(ctx, "user", apptest.CountyOffice); err != nil || len(es) != 1 ||
		string(es[0].DecodeChanges()["operation"].New) != `"console_session_revoked"` || strings.Contains(string(es[0].Changes), m[1]) {
		t.Errorf("the county office's entries after its session was ended: %+v %v", es, err)
	}
	page = mustGet(t, admin, "/console/users")
	row = page[strings.Index(page, `data-username="`+apptest.Inspector2+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	for _, w := range []string{"账号操作记录（6）", "重置密码", "停用", "启用", "修改区县，区县 忻府区 → 忻府区、宁武县", "吊销设备", "恢复设备"} {
		if !strings.Contains(row, w) {
			t.Errorf("the user's row lacks %q:\n%s", w, row)
		}
	}
}

// TestDisableSaysWhatPhonesOwe: disabling a user, or changing their
// counties, says how many photos their phones have still to upload and
// what becomes of them (the revocation of one phone said it; these said
// nothing, and the office did not know what it held back).
func TestDisableSaysWhatPhonesOwe(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector2)
	check := uuid.NewString()
	apptest.PushApplied(t, phone,
		apptest.Mut(phone, syncproto.EntityVehicleCheck, check, apptest.Fields("county", apptest.Xinfu, "checkpoint", "豆罗检查站", "checked_at", time.Now().Format(time.RFC3339), "plate", "晋H60001", "emission_stage", "cn6", "aftertreatment", "present")),
		apptest.Mut(phone, syncproto.EntityPhoto, uuid.NewString(), apptest.Fields("vehicle_check_id", check, "sha256", strings.Repeat("ab", 32), "content_type", "image/jpeg")))
	admin := loggedIn(t, srv, apptest.Admin)
	token := csrf(t, mustGet(t, admin, "/console/users"))
	st, page := admin.post("/console/users/"+apptest.Inspector2+"/counties", url.Values{"csrf": {token}, "counties": {apptest.Xinfu, apptest.Ningwu}})
	if st != http.StatusOK || !strings.Contains(page, "还有 1 张照片未上传完") || !strings.Contains(page, "重新应用") {
		t.Errorf("counties changed: %d, the notice does not say what the phone owes", st)
	}
	st, page = admin.post("/console/users/"+apptest.Inspector2+"/disable", url.Values{"csrf": {token}})
	if st != http.StatusOK || !strings.Contains(page, "其手机上还有 1 张照片未上传完") {
		t.Errorf("disabled: %d, the notice does not say what the phone owes", st)
	}
	st, page = admin.post("/console/users/"+apptest.Inspector+"/disable", url.Values{"csrf": {token}})
	if st != http.StatusOK || strings.Contains(page, "未上传完") {
		t.Errorf("a user whose phones owe nothing: %d, the notice speaks of photos", st)
	}
}

// TestChangeOwnPassword: a console user changes their own password once
// the current one is checked (only an administrator's reset could, so a
// password an administrator set stayed one they knew): a wrong current
// password, two new ones that differ, or one too short are refused with
// the reason; a change ends the user's other sessions and phones, keeps
// this browser signed in, and is in the audit log by the user.
func TestChangeOwnPassword(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.CountyOffice)
	other := loggedIn(t, srv, apptest.CountyOffice)
	b := loggedIn(t, srv, apptest.CountyOffice)
	if page := mustGet(t, b, "/console/queue"); !strings.Contains(page, `href="/console/password" title="修改密码"`) {
		t.Error("no page header leads to 修改密码")
	}
	token := csrf(t, mustGet(t, b, "/console/password"))
	old := apptest.Passwords[apptest.CountyOffice]
	for _, tc := range []struct {
		current, new, again string
		status              int
		says                string
	}{
		{"wrong-password", "new-secret-123", "new-secret-123", http.StatusForbidden, "当前密码不正确"},
		{old, "new-secret-123", "new-secret-124", http.StatusBadRequest, "两次输入的新密码不一致"},
		{old, "short", "short", http.StatusBadRequest, "8 到 72 个字节"},
		{old, old, old, http.StatusBadRequest, "不能与当前密码相同"},
	} {
		st, page := b.post("/console/password", url.Values{"csrf": {token}, "current": {tc.current}, "new": {tc.new}, "again": {tc.again}})
		if st != tc.status || !strings.Contains(page, tc.says) {
			t.Errorf("%+v: %d, want %d saying %q", tc, st, tc.status, tc.says)
		}
		// Read out by a screen reader, the focus on it (a11y probe).
		if !strings.Contains(page, `id="password-error" role="alert" tabindex="-1" data-said>`) {
			t.Errorf("%+v: the refusal is not an alert taking the focus", tc)
		}
	}
	st, page := b.post("/console/password", url.Values{"csrf": {token}, "current": {old}, "new": {"new-secret-123"}, "again": {"new-secret-123"}})
	if st != http.StatusOK || !strings.Contains(page, "密码已修改") || !strings.Contains(page, `id="password-changed" role="status"`) {
		t.Fatalf("change: %d\n%s", st, page)
	}
	if !signedIn(t, b) {
		t.Error("the browser that changed the password was signed out")
	}
	if signedIn(t, other) {
		t.Error("another browser's session survived the change")
	}
	if _, err := phone.Me(ctx); syncproto.ErrorCodeOf(err) != syncproto.CodeTokenInvalid {
		t.Errorf("the user's phone after the change: %v, want token_invalid", err)
	}
	if st, _ := newBrowser(t, srv).login(apptest.CountyOffice, old); st == http.StatusOK {
		t.Error("the old password still signs in")
	}
	if st, _ := newBrowser(t, srv).login(apptest.CountyOffice, "new-secret-123"); st != http.StatusOK {
		t.Errorf("the new password: %d", st)
	}
	entries, err := srv.App.DB.AuditHistory(ctx, "user", apptest.CountyOffice)
	if err != nil || len(entries) != 1 || string(entries[0].DecodeChanges()["operation"].New) != `"password_changed"` || entries[0].ActorName == "" {
		t.Errorf("audit entries of the change: %+v %v", entries, err)
	}
}
