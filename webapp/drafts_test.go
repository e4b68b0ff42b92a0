package webapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// drawnAgain marks the view's element sel, runs start (something that makes
// the app draw the view again) and waits until the view is drawn anew: an
// unmarked sel is there.
func (p *phone) drawnAgain(sel, start string) {
	p.t.Helper()
	// The crew has put the phone down: no field has the focus, which would
	// hold the draw back.
	eval[bool](p, `(document.activeElement?.blur(), document.querySelector('`+sel+`').dataset.old = '1', true)`)
	eval[bool](p, `(async () => { `+start+`; return true; })()`)
	p.waitJS(sel+" drawn again", `!!document.querySelector('`+sel+`:not([data-old])')`)
}

// syncNow is what the minute's timer runs: an automatic sync, which ends
// by drawing the view again.
const syncNow = `const {app} = await import('/app/js/app.js'); await app.sync(false)`

// TestBrowserFormsSurviveSync: what a crew has typed and tapped in the
// roadside form, and an inspector in the new-site form, but not saved yet
// survives the page being drawn again by the minute's sync and by the sync
// on coming back from the camera app; saving stores it all and empties
// the form.
func TestBrowserFormsSurviveSync(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.URL, "checkpoint phone", near(at))
	p.signIn(apptest.Inspector)

	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="campaign"]`), "柴油货车冬季专项"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h88888"),
		chromedp.SendKeys(chromedp.CSS(`input[name="urea"]`), "3"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="note"]`), "尿素箱空"))
	choices := [][2]string{{"emission_stage", "cn4"}, {"obd_mil", "on"}, {"action", "fine"}, {"fuel", "diesel"}}
	for _, c := range choices {
		p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
	}
	form := `JSON.stringify([...document.querySelectorAll('#vehicle-form [name]')].filter((e) => e.type !== 'file').map((e) => e.name + '=' + e.value)
		.concat([...document.querySelectorAll('#vehicle-form .seg button.on')].map((b) => b.closest('.seg').dataset.field + ':' + b.dataset.value)))`
	filled := eval[string](p, form)
	want := `["checkpoint=豆罗检查站","campaign=柴油货车冬季专项","province=晋","plate=H88888","obd_codes=","urea=3","note=尿素箱空",` +
		`"emission_stage:cn4","fuel:diesel","obd_mil:on","action:fine"]`
	if filled != want {
		t.Fatalf("the filled form reads %s, want %s", filled, want)
	}

	p.drawnAgain(`#vehicle-form`, syncNow)
	if got := eval[string](p, form); got != want {
		t.Fatalf("after the minute's sync the form reads %s, want what was entered: %s", got, want)
	}
	// A photo, then the camera app closes: the page is visible again and
	// the app syncs.
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck.jpg", 3, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`)
	p.drawnAgain(`#vehicle-form`, `document.dispatchEvent(new Event('visibilitychange'))`)
	if got := eval[string](p, form); got != want {
		t.Fatalf("after the camera the form reads %s, want %s", got, want)
	}
	if n := eval[int](p, `document.querySelectorAll('#vehicle-photos .thumb img').length`); n != 1 {
		t.Errorf("after the camera the form shows %d photos, want 1", n)
	}

	p.click(`#save-vehicle`)
	// Saved, and the form drawn for the next vehicle (the record's save
	// draws the page once before its photos are saved, the form still
	// full: waited past, not read then).
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆') &&
		document.querySelector('input[name="plate"]').value === '' && !document.querySelector('#save-vehicle').disabled`)
	saved := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		const [r] = await app.client.list('vehicle_check', (x) => x.fields.plate === '晋H88888');
		const photos = await app.client.list('photo', (x) => x.fields.vehicle_check_id === r.id);
		const f = r.fields;
		return [f.checkpoint, f.campaign, f.plate, f.urea_level_pct, f.note, f.emission_stage, f.fuel, f.obd_mil, f.action, photos.length].join('|'); })()`)
	if w := "豆罗检查站|柴油货车冬季专项|晋H88888|3|尿素箱空|cn4|diesel|true|fine|1"; saved != w {
		t.Errorf("stored vehicle check: %s, want %s", saved, w)
	}
	// The next vehicle starts empty but for the checkpoint and campaign.
	next := `["checkpoint=豆罗检查站","campaign=柴油货车冬季专项","province=晋","plate=","obd_codes=","urea=","note="]`
	if got := eval[string](p, form); got != next {
		t.Errorf("the next vehicle's form reads %s, want %s", got, next)
	}
	if n := eval[int](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); n != 0 {
		t.Errorf("the next vehicle's form shows %d photos", n)
	}
	p.drawnAgain(`#vehicle-form`, syncNow)
	if got := eval[string](p, form); got != next {
		t.Errorf("the next vehicle's form after a sync reads %s, want %s", got, next)
	}

	// 清空本车 drops what was entered for a vehicle.
	p.do("another plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h12345"))
	p.click(`[data-field="fuel"] button[data-value="diesel"]`)
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#clear-vehicle`)
	p.waitJS("cleared", `document.querySelector('input[name="plate"]').value === '' && !document.querySelector('#vehicle-form .seg button.on')`)

	// The new-site form.
	p.goHash("#/sites/new", `#view form input[name="name"]`)
	p.do("fill the site",
		chromedp.SendKeys(chromedp.CSS(`#view form input[name="name"]`), "忻府区新发现洗砂点"),
		chromedp.SendKeys(chromedp.CSS(`#view form input[name="address"]`), "牧马河东岸"))
	kind := eval[string](p, `(() => { const s = document.querySelector('#view form select[name="kind"]');
		s.value = s.options[s.options.length - 1].value; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()`)
	site := `[...document.querySelectorAll('#view form [name]')].map((e) => e.value).join('|')`
	wantSite := "忻府区新发现洗砂点|" + kind + "|牧马河东岸"
	if got := eval[string](p, site); got != wantSite {
		t.Fatalf("the site form reads %s, want %s", got, wantSite)
	}
	p.drawnAgain(`#view form`, syncNow)
	if got := eval[string](p, site); got != wantSite {
		t.Fatalf("after the minute's sync the site form reads %s, want %s", got, wantSite)
	}
	p.click(`#view form button[type="submit"]`)
	p.waitJS("the site saved", `location.hash.startsWith('#/site/')`)
	stored := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		const [r] = await app.client.list('site', (x) => x.fields.name === '忻府区新发现洗砂点');
		return r ? [r.fields.name, r.fields.kind, r.fields.address].join('|') : ''; })()`)
	if stored != wantSite {
		t.Errorf("stored site: %q, want %q", stored, wantSite)
	}
	p.goHash("#/sites/new", `#view form input[name="name"]`)
	if got := eval[string](p, `document.querySelector('#view form input[name="name"]').value`); got != "" {
		t.Errorf("a new site's form after saving one has the name %q", got)
	}
}
