package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// noSideways fails t if the page scrolls sideways at the current width.
func (b *chrome) noSideways(where string) {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil {
		b.t.Fatal(err)
	}
	if !ok {
		w, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		b.t.Errorf("%s scrolls sideways (scrollWidth %d)", where, w)
	}
}

// TestBrowserUsers: an admin disables, enables and resets the password of
// a user on the users page, at 1366×768 and at 390 px, without sideways
// scrolling; screenshots console-users-*.png.
func TestBrowserUsers(t *testing.T) {
	srv := apptest.Start(t)
	b := newChrome(t)
	b.do("desktop size", chromedp.EmulateViewport(1366, 768))
	b.login(srv.URL, apptest.Admin)
	b.navigate("users page", chromedp.Navigate(srv.URL+"/console/users"))
	b.noSideways("users page at 1366")
	row := `tr[data-username="` + apptest.CountyOffice + `"]`
	b.navigate("disable", chromedp.Click(chromedp.CSS(row+` form[action$="/disable"] button`)))
	if txt := b.text(); !strings.Contains(txt, "已停用用户") {
		t.Fatalf("after disabling:\n%s", txt)
	}
	b.shot("console-users-disabled.png")
	b.navigate("enable", chromedp.Click(chromedp.CSS(row+` form[action$="/enable"] button`)))
	b.do("open reset", chromedp.Click(chromedp.CSS(row+` details.reset-password summary`)))
	b.navigate("reset password", chromedp.Click(chromedp.CSS(row+` form[action$="/password"] button`)))
	if txt := b.textOf(".new-password"); !strings.Contains(txt, "新密码") {
		t.Fatalf("no new password shown: %q", txt)
	}
	b.do("open counties", chromedp.Click(chromedp.CSS(row+` details.user-counties summary`)))
	b.noSideways("users page with a new password at 1366")
	b.shot("console-users-1366.png")

	b.do("phone size", chromedp.EmulateViewport(390, 844))
	b.navigate("users page at 390", chromedp.Navigate(srv.URL+"/console/users"))
	b.do("open counties at 390", chromedp.Click(chromedp.CSS(row+` details.user-counties summary`)))
	b.noSideways("users page at 390")
	b.shot("console-users-390.png")
}
