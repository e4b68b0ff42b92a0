package webapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserSignInServerDown: a sign-in that cannot reach the server
// (the phone has signal, the server is down) says that signing in needs
// the server, not that typed work is kept on the phone for a later sync
// (nothing was typed yet).
func TestBrowserSignInServerDown(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.wait(`#login input[name="username"]`)
	// An empty box is said in the app's own words, that box focused —
	// not by the browser's bubble (the form is novalidate).
	eval[bool](p, `(document.querySelector('#login input[name="username"]').value = '', true)`)
	p.click(`#login button[type="submit"]`)
	p.waitJS("the empty name said", `document.querySelector('#login-error').textContent === '请填写用户名和密码。'`)
	if !eval[bool](p, `document.querySelector('#login').noValidate && document.activeElement === document.querySelector('#login input[name="username"]')`) {
		t.Error("the sign-in form leaves empty boxes to the browser's bubble, or does not focus the empty name")
	}
	p.do("a name only", chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), apptest.Inspector))
	p.click(`#login button[type="submit"]`)
	p.waitJS("the empty password said", `document.querySelector('#login-error').textContent === '请填写密码。' &&
		document.activeElement === document.querySelector('#login input[name="password"]')`)
	eval[bool](p, `(document.querySelector('#login input[name="username"]').value = '', true)`)
	srv.Stop()
	p.do("fill the sign-in form",
		chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), apptest.Inspector),
		chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), apptest.Passwords[apptest.Inspector]))
	p.click(`#login button[type="submit"]`)
	p.waitJS("the sign-in failed", `!!document.querySelector('#login-error')?.textContent`)
	msg := p.text("#login-error")
	if !strings.Contains(msg, "无法登录") || strings.Contains(msg, "保存在手机上") {
		t.Errorf("the sign-in page says %q, want that signing in needs the server", msg)
	}
	// Too many wrong passwords: the wait the server asked for (Retry-After), not "几分钟".
	for retry, want := range map[string]string{"2": "请 2 秒后再试", "300": "请 5 分钟后再试", "null": "请过几分钟再试"} {
		got := eval[string](p, `(async () => (await import('/app/js/errors.js')).message({ code: 'too_many_attempts', details: { retryAfter: `+retry+` } }))()`)
		if !strings.Contains(got, want) {
			t.Errorf("too_many_attempts with Retry-After %s says %q, want %q", retry, got, want)
		}
	}
}

// TestBrowserSignedOutScreens: the sign-in screen has no tab bar (its
// tabs led nowhere); the sign-out warning names only what is left unsent, says it stays on the phone,
// and says what to do about it — a sync for unsent work, the home
// screen for refused changes, which no sync clears.
func TestBrowserSignedOutScreens(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.wait(`#login input[name="username"]`)
	if eval[bool](p, `!!document.querySelector('#tabs')?.getClientRects().length`) {
		t.Error("the sign-in screen shows the tab bar")
	}
	warn := func(d string) string {
		return eval[string](p, `(async () => (await import('/app/js/views/home.js')).signOutWarning(`+d+`))()`)
	}
	for _, tc := range []struct {
		details   string
		want, not []string
	}{
		{`{changes: 3, records: 2, photos: 1, rejected: 0}`, []string{"还有 2 条记录的修改、1 张照片没有上传", "到有信号的地方同步"}, []string{"拒绝", "0 "}},
		{`{changes: 0, records: 0, photos: 0, rejected: 4}`, []string{"有 4 条被服务器拒绝的修改还没有处理", "在首页处理被拒绝的修改"}, []string{"没有上传", "同步", "0 "}},
		{`{changes: 1, records: 1, photos: 0, rejected: 2}`, []string{"还有 1 条记录的修改没有上传", "有 2 条被服务器拒绝的修改", "先到有信号的地方同步，再在首页处理被拒绝的修改"}, []string{"张照片"}},
		// The session ended: a sync needs a sign-in first.
		{`{changes: 1, records: 1, photos: 0, rejected: 0}, 'ended'`, []string{"（登录已失效）", "重新登录并同步"}, []string{"可能是没有网络"}},
		// No sync can send them: do not sign out, ask the office.
		{`{changes: 0, records: 2, photos: 1, rejected: 0}, 'device_revoked'`, []string{"本手机已被管理员停用", "无法再上传", "仍保存在本手机上", "联系县督查室"}, []string{"同步", "网络"}},
		{`{changes: 0, records: 2, photos: 0, rejected: 0}, 'user_disabled'`, []string{"此账号已停用", "不要让其他人在本手机登录"}, []string{"同步"}},
	} {
		got := warn(tc.details)
		// Signing out keeps the work on the phone: nothing is said lost.
		tc.want = append(tc.want, "仍保存在本手机上")
		tc.not = append(tc.not, "丢失", "删除、")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the warning lacks %q:\n%s", tc.details, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: the warning has %q:\n%s", tc.details, n, got)
			}
		}
	}
}

// TestBrowserSessionEndedWorksOffline: a session the server ends (here a
// sign-out of the phone's device from outside; a token refresh whose
// answer was lost ends it the same way) leaves the app open on the
// inspector's data: they go on working offline, the app says how to sync,
// a reload keeps them there, and signing in again as the same user sends
// what was done meanwhile. The app used to send every screen to sign-in,
// which needs signal.
func TestBrowserSessionEndedWorksOffline(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)

	p.signedOutElsewhere(srv)

	p.click(`#sync-now`)
	p.wait(`#session:not([hidden]) #sign-in-again`)
	ended := func(when string) {
		t.Helper()
		if h := eval[string](p, `location.hash`); h == "#/login" || eval[bool](p, `!!document.querySelector('#login')`) {
			t.Errorf("%s: the app shows the sign-in screen (%s), want the inspector's data", when, h)
		}
		if !eval[bool](p, `!!document.querySelector('#tabs')?.getClientRects().length`) {
			t.Errorf("%s: no tab bar", when)
		}
		if got := p.text("#session"); !strings.Contains(got, "继续离线工作") || !strings.Contains(got, "重新登录") {
			t.Errorf("%s: the session bar says %q", when, got)
		}
	}
	ended("after the session ended")
	p.shot("app-session-ended.png")
	if got := p.text("#sync-now"); got != "重新登录后同步" {
		t.Errorf("the sync button says %q", got)
	}
	// Said once: the bar and one toast, not also the sync's error.
	if n := eval[int](p, `[...document.querySelectorAll('#toast > div, #sync-card p.err')].filter((e) => e.textContent.includes('登录已失效')).length`); n != 1 {
		t.Errorf("the ended session is said %d times below the bar, want once (its toast)", n)
	}

	// Work goes on, offline.
	p.setOffline(true)
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H24680"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)

	// The page killed and opened again: still the inspector's app.
	p.reopen()
	p.goHash("#/", `#sync-card`)
	ended("after a reload")
	if got := p.text("#pending-records"); got != "1" {
		t.Errorf("%s records wait to be sent, want the roadside check", got)
	}

	p.click(`#sign-in-again`)
	p.wait(`#login`)
	p.shot("app-session-sign-in-again.png")
	if got := p.text("#login-kept"); !strings.Contains(got, "1 条记录等待上传") {
		t.Errorf("the sign-in screen says %q, want what waits on the phone", got)
	}
	if got := eval[string](p, `document.querySelector('#login input[name="username"]').value`); got != apptest.Inspector {
		t.Errorf("the username field reads %q", got)
	}
	p.setOffline(false)
	signInAs := func(username, password string) {
		t.Helper()
		eval[bool](p, `(document.querySelector('#login input[name="username"]').value = '', document.querySelector('#login input[name="password"]').value = '', true)`)
		p.do("fill the sign-in form",
			chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), username),
			chromedp.SendKeys(chromedp.CSS(`#login input[name="password"]`), password))
		p.click(`#login button[type="submit"]`)
	}

	// Another user, over the work still to send: asked first; cancelled,
	// nothing changes.
	eval[bool](p, `(window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	signInAs(apptest.Inspector2, apptest.Passwords[apptest.Inspector2])
	p.waitJS("asked", `!!window.__asked`)
	if got := eval[string](p, `window.__asked`); !strings.Contains(got, "1 条记录") || !strings.Contains(got, apptest.Inspector2) ||
		!strings.Contains(got, "张巡查（"+apptest.Inspector+"） 的 1 条记录") {
		t.Errorf("signing in as another user asks %q, want what of 张巡查's (%s) would wait", got, apptest.Inspector)
	}
	p.wait(`#work-offline`)
	// A name no one has, tried and refused: no storage left behind, and
	// the app is the inspector's again.
	eval[bool](p, `(window.confirm = () => true, true)`)
	signInAs("nosuchuser", "wrong-password")
	p.waitJS("refused", `!!document.querySelector('#login-error')?.textContent`)
	p.waitJS("the inspector's app again", `(async () => { const {app} = await import('/app/js/app.js'); return app.client?.user?.username === '`+apptest.Inspector+`'; })()`)
	if eval[bool](p, `(async () => (await indexedDB.databases()).some((d) => d.name === 'fieldsync-nosuchuser'))()`) {
		t.Error("a refused sign-in left a storage for its name")
	}

	// The same user typed another way (the server matches it so).
	signInAs("　Inspector ", apptest.Passwords[apptest.Inspector])
	p.wait(`#sync-card`)
	p.waitSynced()
	if !eval[bool](p, `document.querySelector('#session').hidden`) {
		t.Error("the session bar stays after signing in again")
	}
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H24680")
	if err != nil || len(recs) != 1 {
		t.Fatalf("server: %d vehicle checks for 晋H24680 (%v), want the one made while signed out", len(recs), err)
	}
	// Back to the sign-in form's entry in the history: signed in, no form.
	eval[bool](p, `(history.back(), true)`)
	p.waitJS("back", `location.hash !== '#/' || !!document.querySelector('#sync-card')`)
	p.wait(`#sync-card`)
	if eval[bool](p, `!!document.querySelector('#login')`) {
		t.Error("Back shows the sign-in form to a signed-in inspector")
	}
}

// TestBrowserSessionEndedTakesOtherTabsSignIn: two tabs of the app on one
// phone, the session ended in both; the inspector signs in again in one.
// The other, brought back into view, takes that session (its bar goes, and
// it syncs what was saved in it) instead of staying ended until reloaded.
func TestBrowserSessionEndedTakesOtherTabsSignIn(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.signedOutElsewhere(srv)
	p.click(`#sync-now`)
	p.wait(`#session:not([hidden]) #sign-in-again`)

	// Work in the first tab while ended.
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H13579"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.goHash("#/", `#sync-card`)

	// A second tab of the app signs in again: another client of the same
	// IndexedDB storage, as the second tab's app opens it.
	if got := eval[string](p, `(async () => {
		const sdk = await import('/app/sdk/fieldsync-sdk.js');
		const storage = await sdk.IndexedDBStorage.open('fieldsync-`+apptest.Inspector+`');
		const other = await sdk.FieldsyncClient.open({ baseURL: '', storage, deviceName: 'second tab' });
		await other.signIn('`+apptest.Inspector+`', '`+apptest.Passwords[apptest.Inspector]+`');
		const r = other.signedIn && !(await import('/app/js/app.js')).app.client.signedIn;
		await storage.close();
		return r ? 'signed in there' : 'not as expected';
	})()`); got != "signed in there" {
		t.Fatalf("the second tab: %s", got)
	}
	if !eval[bool](p, `!document.querySelector('#session').hidden`) {
		t.Fatal("the first tab's bar went before it was looked at")
	}

	// The first tab comes back into view.
	eval[bool](p, `(document.dispatchEvent(new Event('visibilitychange')), true)`)
	p.waitJS("the session taken", `document.querySelector('#session').hidden`)
	p.waitSynced()
	if got := p.text("#sync-now"); got == "重新登录后同步" {
		t.Errorf("the sync button still says %q", got)
	}
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H13579")
	if err != nil || len(recs) != 1 {
		t.Fatalf("server: %d vehicle checks for 晋H13579 (%v), want the one made in the first tab", len(recs), err)
	}
}

// signedOutElsewhere ends the phone's session on the server, as a
// sign-out of its device from elsewhere does.
func (p *phone) signedOutElsewhere(srv *apptest.Server) {
	p.t.Helper()
	access := eval[string](p, `(async () => (await import('/app/js/app.js')).app.client.auth.access)()`)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/auth/logout", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		p.t.Fatalf("logout: %d", resp.StatusCode)
	}
}

// TestBrowserSignOutInAnotherTab: an inspector with the app open in two
// tabs signs out in one: the other goes to the sign-in screen at once and
// says the inspector signed out in another window — it used to wait for
// its next request and say the session had expired, offering offline
// work the sign-out had just ended.
func TestBrowserSignOutInAnotherTab(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	other := *p
	other.name = "second tab"
	other.open()
	other.wait(`#sign-out`)
	// Its first sync done: a tap while it redraws the page can miss.
	other.waitSynced()
	// Any toast the second tab shows from now on is kept for the test.
	eval[bool](p, `(window.__toasts = [], new MutationObserver(() => { for (const el of document.querySelectorAll('#toast > div')) window.__toasts.push(el.textContent); })
		.observe(document.getElementById('toast'), { childList: true, subtree: true }), true)`)
	other.click(`#sign-out`)
	other.wait(`#login`)
	p.waitJS("the first tab on the sign-in screen", `!!document.querySelector('#login')`)
	p.waitJS("said why", `window.__toasts.some((x) => x.includes('另一个窗口退出登录'))`)
	if got := eval[string](p, `window.__toasts.join(' | ')`); strings.Contains(got, "登录已失效") {
		t.Errorf("the first tab says the session ended: %q", got)
	}
}

// TestBrowserSignedOutOfflineEndedForTheNextUser: an inspector signs out
// with no signal and hands the phone to a colleague, who signs in once
// there is signal. The first inspector's session ends on the server then
// — it used to stay alive, its tokens kept in the phone's storage, until
// that inspector signed in on this phone again (field-app probe).
func TestBrowserSignedOutOfflineEndedForTheNextUser(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	// Nothing waiting: a size with its unit (a bare "0" read as a count).
	if got := eval[string](p, `document.querySelector('#pending-bytes').textContent`); got != "0 KB" {
		t.Errorf("the size waiting to upload reads %q, want 0 KB", got)
	}
	// The phone's device: the inspector's newest.
	u, _, err := srv.App.DB.UserByUsername(t.Context(), apptest.Inspector)
	if err != nil {
		t.Fatal(err)
	}
	devs, err := srv.App.DB.Devices(t.Context(), server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var dev *server.Device
	for _, d := range devs {
		if d.UserID == u.ID && (dev == nil || d.CreatedAt.After(dev.CreatedAt)) {
			dev = d
		}
	}
	session := func() int64 {
		t.Helper()
		pr, err := srv.App.DB.Principal(t.Context(), u.ID, dev.ID)
		if err != nil {
			t.Fatal(err)
		}
		return pr.Session
	}
	before := session()

	p.setOffline(true)
	p.click(`#sign-out`)
	p.wait(`#login`)
	if got := session(); got != before {
		t.Fatalf("the session ended while the phone was offline (%d → %d)", before, got)
	}
	p.setOffline(false)
	p.signIn(apptest.Inspector2)
	p.waitJS("the sign-out settled", `!localStorage.getItem('fieldsync.owed')`)
	if got := session(); got == before {
		t.Error("the first inspector's session is still alive on the server after a colleague signed in and synced")
	}
}

// TestBrowserLocalStorageClearedOffline: the browser cleared the app's
// localStorage (a cleaner app, a setting) but not its IndexedDB, while
// the phone had no signal and a roadside check waited to be sent. The app
// opens on the inspector's data, the check still waiting: it used to ask
// for a first sign-in, which needs a network, though nothing was lost.
func TestBrowserLocalStorageClearedOffline(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("fill and save",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h55502"))
	p.click(`#vehicle-form button[type="submit"]`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	eval[bool](p, `(localStorage.clear(), true)`)
	p.reopen()
	p.goHash("#/", `#sync-card`)
	if got := p.text(`#pending-records`); got != "1" {
		t.Errorf("waiting to be sent after the reopening: %q records, want 1", got)
	}
	if eval[int](p, `document.querySelectorAll('#login').length`) != 0 {
		t.Error("the app asks for a sign-in")
	}
}

// TestBrowserSignOutKeepsUnsentWork: signing out offline with a roadside
// check not yet sent says it stays on the phone, and keeps it: the same
// inspector signing in again online sends it. It used to be dropped for
// good after a second warning that read like the first (field-app probe).
func TestBrowserSignOutKeepsUnsentWork(t *testing.T) {
	srv, p, _ := roadsidePhone(t) // offline, on the roadside form
	p.do("a vehicle", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "HF12345"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.goHash("#/", `#sign-out`)
	eval[bool](p, `(window.confirm = (m) => { window.__asked = (window.__asked || '') + m + '\n---\n'; return true; }, true)`)
	p.click(`#sign-out`)
	p.wait(`#login`)
	if asked := eval[string](p, `window.__asked || ''`); !strings.Contains(asked, "仍保存在本手机上") || strings.Contains(asked, "丢失") {
		t.Errorf("signing out with unsent work asks %q, want it said kept", asked)
	}
	// The sign-in screen says whose work waits on the phone.
	if got := eval[string](p, `document.querySelector('#login-others-kept')?.textContent || ''`); !strings.Contains(got, "张巡查 的 1 条记录") {
		t.Errorf("the sign-in screen says %q, want what 张巡查 left unsent", got)
	}
	p.setOffline(false)
	p.signIn(apptest.Inspector)
	if got := eval[string](p, `localStorage.getItem('fieldsync.kept') || ''`); got != "" {
		t.Errorf("after 张巡查 signed in again the phone still says they left %s", got)
	}
	if recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋HF12345"); err != nil || len(recs) != 1 {
		t.Fatalf("server: %d checks of 晋HF12345 (%v), want the one saved before signing out", len(recs), err)
	}
}
