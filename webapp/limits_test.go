package webapp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// setLong puts n characters into the field sel as a draft put back
// would (a paste: TestBrowserLongPasteKept), then leaves the field if
// change.
func (p *phone) setLong(sel string, n int, change bool) {
	p.t.Helper()
	ev := ""
	if change {
		ev = `el.dispatchEvent(new Event('change', {bubbles: true}));`
	}
	eval[bool](p, `(() => { const el = document.querySelector('`+sel+`'); el.value = '长'.repeat(`+itoa(n)+`);
		el.dispatchEvent(new Event('input', {bubbles: true})); `+ev+` return true; })()`)
}

// syncIdle waits until no sync runs: one ending draws the page again.
func (p *phone) syncIdle() {
	p.t.Helper()
	p.waitJS("no sync running", `(async () => { const {app} = await import('/app/js/app.js'); return !app.progress && !app.client.status().syncing; })()`)
}

// TestBrowserFormLimits: every form of the app holds its text fields to
// the server's length limits, and its numbers to their ranges, with its
// own Chinese message and nothing saved — the roadside check, the new
// site, an inspection's answers, notes and summary, a finding's
// rectification note — and a value at the limit is saved and taken by
// the server. (A 2,100-character 备注 saved the roadside check, which the
// server then refused whole; 尿素液位 150 met only the browser's bubble, in
// the browser's language.) The app's limits are the server's.
func TestBrowserFormLimits(t *testing.T) {
	srv, site, p, _ := inspectorAt(t, "忻府区锦绣华庭小区二期工地")

	// The app's limits are the server's (server/entity.go).
	var lim struct {
		MaxLen  map[string]map[string]int        `json:"maxLen"`
		Ranges  map[string]map[string][2]float64 `json:"ranges"`
		NoteMax int                              `json:"noteMax"`
	}
	js := eval[string](p, `(async () => { const l = await import('/app/js/limits.js');
		return JSON.stringify({maxLen: l.maxLen, ranges: l.ranges, noteMax: l.NOTE_MAX}); })()`)
	if err := json.Unmarshal([]byte(js), &lim); err != nil {
		t.Fatal(err)
	}
	fieldOf := func(entity, name string) *server.Field {
		e := server.EntityByName(entity)
		if e == nil {
			t.Fatalf("limits.js names entity %q, which the server lacks", entity)
		}
		for i := range e.Fields {
			if e.Fields[i].Name == name {
				return &e.Fields[i]
			}
		}
		t.Fatalf("limits.js names %s.%s, which the server lacks", entity, name)
		return nil
	}
	for entity, fields := range lim.MaxLen {
		for name, n := range fields {
			f := fieldOf(entity, name)
			want := f.MaxLen
			if want == 0 {
				want = 2000 // the server's default
			}
			if f.Type != server.TypeText || n != want {
				t.Errorf("limits.js: %s.%s at most %d characters, the server %d", entity, name, n, want)
			}
		}
	}
	for entity, fields := range lim.Ranges {
		for name, r := range fields {
			if f := fieldOf(entity, name); f.Min != r[0] || f.Max != r[1] {
				t.Errorf("limits.js: %s.%s in %v, the server %v–%v", entity, name, r, f.Min, f.Max)
			}
		}
	}
	if lim.NoteMax != syncproto.MaxNoteLen {
		t.Errorf("limits.js: an answer's note at most %d characters, the server %d", lim.NoteMax, syncproto.MaxNoteLen)
	}

	// The roadside check.
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e321"))
	saves := p.vehicleRefused
	p.setLong(`textarea[name="note"]`, 2100, false)
	saves("“备注”最多 2000 个字，现在有 2100 个字")
	p.setLong(`textarea[name="note"]`, 2000, false)
	p.setLong(`input[name="campaign"]`, 101, false)
	saves("“专项行动”最多 100 个字")
	p.setLong(`input[name="campaign"]`, 0, false)
	p.setLong(`input[name="obd_codes"]`, 501, false)
	saves("“OBD 故障码”最多 500 个字")
	p.setLong(`input[name="obd_codes"]`, 0, false)
	for _, urea := range []string{"150", "-1"} {
		p.do("urea "+urea, chromedp.SetValue(chromedp.CSS(`input[name="urea"]`), ""), chromedp.SendKeys(chromedp.CSS(`input[name="urea"]`), urea))
		saves("“尿素液位”应在 0 到 100 之间")
	}
	p.do("urea 100", chromedp.SetValue(chromedp.CSS(`input[name="urea"]`), ""), chromedp.SendKeys(chromedp.CSS(`input[name="urea"]`), "100"))
	p.click(`#save-vehicle`)
	p.waitJS("saved at the limits", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.syncIdle() // the one the save started

	// A new site.
	p.goHash("#/sites/new", `#site-form`)
	p.setLong(`#site-form input[name="name"]`, 201, false)
	p.click(`#save-site`)
	p.waitJS("the long name refused", `document.querySelector('#site-form .err').textContent.includes('“名称”最多 200 个字')`)
	p.setLong(`#site-form input[name="name"]`, 200, false)
	p.setLong(`#site-form input[name="address"]`, 501, false)
	p.click(`#save-site`)
	p.waitJS("the long address refused", `document.querySelector('#site-form .err').textContent.includes('“地址”最多 500 个字')`)
	if n := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js'); return (await app.client.list('site', (s) => s.pending.length > 0)).length; })()`); n != 0 {
		t.Errorf("refused, %d sites saved", n)
	}

	// An inspection: a note, a text answer and the summary past their
	// limits are said under them and not saved.
	insp := p.startInspection(site.ID, "construction_dust")
	p.answer("material_cover", "fail")
	p.setLong(`#item-material_cover textarea[data-note]`, 2001, true)
	p.waitJS("the long note refused", `document.querySelector('#item-material_cover .err[data-note-err]').textContent.includes('“备注”最多 2000 个字')`)
	p.setLong(`#item-muck_truck_plates textarea[data-input]`, 10001, true)
	p.waitJS("the long answer refused", `document.querySelector('#item-muck_truck_plates .err').textContent.includes('最多 10000 个字')`)
	p.setLong(`#summary`, 4001, true)
	p.waitJS("the long summary refused", `document.querySelector('#summary-error').textContent.includes('“检查小结”最多 4000 个字')`)
	stored := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js'); const i = await app.client.get('inspection', '`+insp+`');
		return JSON.stringify([i.fields['answers.material_cover'], i.fields['answers.muck_truck_plates'] ?? null, i.fields.summary ?? null]); })()`)
	if stored != `[{"result":"fail"},null,null]` {
		t.Errorf("refused, the inspection stored %s", stored)
	}
	// The note at its limit is saved (with the answer, and its finding's
	// description), and the inspection is submitted as it stands.
	p.setLong(`#item-material_cover textarea[data-note]`, 2000, true)
	p.waitJS("the note saved", `(async () => { const {app} = await import('/app/js/app.js'); const i = await app.client.get('inspection', '`+insp+`');
		const [f] = await app.client.list('finding', (r) => r.fields.inspection_id === '`+insp+`');
		return i.fields['answers.material_cover']?.note?.length === 2000 && f?.fields.description.endsWith('长'.repeat(2000)); })()`)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const {chinaTime} = await import('/app/js/ui.js');
		await app.client.save('inspection', '`+insp+`', {status: 'submitted', finished_at: chinaTime()}); return true; })()`)
	p.goHash("#/", `#sync-now`)
	p.click(`#sync-now`)
	p.waitSynced()
	if n := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js'); return (await app.client.rejected()).length; })()`); n != 0 {
		t.Fatalf("the server refused %d changes made at the limits: %s", n, p.text(`#rejected`))
	}
	checks, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H7E321")
	if err != nil || len(checks) != 1 || len([]rune(checks[0].Text("note"))) != 2000 || string(checks[0].Value("urea_level_pct")) != "100" {
		t.Fatalf("server: the roadside check at the limits: %d (%v)", len(checks), err)
	}

	// A finding's rectification note, once the office approved.
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	p.click(`#sync-now`)
	p.waitSynced()
	found, err := srv.App.DB.Find(ctx, "finding", "inspection_id", insp)
	if err != nil || len(found) != 1 {
		t.Fatalf("server: %d findings (%v), want 1", len(found), err)
	}
	p.goHash("#/finding/"+found[0].ID, `#rectify-form`)
	p.click(`#rectify-form button[data-value="rectifying"]`)
	p.setLong(`#rect-note`, 4001, false)
	p.click(`#save-rectification`)
	p.waitJS("the long rectification note refused", `document.querySelector('#finding-error').textContent.includes('“整改说明”最多 4000 个字')`)
	if s := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js'); return (await app.client.get('finding', '`+found[0].ID+`')).fields.status; })()`); s != "open" {
		t.Errorf("refused, the finding is %s", s)
	}
}

// TestBrowserRefusedCreateWording: a record the server refused as it was
// made reads as a new one refused (新建的…), whatever its kind, and an
// edit as an edit; the server's reason ends its sentence. (A roadside
// check refused for its note read 路检记录的一处修改被服务器拒绝：“备注”超过
// 2000 个字符 内容已保留在手机上.)
func TestBrowserRefusedCreateWording(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.setOffline(false)
	// A check the server has, then the values it refuses: as another app
	// on the SDK could save them (the app's forms hold them back).
	edited := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js'); const {chinaTime} = await import('/app/js/ui.js');
		const id = crypto.randomUUID();
		await app.client.save('vehicle_check', id, { county: '140902', plate: '晋H7E556', checkpoint: '豆罗检查站', checked_at: chinaTime() });
		return id; })()`)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	ids := eval[[]string](p, `(async () => { const {app} = await import('/app/js/app.js'); const {chinaTime} = await import('/app/js/ui.js');
		const check = crypto.randomUUID(), site = crypto.randomUUID();
		await app.client.save('vehicle_check', check, { county: '140902', plate: '晋H7E557', checkpoint: '豆罗检查站', checked_at: chinaTime(), note: '长'.repeat(2100) });
		await app.client.save('vehicle_check', '`+edited+`', { note: '长'.repeat(2100) });
		await app.client.save('site', site, { county: '140902', kind: 'coal_yard', name: '料'.repeat(201), active: true, radius_m: 200 });
		return [check, site]; })()`)
	p.click(`#sync-now`)
	p.waitSynced()
	p.waitJS("three refused", `document.querySelectorAll('#rejected li[data-key]').length === 3`)
	for _, c := range []struct{ id, want string }{
		{ids[0], "新建的路检记录被服务器拒绝：“备注”超过 2000 个字符。内容已保留在手机上"},
		{edited, "路检记录的一处修改被服务器拒绝：“备注”超过 2000 个字符。内容已保留在手机上"},
		{ids[1], "新建的点位被服务器拒绝：“名称”超过 200 个字符。内容已保留在手机上"},
	} {
		got := p.text(`#rejected li[data-key*="` + c.id + `"]`)
		if !strings.Contains(got, c.want) {
			t.Errorf("the refusal of %s reads:\n%s\nwant %q", c.id, got, c.want)
		}
	}
	card := p.text(`#rejected`)
	if strings.Contains(card, "字符 内容") {
		t.Errorf("a reason runs into the next sentence:\n%s", card)
	}
	// A new site's values the phone fills in itself are not listed.
	if strings.Contains(card, "active") {
		t.Errorf("the refused site's card lists a field by its code:\n%s", card)
	}
}
