package webapp_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// stored is a JavaScript expression (a promise): the phone's stored answer
// to item key of inspection insp, and whether the item has a finding, as
// JSON: {"answer": …, "finding": true|false}.
func stored(insp, key string) string {
	return `(async () => { const {app} = await import('/app/js/app.js'); const {answersOf} = await import('/app/js/checklist.js');
		const answer = answersOf(await app.client.get('inspection', '` + insp + `'))['` + key + `'] ?? null;
		const findings = await app.client.list('finding', (r) => r.fields.inspection_id === '` + insp + `' && r.fields.item_key === '` + key + `' && !r.deleted);
		return JSON.stringify({answer, finding: findings.length > 0}); })()`
}

// TestBrowserNoteAfterAnswer: an inspector changes an item from 不合格 to
// 合格 and at once explains it in the item's note. The note is saved with
// 合格 (not with the 不合格 the page showed when it was drawn), the finding
// is dropped, and the page is not drawn again under the inspector's
// fingers while they type. A note typed on an item not answered yet
// survives closing the app, and is saved with the answer.
func TestBrowserNoteAfterAnswer(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.setOffline(true) // no sync in the background
	p.goHash("#/site/"+site.ID, `button.start[data-template="construction_dust"]`)
	p.click(`button.start[data-template="construction_dust"]`)
	p.wait(`#inspection`)
	insp := eval[string](p, `document.querySelector('#inspection').dataset.id`)
	const note = "已当场整改"
	want := `{"answer":{"result":"pass","note":"` + note + `"},"finding":false}`

	// The note's change comes before the tap on 合格 is saved.
	p.answer("material_cover", "fail")
	p.wait(`[data-finding-for="material_cover"]`)
	eval[bool](p, `(() => { const card = document.querySelector('#item-material_cover'); card.dataset.old = '1';
		card.querySelector('button[data-value="pass"]').click();
		const n = card.querySelector('textarea[data-note]'); n.value = '`+note+`'; n.dispatchEvent(new Event('change'));
		return true; })()`)
	p.waitJS("both saved and shown", `(async () => !document.querySelector('#item-material_cover[data-old]') &&
		document.querySelector('#item-material_cover textarea[data-note]').value === '`+note+`' &&
		JSON.parse(await `+stored(insp, "material_cover")+`).answer?.note === '`+note+`')()`)
	if got := eval[string](p, stored(insp, "material_cover")); got != want {
		t.Errorf("合格, then a note at once: stored %s, want %s", got, want)
	}
	p.waitJS("the page shows 合格 without a finding", `!!document.querySelector('#item-material_cover button.on[data-value="pass"]') &&
		!document.querySelector('[data-finding-for="material_cover"]')`)

	// The inspector is in the note when the tap on 合格 is saved: the page
	// shows 合格 but is not drawn again while they type.
	p.answer("online_monitor", "fail")
	p.wait(`[data-finding-for="online_monitor"]`)
	noteField := `#item-online_monitor textarea[data-note]`
	eval[bool](p, `(() => { const n = document.querySelector('`+noteField+`'); n.dataset.typing = '1';
		document.querySelector('#item-online_monitor button[data-value="pass"]').click(); n.focus(); return true; })()`)
	p.waitJS("合格 saved and shown", `(async () => !!document.querySelector('#item-online_monitor button.on[data-value="pass"]') &&
		!document.querySelector('#item-online_monitor button.on[data-value="fail"]') &&
		JSON.parse(await `+stored(insp, "online_monitor")+`).answer?.result === 'pass')()`)
	if !eval[bool](p, `!!document.querySelector('`+noteField+`[data-typing]') && document.activeElement === document.querySelector('`+noteField+`')`) {
		t.Fatalf("the note field was drawn again (or lost the focus) while the inspector was in it")
	}
	p.do("type the note", chromedp.SendKeys(chromedp.CSS(noteField), note))
	eval[bool](p, `(document.querySelector('`+noteField+`').blur(), true)`)
	p.waitJS("the note saved and shown", `(async () => !document.querySelector('`+noteField+`[data-typing]') &&
		document.querySelector('`+noteField+`').value === '`+note+`' &&
		JSON.parse(await `+stored(insp, "online_monitor")+`).answer?.note === '`+note+`')()`)
	if got := eval[string](p, stored(insp, "online_monitor")); got != want {
		t.Errorf("合格, then a note typed while it was saved: stored %s, want %s", got, want)
	}
	if n := eval[int](p, `document.querySelectorAll('[data-finding-for="online_monitor"]').length`); n != 0 {
		t.Errorf("the page still shows the finding of online_monitor")
	}

	// A note on an item not answered yet is kept on the phone.
	early := "监控室锁门，未能查看"
	p.typeIn(`#item-video_monitor textarea[data-note]`, early,
		`(localStorage.getItem('fieldsync.pending-notes') || '').includes('`+early+`')`)
	p.reopen()
	p.goHash("#/inspection/"+insp, `#item-video_monitor textarea[data-note]`)
	if got := eval[string](p, `document.querySelector('#item-video_monitor textarea[data-note]').value`); got != early {
		t.Fatalf("after reopening the app the unanswered item's note is %q, want %q", got, early)
	}
	p.answer("video_monitor", "pass")
	p.waitJS("the note saved with the answer", `(async () => JSON.parse(await `+stored(insp, "video_monitor")+`).answer?.note === '`+early+`')()`)
	p.reopen()
	p.goHash("#/inspection/"+insp, `#item-video_monitor button.on[data-value="pass"]`)
	if got := eval[string](p, `document.querySelector('#item-video_monitor textarea[data-note]').value`); got != early {
		t.Errorf("after answering and reopening, the note is %q, want %q", got, early)
	}

	// A redraw begun before the inspector went into a field (the one
	// after a tap, a sync's) does not replace the page once they are in
	// it: nothing they type is lost, and it is drawn when they leave.
	later := "，已联系物业"
	field := `#item-video_monitor textarea[data-note]`
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const n = document.querySelector('`+field+`');
		n.dataset.typing = '1'; const drawn = app.render(); n.focus(); await drawn; return true; })()`)
	if !eval[bool](p, `!!document.querySelector('`+field+`[data-typing]') && document.activeElement === document.querySelector('`+field+`')`) {
		t.Fatalf("a redraw begun before the inspector went into the note replaced the field under their fingers")
	}
	p.do("type more", chromedp.SendKeys(chromedp.CSS(field), later))
	eval[bool](p, `(document.querySelector('`+field+`').blur(), true)`)
	p.waitJS("the note saved whole, the page drawn again", `(async () => !document.querySelector('`+field+`[data-typing]') &&
		JSON.parse(await `+stored(insp, "video_monitor")+`).answer?.note === '`+early+later+`')()`)

	// Nor under a finger: a redraw begun before a finger came down on a
	// button (a sync ending) leaves the button where it is until the
	// finger is lifted — the tap is not lost — and draws after.
	button := `#item-video_monitor button[data-value="fail"]`
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const b = document.querySelector('`+button+`');
		b.dataset.pressed = '1'; const drawn = app.render(); b.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true})); await drawn; return true; })()`)
	if !eval[bool](p, `!!document.querySelector('`+button+`[data-pressed]')`) {
		t.Fatalf("a redraw begun before the finger came down replaced the button under it")
	}
	eval[bool](p, `(document.querySelector('`+button+`').dispatchEvent(new PointerEvent('pointerup', {bubbles: true})), true)`)
	p.waitJS("drawn once the finger is lifted", `!document.querySelector('`+button+`[data-pressed]')`)

	// A number answered with a note, then cleared: the answer is gone, the
	// note waits for the next one.
	pm10 := `#item-pm10_reading input[data-input]`
	p.typeIn(pm10, "128", `(async () => JSON.parse(await `+stored(insp, "pm10_reading")+`).answer?.value === 128)()`)
	p.typeIn(`#item-pm10_reading textarea[data-note]`, "仪表读数",
		`(async () => JSON.parse(await `+stored(insp, "pm10_reading")+`).answer?.note === '仪表读数')()`)
	eval[bool](p, `(() => { const i = document.querySelector('`+pm10+`'); i.value = ''; i.dispatchEvent(new Event('change')); return true; })()`)
	p.waitJS("the number cleared", `(async () => JSON.parse(await `+stored(insp, "pm10_reading")+`).answer === null &&
		document.querySelector('`+pm10+`').value === '' && document.querySelector('#item-pm10_reading textarea[data-note]').value === '仪表读数')()`)
	p.typeIn(pm10, "86", `(async () => JSON.stringify(JSON.parse(await `+stored(insp, "pm10_reading")+`).answer) === '{"value":86,"note":"仪表读数"}')()`)

	// A number out of range is refused with a message; the page drawn
	// again (a sync's redraw) keeps what was typed and the message, until
	// it is corrected.
	errOf := `document.querySelector('#item-pm10_reading p.err').textContent`
	eval[bool](p, `(() => { const i = document.querySelector('`+pm10+`'); i.value = '6000'; i.dispatchEvent(new Event('change')); return true; })()`)
	p.waitJS("out of range refused", errOf+` !== ''`)
	msg := eval[string](p, errOf)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); document.querySelector('#item-pm10_reading').dataset.old = '1'; await app.render(); return true; })()`)
	p.wait(`#item-pm10_reading:not([data-old])`)
	if got := eval[string](p, `document.querySelector('`+pm10+`').value + '|' + `+errOf); got != "6000|"+msg {
		t.Errorf("after a redraw the refused number and its message read %q, want %q", got, "6000|"+msg)
	}
	if got := eval[string](p, `(async () => JSON.stringify(JSON.parse(await `+stored(insp, "pm10_reading")+`).answer))()`); got != `{"value":86,"note":"仪表读数"}` {
		t.Errorf("the refused number was stored: %s", got)
	}
	eval[bool](p, `(() => { const i = document.querySelector('`+pm10+`'); i.value = '95'; i.dispatchEvent(new Event('change')); return true; })()`)
	p.waitJS("corrected", `(async () => JSON.parse(await `+stored(insp, "pm10_reading")+`).answer?.value === 95)()`)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); await app.render(); return true; })()`)
	if got := eval[string](p, `document.querySelector('`+pm10+`').value + '|' + `+errOf); got != "95|" {
		t.Errorf("after the correction and a redraw the field reads %q, want 95 and no message", got)
	}
	// A file that is no photo is refused with a message under the item,
	// which the redraw that follows keeps, until a photo is taken for it.
	notPhoto := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notPhoto, []byte("not a picture"), 0o600); err != nil {
		t.Fatal(err)
	}
	camErr := `document.querySelector('#item-material_cover p.err').textContent`
	p.do("pick a file that is no photo", chromedp.SetUploadFiles(chromedp.CSS(`#item-material_cover input[type="file"]`), []string{notPhoto}))
	p.waitJS("refused", camErr+`.includes('不是照片')`)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); document.querySelector('#item-material_cover').dataset.old = '1'; await app.render(); return true; })()`)
	p.wait(`#item-material_cover:not([data-old])`)
	if got := eval[string](p, camErr); !strings.Contains(got, "不是照片") {
		t.Errorf("after a redraw the item's message reads %q, want the refusal", got)
	}
	p.photo("material_cover", jpeg(t, "cover.jpg", 3, near(at), ""))
	p.waitJS("the message gone with a photo taken", camErr+` === ''`)
}

// TestBrowserReturnedInspection: an inspection saved with bare answers (an
// older app's, the demo's: "fail", 1200, false …, which sync.md §9.1 reads
// as the objects they stand for) and returned by the office shows its
// answers — the buttons chosen, the numbers and texts filled — where it
// used to look unanswered. Changed from 不合格 to 合格 there, an item's
// finding goes, as in a draft. A number typed and not yet left survives
// the page being closed.
func TestBrowserReturnedInspection(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	api := srv.Login(apptest.Inspector)
	insp, finding, rectifying := uuid.NewString(), uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, api,
		apptest.Mut(api, syncproto.EntityInspection, insp, apptest.Fields("site_id", site.ID, "template_id", "staggered_production",
			"template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00",
			"answers.alert_level", "orange", "answers.emergency_plan_on_site", "fail", "answers.daily_power_kwh", 1200,
			"answers.unannounced_check", false, "answers.remarks", "夜间停产", "answers.abatement_running", "fail")),
		apptest.Mut(api, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "item_key", "emergency_plan_on_site",
			"description", "应急减排方案在现场：不合格", "severity", "major", "status", "open")),
		apptest.Mut(api, syncproto.EntityFinding, rectifying, apptest.Fields("inspection_id", insp, "item_key", "abatement_running",
			"description", "污染治理设施正常运行：不合格。除尘器停运", "severity", "major", "status", "rectifying")))
	apptest.PushApplied(t, api, apptest.Mut(api, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	if err := srv.Login(apptest.CountyOffice).Do(ctx, http.MethodPost, "/api/v1/inspections/"+insp+"/review",
		map[string]string{"decision": "return", "comment": "方案已在现场，请改正"}, nil); err != nil {
		t.Fatal(err)
	}

	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	p.goHash("#/inspection/"+insp, `#item-remarks textarea`)
	on := func(item string) string {
		return eval[string](p, `[...document.querySelectorAll('#item-`+item+` .seg button.on')].map((b) => b.textContent).join(',')`)
	}
	for item, want := range map[string]string{"alert_level": "橙色", "emergency_plan_on_site": "不合格", "unannounced_check": "否"} {
		if got := on(item); !strings.Contains(got, want) {
			t.Errorf("item %s shows %q chosen, want %s", item, got, want)
		}
	}
	if got := eval[string](p, `document.querySelector('#item-daily_power_kwh input').value`); got != "1200" {
		t.Errorf("the number reads %q, want 1200", got)
	}
	if got := eval[string](p, `document.querySelector('#item-remarks textarea').value`); got != "夜间停产" {
		t.Errorf("the text reads %q", got)
	}
	if eval[bool](p, `!!document.querySelector('#discard')`) {
		t.Error("a returned inspection (one the office has) offers to be discarded")
	}

	p.click(`#item-emergency_plan_on_site .seg button[data-value="pass"]`)
	p.waitJS("the finding dropped", stored(insp, "emergency_plan_on_site")+`.then((s) => !JSON.parse(s).finding)`)

	// A note on an item whose finding is being rectified (not open): the
	// note is saved with the answer; the finding's description, which
	// the rectification answers, stays as it was (sync.md 9.1: it
	// follows the answer while it is open).
	p.typeIn(`#item-abatement_running textarea[data-note]`, "门口设备已修复", stored(insp, "abatement_running")+`.then((s) => JSON.parse(s).answer?.note === '门口设备已修复')`)
	if got := eval[string](p, `import('/app/js/views/inspection.js').then(({answersSaved}) => answersSaved()).then(() => import('/app/js/app.js'))
		.then(async ({app}) => (await app.client.get('finding', '`+rectifying+`')).fields.description)`); got != "污染治理设施正常运行：不合格。除尘器停运" {
		t.Errorf("the description of a finding being rectified became %q", got)
	}

	// A number typed, the field not left, the page closed. The field is
	// focused first, as a finger does: a draw of the page still under way
	// (the finding dropped) then keeps the page typed in (app.js render),
	// where it would otherwise replace the field between its clearing and
	// the keys (and the keys, sent again to the new field, land after its
	// 1200).
	eval[bool](p, `(() => { const el = document.querySelector('#item-daily_power_kwh input'); el.focus(); el.value = ''; return true; })()`)
	p.do("type a number", chromedp.SendKeys(chromedp.CSS(`#item-daily_power_kwh input`), "1350"))
	p.reopen()
	p.goHash("#/inspection/"+insp, `#item-daily_power_kwh input`)
	p.waitJS("the number kept", `document.querySelector('#item-daily_power_kwh input').value === '1350'`)
	p.waitJS("and saved", stored(insp, "daily_power_kwh")+`.then((s) => JSON.parse(s).answer?.value === 1350)`)
}

// TestBrowserPhotoLostOnReload: a photo chosen while the page waited for
// the phone's position, the page killed before it was stored: opened
// again, the item says a photo was not kept (it used to say nothing but
// 缺照片). A photo stored normally leaves no such notice.
func TestBrowserPhotoLostOnReload(t *testing.T) {
	p, insp := startedInspection(t)
	const item = "emergency_plan_on_site"
	p.photo(item, jpeg(t, "plan.jpg", 31, geo.Point{Lon: 112.73, Lat: 38.42}, ""))
	p.waitJS("stored", `document.querySelectorAll('#item-`+item+` .thumb[data-photo]:not([data-photo="saving"])').length === 1`)
	if got := p.text(`#item-` + item + ` p.err`); got != "" {
		t.Errorf("after a photo stored normally the item says %q", got)
	}
	// As the page left it when killed while a second one was being saved.
	eval[bool](p, `(async () => { const d = await import('/app/js/drafts.js'); d.draft('shots')['`+insp+`/`+item+`'] = 1; d.keepDrafts(); return true; })()`)
	p.reopen()
	p.goHash("#/inspection/"+insp, `#item-`+item)
	p.waitJS("the notice", `document.querySelector('#item-`+item+` p.err').textContent.includes('1 张照片没有保存下来')`)
	// Said once: drawn again, the item keeps the notice until a photo is
	// taken, and no second count piles up.
	if n := eval[int](p, `(async () => Object.keys((await import('/app/js/drafts.js')).draft('shots')).length)()`); n != 0 {
		t.Errorf("%d lost-photo counts left in the drafts", n)
	}
	// Another picture: the same file again (the same second's EXIF) is
	// skipped as a repeat (ci-local: within one second of the first).
	p.photo(item, jpeg(t, "plan2.jpg", 32, geo.Point{Lon: 112.73, Lat: 38.42}, ""))
	p.waitJS("the notice gone", `document.querySelector('#item-`+item+` p.err').textContent === ''`)
}

// TestBrowserFindingFollowsItsNote: a failed item's note reaches its open
// finding's description even when the page died between the answer's
// save and the finding's (two writes): the next draw of the inspection
// puts the description right. (The note stayed out of the finding for
// good, and the office's notice to the company lacked what was seen.)
func TestBrowserFindingFollowsItsNote(t *testing.T) {
	p, insp := startedInspection(t)
	p.answer("abatement_running", "fail")
	finding := `(async () => { const {app} = await import('/app/js/app.js');
		const [f] = await app.client.list('finding', (r) => r.fields.inspection_id === '` + insp + `' && r.fields.item_key === 'abatement_running' && !r.deleted);
		return f ? f.fields.description : ''; })()`
	p.waitJS("the finding opened", finding+`.then((d) => d !== '')`)
	// The answer saved with its note, the finding not: as a page killed
	// between the two writes leaves them.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		await app.client.save('inspection', '`+insp+`', {'answers.abatement_running': {result: 'fail', note: '除尘器停运，烟囱冒黑烟'}}); return true; })()`)
	p.goHash("#/", `#sync-card`)
	p.goHash("#/inspection/"+insp, `#item-abatement_running`)
	p.waitJS("the finding follows the note", finding+`.then((d) => d === '污染治理设施正常运行：不合格。除尘器停运，烟囱冒黑烟')`)
}

// TestBrowserTapShownAtOnce (phone probe): an answer tapped shows pressed
// at once, before it is saved, and taps in quick succession never show
// an answer the inspector has moved away from — each draw of a save
// before the last showed its own (合格 → 不合格 → 合格, settling a second
// or more after the taps). The last tap is what is saved.
func TestBrowserTapShownAtOnce(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	id := p.startInspection(site.ID, "construction_dust")
	item := `#item-material_cover`
	// Every state the item's buttons show, as it is shown (a mutation
	// observer on the page, the buttons' pressed one after each change).
	eval[bool](p, `(() => { window.shown = [];
		const seen = () => { const b = document.querySelector('`+item+` .seg button[aria-pressed="true"]'); const v = b ? b.dataset.value : '';
			if (window.shown[window.shown.length - 1] !== v) window.shown.push(v); };
		window.watch = new MutationObserver(seen);
		window.watch.observe(document.getElementById('view'), { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-pressed'] });
		return true; })()`)
	for _, v := range []string{"fail", "pass", "na", "fail"} {
		// The tap's own handler has run when the click returns.
		eval[bool](p, `(document.querySelector('`+item+` .seg button[data-value="`+v+`"]').click(), true)`)
		if got := eval[string](p, `document.querySelector('`+item+` .seg button[aria-pressed="true"]')?.dataset.value || ''`); got != v {
			t.Fatalf("tapped %s: %q shows pressed at once", v, got)
		}
	}
	// Settled: saved as the last tap, and drawn so.
	eval[bool](p, `import('/app/js/views/inspection.js').then((m) => m.answersSaved()).then(() => true)`)
	p.waitJS("drawn as saved", `(async () => { const {app} = await import('/app/js/app.js'); const i = await app.client.get('inspection', '`+id+`');
		return i.fields['answers.material_cover']?.result === 'fail' && document.querySelector('`+item+` .seg button[aria-pressed="true"]')?.dataset.value === 'fail'; })()`)
	shown := eval[[]string](p, `(window.watch.disconnect(), window.shown)`)
	// Shown: each tap in turn, and after the last nothing but it.
	want := []string{"fail", "pass", "na", "fail"}
	if len(shown) < len(want) || strings.Join(shown[:len(want)], ",") != strings.Join(want, ",") || len(shown) != len(want) {
		t.Errorf("the item showed %v, want the taps %v and nothing after", shown, want)
	}
}
