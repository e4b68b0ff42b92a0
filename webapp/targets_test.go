package webapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// smallTargets lists what can be tapped on the page shown (links, buttons,
// fields, choice buttons) and is visible but smaller than 36 px in
// height or width: a finger's target, not a line of text's.
const smallTargets = `(() => {
	const out = [];
	for (const el of document.querySelectorAll('a[href], button, input:not([type=file]):not([type=hidden]), select, textarea, label.btn')) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
		if (el.closest('[hidden]')) continue;
		for (const rect of el.getClientRects()) {
			if (rect.height < 36 || rect.width < 36) {
				out.push((el.id ? '#' + el.id : el.tagName.toLowerCase()) + ' "' + (el.textContent || el.name || '').trim().slice(0, 20) + '" ' + Math.round(rect.width) + 'x' + Math.round(rect.height));
				break;
			}
		}
	}
	return out.join('\n');
})()`

// TestBrowserTapTargets: on the field app's pages at 390 px — home, a
// site, an inspection with items still missing, the roadside form — every
// link, button and field is at least 36 px each way, upright and held
// sideways. The 还缺 list's links
// to the missing items were a line of text high.
func TestBrowserTapTargets(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	check := func(page string) {
		t.Helper()
		if small := eval[string](p, smallTargets); small != "" {
			t.Errorf("%s: targets under 36 px:\n%s", page, small)
		}
	}
	check("home")
	p.goHash("#/site/"+site.ID, `button.start[data-template="coal_boiler"]`)
	check("the site")
	id := p.startInspection(site.ID, "coal_boiler")
	p.answer("no_new_boiler", "pass")
	p.wait(`#missing a`)
	if n := eval[int](p, `document.querySelectorAll('#missing a').length`); n == 0 {
		t.Fatal("no missing item listed")
	}
	check("the inspection")
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	check("the roadside form")

	// Held sideways (844×390) the title bar, the sticky 提交检查 and the
	// tabs leave at least 58% of the height to the inspection's form (they
	// took half of it), and the targets stay a finger's size.
	p.do("turn the phone sideways", chromedp.EmulateViewport(844, 390, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)))
	check("the roadside form sideways")
	p.goHash("#/inspection/"+id, `.sticky-actions`)
	check("the inspection sideways")
	room := eval[float64](p, `(document.querySelector('.sticky-actions').getBoundingClientRect().top -
		document.querySelector('#bar').getBoundingClientRect().bottom) / innerHeight`)
	if room < 0.58 {
		t.Errorf("sideways, the inspection's form has %.0f%% of the screen's height between the title bar and the sticky actions, want 58%% or more", room*100)
	}
}
