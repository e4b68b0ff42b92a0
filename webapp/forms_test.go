package webapp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// failOnce makes the phone's next save of entity (through method, save or
// takePhoto) write its record and then throw, as a storage whose commit
// was reported lost would: the form says it failed, yet the record is
// there, and the inspector taps 保存 again.
func (p *phone) failOnce(method, entity string) {
	p.t.Helper()
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const c = app.client;
		const orig = c.`+method+`.bind(c); let once = true;
		c.`+method+` = async (...args) => {
			const r = await orig(...args);
			const entity = typeof args[0] === 'string' ? args[0] : 'photo';
			if (once && entity === '`+entity+`') { once = false; throw new Error('写入后报告失败（测试）'); }
			return r;
		};
		return true; })()`)
}

// count counts the phone's local records of entity whose field has value.
func (p *phone) count(entity, field, value string) int {
	p.t.Helper()
	return eval[int](p, `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.list('`+entity+`', (r) => String(r.fields['`+field+`']) === '`+value+`')).length; })()`)
}

// TestBrowserCreateOnce: a create form writes one record however often it
// is submitted. A save that wrote its record but reported a failure, then
// tapped again, and a double tap, give one site; the same for a roadside
// check and its photo, and for an inspection started from a site. The
// save button is disabled while it saves.
func TestBrowserCreateOnce(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.setOffline(true)

	// A new site: the first save writes it but fails; the second writes
	// the same site.
	p.goHash("#/sites/new", `#site-form input[name="name"]`)
	// Its position says which number is which, as the console does.
	p.waitJS("the position shown", `document.querySelector('#site-pos').textContent.includes('经度')`)
	if got := p.text(`#site-pos`); !strings.Contains(got, "经度 ") || !strings.Contains(got, "，纬度 ") {
		t.Errorf("the new site's position %q does not name 经度 and 纬度", got)
	}
	p.do("name the site", chromedp.SendKeys(chromedp.CSS(`#site-form input[name="name"]`), "忻府区重复提交测试点"))
	p.failOnce("save", "site")
	p.click(`#save-site`)
	p.waitJS("the failure shown", `document.querySelector('#site-form .err').textContent.includes('写入后报告失败') && !document.querySelector('#save-site').disabled`)
	p.click(`#save-site`)
	p.waitJS("the site saved", `location.hash.startsWith('#/site/')`)
	if n := p.count("site", "name", "忻府区重复提交测试点"); n != 1 {
		t.Errorf("a site saved again after a reported failure: %d sites, want 1", n)
	}

	// A double tap (two submits at once): one site, the button disabled
	// from the first.
	p.goHash("#/sites/new", `#site-form input[name="name"]`)
	if got := eval[string](p, `document.querySelector('#site-form input[name="name"]').value`); got != "" {
		t.Fatalf("the new-site form after a save has the name %q", got)
	}
	p.do("name the site", chromedp.SendKeys(chromedp.CSS(`#site-form input[name="name"]`), "忻府区双击测试点"))
	disabled := eval[bool](p, `(() => { const f = document.querySelector('#site-form'); f.requestSubmit();
		const d = document.querySelector('#save-site').disabled; f.requestSubmit(); return d; })()`)
	if !disabled {
		t.Errorf("the save button is not disabled while the site is saved")
	}
	p.waitJS("the site saved", `location.hash.startsWith('#/site/')`)
	if n := p.count("site", "name", "忻府区双击测试点"); n != 1 {
		t.Errorf("a double-tapped new site: %d sites, want 1", n)
	}

	// A roadside check with a photo: the photo's save fails after writing.
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("fill the vehicle",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h24680"))
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck.jpg", 5, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`)
	p.failOnce("takePhoto", "photo")
	p.click(`#save-vehicle`)
	p.waitJS("the failure shown", `document.querySelector('#vehicle-error').textContent.includes('写入后报告失败') && !document.querySelector('#save-vehicle').disabled`)
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('input[name="plate"]').value === '' && !document.querySelector('#save-vehicle').disabled`)
	if n := p.count("vehicle_check", "plate", "晋H24680"); n != 1 {
		t.Errorf("a roadside check saved again: %d checks of 晋H24680, want 1", n)
	}
	vid := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.list('vehicle_check', (r) => r.fields.plate === '晋H24680'))[0].id; })()`)
	if n := p.count("photo", "vehicle_check_id", vid); n != 1 {
		t.Errorf("the roadside check's photo saved again: %d photos, want 1", n)
	}

	// An inspection started from a site: the start writes it but fails;
	// tapped again, the same inspection opens (this phone's, not yet sent:
	// the demo has inspections of the site).
	p.goHash("#/site/"+site.ID, `button.start`)
	tpl := eval[string](p, `document.querySelector('button.start').dataset.template`)
	p.failOnce("save", "inspection")
	p.click(`button.start`)
	p.waitJS("the failure shown", `document.querySelector('#start-error').textContent.includes('写入后报告失败') && !document.querySelector('button.start').disabled`)
	p.click(`button.start`)
	p.wait(`#inspection`)
	n := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.list('inspection', (r) => r.fields.site_id === '`+site.ID+`' && r.fields.template_id === '`+tpl+`' && r.pending.length > 0)).length; })()`)
	if n != 1 {
		t.Errorf("an inspection started again after a reported failure: %d inspections, want 1", n)
	}

	// Sent, the server has each record once.
	p.setOffline(false)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	for _, name := range []string{"忻府区重复提交测试点", "忻府区双击测试点"} {
		if recs, err := srv.App.DB.Find(ctx, "site", "name", name); err != nil || len(recs) != 1 {
			t.Errorf("server: %d sites named %s (%v), want 1", len(recs), name, err)
		}
	}
	if recs, err := srv.App.DB.Find(ctx, "photo", "vehicle_check_id", vid); err != nil || len(recs) != 1 {
		t.Errorf("server: %d photos of the roadside check (%v), want 1", len(recs), err)
	}
}

// TestBrowserPlateProvinces: the roadside form offers the 31 mainland
// provinces' abbreviations, 晋 first, and a plate of a far province is
// stored with its own; the next truck's province is 晋 again (it kept the
// far one, and the next plate typed as its letters took it).
func TestBrowserPlateProvinces(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	got := eval[[]string](p, `[...document.querySelectorAll('select[name="province"] option')].map((o) => o.value)`)
	all := "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
	seen := map[string]bool{}
	for _, o := range got {
		if !strings.Contains(all, o) || seen[o] {
			t.Errorf("the province %q is not a mainland one, or offered twice", o)
		}
		seen[o] = true
	}
	if len(got) != 31 || len(seen) != 31 {
		t.Errorf("the form offers %d provinces (%v), want the 31 of the mainland", len(got), got)
	}
	if len(got) == 0 || got[0] != "晋" || eval[string](p, `document.querySelector('select[name="province"]').value`) != "晋" {
		t.Errorf("the provinces begin %v, want 晋 first and chosen", got)
	}
	p.do("checkpoint", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SetValue(chromedp.CSS(`select[name="province"]`), "琼"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "b12345"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.has("琼B12345")
	if got := eval[string](p, `document.querySelector('select[name="province"]').value`); got != "晋" {
		t.Errorf("the next truck's province is %q, want 晋", got)
	}
	p.do("next plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h12345"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 2 辆')`)
	p.has("晋H12345")
}

// TestBrowserToastsReplace: toasts of one kind do not stack: syncs asked
// for in a row say 同步完成 once, two vehicles saved in a row show
// the second one's toast alone.
func TestBrowserToastsReplace(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("checkpoint", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"))
	for i, plate := range []string{"h11111", "h22222"} {
		p.do("plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), plate))
		p.click(`#save-vehicle`)
		// Saved, and the next vehicle's form drawn.
		p.waitJS("saved "+plate, `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 `+itoa(i+1)+` 辆') &&
			document.querySelector('input[name="plate"]').value === '' && !document.querySelector('#save-vehicle').disabled`)
	}
	toasts := `JSON.stringify([...document.querySelectorAll('#toast > div')].map((e) => e.textContent))`
	if got := eval[string](p, toasts); got != `["已保存 晋H22222"]` {
		t.Errorf("after two vehicles saved the toasts are %s, want the second one's alone", got)
	}
	// Online (the app syncs by itself on that too), the inspector taps 立即同步 again and again.
	p.setOffline(false)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		for (let i = 0; i < 4; i++) await app.sync(true); return true; })()`)
	var shown []string
	if err := json.Unmarshal([]byte(eval[string](p, toasts)), &shown); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range shown {
		if s == "同步完成" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("after four syncs the toasts are %q, want 同步完成 once", shown)
	}
}

// TestBrowserCorrectedClock: on a phone whose clock runs an hour fast, the
// roadside check's checked_at is by the server's clock once a sync has
// corrected the phone's (sync.md §7), not by the phone's.
func TestBrowserCorrectedClock(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "fast phone", near(at))
	p.do("an hour fast", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `(() => { const real = Date.now; Date.now = () => real() + 3600e3; })();`})
		return err
	}), chromedp.Reload())
	p.waitJS("the app started", `document.body.dataset.ready === '1' && Date.now() - performance.timeOrigin - performance.now() > 3000e3`)
	p.signIn(apptest.Inspector)

	// The first vehicle is stamped before any correction; its push is
	// refused clock_skew, and the phone learns the server's clock.
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("first vehicle", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h13579"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('已检')`)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	if off := eval[float64](p, `(async () => { const {app} = await import('/app/js/app.js'); return app.client.clock.offset; })()`); off > -3500e3 {
		t.Fatalf("the phone's clock was not corrected: offset %v ms", off)
	}

	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("second vehicle", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h97531"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.body.innerText.includes('晋H97531')`)
	stamped := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.list('vehicle_check', (r) => r.fields.plate === '晋H97531'))[0].fields.checked_at; })()`)
	ts, err := time.Parse(time.RFC3339, stamped)
	if err != nil {
		t.Fatalf("checked_at %q: %v", stamped, err)
	}
	if d := time.Since(ts); d < -2*time.Minute || d > 2*time.Minute {
		t.Errorf("checked_at %s is %v off the server's clock: stamped by the phone's uncorrected clock", stamped, -d)
	}
	if !strings.HasSuffix(stamped, "+08:00") {
		t.Errorf("checked_at %s is not in China's time", stamped)
	}
}

// TestBrowserAccessibleNames: every visible input, select, textarea and
// button on the app's main screens has an accessible name — its label,
// aria-label or (a button) its text; a placeholder is no name.
func TestBrowserAccessibleNames(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	unnamed := `JSON.stringify((() => {
		const name = (el) => (el.getAttribute('aria-label') || '').trim()
			|| (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean).map((i) => document.getElementById(i)?.textContent || '').join(' ').trim()
			|| [...(el.labels || [])].map((l) => l.textContent).join(' ').trim()
			|| (el.tagName === 'BUTTON' ? el.textContent.trim() : '')
			|| (el.getAttribute('title') || '').trim();
		return [...document.querySelectorAll('input, select, textarea, button')]
			.filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0 && !name(el))
			.map((el) => el.outerHTML.slice(0, 160));
	})())`
	check := func(screen string) {
		t.Helper()
		var bad []string
		if err := json.Unmarshal([]byte(eval[string](p, unnamed)), &bad); err != nil {
			t.Fatal(err)
		}
		for _, b := range bad {
			t.Errorf("%s: a control without an accessible name: %s", screen, b)
		}
		if n := eval[int](p, `document.querySelectorAll('#view input, #view select, #view textarea, #view button').length`); n == 0 {
			t.Errorf("%s: no controls checked", screen)
		}
	}
	p.wait(`#login input[name="username"]`)
	check("登录")
	p.signIn(apptest.Inspector)
	check("首页")
	p.click(`#tabs a[data-tab="sites"]`)
	p.wait(`#site-list a.item`)
	check("点位")
	p.goHash("#/sites/new", `#site-form`)
	check("新增点位")
	p.goHash("#/site/"+site.ID, `button.start[data-template="construction_dust"]`)
	check("点位详情")
	p.click(`button.start[data-template="construction_dust"]`)
	p.wait(`#inspection`)
	check("检查")
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	check("路检")
}

// TestBrowserDraftsSurviveReload: what was typed and tapped in the roadside
// and new-site forms survives the page being reloaded (the phone killed
// it while the camera app was open), the roadside photos too
// (TestBrowserRoadsidePhotosSurviveReload). Saving drops the draft from
// the phone, and so does signing out, which forgets the checkpoint too and
// is not taken for an expired session.
func TestBrowserDraftsSurviveReload(t *testing.T) {
	_, p, at := roadsidePhone(t)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h66666"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="note"]`), "拍照前填写"))
	p.click(`[data-field="fuel"] button[data-value="diesel"]`)
	p.click(`[data-field="action"] button[data-value="fine"]`)
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck.jpg", 9, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`)
	form := `JSON.stringify([...document.querySelectorAll('#vehicle-form [name]')].filter((e) => e.type !== 'file').map((e) => e.name + '=' + e.value)
		.concat([...document.querySelectorAll('#vehicle-form .seg button.on')].map((b) => b.closest('.seg').dataset.field + ':' + b.dataset.value)))`
	want := eval[string](p, form)
	if !strings.Contains(want, "plate=H66666") || !strings.Contains(want, "fuel:diesel") {
		t.Fatalf("the filled form reads %s", want)
	}

	// The phone kills the page while the camera app is open.
	p.reopen()
	p.goHash("#/vehicle", `#vehicle-form`)
	if got := eval[string](p, form); got != want {
		t.Errorf("after a reload the form reads %s, want what was entered: %s", got, want)
	}
	p.wait(`#vehicle-photos .thumb img`)
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	if n := eval[bool](p, `(localStorage.getItem('fieldsync.drafts') || '').includes('H66666')`); n {
		t.Errorf("the saved vehicle's draft is still on the phone")
	}

	// The new-site form, then signing out.
	p.goHash("#/sites/new", `#site-form input[name="name"]`)
	p.do("name the site", chromedp.SendKeys(chromedp.CSS(`#site-form input[name="name"]`), "重新打开后仍在的点位"))
	p.reopen()
	p.goHash("#/sites/new", `#site-form input[name="name"]`)
	if got := eval[string](p, `document.querySelector('#site-form input[name="name"]').value`); got != "重新打开后仍在的点位" {
		t.Errorf("after a reload the new site's name is %q", got)
	}
	p.setOffline(false)
	p.goHash("#/", `#sign-out`)
	p.click(`#sync-now`)
	p.waitSynced()
	p.click(`#sign-out`)
	p.wait(`#login`)
	if got := eval[string](p, `localStorage.getItem('fieldsync.drafts') || ''`); got != "" {
		t.Errorf("after signing out the phone keeps drafts: %s", got)
	}
	// The next user of the phone does not find the checkpoint, and the
	// one who signed out is not told their session expired.
	if got := eval[string](p, `localStorage.getItem('fieldsync.vehicle') || ''`); got != "" {
		t.Errorf("after signing out the phone remembers the checkpoint: %s", got)
	}
	if got := eval[string](p, `document.getElementById('toast')?.hidden ? '' : document.getElementById('toast')?.textContent || ''`); strings.Contains(got, "登录已过期") {
		t.Errorf("a sign-out the inspector asked for says %q", got)
	}
}

// TestBrowserTypedTextSurvivesReload: a summary or a note typed and not
// yet left (they are saved when the field is left) survives the page
// being killed: the next draw of the inspection saves it.
func TestBrowserTypedTextSurvivesReload(t *testing.T) {
	p, insp := startedInspection(t)
	p.do("type a summary", chromedp.SendKeys(chromedp.CSS(`#summary`), "还没离开输入框的小结"))
	p.reopen()
	p.goHash("#/inspection/"+insp, `#summary`)
	p.waitJS("the typed summary saved", `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.get('inspection', '`+insp+`'))?.fields.summary === '还没离开输入框的小结'; })()`)
	if v := eval[string](p, `document.querySelector('#summary').value`); v != "还没离开输入框的小结" {
		t.Errorf("the summary field reads %q after the reload", v)
	}
	// The next draw finds it saved and drops it from the phone's drafts.
	p.goHash("#/", `#sync-card`)
	p.goHash("#/inspection/"+insp, `#summary`)
	if eval[bool](p, `(localStorage.getItem('fieldsync.drafts') || '').includes('还没离开')`) {
		t.Error("the saved summary is still in the phone's drafts")
	}
}
