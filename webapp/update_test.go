package webapp_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"
	jssdk "github.com/xinzhou-eco/fieldsync/sdk/js"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/webapp"
)

// newVersions is a server whose field app can be replaced while phones
// have it open, as when fieldsync is upgraded: the API answers from the
// test server, and /app/ from the newest of the app versions mounted.
type newVersions struct {
	URL  string
	apps []*webapp.App
	cur  atomic.Pointer[echo.Echo] // nil: the test server's own app
	next []*echo.Echo
}

// upgradable starts srv behind a front that can serve n later versions of
// the field app (each differing from the last in one file, the SDK
// bundle's last comment).
func upgradable(t *testing.T, srv *apptest.Server, n int) *newVersions {
	t.Helper()
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	v := &newVersions{}
	for i := range n {
		e := echo.New()
		a, err := webapp.Mount(e, webapp.Options{SDK: append(append([]byte{}, jssdk.Bundle...), []byte("\n// upgrade "+itoa(i+1)+"\n")...)})
		if err != nil {
			t.Fatal(err)
		}
		v.apps = append(v.apps, a)
		v.next = append(v.next, e)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := v.cur.Load(); e != nil && strings.HasPrefix(r.URL.Path, webapp.Prefix) {
			e.ServeHTTP(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	v.URL = front.URL
	return v
}

// upgrade serves version i (from 0) of the later versions and returns it.
func (v *newVersions) upgrade(i int) string {
	v.cur.Store(v.next[i])
	return v.apps[i].Version
}

// TestBrowserOpenAppLearnsOfUpgrade: an inspector keeps the app open for
// days; the browser itself looks for a new service worker only when a page
// loads. The app asks when it comes back to the screen (the new version is
// installed and the banner offers 刷新, which loads it) and when the
// inspector syncs by hand.
func TestBrowserOpenAppLearnsOfUpgrade(t *testing.T) {
	srv := apptest.Start(t)
	v := upgradable(t, srv, 2)
	_, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	p := newPhone(t, browserFor(t), v.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.waitJS("the service worker controls the app", `!!navigator.serviceWorker.controller`)
	cached := func(version string) string {
		return `caches.keys().then((ks) => ks.includes('fieldsync-app-` + version + `'))`
	}
	// only: version's worker has activated, which drops every other
	// version's cache.
	only := func(version string) string {
		return `caches.keys().then((ks) => ks.filter((k) => k.startsWith('fieldsync-app-')).join() === 'fieldsync-app-` + version + `')`
	}

	first := v.upgrade(0)
	// The app comes back to the screen (the inspector switches to it).
	eval[bool](p, `(document.dispatchEvent(new Event('visibilitychange')), true)`)
	p.waitJS("the upgrade offered", `(document.querySelector('#banner:not([hidden])')?.textContent || '').includes('巡查应用已更新')`)
	p.waitJS("the new version cached", cached(first))

	// The next upgrade, the page not loaded again meanwhile (a load would
	// have the browser look for it itself): a sync by hand finds it.
	second := v.upgrade(1)
	p.waitSynced()
	p.click(`#sync-now`)
	// Active, not only cached: its install fills its cache before it
	// activates, and a reload in between would load the version before.
	p.waitJS("the second upgrade active after a sync by hand", only(second))

	// 刷新 reloads the page: polled across the navigation, whose moments
	// between two documents have no page to ask.
	p.click(`#banner button`)
	reloaded := `document.body?.dataset.ready === '1' && !document.querySelector('#banner:not([hidden])')`
	for i := 0; ; i++ {
		if ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](reloaded)); err == nil && ok {
			break
		}
		if i == 900 {
			t.Fatal("刷新 did not load the app again")
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.waitJS("the reloaded app under the service worker", `!!navigator.serviceWorker.controller`)
	if got := eval[string](p, `new Promise((ok) => { navigator.serviceWorker.addEventListener('message', (e) => ok(e.data.version));
		navigator.serviceWorker.controller.postMessage('version'); })`); got != second {
		t.Errorf("after 刷新 the app runs version %q, want %q", got, second)
	}
}
