package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// viewportShot saves a screenshot of what the window shows as name.
func (b *chrome) viewportShot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *chrome) eval(step, js string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](js))
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	return n
}

// jsWrapped lists the header's items taller than two lines of their text:
// a link breaking one character per line.
const jsWrapped = `JSON.stringify(Array.from(document.querySelectorAll('header a, header .who, header button')).filter(e => {
	const cs = getComputedStyle(e), lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5;
	return e.getBoundingClientRect().height >= 2 * lh;
}).map(e => e.textContent))`

// TestBrowserFit: with a few days of the demo month, the ledger shows at
// least three tasks in the first screen at 1366×768 (for a county office
// and for the city), and at 390 px no console page scrolls sideways, no
// header item wraps, the ledger's 进展 and the queue's cells are on the
// screen.
func TestBrowserFit(t *testing.T) {
	b := newChrome(t)
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 5 }, apptest.HoldPhotos)

	visible := func(sel string) string {
		return `Array.from(document.querySelectorAll('` + sel + `')).filter(r => r.getBoundingClientRect().top < innerHeight).length`
	}
	for _, user := range []string{apptest.CountyOffice, apptest.CityOffice} {
		b.do("1366×768", chromedp.EmulateViewport(1366, 768))
		b.login(srv.URL, user)
		b.navigate("ledger", chromedp.Navigate(srv.URL+"/console/ledger"))
		if n := b.eval("visible rows", visible("#ledger tbody tr")); n < 3 {
			t.Errorf("%s: the ledger shows %d rows in the first 1366×768 screen, want at least 3", user, n)
		}
		// A county office's rows are its own: three tasks fit.
		if n := b.eval("visible tasks", visible("#ledger tr.task")); user == apptest.CountyOffice && n < 3 {
			t.Errorf("%s: the ledger shows %d tasks in the first 1366×768 screen, want at least 3", user, n)
		}
		if n := b.eval("scroll width", `document.documentElement.scrollWidth - window.innerWidth`); n > 0 {
			t.Errorf("%s: the ledger at 1366 px scrolls sideways by %d px", user, n)
		}
		b.viewportShot("console-ledger-1366-" + user + ".png")
		b.navigate("log out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)))
	}

	pages := []struct{ user, path, name string }{
		{apptest.CityOffice, "/console/queue", "queue"},
		{apptest.CityOffice, "/console/queue?status=", "queue-all"},
		{apptest.CityOffice, "/console/ledger", "ledger"},
		{apptest.CityOffice, "/console/report", "report"},
		{apptest.CityOffice, "/console/vehicles", "vehicles"},
		{apptest.CityOffice, "/console/devices", "devices"},
		{apptest.CityOffice, "/console/sites", "sites"},
		{apptest.Admin, "/console/users", "users"},
		{apptest.Admin, "/console/devices", "devices-admin"},
	}
	b.do("390 px", chromedp.EmulateViewport(390, 844))
	user := ""
	for _, p := range pages {
		if p.user != user {
			if user != "" {
				b.navigate("log out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)))
			}
			b.login(srv.URL, p.user)
			user = p.user
		}
		b.navigate(p.path, chromedp.Navigate(srv.URL+p.path))
		b.checkFits(p.path)
		// Cards on a phone: the queue's 巡查员, 状态 and evidence figures,
		// the roadside tables' removal rates, on the screen, not past its
		// edge.
		if n := b.eval("cells off screen", `Array.from(document.querySelectorAll('table [data-label]')).filter(td =>
			td.getBoundingClientRect().right > innerWidth).length`); n > 0 {
			t.Errorf("%s at 390 px has %d cells past the screen's edge", p.path, n)
		}
		if p.name == "ledger" {
			// Cards on a phone: every task's and county's 进展 on the
			// screen, not 820 px along a sideways scroll.
			if n := b.eval("进展 off screen", `Array.from(document.querySelectorAll('#ledger td[data-label="进展"]')).filter(td =>
				td.getBoundingClientRect().right > innerWidth || td.getBoundingClientRect().width === 0).length`); n > 0 {
				t.Errorf("the ledger at 390 px has %d 进展 cells off the screen", n)
			}
		}
		b.viewportShot("console-390-" + p.name + ".png")
		if p.name == "queue-all" { // and the detail of its first inspection
			b.navigate("detail", chromedp.Click(chromedp.CSS(`tr[data-id] a`)))
			b.checkFits("inspection detail")
			b.viewportShot("console-390-detail.png")
		}
	}
}

// checkFits checks the page at the current width: no sideways scroll,
// no header item wrapping, every nav link in sight.
func (b *chrome) checkFits(page string) {
	b.t.Helper()
	if n := b.eval("scroll width", `document.documentElement.scrollWidth - window.innerWidth`); n > 0 {
		b.t.Errorf("%s scrolls sideways by %d px", page, n)
	}
	wrapped, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](jsWrapped))
	if err != nil {
		b.t.Fatal(err)
	}
	if wrapped != "[]" {
		b.t.Errorf("%s: header items wrap over lines: %s", page, wrapped)
	}
	if !strings.Contains(b.text(), "忻州生态环境督查后台") {
		b.t.Errorf("%s has no header", page)
	}
	if n := b.eval("nav links out of sight", `Array.from(document.querySelectorAll('nav.main-nav a')).filter(a => a.getBoundingClientRect().right > innerWidth).length`); n > 0 {
		b.t.Errorf("%s: %d nav links lie beyond the screen's edge", page, n)
	}
}
