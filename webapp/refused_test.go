package webapp_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// cspWatch collects the Content-Security-Policy violations the tab reports
// in its console from now on (the app's CSP is strict: style-src 'self').
func cspWatch(p *phone) func() []string {
	p.t.Helper()
	var mu sync.Mutex
	var seen []string
	note := func(text string) {
		if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Content-Security-Policy") {
			mu.Lock()
			seen = append(seen, text)
			mu.Unlock()
		}
	}
	if err := chromedp.Listen(p.ctx, func(ev any) {
		switch e := ev.(type) {
		case *log.EventEntryAdded:
			note(e.Entry.Text)
		case *runtime.EventConsoleAPICalled:
			for _, a := range e.Args {
				note(string(a.Value) + a.Description)
			}
		}
	}); err != nil {
		p.t.Fatalf("%s: listen: %v", p.name, err)
	}
	p.do("enable the console log", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, log.Enable, cdp.Empty{})
		return err
	}))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// rawCode matches a stored code quoted to the inspector, as “draft”.
var rawCode = regexp.MustCompile(`“[a-z_]+”`)

// TestBrowserRefusedEdit walks the app's main views with no CSP violation
// in the console (the camera button keeps its 96×96 size), starts an
// inspection with a double tap (one inspection), and edits it offline
// while another phone of the inspector submits it: the refused edit is not
// shown as saved, and the refusal stays on the home screen, in Chinese,
// across later syncs, until dismissed. The roadside form refuses the
// letters O and I in a plate.
func TestBrowserRefusedEdit(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.URL, "phone", near(at))
	violations := cspWatch(p)
	p.do("reload", chromedp.Reload())
	p.waitJS("the app started", `document.body.dataset.ready === '1'`)
	p.signIn(apptest.Inspector)

	// A double tap on 开始检查 makes one inspection.
	p.goHash("#/site/"+site.ID, `button.start[data-template="staggered_production"]`)
	eval[bool](p, `(() => { const b = document.querySelector('button.start[data-template="staggered_production"]'); b.click(); b.click(); return true; })()`)
	p.wait(`#inspection`)
	insp := eval[string](p, `document.querySelector('#inspection').dataset.id`)
	if w := eval[float64](p, `document.querySelector('label.camera').getBoundingClientRect().width`); w != 96 {
		t.Errorf("the camera button is %v px wide, want 96 (its style applied)", w)
	}
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	if recs, err := srv.App.DB.Find(ctx, "inspection", "site_id", site.ID); err != nil || len(recs) != 1 {
		t.Fatalf("a double tap on 开始检查 made %d inspections (%v), want 1", len(recs), err)
	}

	// Offline, the phone writes a summary; meanwhile the inspector's other
	// phone submits the inspection.
	p.setOffline(true)
	p.goHash("#/inspection/"+insp, `#summary`)
	eval[bool](p, `(() => { const s = document.querySelector('#summary'); s.value = '离线写的小结'; s.dispatchEvent(new Event('change')); return true; })()`)
	// The change is saved in the background: wait until the client counts it.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		while ((await app.client.refreshStatus()).pendingChanges !== 1) await new Promise((r) => requestAnimationFrame(r));
		return true; })()`)
	// A failed item opens a finding: a new record, refused with the
	// summary below.
	p.answer("emergency_plan_on_site", "fail")
	p.goHash("#/", `#sync-card`)
	if n := p.text(`#pending-records`); n != "2" {
		t.Fatalf("home counts %s records with unsent changes, want 2 (the inspection, its new finding)", n)
	}
	other := srv.Login(apptest.Inspector)
	apptest.Push(t, other, apptest.Mut(other, "inspection", insp, apptest.Fields("status", "submitted", "finished_at", "2026-11-30T10:00:00+08:00")))

	p.setOffline(false)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.wait(`#rejected li[data-code="record_locked"]`)
	p.has("已提交，待审核", "离线写的小结")
	// The new finding's card says it was a new one, refused as such.
	p.has("新建的整改问题被服务器拒绝：所属检查已提交，待审核（或已审核），不能再新增问题")
	p.shot("app-home-rejected.png")
	// Values are shown as the inspector knows them, never as stored codes
	// (an overwritten status read “draft”).
	if got := eval[string](p, `document.querySelector('#view').textContent`); rawCode.MatchString(got) {
		t.Errorf("home quotes a stored code: %q in %q", rawCode.FindString(got), got)
	}
	// The inspection shows the server's state, not the refused summary.
	p.goHash("#/inspection/"+insp, `#inspection`)
	p.waitJS("the server's summary", `document.querySelector('#summary')?.value === ''`)
	// A later (automatic or not) sync keeps the refusal on the home screen.
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	p.wait(`#rejected li[data-code="record_locked"]`)
	// Each dismissed in turn (the inspection's, its new finding's).
	p.waitJS("dismissed", `(document.querySelector('#rejected button[data-dismiss]')?.click(), document.querySelector('#rejected') === null)`)

	// The roadside form: a plate with O or I is refused with a hint.
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	if w := eval[float64](p, `document.querySelector('#vehicle-photos label.camera').getBoundingClientRect().width`); w != 96 {
		t.Errorf("the roadside camera button is %v px wide, want 96", w)
	}
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "HO1234"))
	p.click(`#save-vehicle`)
	p.waitJS("the plate is refused", `document.querySelector('#vehicle-error').textContent.includes('是否为数字 0 或 1')`)
	p.goHash("#/sites/new", `form`)
	p.goHash("#/sites", `#site-list a.item`)

	if v := violations(); len(v) > 0 {
		t.Errorf("the app reported %d CSP violations, the first: %s", len(v), v[0])
	}
}

// TestBrowserRefusedFieldNamed: a change the server refuses for one
// field's value is explained with the field's label, not its code, and a
// long refused value is shown cut short, with its length.
func TestBrowserRefusedFieldNamed(t *testing.T) {
	p, insp := startedInspection(t)
	// Past the field's maxlength, as another app on the SDK could save it.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		await app.client.save('inspection', '`+insp+`', { summary: '长'.repeat(4500) }); return true; })()`)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	p.wait(`#rejected`)
	card := p.text(`#rejected`)
	p.shot("app-refused-card.png")
	// The card says which inspection: its site and checklist.
	where := p.text(`#rejected .where`)
	for _, want := range []string{"忻府区恒岳水泥粉磨有限公司", "错峰生产"} {
		if !strings.Contains(where, want) {
			t.Errorf("the refused change's card says it was of %q, want the inspection's site and checklist (%s)", where, want)
		}
	}
	for _, want := range []string{"“检查小结”超过 4000 个字符", "…（共 4500 字）"} {
		if !strings.Contains(card, want) {
			t.Errorf("the refused change's card lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "summary") || strings.Contains(card, strings.Repeat("长", 101)) {
		t.Errorf("the card names the field's code or shows the whole value:\n%.300s", card)
	}

	// A refused finding: its item by its label; the records it belongs
	// to (named above it) and their ids are not listed as its fields.
	finding := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js'); const id = crypto.randomUUID();
		await app.client.save('finding', id, { inspection_id: '`+insp+`', item_key: 'production_ledger', description: '问'.repeat(4100), severity: 'major', status: 'open' });
		return id; })()`)
	p.click(`#sync-now`)
	p.waitJS("the finding refused", `!!document.querySelector('#rejected li[data-key*="`+finding+`"]')`)
	got := p.text(`#rejected li[data-key*="` + finding + `"]`)
	if !strings.Contains(got, "检查项：生产台账完整") {
		t.Errorf("the refused finding's card lacks its item's label:\n%s", got)
	}
	for _, code := range []string{"inspection_id", "item_key", "production_ledger", insp} {
		if strings.Contains(got, code) {
			t.Errorf("the refused finding's card shows %q:\n%s", code, got)
		}
	}
}

// startedInspection signs an inspector in on a phone and starts an
// inspection at a demo site, and returns the phone, on the inspection's
// page, and the inspection's id.
func startedInspection(t *testing.T) (*phone, string) {
	t.Helper()
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	p := newPhone(t, browserFor(t), srv.URL, "phone", near(at))
	p.signIn(apptest.Inspector)
	p.goHash("#/site/"+site.ID, `button.start[data-template="staggered_production"]`)
	p.click(`button.start[data-template="staggered_production"]`)
	p.wait(`#inspection #summary`)
	return p, eval[string](p, `document.querySelector('#inspection').dataset.id`)
}

// TestBrowserReapplyOutOfScope: a roadside check saved while the crew's
// county was taken away is refused out_of_scope and kept on the phone,
// with 重新应用; once the county is given back, 重新应用 sends it, and it
// reaches the server once (the refusal could only be dismissed, and the
// check with it).
func TestBrowserReapplyOutOfScope(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e321"))
	for _, c := range [][2]string{{"plate_color", "黄"}, {"emission_stage", "cn6"}, {"fuel", "natural_gas"}, {"aftertreatment", "present"}} {
		p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
	}
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector, []string{apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.wait(`#rejected li[data-code="out_of_scope"] button[data-reapply]`)
	p.has("区县范围恢复后可点“重新应用”")
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector, []string{apptest.Xinfu}); err != nil {
		t.Fatal(err)
	}
	p.click(`#rejected li[data-code="out_of_scope"] button[data-reapply]`)
	p.waitJS("sent", `document.querySelector('#rejected') === null && document.querySelector('#pending-records')?.textContent === '0'`)
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H7E321")
	if err != nil || len(recs) != 1 {
		t.Fatalf("server: %d vehicle checks for 晋H7E321 (%v), want 1", len(recs), err)
	}
}

// TestBrowserCorrectRefusedValue: a change refused for one of its values
// — a roadside check dated a year ahead (a phone whose clock was fixed
// offline after the app learnt its error) — is corrected on its card and
// made again with the corrected value; it reaches the server once, with
// it, and so does its later edit, refused for want of it. The card
// offered only 知道了, which deleted the check.
func TestBrowserCorrectRefusedValue(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	p.setOffline(false)
	id := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		const id = crypto.randomUUID();
		await app.client.save('vehicle_check', id, { county: '140902', plate: '晋H7E555', checkpoint: '豆罗检查站',
			emission_stage: 'cn6', fuel: 'natural_gas', aftertreatment: 'present', checked_at: '2027-12-05T09:21:00+08:00' });
		await app.client.save('vehicle_check', id, { note: '后处理完好，已拍照' });
		return id; })()`)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.wait(`#rejected li[data-code="invalid_value"] form[data-correct] input[name="checked_at"]`)
	// The sync over (the home screen drawn again after it would put the
	// refused value back into the form).
	p.waitJS("the sync over", `document.querySelector('#sync-now')?.disabled === false`)
	if v := eval[string](p, `document.querySelector('#rejected input[name="checked_at"]').value`); v != "2027-12-05T09:21" {
		t.Errorf("the correction is prefilled with %q, want the refused time 2027-12-05T09:21", v)
	}
	p.has("检查时间")
	// Its values as the crew chose them, not the codes stored.
	p.waitJS("the card's values", `document.querySelector('#rejected')?.textContent.includes('国六') === true`)
	if card := p.text(`#rejected`); strings.Contains(card, "cn6") || strings.Contains(card, "natural_gas") {
		t.Errorf("the refused check's card shows codes: %s", card)
	}
	p.shot("app-home-correct.png")
	eval[bool](p, `(() => { const i = document.querySelector('#rejected input[name="checked_at"]'); i.value = '2026-12-01T09:21'; return true; })()`)
	p.click(`#rejected form[data-correct] button[type="submit"]`)
	p.waitJS("sent", `document.querySelector('#rejected') === null && document.querySelector('#pending-records')?.textContent === '0'`)
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H7E555")
	if err != nil || len(recs) != 1 || recs[0].ID != id {
		t.Fatalf("server: %d vehicle checks for 晋H7E555 (%v), want the one made", len(recs), err)
	}
	if got := recs[0].Text("checked_at"); got != "2026-12-01T09:21:00+08:00" {
		t.Errorf("checked_at %q on the server, want the corrected 2026-12-01T09:21:00+08:00", got)
	}
	// The later edit of the check, refused for want of it, went with it.
	if got := recs[0].Text("note"); got != "后处理完好，已拍照" {
		t.Errorf("note %q on the server, want the later edit made again with the correction", got)
	}
}

// TestBrowserReapplyWithDependents: an inspection started, answered 不合格
// with a photo, while the inspector's county was taken away, is refused
// out_of_scope — its answers, finding and photo with it (refused for want
// of it). 重新应用 on the inspection, once the county is back, makes them
// all again, in order: the server has the answer, the finding and the
// photo, once. (Only the inspection was made again; the rest stayed
// refused for good.)
func TestBrowserReapplyWithDependents(t *testing.T) {
	srv, site, p, at := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.setOffline(true)
	insp := p.startInspection(site.ID, "staggered_production")
	p.answer("production_ledger", "fail")
	p.photo("production_ledger", jpeg(t, "ledger.jpg", 3, near(at), ""))
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector, []string{apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.wait(`#rejected li[data-code="out_of_scope"] button[data-reapply]`)
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector, []string{apptest.Xinfu}); err != nil {
		t.Fatal(err)
	}
	p.click(`#rejected li[data-code="out_of_scope"] button[data-reapply]`)
	p.waitJS("all sent", `document.querySelector('#rejected') === null && document.querySelector('#pending-records')?.textContent === '0'`)
	p.click(`#sync-now`)
	p.waitJS("the photo's bytes sent", `document.querySelector('#pending-photos')?.textContent === '0'`)
	r := get(t, srv, "inspection", insp)
	if r == nil || !strings.Contains(string(r.Value("answers.production_ledger")), "fail") {
		t.Fatalf("the inspection's answer on the server: %v", r)
	}
	findings, _ := srv.App.DB.Find(ctx, "finding", "inspection_id", insp)
	photos, _ := srv.App.DB.Find(ctx, "photo", "inspection_id", insp)
	if len(findings) != 1 || len(photos) != 1 || !photos[0].Uploaded() {
		t.Errorf("on the server: %d findings, %d photos of the inspection (uploaded: %v), want 1 and 1, uploaded", len(findings), len(photos), len(photos) == 1 && photos[0].Uploaded())
	}
}

// TestBrowserRefusedEditShowsWhatWasTyped: an edit of a roadside check
// refused because an office voided the check meanwhile shows, on its
// card, what the crew changed — the form sends every field, and the card
// listed the first four, unchanged (checkpoint, plate …), never the
// 处罚 and the note typed, which 知道了 then deleted (roadside probe).
func TestBrowserRefusedEditShowsWhatWasTyped(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	p.setOffline(false)
	id := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		const id = crypto.randomUUID();
		await app.client.save('vehicle_check', id, { county: '140902', plate: '晋H12345', checkpoint: '豆罗检查站', campaign: '国六货车专项整治',
			plate_color: 'yellow', emission_stage: 'cn6', fuel: 'diesel', aftertreatment: 'present', checked_at: new Date(app.client.now()).toISOString() });
		await app.client.sync();
		return id; })()`)
	p.setOffline(true)
	// Corrected offline, as the form saves a correction: every field.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		const r = (await app.client.get('vehicle_check', '`+id+`')).fields;
		const form = ['county', 'plate', 'checkpoint', 'campaign', 'plate_color', 'emission_stage', 'fuel', 'aftertreatment', 'checked_at'];
		await app.client.save('vehicle_check', '`+id+`', { ...Object.fromEntries(form.map((k) => [k, r[k]])), action: 'fine', note: '第二组复核：同一车辆' });
		return true; })()`)
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/vehicle-checks/"+id+"/void",
		map[string]any{"decision": "void", "comment": "同一车辆重复保存"}, nil); err != nil {
		t.Fatalf("void: %v", err)
	}
	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.wait(`#rejected li[data-code="record_locked"] [data-typed]`)
	typed := p.text(`#rejected li[data-code="record_locked"] [data-typed]`)
	for _, want := range []string{"处罚", "第二组复核：同一车辆"} {
		if !strings.Contains(typed, want) {
			t.Errorf("the refused edit's card lacks %q: %s", want, typed)
		}
	}
	if strings.Contains(typed, "豆罗检查站") || strings.Contains(typed, "晋H12345") {
		t.Errorf("the refused edit's card lists fields it did not change: %s", typed)
	}
}
