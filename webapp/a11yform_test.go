package webapp_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestBrowserItemsByKeyboard (a11y probe): each checklist item's question
// is a heading to jump by; a link of 还缺 N 项 takes the keyboard to its
// item, not only the screen (the focus stayed on the link, off screen);
// an item's error is tied to its field (aria-describedby, aria-invalid
// while it stands); a control gone from the page drawn again leaves the
// focus on the heading, not on the page's body; photos are named with
// their item.
func TestBrowserItemsByKeyboard(t *testing.T) {
	_, site, p, at := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	id := p.startInspection(site.ID, "coal_boiler")
	// A photo is named with its item, on its tile and in the viewer.
	p.photo("boiler_status", jpeg(t, "boiler.jpg", 31, near(at), ""))
	if got := eval[string](p, `document.querySelector('#item-boiler_status .thumb img').alt`); got != "照片：锅炉现状" {
		t.Errorf("the photo's tile image is named %q, want 照片：锅炉现状", got)
	}
	// Two of one item are told apart (phone probe: both read alike).
	p.photo("boiler_status", jpeg(t, "boiler2.jpg", 32, near(at), ""))
	p.waitJS("both named in turn", `[...document.querySelectorAll('#item-boiler_status .thumb img')].map((i) => i.alt).join('|') === '照片：锅炉现状（第 1 张，共 2 张）|照片：锅炉现状（第 2 张，共 2 张）'`)
	if n := eval[int](p, `document.querySelectorAll('.itemcard').length - document.querySelectorAll('.itemcard > h2.q').length`); n != 0 {
		t.Errorf("%d items without a heading", n)
	}

	// 还缺 N 项: each link to its item, by the keyboard.
	p.wait(`#missing a`)
	for i := range 2 {
		link := `#missing a:nth-of-type(` + itoa(i+1) + `)`
		p.do("focus "+link, chromedp.Focus(chromedp.CSS(link)))
		p.do("press Enter", chromedp.KeyEvent(kb.Enter))
		got := eval[string](p, `document.activeElement.closest('.itemcard')?.querySelector('h2.q')?.firstChild?.textContent || document.activeElement.tagName`)
		if want := eval[string](p, `document.querySelector('`+link+`').textContent`); got != want {
			t.Errorf("link %q: the focus is in %q, want its item", want, got)
		}
	}

	// An item lacking only its photo: its link takes the keyboard to the
	// camera, not to 合格 (a11y verification probe).
	p.answer("boiler_retired", "pass")
	name := eval[string](p, `document.querySelector('#item-boiler_retired h2.q').firstChild.textContent`)
	p.waitJS("the item listed for its photo", `[...document.querySelectorAll('#missing a')].some((a) => a.textContent === '`+name+`')`)
	// Followed as Enter does (a click of detail 0), the focus read in the
	// same task: Enter's keypress, which a key event sends after, would
	// land on the file input and open the file chooser.
	if got := eval[string](p, `(() => { const l = [...document.querySelectorAll('#missing a')].find((a) => a.textContent === '`+name+`');
		l.focus(); l.click();
		const a = document.activeElement; return a.closest('.itemcard')?.id + ' ' + a.tagName + ' ' + (a.getAttribute('type') || ''); })()`); got != "item-boiler_retired INPUT file" {
		t.Errorf("the link to an item lacking its photo took the focus to %q, want its camera (item-boiler_retired INPUT file)", got)
	}

	// A number out of range: the field is invalid and described by its
	// error, until corrected.
	num := `#item-tonnage input[data-input="tonnage"]`
	// Typed through the page (chromedp's own node reads race with the
	// attribute changes this checks, under -race).
	typeNum := func(v string) {
		t.Helper()
		eval[bool](p, `(() => { const f = document.querySelector('`+num+`'); f.focus(); f.value = '`+v+`';
			f.dispatchEvent(new Event('input', { bubbles: true })); f.dispatchEvent(new Event('change', { bubbles: true })); f.blur(); return true; })()`)
	}
	typeNum("5000")
	p.waitJS("the field marked invalid", `document.querySelector('`+num+`')?.getAttribute('aria-invalid') === 'true'`)
	desc := eval[string](p, `(() => { const f = document.querySelector('`+num+`'); return (f.getAttribute('aria-describedby') || '').split(' ').map((i) => document.getElementById(i)?.textContent || '').join('|'); })()`)
	if !strings.Contains(desc, "额定蒸发量") {
		t.Errorf("the field is described by %q, want its error", desc)
	}
	// Not the item's note, which is not what is wrong.
	if got := eval[string](p, `document.querySelector('#item-tonnage textarea[data-note]').getAttribute('aria-invalid') || ''`); got != "" {
		t.Errorf("a value out of range marks the item's note aria-invalid=%q", got)
	}
	// Corrected, still in the field: the error goes as the value fits.
	eval[bool](p, `(() => { const f = document.querySelector('`+num+`'); f.focus(); f.value = '1';
		f.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	if got := eval[string](p, `document.querySelector('#item-tonnage p.err').textContent + '|' + (document.querySelector('`+num+`').getAttribute('aria-invalid') || '')`); got != "|" {
		t.Errorf("a value in range typed, the field not left: error|mark = %q, want both gone", got)
	}
	typeNum("10")
	p.waitJS("the field valid again", `!document.querySelector('`+num+`')?.hasAttribute('aria-invalid') && !document.querySelector('#item-tonnage p.err')?.textContent`)
	// A note too long: the note is marked, with its own error, and the
	// value is not.
	eval[bool](p, `(() => { const n = document.querySelector('#item-tonnage textarea[data-note]'); n.value = '长'.repeat(2001);
		n.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
	// (Said by the note's own error, or, once the page is drawn again
	// with the text kept, by how much it is over: both on the note.)
	p.waitJS("the note marked, described by its error", `(() => { const n = document.querySelector('#item-tonnage textarea[data-note]');
		return n?.getAttribute('aria-invalid') === 'true' && (n.getAttribute('aria-describedby') || '').split(' ').some((i) => document.getElementById(i)?.textContent.includes('最多 2000 个字')); })()`)
	if got := eval[string](p, `document.querySelector('`+num+`').getAttribute('aria-invalid') || ''`); got != "" {
		t.Errorf("a note too long marks the item's value aria-invalid=%q", got)
	}
	eval[bool](p, `(() => { const n = document.querySelector('#item-tonnage textarea[data-note]'); n.value = '短';
		n.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
	p.waitJS("the note valid again", `!document.querySelector('#item-tonnage textarea[data-note]')?.hasAttribute('aria-invalid')`)

	// 放弃这次检查 focused, then gone (the inspection submitted elsewhere):
	// the heading has the focus.
	p.do("focus 放弃这次检查", chromedp.Focus(chromedp.CSS(`#discard`)))
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		await app.client.save('inspection', '`+id+`', { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' });
		app.render(); return true; })()`)
	p.waitJS("the page drawn without 放弃这次检查", `!document.getElementById('discard')`)
	if got := eval[string](p, `document.activeElement.tagName`); got != "H1" {
		t.Errorf("the focused control gone: the focus is on %s, want the heading", got)
	}
}

// TestBrowserLoginErrorOnItsBox (a11y probe): a box of the sign-in form
// left empty is marked invalid and described by the error; the other is
// not.
func TestBrowserLoginErrorOnItsBox(t *testing.T) {
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "忻府区恒岳水泥粉磨有限公司")
	p := newPhone(t, browserFor(t), srv.URL, "inspector", at)
	p.wait(`#login input[name="username"]`)
	p.do("type the username only", chromedp.SendKeys(chromedp.CSS(`#login input[name="username"]`), apptest.Inspector))
	p.click(`#login button[type="submit"]`)
	p.waitJS("the error said", `document.getElementById('login-error').textContent !== ''`)
	for name, want := range map[string]string{"username": "", "password": "true"} {
		got := eval[string](p, `document.querySelector('input[name="`+name+`"]').getAttribute('aria-invalid') || ''`)
		if got != want {
			t.Errorf("%s: aria-invalid %q, want %q", name, got, want)
		}
		if d := eval[string](p, `document.querySelector('input[name="`+name+`"]').getAttribute('aria-describedby') || ''`); !strings.Contains(d, "login-error") {
			t.Errorf("%s is described by %q, want the error", name, d)
		}
	}
	// Both left empty, then one filled: the error says the other only; the
	// other filled, the error and the marks go (they stayed until the next
	// 登录). Typed through the page (chromedp's node reads race with the
	// attribute changes checked, under -race).
	typeIn := func(name, v string) {
		t.Helper()
		eval[bool](p, `(() => { const f = document.querySelector('#login input[name="`+name+`"]'); f.value = '`+v+`';
			f.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	}
	typeIn("username", "")
	p.click(`#login button[type="submit"]`)
	p.waitJS("both said", `document.getElementById('login-error').textContent === '请填写用户名和密码。'`)
	typeIn("username", apptest.Inspector)
	if got := eval[string](p, `document.getElementById('login-error').textContent + '|' + (document.querySelector('input[name="username"]').getAttribute('aria-invalid') || '') + '|' + document.querySelector('input[name="password"]').getAttribute('aria-invalid')`); got != "请填写密码。||true" {
		t.Errorf("the username typed: error|username marked|password marked = %q, want 请填写密码。||true", got)
	}
	typeIn("password", "x")
	if got := eval[string](p, `document.getElementById('login-error').textContent + '|' + (document.querySelector('input[name="password"]').getAttribute('aria-invalid') || '')`); got != "|" {
		t.Errorf("both typed: error|password marked = %q, want both gone", got)
	}
	// A refused sign-in: typing again takes the error away.
	p.click(`#login button[type="submit"]`)
	p.waitJS("refused", `document.querySelector('input[name="password"]').getAttribute('aria-invalid') === 'true' && document.getElementById('login-error').textContent !== ''`)
	typeIn("password", "xy")
	if got := eval[string](p, `document.getElementById('login-error').textContent + '|' + (document.querySelector('input[name="username"]').getAttribute('aria-invalid') || '') + '|' + (document.querySelector('input[name="password"]').getAttribute('aria-invalid') || '')`); got != "||" {
		t.Errorf("typed again after a refusal: error|marks = %q, want all gone", got)
	}
}

// TestBrowserActionsAboveTallTabs (a11y probe): at a large text size the
// tab bar is taller, and the sticky 提交检查 stays above it, where a
// fixed offset left it under the tabs.
func TestBrowserActionsAboveTallTabs(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.startInspection(site.ID, "coal_boiler")
	// As a phone's text size doubles it (set through the CSSOM: the app's
	// content security policy takes no inline style sheet).
	eval[bool](p, `(() => { for (const a of document.querySelectorAll('#tabs a')) { a.style.fontSize = '34px'; a.style.padding = '40px 0'; }
		window.scrollTo(0, 0); return true; })()`)
	p.waitJS("the taller tab bar measured", `parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--tabs-h')) > 110`)
	p.waitJS("提交检查 above the tabs", `(() => { const b = document.getElementById('submit').getBoundingClientRect();
		const tabs = document.getElementById('tabs').getBoundingClientRect();
		return b.bottom <= tabs.top + 0.5 && document.elementFromPoint(b.left + b.width / 2, b.bottom - 2)?.closest('#submit') !== null; })()`)
}

// contrastScan lists the visible text of the page whose contrast with
// what is behind it is below WCAG AA (4.5:1, 3:1 for large text), as
// "text (ratio)": colours from the computed styles, the background the
// first opaque one behind the element, each layer's opacity and alpha
// blended. Text over a picture (a tile's <img>) is taken against the
// tile's own background, which is what its label boxes are.
const contrastScan = `(() => {
	const parse = (c) => { const m = c.match(/[\d.]+/g) || []; return { r: +m[0] || 0, g: +m[1] || 0, b: +m[2] || 0, a: m[3] === undefined ? 1 : +m[3] }; };
	const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1 });
	const layers = (el) => { const out = []; for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e); out.push({ bg: parse(s.backgroundColor), op: +s.opacity }); } return out; };
	const bad = [];
	for (const el of document.querySelectorAll('#view *, #bar *, #tabs *')) {
		const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join('');
		if (!own || el.closest('.sr-only') || !el.getClientRects().length) continue;
		const s = getComputedStyle(el);
		if (s.visibility === 'hidden') continue;
		let bg = { r: 255, g: 255, b: 255, a: 1 };
		const ls = layers(el).reverse();
		let opacity = 1;
		for (const l of ls) { bg = over(l.bg, bg); opacity *= l.op; }
		const fg0 = parse(s.color);
		const fg = over({ ...fg0, a: fg0.a * opacity }, bg);
		const L1 = lum(fg), L2 = lum(bg);
		const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
		const px = parseFloat(s.fontSize), bold = +s.fontWeight >= 700;
		const need = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
		if (ratio < need - 0.01) bad.push(own.slice(0, 30) + ' (' + ratio.toFixed(2) + ')');
	}
	return bad;
})()`

// TestBrowserTextContrast (a11y probe): the text of the home screen, a
// draft inspection with a finding, the same inspection submitted (its
// answers read back on disabled buttons) and the finding's page reads at
// WCAG AA contrast: 有修改待上传, 待整改, 未填写 and a submitted
// inspection's answers read at 2.3–4.2.
func TestBrowserTextContrast(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.setOffline(true) // 有修改待上传 stays
	id := p.startInspection(site.ID, "coal_boiler")
	fail := eval[string](p, `document.querySelector('.itemcard button[data-value="fail"]').closest('[id^="item-"]').id.slice(5)`)
	p.click(`#item-` + fail + ` button[data-value="fail"]`)
	p.wait(`[data-finding-for="` + fail + `"]`)
	check := func(where string) {
		t.Helper()
		if bad := eval[[]string](p, contrastScan); len(bad) > 0 {
			t.Errorf("%s: text below AA contrast: %v", where, bad)
		}
	}
	check("the draft inspection")
	finding := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		const [f] = await app.client.list('finding', (x) => x.fields.inspection_id === '`+id+`'); return f.id; })()`)
	p.goHash("#/finding/"+finding, `#finding-status`)
	check("the finding")
	if got := eval[string](p, `document.title`); !strings.HasPrefix(got, "整改问题：") {
		t.Errorf("the finding's page title %q is not its own (the inspection's read the same)", got)
	}
	p.goHash("#/", `#sync-card`)
	check("home")
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js');
		await app.client.save('inspection', '`+id+`', { status: 'submitted', finished_at: '2026-11-30T10:00:00+08:00' }); return true; })()`)
	p.goHash("#/inspection/"+id, `.itemcard button[disabled]`)
	check("the submitted inspection")
}

// TestBrowserSiteSearchCountSaid (a11y probe): how many sites a search
// finds is said in a status region as it changes (the list changed
// without a word to a screen reader).
func TestBrowserSiteSearchCountSaid(t *testing.T) {
	_, _, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.goHash("#/sites", `#site-list`)
	if got := eval[string](p, `document.getElementById('site-count')?.getAttribute('role') || ''`); got != "status" {
		t.Fatalf("the count's role %q, want status", got)
	}
	p.do("search 恒岳水泥", chromedp.SendKeys(chromedp.CSS(`#site-search`), "恒岳水泥"))
	p.waitJS("one found, said", `document.getElementById('site-count').textContent === '找到 1 个点位'`)
	p.do("search on", chromedp.SendKeys(chromedp.CSS(`#site-search`), "不存在"))
	p.waitJS("none found, said", `document.getElementById('site-count').textContent === '没有符合条件的点位'`)
}

// TestBrowserPageStaysUnderTheFinger (verification probe): an answer
// tapped keeps its place on the screen when the page is drawn again,
// though the draw takes lines from above it (还缺 N 项 one item shorter,
// then gone): the page moved under the finger, and the next quick tap
// hit the note below the button meant. The keyboard's focus stays on
// the answer given in its own item, not the first item's alike button.
func TestBrowserPageStaysUnderTheFinger(t *testing.T) {
	_, site, p, _ := inspectorAt(t, "忻府区恒岳水泥粉磨有限公司")
	p.startInspection(site.ID, "coal_boiler")
	shrank := false
	missingHeight := func() float64 {
		return eval[float64](p, `document.getElementById('missing').getBoundingClientRect().height`)
	}
	first := missingHeight()
	for _, key := range []string{"no_new_boiler", "no_coal_stock", "boiler_retired"} {
		btn := `#item-` + key + ` button[data-value="pass"]`
		top := eval[float64](p, `(() => { const b = document.querySelector('`+btn+`'); b.scrollIntoView({ block: 'center' }); return b.getBoundingClientRect().top; })()`)
		before := missingHeight()
		p.click(btn)
		// Drawn with the answer saved (the item no longer 未填写; the
		// items that need a photo stay in the list, 缺照片).
		p.waitJS("drawn with "+key+" answered", `!(document.querySelector('#item-`+key+` .warn')?.textContent || '').includes('未填写') && !!document.querySelector('`+btn+`.on')`)
		if missingHeight() != before {
			shrank = true
		}
		if got := eval[float64](p, `document.querySelector('`+btn+`').getBoundingClientRect().top`); got < top-1 || got > top+1 {
			t.Errorf("%s: the answer tapped moved from %.0f to %.0f px on the screen", key, top, got)
		}
	}
	// The line taken may be drawn by the draw after the one awaited (a
	// loaded machine: the check failed in a full run though the list
	// had shrunk): then the whole run still took one.
	if !shrank && missingHeight() == first {
		t.Fatal("no answer took a line from above: the test moved nothing")
	}

	// By the keyboard, an answer of a later item: the focus stays on it.
	btn := `#item-no_coal_stock button[data-value="na"]`
	p.do("focus 不适用", chromedp.Focus(chromedp.CSS(btn)))
	p.do("press Space", chromedp.KeyEvent(" "))
	p.wait(btn + `.on`)
	p.waitJS("the focus on the answer given, in its item", `document.activeElement === document.querySelector('`+btn+`')`)
}

// TestBrowserRoadsideRefusalStays (verification probe): a roadside
// form's refusal stays, on its field, across the page's draws (a sync
// every minute) while the wrong value is there — it went, the value
// staying — and goes as soon as the field is changed; a required field's
// star is said as （必填）.
func TestBrowserRoadsideRefusalStays(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	if got := eval[string](p, `document.querySelector('label[for="'+document.querySelector('input[name="checkpoint"]').id+'"]').textContent`); got != "检查点 *（必填）" {
		t.Errorf("the checkpoint's label reads %q, want 检查点 *（必填） with the star hidden from screen readers", got)
	}
	if got := eval[string](p, `document.querySelector('label .req')?.getAttribute('aria-hidden') || ''`); got != "true" {
		t.Errorf("the star's aria-hidden %q", got)
	}
	p.do("a plate too short", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H1"))
	p.click(`#save-vehicle`)
	p.waitJS("refused", `!!document.querySelector('#vehicle-error')?.textContent`)
	said := p.text(`#vehicle-error`)
	// Drawn again (the focus left the plate first: a field typed in is
	// not drawn over).
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); window.__form = document.getElementById('vehicle-form');
		document.activeElement?.blur(); await app.render(); return true; })()`)
	p.waitJS("drawn again", `document.getElementById('vehicle-form') !== window.__form`)
	if got := p.text(`#vehicle-error`); got != said {
		t.Errorf("after a draw the refusal reads %q, want %q", got, said)
	}
	if got := eval[string](p, `document.querySelector('input[name="plate"]').getAttribute('aria-invalid') || ''`); got != "true" {
		t.Errorf("after a draw the plate's aria-invalid is %q", got)
	}
	// Typed through the page (chromedp's node reads race with the
	// attribute changes this checks, under -race).
	eval[bool](p, `(() => { const f = document.querySelector('input[name="plate"]'); f.focus(); f.value += '2345';
		f.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	p.waitJS("the refusal gone once the plate changes", `!document.querySelector('#vehicle-error')?.textContent && !document.querySelector('input[name="plate"]').hasAttribute('aria-invalid')`)
}
