package webapp_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// tapAt taps the screen at (x, y) as a finger does (pointer down, up, a
// click of detail 1) and returns once the page has seen the click.
func (p *phone) tapAt(x, y float64) {
	p.t.Helper()
	before := eval[int](p, `window.__taps`)
	p.do("tap", chromedp.MouseClickXY(x, y))
	p.waitJS("the tap seen", `window.__taps > `+itoa(before))
}

// TestBrowserSecondTapWhereTheCardWent: 知道了 tapped twice quickly on a
// refused change dismissed the next one too, whose 知道了 slid up into
// its place (and on the superseded card, opened the inspection of 最近提交
// that took the card's). A tap where a draw has just put another control
// under the finger is not taken; a tap elsewhere ends that, and so does
// the time (app.tapGuardMs, long here so that a slow machine's test stays
// within it).
func TestBrowserSecondTapWhereTheCardWent(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	// Three roadside checks saved offline, refused out_of_scope once the
	// crew's county is taken away: three cards, each with its 知道了.
	for i, plate := range []string{"H54321", "H54322", "H54323"} {
		if i == 0 {
			p.retype(`input[name="checkpoint"]`, "豆罗检查站")
		}
		p.retype(`input[name="plate"]`, plate)
		for _, c := range [][2]string{{"plate_color", "黄"}, {"emission_stage", "cn6"}, {"fuel", "natural_gas"}, {"aftertreatment", "present"}} {
			p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
		}
		p.click(`#save-vehicle`)
		p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 `+itoa(i+1)+` 辆')`)
	}
	if err := srv.App.DB.SetUserCounties(ctx, apptest.Inspector, []string{apptest.Dingxiang}); err != nil {
		t.Fatal(err)
	}
	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitJS("three refused", `document.querySelectorAll('#rejected li button[data-dismiss]').length === 3`)

	// Every click the page sees is counted as it arrives (window, capture)
	// and as it leaves its target (window, bubbling): a click not taken
	// is stopped between the two.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		app.tapGuardMs = 60000;
		window.__taps = 0; window.__taken = 0;
		window.addEventListener('click', () => window.__taps++, true);
		window.addEventListener('click', () => window.__taken++);
		document.querySelector('#rejected li button[data-dismiss]').scrollIntoView({ block: 'center' });
		return true; })()`)
	type point struct{ X, Y float64 }
	at := eval[point](p, `(() => { const r = document.querySelector('#rejected li button[data-dismiss]').getBoundingClientRect();
		return { X: r.left + r.width / 2, Y: r.top + r.height / 2 }; })()`)
	under := func() string {
		return eval[string](p, `document.elementFromPoint(`+ftoa(at.X)+`, `+ftoa(at.Y)+`)?.closest('button')?.dataset.dismiss || ''`)
	}
	keys := eval[[]string](p, `[...document.querySelectorAll('#rejected li button[data-dismiss]')].map((b) => b.dataset.dismiss)`)
	if under() != keys[0] {
		t.Fatalf("the first 知道了 is not at the point tapped (%q, want %q)", under(), keys[0])
	}

	// The first tap dismisses the first card; the second card's 知道了
	// is then where the finger is.
	p.tapAt(at.X, at.Y)
	p.waitJS("the first dismissed", `document.querySelectorAll('#rejected li button[data-dismiss]').length === 2`)
	if got := under(); got != keys[1] {
		t.Fatalf("after the first card went, %q is under the finger, want the second card's 知道了 %q (the test taps nothing new)", got, keys[1])
	}
	// The second tap, there, is not taken.
	p.tapAt(at.X, at.Y)
	if taken := eval[int](p, `window.__taken`); taken != 1 {
		t.Fatalf("the second tap, where the next card's 知道了 had just come, was taken (%d clicks reached their target, want 1)", taken)
	}
	if n := eval[int](p, `document.querySelectorAll('#rejected li button[data-dismiss]').length`); n != 2 {
		t.Fatalf("%d refused cards after the second tap, want 2", n)
	}

	// A tap elsewhere (the card's heading) ends the guard: the next tap
	// there dismisses the second card. The guard then lasts no time at
	// all, so that the third card's 知道了, come under the finger, is
	// taken by the next tap.
	head := eval[point](p, `(() => { const r = document.querySelector('#rejected h2').getBoundingClientRect();
		return { X: r.left + 8, Y: r.top + r.height / 2 }; })()`)
	p.tapAt(head.X, head.Y)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); app.tapGuardMs = 0; return true; })()`)
	p.tapAt(at.X, at.Y)
	p.waitJS("the second dismissed", `document.querySelectorAll('#rejected li button[data-dismiss]').length === 1`)
	if got := under(); got != keys[2] {
		t.Fatalf("after the second card went, %q is under the finger, want the third card's 知道了 %q", got, keys[2])
	}
	p.tapAt(at.X, at.Y)
	p.waitJS("the third dismissed", `document.querySelector('#rejected') === null`)
}

// TestBrowserRoadsideDoubleSave (phone probe): 保存，下一辆 tapped twice
// saves one vehicle, and the second tap, on the form drawn anew for the
// next, says nothing — it said 车牌号格式不对 in red under the empty plate;
// a save of that empty form tapped again says 请填写车牌号, not that an
// empty plate is in the wrong form.
func TestBrowserRoadsideDoubleSave(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.retype(`input[name="checkpoint"]`, "豆罗检查站")
	p.retype(`input[name="plate"]`, "H54321")
	for _, c := range [][2]string{{"plate_color", "黄"}, {"emission_stage", "cn6"}, {"fuel", "natural_gas"}, {"aftertreatment", "present"}} {
		p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
	}
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆') && !document.querySelector('#save-vehicle').disabled`)
	said := `(document.querySelector('#vehicle-form').textContent.match(/请填写车牌号|车牌号格式不对/) || [''])[0]`
	p.click(`#save-vehicle`)
	if got := eval[string](p, said); got != "" || eval[bool](p, `document.querySelector('input[name="plate"]').hasAttribute('aria-invalid')`) {
		t.Errorf("the second tap of a double tap on the emptied form said %q", got)
	}
	p.click(`#save-vehicle`)
	p.waitJS("an empty plate said", said+` !== ''`)
	if got := eval[string](p, said); got != "请填写车牌号" {
		t.Errorf("saving with no plate says %q, want 请填写车牌号", got)
	}
	if got := p.text(`#vehicle-today h2`); !strings.Contains(got, "今天已检 1 辆") {
		t.Errorf("after the taps: %s", got)
	}
}
