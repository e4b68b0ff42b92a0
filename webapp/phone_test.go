package webapp_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/internal/chrometest"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
)

// phoneAccuracy is the accuracy (m) of the phones' GNSS positions.
const phoneAccuracy = 8.0

// browserFor starts one headless Chromium for t (skipping t without it,
// except under CI); phones are browser contexts in it.
func browserFor(t *testing.T) context.Context {
	t.Helper()
	// A guard against a hung browser, not a speed limit: under -race on a
	// busy two-core machine a whole browser test takes a minute or more.
	return browserWithin(t, 5*time.Minute)
}

// browserWithin is browserFor with the browser ended after limit.
func browserWithin(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	return chrometest.Start(t, 390, 844, limit)
}

// phone is one inspector's phone: a browser context of its own (its own
// IndexedDB, service worker and storage) with a tab on the app, a 390×844
// touch viewport, location permission and a GNSS position.
type phone struct {
	t     *testing.T
	name  string
	url   string          // the server's base URL
	dev   context.Context // the browser context
	ctx   context.Context // the open tab
	close context.CancelFunc
	lon   float64
	lat   float64
	shots string
	// offline: the phone has no network (kept for tabs opened later).
	offline bool
}

// newPhone makes a phone in the browser of bctx and opens the app of the
// server at url on it.
func newPhone(t *testing.T, bctx context.Context, url, name string, at geo.Point) *phone {
	t.Helper()
	dev, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(dev, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("%s: new browser context: %v", name, err)
	}
	p := &phone{t: t, name: name, url: url, dev: dev, lon: at.Lon, lat: at.Lat, shots: chrometest.ScreenshotDir(t)}
	id := chromedp.FromContext(dev).BrowserContextID
	if _, err := chromedp.CallBrowser(dev, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted,
		Origin: url, BrowserContextID: id}); err != nil {
		t.Fatalf("%s: grant geolocation: %v", name, err)
	}
	p.open()
	return p
}

// open opens a new tab on the app (after close, as an inspector reopening
// it) and waits until it has started.
func (p *phone) open() {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.dev)
	p.ctx, p.close = ctx, cancel
	lat, lon, acc := p.lat, p.lon, phoneAccuracy
	// The first run on a context opens its tab, which lives as long as the
	// context it ran on: run it on the tab's own context, not on one with a
	// step's timeout.
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, t, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{
				Latitude: &lat, Longitude: &lon, Accuracy: &acc}); err != nil {
				return err
			}
			// The inspector says yes to the app's questions (提交这次检查？):
			// a native dialog left open would hold the page. A test of a
			// question replaces window.confirm with its own answer.
			// The tests tap at machine speed, each tap at the screen's
			// middle (click scrolls its target there): the app's guard
			// against a second tap where a draw has just put another
			// control (guardTap) would take them for a finger's double
			// tap. Its own test sets it.
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `window.confirm = () => true; window.fieldsyncTapGuardMs = 0;`})
			return err
		}),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
	if err != nil {
		p.t.Fatalf("%s: set up the tab: %v", p.name, err)
	}
	if p.offline {
		p.setOffline(true)
	}
	p.do("open the app", chromedp.Navigate(p.url+"/app/"))
	p.waitJS("the app started", `document.body.dataset.ready === '1'`)
}

// reopen closes the tab and opens the app again.
func (p *phone) reopen() {
	p.t.Helper()
	p.close()
	p.open()
}

// do runs actions on the tab.
func (p *phone) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	// A step waits at most stepTimeout; then the test fails with what the
	// page showed.
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	err := chromedp.Do(ctx, actions...)
	// A view re-rendered (after a sync in the background) between finding
	// a node and acting on it: the step is done again on the new node.
	for retries := 0; err != nil && retries < 5 && strings.Contains(err.Error(), "Could not find node with given id"); retries++ {
		err = chromedp.Do(ctx, actions...)
	}
	if err != nil {
		body, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		p.t.Fatalf("%s: %s: %v\npage:\n%s", p.name, step, err, body)
	}
}

// stepTimeout bounds one step (a wait included): generous, for -race on
// a busy two-core machine.
const stepTimeout = 90 * time.Second

// waitJS waits until the expression is truthy in the page.
func (p *phone) waitJS(step, expr string) {
	p.t.Helper()
	p.do(step, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
}

// eval evaluates a JavaScript expression (awaiting a promise).
func eval[T any](p *phone, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: eval %s: %v", p.name, expr, err)
	}
	return v
}

// click taps the element sel matches.
func (p *phone) click(sel string) {
	p.t.Helper()
	// Scrolled to the middle of the screen first, as a thumb would: at the
	// bottom edge the fixed tab bar covers it.
	p.do("tap "+sel, chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+"`"+sel+"`"+`).scrollIntoView({block: 'center'})`),
		chromedp.Click(chromedp.CSS(sel)))
}

// wait waits until sel is visible.
func (p *phone) wait(sel string) {
	p.t.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text returns the visible text of sel (the whole page for "body").
func (p *phone) text(sel string) string {
	p.t.Helper()
	for range 5 {
		s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
		// The node found was drawn again before its text was read (the
		// sync card is, at each step of a sync): read the new one.
		if err != nil && strings.Contains(err.Error(), "No node with given id") {
			continue
		}
		if err != nil {
			p.t.Fatalf("%s: text of %s: %v", p.name, sel, err)
		}
		return s
	}
	p.t.Fatalf("%s: text of %s: the node kept being replaced", p.name, sel)
	return ""
}

// has reports whether the page's text contains every want.
func (p *phone) has(want ...string) {
	p.t.Helper()
	body := p.text("body")
	for _, w := range want {
		if !strings.Contains(body, w) {
			p.t.Errorf("%s: the page lacks %q:\n%s", p.name, w, body)
		}
	}
}

// setOffline cuts (or restores) the phone's network, for the page and its
// service worker, and says so to navigator.onLine and its events.
func (p *phone) setOffline(off bool) {
	p.t.Helper()
	p.offline = off
	p.do("network offline="+map[bool]string{true: "on", false: "off"}[off], chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		conds := []*network.Conditions{}
		if off {
			conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &off, MatchedNetworkConditions: conds}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// shot saves a screenshot of the whole page as name (app-*.png).
func (p *phone) shot(name string) {
	p.t.Helper()
	// From the top: a full-page capture of a scrolled page draws the sticky
	// title bar in the middle.
	eval[bool](p, `(window.scrollTo(0, 0), true)`)
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // quality 100 captures PNG
	if err != nil {
		p.t.Fatalf("%s: screenshot %s: %v", p.name, name, err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// signIn signs in through the app's form and waits for the first sync.
func (p *phone) signIn(username string) {
	p.t.Helper()
	p.wait(`#login input[name="username"]`)
	p.do("fill the sign-in form",
		chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), apptest.Passwords[username]))
	p.click(`#login button[type="submit"]`)
	p.wait(`#sync-card`)
	p.waitSynced()
}

// waitSynced waits until a sync has finished with nothing left to send.
func (p *phone) waitSynced() {
	p.t.Helper()
	p.waitJS("synced", `(() => { const s = document.querySelector('#last-sync'); return s && s.dataset.ok === 'true' &&
		document.querySelector('#pending-records')?.textContent === '0' && document.querySelector('#pending-photos')?.textContent === '0' &&
		!document.querySelector('#sync-now')?.disabled; })()`)
}

// office is a county or city office's browser on the console (a desktop
// window in a browser context of its own), signed in as username.
type office struct {
	t   *testing.T
	ctx context.Context
	srv *apptest.Server
}

func newOffice(t *testing.T, bctx context.Context, srv *apptest.Server, username string) *office {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	o := &office{t: t, ctx: ctx, srv: srv}
	o.do("console login page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[username]))
	o.submit("log in", `form[action="/console/login"] button[type="submit"]`)
	return o
}

func (o *office) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	o.t.Helper()
	if err := chromedp.Do(o.ctx, actions...); err != nil {
		o.t.Fatalf("office: %s: %v", step, err)
	}
}

// submit clicks a form's button and waits for the page it loads.
func (o *office) submit(step, sel string) {
	o.t.Helper()
	resp, err := chromedp.RunResponse(o.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil || resp.Status != 200 {
		o.t.Fatalf("office: %s: %v %v", step, resp, err)
	}
}

// review approves or returns (with comment) an inspection in the console.
func (o *office) review(inspection, decision, comment string) {
	o.t.Helper()
	o.do("inspection page", chromedp.Navigate(o.srv.URL+"/console/inspections/"+inspection),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="comment"]`)))
	if decision == "return" {
		o.do("comment", chromedp.SendKeys(chromedp.CSS(`textarea[name="comment"]`), comment))
		o.submit("return", `form:has(textarea[name="comment"]) button[type="submit"]`)
	} else {
		// An inspection with flagged photos asks first (forms.js
		// data-confirm): this office has looked at them. A dialog left
		// open would hold the page.
		o.do("has looked at the flagged photos", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
		o.submit("approve", `form:has(input[name="decision"][value="approve"]) button[type="submit"]`)
	}
}
