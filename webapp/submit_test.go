package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// offlineBoiler starts a coal-boiler inspection at a demo factory of
// 忻府区, offline, with every required item answered but the tonnage
// (na where it can be), and returns the server, the phone and its id.
func offlineBoiler(t *testing.T) (*apptest.Server, *phone, string) {
	t.Helper()
	srv, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.setOffline(true)
	insp := p.startInspection(site.ID, "coal_boiler")
	for _, k := range []string{"boiler_status", "boiler_retired", "no_coal_stock"} {
		p.answer(k, "na")
	}
	p.answer("no_new_boiler", "pass")
	return srv, p, insp
}

// TestBrowserSubmitRightAfterTyping: the last required value typed and
// 提交检查 tapped at once is submitted — the check waits for the value's
// save (it refused, naming the item just filled in, then the message
// vanished); and a note written on an item left unanswered, which is saved
// only with an answer, holds the submission back, saying so (it was
// shown on the phone and never reached the office), until the item is
// answered, when the note goes with it.
func TestBrowserSubmitRightAfterTyping(t *testing.T) {
	_, p, insp := offlineBoiler(t)

	// A note on the optional boiler number, not answered.
	p.typeIn(`#item-boiler_number textarea[data-note]`, "铭牌锈蚀看不清", `true`)
	eval[bool](p, `(document.activeElement.blur(), true)`)
	p.waitJS("the note said to wait for an answer", `!document.querySelector('[data-note-waits="boiler_number"]').hidden`)

	// The required tonnage typed, and 提交检查 tapped at once.
	p.do("type the tonnage", chromedp.SendKeys(chromedp.CSS(`#item-tonnage input[data-input]`), "20"))
	p.click(`#submit`)
	// Read as it is waited for: the tonnage's save draws the page again,
	// and between two drawings there is no message to read.
	p.waitJS("refused for the note, naming only the unanswered item with a note", `((msg) => msg.includes('备注要在作答后才会保存') &&
		msg.includes('编号') && !msg.includes('没有完成'))(document.querySelector('#insp-error')?.textContent || '')`)
	if got := eval[string](p, stored(insp, "tonnage")); !strings.Contains(got, `"value":20`) {
		t.Errorf("the tonnage typed before the tap: stored %s", got)
	}

	// Answered (not applicable): the note goes with the answer; submitted.
	p.answer("boiler_number", "na")
	p.waitJS("the note saved with the answer", stored(insp, "boiler_number")+`.then((s) => JSON.parse(s).answer?.note === '铭牌锈蚀看不清')`)
	p.click(`#submit`)
	p.waitJS("submitted", `document.querySelector('#status')?.textContent.includes('已提交')`)
}

// TestBrowserRoadsideSavedWithEnter: a vehicle saved with the keyboard's
// Enter (前往) while the plate field has the focus clears the form for the
// next vehicle, counts it, and what is typed next survives the page being
// drawn again (the old form stayed, its save button stuck at 正在保存…,
// and the next plate was wiped).
func TestBrowserRoadsideSavedWithEnter(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("fill and press Enter",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h55501"+kb.Enter))
	p.waitJS("saved and cleared", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆') &&
		document.querySelector('input[name="plate"]').value === '' && !document.querySelector('#save-vehicle').disabled &&
		document.querySelector('#save-vehicle').textContent === '保存，下一辆'`)
	p.do("the next plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h55502"))
	p.click(`[data-field="emission_stage"] button[data-value="cn5"]`)
	p.drawnAgain(`#vehicle-form`, `const {app} = await import('/app/js/app.js'); await app.render()`)
	if got := eval[string](p, `document.querySelector('input[name="plate"]').value + '|' + !!document.querySelector('[data-field="emission_stage"] button.on[data-value="cn5"]')`); got != "H55502|true" {
		t.Errorf("the next vehicle after a draw: %q, want H55502|true", got)
	}
}

// TestBrowserPhotoWhileTyping: a photo taken while the cursor is still in
// a text field (the page is not drawn again under the inspector's
// fingers) is shown at once in place of its 正在定位并保存… tile, not
// hidden until the field is left.
func TestBrowserPhotoWhileTyping(t *testing.T) {
	_, site, p, at := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	p.setOffline(true)
	p.startInspection(site.ID, "construction_dust")
	p.answer("fence", "pass")
	note := `#item-fence textarea[data-note]`
	p.do("type a note", chromedp.SendKeys(chromedp.CSS(note), "东侧围挡"))
	eval[bool](p, `(document.querySelector('`+note+`').focus(), document.querySelector('#item-fence').dataset.old = '1', true)`)
	p.do("take a photo", chromedp.SetUploadFiles(chromedp.CSS(`#item-fence input[type="file"]`), []string{jpeg(t, "fence.jpg", 8, near(at), "")}))
	p.waitJS("the photo shown while typing", `document.activeElement === document.querySelector('`+note+`') &&
		!!document.querySelector('#item-fence[data-old] .thumb[data-photo]:not([data-photo="saving"]) img[src^="blob:"]') &&
		!document.querySelector('#item-fence .thumb.saving')`)
	// Left, the page is drawn again: one tile, not two.
	eval[bool](p, `(document.activeElement.blur(), true)`)
	p.waitJS("drawn again with one photo", `!document.querySelector('#item-fence[data-old]') && document.querySelectorAll('#item-fence .thumb[data-photo]').length === 1`)
}

// TestBrowserStaleTabCannotEditSubmitted: an inspection open in two windows
// of the app (split screen) is submitted in one; an answer tapped in the
// other, still showing the draft, is not saved — the server would refuse it
// (locked until the office returns it), and the inspector was left two
// refusals to read, one calling a new finding a change to an old one.
func TestBrowserStaleTabCannotEditSubmitted(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	insp := p.startInspection(site.ID, "coal_boiler")
	for _, k := range []string{"boiler_status", "boiler_retired", "no_coal_stock", "boiler_number"} {
		p.answer(k, "na")
	}
	p.answer("no_new_boiler", "pass")
	p.typeIn(`#item-tonnage input[data-input]`, "20", stored(insp, "tonnage")+`.then((s) => s.includes('"value":20'))`)

	other := *p
	other.name = "second window"
	other.open()
	other.goHash("#/inspection/"+insp, `#submit`)
	other.click(`#submit`)
	other.waitJS("submitted there", `document.querySelector('#status')?.textContent.includes('已提交')`)

	if eval[int](p, `document.querySelectorAll('#submit').length`) == 0 {
		t.Skip("the first window was drawn again by itself: nothing stale to tap")
	}
	p.click(`#item-no_new_boiler button[data-value="fail"]`)
	p.waitJS("refused, saying why", `document.querySelector('#insp-error')?.textContent.includes('已提交') || !document.querySelector('#submit')`)
	if got := eval[string](p, stored(insp, "no_new_boiler")); !strings.Contains(got, `"pass"`) || !strings.Contains(got, `"finding":false`) {
		t.Errorf("the stale window's answer was saved to the submitted inspection, or opened a finding: %s", got)
	}
}

// TestBrowserSubmitAsks: 提交检查 asks first, saying what is sent, as a
// submitted inspection is the office's until returned (one tap submitted
// it): answered no, the draft stays a draft, editable; yes, it is
// submitted. Asked only once the inspection may be submitted.
func TestBrowserSubmitAsks(t *testing.T) {
	_, p, insp := offlineBoiler(t)
	eval[bool](p, `(window.confirm = (m) => { window.__asked = (window.__asked || []).concat(m); return false; }, true)`)
	// Not complete: refused without a question.
	p.click(`#submit`)
	p.waitJS("refused", `(document.querySelector('#insp-error')?.textContent || '').includes('没有完成')`)
	if n := eval[int](p, `(window.__asked || []).length`); n != 0 {
		t.Errorf("an inspection that cannot be submitted asked %d times", n)
	}
	p.do("type the tonnage", chromedp.SendKeys(chromedp.CSS(`#item-tonnage input[data-input]`), "20"))
	p.click(`#submit`)
	p.waitJS("asked", `(window.__asked || []).length === 1`)
	if got := eval[string](p, `window.__asked[0]`); !strings.Contains(got, "提交这次检查？") || !strings.Contains(got, "未发现问题") || !strings.Contains(got, "不能再修改") {
		t.Errorf("the question is %q", got)
	}
	status := `import('/app/js/app.js').then(({app}) => app.client.get('inspection', '` + insp + `')).then((r) => r.fields.status)`
	if got := eval[string](p, status); got != "draft" {
		t.Errorf("answered no, the inspection's status is %q", got)
	}
	if eval[int](p, `document.querySelectorAll('#submit').length`) != 1 {
		t.Error("answered no, the draft is no longer open to edit")
	}
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#submit`)
	p.waitJS("submitted", `document.querySelector('#status')?.textContent.includes('已提交')`)
}
