package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserChangePassword: the inspector changes their own password on
// the phone (首页 → 修改密码): a wrong current password or two different
// new ones are said in Chinese and change nothing; the change keeps this
// phone signed in and syncing, and the new password is the one that
// signs in. (Inspectors had no way to change a password an administrator
// had set.)
func TestBrowserChangePassword(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	id := eval[string](p, `(async () => (await import('/app/js/app.js')).app.client.deviceId)()`)
	if id == "" || strings.Contains(p.text("#view"), id) {
		t.Error("the home page shows the device's whole id")
	}
	p.click(`#change-password`)
	p.wait(`#password`)
	submit := func(current, next, again string) string {
		t.Helper()
		for sel, v := range map[string]string{"#pw-current": current, "#pw-new": next, "#pw-again": again} {
			eval[bool](p, `(document.querySelector('`+sel+`').value = '', true)`)
			p.do("type "+sel, chromedp.SendKeys(chromedp.CSS(sel), v))
		}
		eval[bool](p, `(document.querySelector('#password-error').textContent = '', true)`)
		p.click(`#pw-submit`)
		p.waitJS("the form answered", `!!document.querySelector('#password-error')?.textContent || !document.querySelector('#password')`)
		if eval[bool](p, `!document.querySelector('#password')`) {
			return ""
		}
		return p.text("#password-error")
	}
	for _, tc := range []struct{ current, next, again, want string }{
		{apptest.Passwords[apptest.Inspector], "新的密码abc", "新的密码abd", "两次输入的新密码不一致"},
		{"not-the-password", "新的密码abc", "新的密码abc", "当前密码不正确"},
		{apptest.Passwords[apptest.Inspector], "short", "short", "8 到 72 个字节"},
	} {
		if got := submit(tc.current, tc.next, tc.again); !strings.Contains(got, tc.want) {
			t.Errorf("%q → %q: the form says %q, want %q", tc.current, tc.next, got, tc.want)
		}
	}
	if got := submit(apptest.Passwords[apptest.Inspector], "新的密码abc", "新的密码abc"); got != "" {
		t.Fatalf("the change was refused: %q", got)
	}
	p.wait(`#sync-card`)
	p.click(`#sync-now`)
	p.waitSynced()
	c := srv.NewClient()
	if _, err := c.Login(t.Context(), apptest.Inspector, apptest.Passwords[apptest.Inspector], "另一台手机"); err == nil {
		t.Error("the old password still signs in")
	}
	if _, err := c.Login(t.Context(), apptest.Inspector, "新的密码abc", "另一台手机"); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}
}
