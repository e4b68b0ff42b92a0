package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserSignInServerDown: a sign-in that cannot reach the server
// (the phone has signal, the server is down) says that signing in needs
// the server, not that typed work is kept on the phone for a later sync
// (nothing was typed yet).
func TestBrowserSignInServerDown(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.wait(`#login input[name="username"]`)
	srv.Stop()
	p.do("fill the sign-in form",
		chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), apptest.Inspector),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), apptest.Passwords[apptest.Inspector]))
	p.click(`#login button[type="submit"]`)
	p.waitJS("the sign-in failed", `!!document.querySelector('#login-error')?.textContent`)
	msg := p.text("#login-error")
	if !strings.Contains(msg, "无法登录") || strings.Contains(msg, "保存在手机上") {
		t.Errorf("the sign-in page says %q, want that signing in needs the server", msg)
	}
}

// TestBrowserSignedOutScreens: the sign-in screen has no tab bar (its
// tabs led nowhere); the sign-out warning names only what would be lost
// and says what to do about it — a sync for unsent work, the home
// screen for refused changes, which no sync clears.
func TestBrowserSignedOutScreens(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.wait(`#login input[name="username"]`)
	if eval[bool](p, `!!document.querySelector('#tabs')?.getClientRects().length`) {
		t.Error("the sign-in screen shows the tab bar")
	}
	warn := func(d string) string {
		return eval[string](p, `(async () => (await import('/app/js/views/home.js')).signOutWarning(`+d+`))()`)
	}
	for _, tc := range []struct {
		details   string
		want, not []string
	}{
		{`{changes: 3, records: 2, photos: 1, rejected: 0}`, []string{"还有 2 条记录的修改、1 张照片没有上传", "到有信号的地方同步"}, []string{"拒绝", "0 "}},
		{`{changes: 0, records: 0, photos: 0, rejected: 4}`, []string{"有 4 条被服务器拒绝的修改还没有处理", "在首页处理被拒绝的修改"}, []string{"没有上传", "同步", "0 "}},
		{`{changes: 1, records: 1, photos: 0, rejected: 2}`, []string{"还有 1 条记录的修改没有上传", "有 2 条被服务器拒绝的修改", "先到有信号的地方同步，再在首页处理被拒绝的修改"}, []string{"张照片"}},
	} {
		got := warn(tc.details)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the warning lacks %q:\n%s", tc.details, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: the warning has %q:\n%s", tc.details, n, got)
			}
		}
	}
}
