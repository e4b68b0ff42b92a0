package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserAuditHistory returns an inspection in a real Chromium, has
// the phone edit it, and checks that the inspection's page shows both in
// its history (修改历史): who, from which device, what changed.
func TestBrowserAuditHistory(t *testing.T) {
	br := newChrome(t)
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)

	br.login(srv.URL, apptest.CountyOffice)
	br.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	br.do("fill comment", chromedp.SendKeys(chromedp.CSS(`textarea[name="comment"]`), "请补拍围挡"))
	br.navigate("return", chromedp.Click(chromedp.CSS(`form:has(textarea[name="comment"]) button[type="submit"]`)))

	pullAll(t, phone, "")
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("summary", "围挡已补拍")))

	br.navigate("detail again", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	br.do("history", chromedp.WaitVisible(chromedp.CSS(`#history`)))
	if n := br.count(`#history tbody tr`); n != 2 {
		t.Fatalf("history rows: %d, want the return and the edit", n)
	}
	h := br.textOf(`#history`)
	for _, want := range []string{"审核", "办公室后台", "状态：待审核 → 已退回", "审核后修改", "test " + apptest.Inspector, "检查摘要：（空） → 围挡已补拍"} {
		if !strings.Contains(h, want) {
			t.Errorf("history lacks %q:\n%s", want, h)
		}
	}
	br.shot("console-history.png")
}
