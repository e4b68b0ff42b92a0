package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserVerifyRectification: on an approved inspection's page, a
// county office sends a reported rectification back with a comment, then
// verifies the next one, at 1366×768 and at 390 px, without sideways
// scrolling; screenshots console-finding-*.png.
func TestBrowserVerifyRectification(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	insp, finding := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", "东侧料堆裸露", "severity", "major", "deadline", "2026-12-05", "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	rectify := func(note string) {
		t.Helper()
		pullAll(t, phone, "")
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("status", "rectified", "rectification_note", note)))
	}
	rectify("已用防尘网全部苫盖，见整改照片")

	b := newChrome(t)
	b.do("desktop size", chromedp.EmulateViewport(1366, 768))
	b.login(srv.URL, apptest.CountyOffice)
	row := `tr#finding-` + finding
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp+"#finding-"+finding))
	b.do("finding row", chromedp.WaitVisible(chromedp.CSS(row+` form.reopen textarea`)))
	b.noSideways("approved inspection at 1366")
	b.shot("console-finding-rectified-1366.png")
	if txt := b.textOf(row + ` form.reopen`); strings.Contains(txt, "撤销核实") {
		t.Errorf("a finding not verified offers to undo a verification: %q", txt)
	}
	b.do("reopen comment", chromedp.SendKeys(chromedp.CSS(row+` form.reopen textarea`), "西侧料堆仍裸露，请继续整改"))
	b.navigate("reopen", chromedp.Click(chromedp.CSS(row+` form.reopen button`)))
	if txt := b.textOf(row); !strings.Contains(txt, "整改中") || !strings.Contains(txt, "督查意见：西侧料堆仍裸露") {
		t.Fatalf("finding after the reopen: %q", txt)
	}

	rectify("西侧也已苫盖")
	b.do("phone size", chromedp.EmulateViewport(390, 844))
	// (Away first: after the decision the browser is on this page, and
	// a new fragment alone loads nothing.)
	b.do("away", chromedp.Navigate("about:blank"))
	b.navigate("detail at 390", chromedp.Navigate(srv.URL+"/console/inspections/"+insp+"#finding-"+finding))
	b.do("verify form", chromedp.WaitVisible(chromedp.CSS(row+` form.verify button`)))
	b.noSideways("approved inspection at 390")
	b.shot("console-finding-rectified-390.png")
	b.navigate("verify", chromedp.Click(chromedp.CSS(row+` form.verify button`)))
	if txt := b.textOf(row); !strings.Contains(txt, "已核实") || b.count(row+` form.verify`) != 0 {
		t.Fatalf("finding after the verification: %q", txt)
	}
	// The confirmation is in the row the page opens at, focused (read
	// out), on the screen; not at the top of the page, out of sight.
	if b.eval("confirmation focused in view", `(() => { const a = document.activeElement;
		const r = a.getBoundingClientRect();
		return a.matches('`+row+` p.done[role=status]') && a.textContent.includes('已核实整改到位') && r.top > -2 && r.bottom <= innerHeight + 2 ? 1 : 0; })()`) != 1 {
		where, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement, r = a.getBoundingClientRect(); return a.outerHTML.slice(0, 120) + ' ' + r.top + ' ' + r.bottom + ' ' + innerHeight; })()`))
		t.Errorf("after the verification the focus is on %s", where)
	}
	if n := b.count(`p.done`); n != 1 {
		t.Errorf("the confirmation is said %d times", n)
	}
	b.shot("console-finding-verified-390.png")

	// A verified finding may still be sent back, and the page says that
	// this undoes the verification, before and when it is sent (it used
	// to offer 退回继续整改 as if nothing had been decided).
	if txt := b.textOf(row + ` form.reopen`); !strings.Contains(txt, "退回将撤销核实") || !strings.Contains(txt, "撤销核实，退回继续整改") {
		t.Errorf("a verified finding's reopen form does not say it undoes the verification: %q", txt)
	}
	b.do("reopen comment", chromedp.SendKeys(chromedp.CSS(row+` form.reopen textarea`), "复查发现东侧又裸露"))
	b.eval("count submissions and questions", `window.sent = 0; window.asked = ''; window.answer = false;
		window.confirm = (q) => { window.asked = q; return window.answer; };
		window.addEventListener('submit', (e) => { if (!e.defaultPrevented) window.sent++; }); 0`)
	b.do("reopen, declined", chromedp.Click(chromedp.CSS(row+` form.reopen button`)))
	if n := b.eval("sent", `window.sent`); n != 0 {
		t.Errorf("a declined undoing of the verification was sent")
	}
	if ok := b.eval("asked", `window.asked.includes('撤销核实') ? 1 : 0`); ok != 1 {
		t.Errorf("sending back a verified finding did not ask first")
	}
	b.eval("answer yes", `window.answer = true; 0`)
	b.navigate("reopen, confirmed", chromedp.Click(chromedp.CSS(row+` form.reopen button`)))
	if txt := b.textOf(row); !strings.Contains(txt, "整改中") || !strings.Contains(txt, "督查意见：复查发现东侧又裸露") {
		t.Fatalf("finding after the verification was undone: %q", txt)
	}
}
