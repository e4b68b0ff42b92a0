package console_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserFind visits the overview, the search, the sites and the map
// as 忻府区's office in a real Chromium at 1366×768 and at 390 px wide:
// each shows its content and none scrolls sideways on the phone width.
func TestBrowserFind(t *testing.T) {
	b := newChrome(t)
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 5 }, apptest.HoldPhotos)
	b.login(srv.URL, apptest.CountyOffice)
	pages := []struct{ path, want, sel, name string }{
		{"/console/overview", "本月现场检查", `svg.chart`, "overview"},
		{"/console/search?q=" + url.QueryEscape("忻府"), "共找到", `#search-summary`, "search"},
		{"/console/sites", "新增点位", `#site-list`, "sites"},
		{"/console/sites/new", "坐标系", `form.site-form`, "site-form"},
		{"/console/map", "按检查结果区分形状和颜色", `#area-map`, "map"},
	}
	for _, size := range []struct {
		w, h int
		tag  string
	}{{1366, 768, "1366"}, {390, 844, "390"}} {
		b.do("size "+size.tag, chromedp.EmulateViewport(int64(size.w), int64(size.h)))
		for _, p := range pages {
			b.navigate(p.path, chromedp.Navigate(srv.URL+p.path))
			b.do(p.name+" shown", chromedp.WaitVisible(chromedp.CSS(p.sel)))
			if body := b.text(); !strings.Contains(body, p.want) || !strings.Contains(body, "概览") {
				t.Errorf("%s at %s px lacks %q:\n%s", p.path, size.tag, p.want, body)
			}
			if size.w == 390 {
				sw, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				if err != nil {
					t.Fatal(err)
				}
				if sw > 390 {
					t.Errorf("%s at 390 px scrolls sideways: scrollWidth %d", p.path, sw)
				}
			}
			// A hit's time is on screen at either size, to tell visits
			// to one site apart (reviewer probe: hidden on a phone).
			if p.name == "search" {
				if n := b.count(`table.search-hits td.time`); n == 0 || !b.visible(`table.search-hits td.time`) {
					t.Errorf("search at %s px: %d hits' times, the first not shown", size.tag, n)
				}
			}
			b.shot(fmt.Sprintf("console-%s-%s.png", p.name, size.tag))
		}
	}
	// The header's search box works from any page.
	b.do("size 1366", chromedp.EmulateViewport(1366, 768))
	b.navigate("queue", chromedp.Navigate(srv.URL+"/console/queue"))
	b.do("type search", chromedp.SendKeys(chromedp.CSS(`form.header-search input[name="q"]`), "忻府"))
	b.navigate("search from header", chromedp.Submit(chromedp.CSS(`form.header-search input[name="q"]`)))
	if body := b.text(); !strings.Contains(body, "共找到") {
		t.Errorf("the header's search did not lead to results:\n%s", body)
	}
}
