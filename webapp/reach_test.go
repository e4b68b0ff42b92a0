package webapp_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserServerOutOfReach: a phone on a network that cannot reach the
// server (a Wi-Fi with no way out, the server down) is online to the
// browser. After a sync that got no answer the title bar says 连不上服务器,
// not 在线, and the sync card keeps the time of the last sync that
// succeeded; a sync that succeeds again says 在线.
func TestBrowserServerOutOfReach(t *testing.T) {
	srv := apptest.Start(t)
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var cut atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cut.Load() && strings.HasPrefix(r.URL.Path, "/api/") {
			// No answer at all: the connection closes.
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	_, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	p := newPhone(t, browserFor(t), front.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	if got := p.text("#net"); got != "在线" {
		t.Errorf("synced, the title bar says %q", got)
	}
	if got := p.text("#last-sync"); !strings.HasPrefix(got, "上次同步：今天 ") || !strings.HasSuffix(got, "，成功") {
		t.Errorf("after a sync that succeeded the card says %q", got)
	}
	// That success made a day ago, so that the card cannot show the failed
	// sync's own time in its place unseen.
	okAt := eval[string](p, `import('/app/js/app.js').then(({app}) => {
		const last = app.client.cached.lastSync;
		last.at = last.okAt = last.at - 86400e3;
		return '昨天 ' + new Date(last.at + 8 * 3600e3).toISOString().slice(11, 16);
	})`)

	cut.Store(true)
	p.click("#sync-now")
	p.waitJS("the sync failed", `document.querySelector('#last-sync')?.dataset.ok === 'false' && !document.querySelector('#sync-now').disabled`)
	if got := p.text("#net"); got != "连不上服务器" {
		t.Errorf("the server out of reach, the title bar says %q", got)
	}
	if got := p.text("#last-sync"); !strings.Contains(got, "未完成") || !strings.Contains(got, "上次成功："+okAt) {
		t.Errorf("after a failed sync the card says %q; want 未完成 and the last success (%s)", got, okAt)
	}
	if !eval[bool](p, `navigator.onLine`) {
		t.Fatal("the browser was meant to think itself online")
	}

	cut.Store(false)
	p.click("#sync-now")
	p.waitSynced()
	if got := p.text("#net"); got != "在线" {
		t.Errorf("the server back, the title bar says %q", got)
	}
}
