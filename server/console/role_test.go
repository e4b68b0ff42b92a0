package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRoleChange: an administrator gives a user another role on 用户与设备
// — an inspector made a county office works in the counties ticked, can
// sign in to the console, and their phone's cursor asks for a resync; a
// city office works in every county whatever is ticked — each change in
// the user's history with what it replaced. The role and counties held,
// sent again, change and audit nothing; no role, an unknown one or no
// county for a county role are refused; an administrator's own role and
// anyone's but an administrator's are not changed here.
func TestRoleChange(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	pulled, err := phone.PullAll(ctx, "", 500, func(*syncproto.PullResponse) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	admin := loggedIn(t, srv, apptest.Admin)
	page := mustGet(t, admin, "/console/users")
	token := csrf(t, page)
	form := func(user string) string {
		return regexp.MustCompile(`(?s)action="/console/users/` + regexp.QuoteMeta(user) + `/role".*?</form>`).FindString(mustGet(t, admin, "/console/users"))
	}
	if f := form(apptest.Inspector); !strings.Contains(f, `<option value="inspector" selected>巡查员</option>`) || !strings.Contains(f, `name="counties" value="`+apptest.Xinfu+`" checked`) {
		t.Errorf("the inspector's role form does not show the role and counties held:\n%s", f)
	}
	if f := form(apptest.Admin); f != "" {
		t.Errorf("the administrator's own row has a role form:\n%s", f)
	}
	role := func(b *browser, user string, v url.Values) (int, string) {
		t.Helper()
		v.Set("csrf", csrf(t, mustGet(t, b, "/console/users")))
		return b.post("/console/users/"+url.PathEscape(user)+"/role", v)
	}
	county := loggedIn(t, srv, apptest.CountyOffice)
	if st, _ := role(county, apptest.Inspector, url.Values{"role": {"county_office"}, "counties": {apptest.Xinfu}}); st != http.StatusForbidden {
		t.Errorf("a county office changing a role: %d, want 403", st)
	}
	if st, _ := admin.post("/console/users/"+apptest.Inspector+"/role", url.Values{"role": {"county_office"}, "counties": {apptest.Xinfu}}); st != http.StatusForbidden {
		t.Errorf("a role changed without the CSRF token: %d, want 403", st)
	}

	st, page := role(admin, apptest.Inspector, url.Values{"role": {"county_office"}, "counties": {apptest.Xinfu, apptest.Ningwu}})
	if st != http.StatusOK || !strings.Contains(page, "已修改用户 "+apptest.Inspector+" 的角色") {
		t.Fatalf("inspector to county office: %d\n%s", st, page)
	}
	me, err := phone.Me(ctx)
	if err != nil || me.Role != "county_office" || strings.Join(me.Counties, ",") != apptest.Xinfu+","+apptest.Ningwu {
		t.Errorf("the phone's user after the change: %+v %v", me, err)
	}
	if _, err := phone.Pull(ctx, pulled, 500); syncproto.ErrorCodeOf(err) != syncproto.CodeResyncRequired {
		t.Errorf("the phone's cursor after the change: %v, want resync_required", err)
	}
	promoted := loggedIn(t, srv, apptest.Inspector) // the console is theirs now

	history := func() string {
		t.Helper()
		p := mustGet(t, admin, "/console/users")
		row := p[strings.Index(p, `data-username="`+apptest.Inspector+`"`):]
		return row[:strings.Index(row, "</tr>")]
	}
	if h := history(); !strings.Contains(h, "修改角色，区县 忻府区 → 忻府区、宁武县，角色 巡查员 → 区县督查") || !strings.Contains(h, "账号操作记录（1）") {
		t.Errorf("the user's history does not say the change:\n%s", h)
	}
	// Sent again: nothing changed, nothing audited.
	if st, page := role(admin, apptest.Inspector, url.Values{"role": {"county_office"}, "counties": {apptest.Ningwu, apptest.Xinfu}}); st != http.StatusOK || !strings.Contains(page, "未作修改") {
		t.Errorf("the role held sent again: %d", st)
	}
	if st, page := admin.post("/console/users/"+apptest.Inspector+"/counties", url.Values{"csrf": {token}, "counties": {apptest.Xinfu, apptest.Ningwu}}); st != http.StatusOK || !strings.Contains(page, "未作修改") {
		t.Errorf("the counties held sent again: %d", st)
	}
	if h := history(); !strings.Contains(h, "账号操作记录（1）") {
		t.Errorf("a change to what was held is in the history:\n%s", h)
	}
	for _, tc := range []struct {
		what string
		v    url.Values
		want string
	}{
		{"no role", url.Values{"counties": {apptest.Xinfu}}, "未知角色"},
		{"an unknown role", url.Values{"role": {"boss"}, "counties": {apptest.Xinfu}}, "未知角色"},
		{"an inspector without a county", url.Values{"role": {"inspector"}}, "至少要有一个区县"},
	} {
		if st, page := role(admin, apptest.Inspector, tc.v); st != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d, want 400 saying %s", tc.what, st, tc.want)
		}
	}
	if st, _ := role(admin, apptest.Admin, url.Values{"role": {"inspector"}, "counties": {apptest.Xinfu}}); st != http.StatusForbidden {
		t.Errorf("an administrator's own role: %d, want 403", st)
	}
	if me, err := phone.Me(ctx); err != nil || me.Role != "county_office" {
		t.Errorf("after the refusals: %+v %v", me, err)
	}

	// A city office sees every county: what is ticked is not kept.
	if st, _ := role(admin, apptest.Inspector, url.Values{"role": {"city_office"}, "counties": {apptest.Xinfu}}); st != http.StatusOK {
		t.Fatalf("to city office: %d", st)
	}
	if me, err := phone.Me(ctx); err != nil || me.Role != "city_office" || len(me.Counties) != 0 {
		t.Errorf("a city office: %+v %v", me, err)
	}
	if h := history(); !strings.Contains(h, "全部区县") || strings.Contains(h, `/console/users/`+apptest.Inspector+`/counties"`) {
		t.Errorf("the city office's row:\n%s", h)
	}
	// Back to inspector: the console is no longer theirs.
	if st, _ := role(admin, apptest.Inspector, url.Values{"role": {"inspector"}, "counties": {apptest.Xinfu}}); st != http.StatusOK {
		t.Fatalf("back to inspector: %d", st)
	}
	if st, _ := promoted.get("/console/queue"); st != http.StatusForbidden && st != http.StatusUnauthorized {
		t.Errorf("the console session of a user made an inspector: %d, want refused", st)
	}
	if h := history(); !strings.Contains(h, "账号操作记录（3）") || !strings.Contains(h, "修改角色，区县 全部区县 → 忻府区，角色 市级督查 → 巡查员") {
		t.Errorf("the history after three changes:\n%s", h)
	}
	// A change of the role alone says no change of counties.
	if st, _ := role(admin, apptest.Inspector, url.Values{"role": {"county_office"}, "counties": {apptest.Xinfu}}); st != http.StatusOK {
		t.Fatalf("to county office again: %d", st)
	}
	if h := history(); !strings.Contains(h, "修改角色，区县 忻府区，角色 巡查员 → 区县督查") {
		t.Errorf("a change of role alone:\n%s", h)
	}
	// The role form with the role held and other counties: a change of
	// counties, said and audited as one.
	if st, page := role(admin, apptest.Inspector, url.Values{"role": {"county_office"}, "counties": {apptest.Ningwu}}); st != http.StatusOK || !strings.Contains(page, "已更新区县") {
		t.Errorf("the role form changing counties only: %d", st)
	}
	if h := history(); !strings.Contains(h, "修改区县，区县 忻府区 → 宁武县") {
		t.Errorf("a change of counties by the role form:\n%s", h)
	}
	// The city office's form sent as shown (its role, whatever it lists):
	// nothing changed.
	if st, page := role(admin, apptest.CityOffice, url.Values{"role": {"city_office"}, "counties": {apptest.Xinfu, apptest.Ningwu}}); st != http.StatusOK || !strings.Contains(page, "未作修改") {
		t.Errorf("the city office's role sent again: %d", st)
	}

	// Disabled twice (a double click, a second tab), by the name in
	// another letter case: done once, in the history once.
	for i := range 2 {
		st, page := admin.post("/console/users/"+strings.ToUpper(apptest.Inspector)+"/disable", url.Values{"csrf": {csrf(t, mustGet(t, admin, "/console/users"))}})
		if st != http.StatusOK || i == 1 && !strings.Contains(page, "用户 "+apptest.Inspector+" 已是停用状态，未作修改") {
			t.Fatalf("disable by the name in capitals (%d): %d", i+1, st)
		}
	}
	if h := history(); !strings.Contains(h, "账号操作记录（6）") || !strings.Contains(h, "已停用") {
		t.Errorf("disabled twice:\n%s", h)
	}
	if page := mustGet(t, admin, "/console/users"); strings.Contains(page, "已是停用状态") {
		t.Error("the notice of a repeated disable is shown again on the next visit")
	}
}
