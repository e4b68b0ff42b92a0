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
