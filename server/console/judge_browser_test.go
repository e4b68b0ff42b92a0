package console_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserJudging (issue 12) in a real Chromium at 1366×768 and at
// 390 px: the queue shows the judging columns; two clean inspections are
// ticked, confirmed and approved; on a long detail page the review bar is
// on screen at the top and after scrolling to the bottom; a photo opens in
// the lightbox, which moves to the next photo; nothing scrolls sideways
// at 390 px. Screenshots: console-queue-*.png, console-bulk-*.png,
// console-detail-*.png.
func TestBrowserJudging(t *testing.T) {
	c := newChrome(t)
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	var clean []string
	for i := range 4 {
		clean = append(clean, pushIn(t, phone, apptest.Xinfu, "coal_boiler", fmt.Sprintf("2026-11-27T0%d:00:00+08:00", i+1), completeBoiler...))
	}
	long := submit(t, phone, apptest.Xinfu)
	var photos []string
	for range 12 {
		photos = append(photos, addPhoto(t, srv, long, apptest.Xinfu))
	}
	c.login(srv.URL, apptest.CountyOffice)

	eval := func(what, js string) bool {
		t.Helper()
		ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return ok
	}
	noSideways := func(width int, page string) {
		t.Helper()
		if !eval("scroll width", fmt.Sprintf("document.documentElement.scrollWidth <= %d", width)) {
			w, _ := chromedp.Run(c.ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
			t.Errorf("%s at %d px scrolls sideways (scrollWidth %d)", page, width, w)
		}
	}
	// view saves a screenshot of what is on screen (the sticky bar and
	// the fixed lightbox as the user sees them).
	view := func(name string) {
		t.Helper()
		png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(c.shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	barOnScreen := func(where string) {
		t.Helper()
		if !eval("review bar", `(() => { const r = document.querySelector('.review-bar').getBoundingClientRect();
			return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight })()`) {
			t.Errorf("review bar not within the viewport %s", where)
		}
	}

	for i, size := range []struct{ w, h int64 }{{1366, 768}, {390, 844}} {
		tag := fmt.Sprint(size.w)
		c.do("viewport "+tag, chromedp.EmulateViewport(size.w, size.h))
		c.navigate("queue "+tag, chromedp.Navigate(srv.URL+"/console/queue?status=submitted"))
		c.do("queue rows", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+long+`"]`)))
		head := c.textOf(`table.queue thead`)
		for _, h := range []string{"巡查员", "不合格项", "照片", "带标记照片", "缺项"} {
			if !strings.Contains(head, h) {
				t.Errorf("%s: queue header %q lacks %s", tag, head, h)
			}
		}
		if got := c.textOf(`tr[data-id="` + long + `"] td.n-flags`); got != "12" {
			t.Errorf("%s: photos flagged of the long inspection %q, want 12", tag, got)
		}
		if n := c.count(`tr[data-id="` + long + `"] input[type=checkbox]`); n != 0 {
			t.Errorf("%s: the flagged inspection has a checkbox", tag)
		}
		noSideways(int(size.w), "queue")
		c.shot("console-queue-" + tag + ".png")

		a, b := clean[2*i], clean[2*i+1]
		c.do("tick two", chromedp.Click(chromedp.CSS(`tr[data-id="`+a+`"] input[type=checkbox]`)),
			chromedp.Click(chromedp.CSS(`tr[data-id="`+b+`"] input[type=checkbox]`)))
		c.navigate("bulk confirm", chromedp.Click(chromedp.CSS(`form#bulk button[type=submit]`)))
		c.do("confirmation", chromedp.WaitVisible(chromedp.CSS(`form.bulk-confirm`)))
		if n := c.count(`form.bulk-confirm tr[data-id]`); n != 2 || !strings.Contains(c.text(), "确认审核通过这 2 条") {
			t.Errorf("%s: confirmation lists %d", tag, n)
		}
		noSideways(int(size.w), "bulk confirmation")
		c.shot("console-bulk-confirm-" + tag + ".png")
		c.navigate("bulk approve", chromedp.Click(chromedp.CSS(`form.bulk-confirm button[type=submit]`)))
		if body := c.text(); !strings.Contains(body, "共 2 条，已审核通过 2 条") {
			t.Errorf("%s: bulk result:\n%s", tag, body)
		}
		for _, id := range []string{a, b} {
			if r, err := srv.App.DB.Get(ctx, "inspection", id); err != nil || r.Text("status") != "approved" {
				t.Errorf("%s: %s not approved (%v)", tag, id, err)
			}
		}
		c.shot("console-bulk-done-" + tag + ".png")
		// A reload shows the queue, not the POST sent again.
		c.navigate("reload", chromedp.Reload())
		if got := c.textOf("h1"); got != "审核队列" {
			t.Errorf("%s: a reload of the bulk result shows %q, want the queue", tag, got)
		}

		c.navigate("detail "+tag, chromedp.Navigate(srv.URL+"/console/inspections/"+long))
		c.do("review bar", chromedp.WaitVisible(chromedp.CSS(`.review-bar`)))
		if !eval("page height", "document.documentElement.scrollHeight > 2500") {
			t.Errorf("%s: the detail page is not long", tag)
		}
		if got := c.textOf(`.review-bar`); !strings.Contains(got, "退回修改/补充") || !strings.Contains(got, "审核通过") {
			t.Errorf("%s: review bar %q", tag, got)
		}
		barOnScreen("at the top")
		eval("scroll to the bottom", "window.scrollTo(0, document.documentElement.scrollHeight); true")
		barOnScreen("at the bottom")
		eval("scroll to the middle", "window.scrollTo(0, document.documentElement.scrollHeight/2); true")
		barOnScreen("in the middle")
		view("console-detail-bar-" + tag + ".png")
		noSideways(int(size.w), "detail")
		eval("scroll to the top", "window.scrollTo(0, 0); true")
		c.shot("console-detail-" + tag + ".png")

		shown := func(id string) bool {
			return eval("lightbox", `getComputedStyle(document.getElementById('lb-`+id+`')).display !== 'none'`)
		}
		c.do("open the first photo", chromedp.Click(chromedp.CSS(`a.lb-open[href="#lb-`+photos[0]+`"]`)))
		if !shown(photos[0]) {
			t.Fatalf("%s: the lightbox did not open", tag)
		}
		if got := c.textOf(`#lb-` + photos[0] + ` .lb-facts`); !strings.Contains(got, "经度 112.800000，纬度 38.500000") ||
			!strings.Contains(got, "拍摄时间") || !strings.Contains(got, "距点位") || !strings.Contains(got, "设备") || !strings.Contains(got, "850 米") {
			t.Errorf("%s: lightbox facts %q", tag, got)
		}
		view("console-detail-lightbox-" + tag + ".png")
		c.do("zoom", chromedp.Click(chromedp.CSS(`#lb-`+photos[0]+` label.lb-zoom`)))
		if !eval("zoomed", `document.getElementById('zoom-`+photos[0]+`').checked`) {
			t.Errorf("%s: 放大/还原 did not zoom", tag)
		}
		c.do("next photo", chromedp.Click(chromedp.CSS(`#lb-`+photos[0]+` a.lb-next`)))
		if !shown(photos[1]) || shown(photos[0]) {
			t.Errorf("%s: 下一张 did not move to the second photo", tag)
		}
		c.do("previous photo", chromedp.Click(chromedp.CSS(`#lb-`+photos[1]+` a.lb-prev`)))
		if !shown(photos[0]) {
			t.Errorf("%s: 上一张 did not move back", tag)
		}
		c.do("close", chromedp.Click(chromedp.CSS(`#lb-`+photos[0]+` a.lb-close`)))
		if shown(photos[0]) {
			t.Errorf("%s: 关闭 did not close the lightbox", tag)
		}
		// The keyboard: → and ← move, Esc closes.
		c.do("open again", chromedp.Click(chromedp.CSS(`a.lb-open[href="#lb-`+photos[0]+`"]`)))
		c.do("→", chromedp.KeyEvent(kb.ArrowRight))
		if !shown(photos[1]) || shown(photos[0]) {
			t.Errorf("%s: → did not move to the second photo", tag)
		}
		c.do("←", chromedp.KeyEvent(kb.ArrowLeft))
		if !shown(photos[0]) || shown(photos[1]) {
			t.Errorf("%s: ← did not move back", tag)
		}
		c.do("Esc", chromedp.KeyEvent(kb.Escape))
		if shown(photos[0]) {
			t.Errorf("%s: Esc did not close the lightbox", tag)
		}
	}
}
