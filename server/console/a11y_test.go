package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// contrastJS lists the visible text on the page whose colour does not
// stand out enough from the background behind it: below 4.5:1, or 3:1
// for large text (WCAG 2.1 AA, 1.4.3). The background is the first opaque
// one of the element or its ancestors; disabled controls are exempt.
const contrastJS = `(() => {
	const rgb = (c) => c.match(/[\d.]+/g).map(Number);
	const lum = (c) => { const [r, g, b] = rgb(c).slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const behind = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor, v = rgb(c);
		if (v.length < 4 || v[3] > 0.5) return c; } return 'rgb(255, 255, 255)'; };
	const bad = [];
	for (const el of document.querySelectorAll('body *')) {
		if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
		const st = getComputedStyle(el);
		if (st.visibility === 'hidden' || !el.getClientRects().length || el.closest(':disabled, [aria-hidden="true"]')) continue;
		const fg = st.color, a = rgb(fg);
		if (a.length > 3 && a[3] < 1) continue;
		const l1 = lum(fg), l2 = lum(behind(el)), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(st.fontSize), need = size >= 24 || (Number(st.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) bad.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' "' + el.textContent.trim().slice(0, 16) + '" ' + fg + ' on ' + behind(el) + ' ' + ratio.toFixed(2));
	}
	return [...new Set(bad)];
})()`

// TestBrowserTextContrast: the console's text is readable against its
// background on the pages an office works in all day (a11y probe: the
// status 待审核 and the greyed notes of the ledger fell below 4.5:1).
func TestBrowserTextContrast(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	submit(t, phone, apptest.Xinfu)
	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	for _, path := range []string{"/console/", "/console/queue?status=", "/console/inspections/" + insp, "/console/findings?status=",
		"/console/ledger", "/console/report", "/console/vehicles", "/console/map", "/console/search?q=%E6%99%8B"} {
		b.navigate(path, chromedp.Navigate(srv.URL+path))
		bad, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](contrastJS))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range bad {
			t.Errorf("%s: %s", path, s)
		}
	}
}

// TestBrowserLedgerRefusalFocused: a ledger report the server refuses
// comes back with its message focused, so in view and read out, not 2,600
// px below the top of the page with the focus on nothing (a11y probe).
func TestBrowserLedgerRefusalFocused(t *testing.T) {
	srv := apptest.Start(t)
	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("ledger", chromedp.Navigate(srv.URL+"/console/ledger"))
	form := `form[action="/console/ledger/task-14/` + apptest.Xinfu + `"]`
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const f = document.querySelector('`+form+`');
		f.closest('details').open = true; f.querySelector('select[name="status"]').value = 'not_started';
		f.querySelector('input[name="progress_pct"]').value = '30'; return true; })()`)); err != nil {
		t.Fatal(err)
	}
	// Answered 400, with the page and the form as typed.
	if resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`))); err != nil || resp.Status != 400 {
		t.Fatalf("a refused report: %v %v", resp, err)
	}
	b.do("the refusal", chromedp.WaitVisible(chromedp.CSS(`#refused`)))
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const r = document.querySelector('#refused').getBoundingClientRect();
		return document.activeElement?.id === 'refused' && r.top >= 0 && r.bottom <= window.innerHeight; })()`))
	if err != nil || !ok {
		t.Errorf("the refusal is not focused and in view (%v): focus on %s", err, b.textOf("#refused"))
	}
}

// TestBrowserLightboxHoldsFocus: the photo lightbox of an inspection takes
// the focus when it opens (its 关闭), keeps it while Tab and Shift+Tab go
// round, and gives it back to the photo's link when it closes (a11y
// probe: the focus stayed on the page hidden under it).
func TestBrowserLightboxHoldsFocus(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	photo := addPhoto(t, srv, insp, apptest.Xinfu)
	addPhoto(t, srv, insp, apptest.Xinfu)
	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("inspection", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	js := func(expr string) {
		t.Helper()
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
	}
	focused := func() string {
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement;
			return (a.closest('.lightbox')?.id || 'page') + ' ' + a.tagName.toLowerCase() + '.' + a.className; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Resolved after the page's own hashchange listener, added before.
	hash := func(h string) {
		js(`new Promise((ok) => { addEventListener('hashchange', () => ok(true), {once: true}); location.hash = '` + h + `'; })`)
	}
	hash("#lb-" + photo)
	if got := focused(); got != "lb-"+photo+" a.lb-close" {
		t.Fatalf("opened, the focus is on %s", got)
	}
	for _, shift := range []bool{false, true} {
		for i := range 8 {
			mod := ""
			if shift {
				mod = ", shiftKey: true"
			}
			js(`(document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Tab', bubbles: true, cancelable: true` + mod + `})), true)`)
			if got := focused(); got[:len("lb-"+photo)] != "lb-"+photo {
				t.Fatalf("Tab %d (shift %v) left the lightbox: %s", i, shift, got)
			}
		}
	}
	hash("#photo-" + photo)
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.activeElement.getAttribute('href') === '#lb-`+photo+`'`))
	if err != nil || !ok {
		t.Errorf("closed, the focus is on %s, not the photo's link", focused())
	}
}

// TestBrowserFieldErrorTied: a form refused for one of its fields comes
// back with that field focused, marked invalid and described by the
// message (a11y probe: the message stood apart, tied to nothing) — the
// site form's radius, the user form's username at the page's foot.
func TestBrowserFieldErrorTied(t *testing.T) {
	srv := apptest.Start(t)
	b := newChrome(t)
	b.login(srv.URL, apptest.Admin)
	for _, tc := range []struct {
		page, form, fill, field, alert string
	}{
		{"/console/sites/new", `form.site-form`, `f.querySelector('[name="name"]').value = '新工地'; f.querySelector('[name="radius_m"]').value = '0';`,
			"radius_m", "site-error"},
		{"/console/users", `form.add-user`, `f.querySelector('[name="username"]').value = 'a/b'; f.querySelector('[name="password"]').value = 'Xinzhou#2026pw';`,
			"username", "add-user-error"},
	} {
		b.navigate(tc.page, chromedp.Navigate(srv.URL+tc.page))
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const f = document.querySelector('`+tc.form+`'); f.noValidate = true; `+tc.fill+` return true; })()`)); err != nil {
			t.Fatal(err)
		}
		if resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(tc.form+` button[type="submit"]`))); err != nil || resp.Status < 400 {
			t.Fatalf("%s: the refused form answered %v %v", tc.page, resp, err)
		}
		b.do("the refusal", chromedp.WaitVisible(chromedp.CSS(`#`+tc.alert)))
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement;
			return [a?.name, a?.getAttribute('aria-invalid'), a?.getAttribute('aria-describedby')].join('|'); })()`))
		if want := tc.field + "|true|" + tc.alert; err != nil || got != want {
			t.Errorf("%s: the focused field is %q, want %q (%v)", tc.page, got, want, err)
		}
	}
}

// TestReturnCommentRefusedInPlace: a return whose comment the server
// refuses (blank, or past 4000 characters) shows the inspection's page
// again, the message at the form and tied to its comment, the comment as
// typed — not an error page that lost it (a11y probe) — and the
// inspection stays submitted; in a browser the comment has the focus. A
// rectification sent back without a comment is shown so at its finding.
func TestReturnCommentRefusedInPlace(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	office := loggedIn(t, srv, apptest.CountyOffice)
	long := strings.Repeat("补", 4001)
	for _, comment := range []string{"  ", long} {
		_, page := office.get("/console/inspections/" + insp)
		st, again := office.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"return"}, "comment": {comment}}, page))
		form := regexp.MustCompile(`(?s)<form method="post" action="/console/inspections/[^"]+/review" class="return">.*?</form>`).FindString(again)
		if st != http.StatusBadRequest || !strings.Contains(form, `id="review-error" role="alert" data-field="comment"`) ||
			!strings.Contains(form, ">"+html.EscapeString(comment)+"</textarea>") {
			t.Errorf("a return with a comment of %d characters: %d, the return form:\n%.600s", len([]rune(comment)), st, form)
		}
	}
	if r, _ := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp); r.Text("status") != "submitted" {
		t.Errorf("after refused returns the inspection is %s", r.Text("status"))
	}
	// A rectification sent back (退回继续整改) with a blank comment: the
	// same, at that finding's form.
	approved, finding := rectifiedFinding(t, srv, office)
	_, page := office.get("/console/inspections/" + approved)
	st, again := office.post("/console/findings/"+finding+"/verify", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"reopen"}, "comment": {" "}}, page))
	row := regexp.MustCompile(`(?s)<tr id="finding-` + finding + `">.*?</tr>`).FindString(again)
	if st != http.StatusBadRequest || !strings.Contains(row, `id="reopen-error" role="alert" data-field="comment"`) {
		t.Errorf("a blank 退回继续整改: %d, the finding's row:\n%.800s", st, row)
	}
	if r, _ := srv.App.DB.Get(t.Context(), syncproto.EntityFinding, finding); r.Text("status") != "rectified" {
		t.Errorf("after a refused 退回继续整改 the finding is %s", r.Text("status"))
	}

	b := newChrome(t)
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("inspection", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(document.querySelector('form.return').noValidate = true, true)`)); err != nil {
		t.Fatal(err)
	}
	if resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`form.return button[type="submit"]`))); err != nil || resp.Status != http.StatusBadRequest {
		t.Fatalf("a blank return: %v %v", resp, err)
	}
	b.do("the refusal", chromedp.WaitVisible(chromedp.CSS(`#review-error`)))
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement;
		return [a?.name, a?.closest('form')?.className, a?.getAttribute('aria-invalid'), a?.getAttribute('aria-describedby')].join('|'); })()`))
	if want := "comment|return|true|review-error"; err != nil || got != want {
		t.Errorf("the focused field is %q, want %q (%v)", got, want, err)
	}
}

// TestNavMarksCurrentPage: every page opens with a skip link to its main
// content, and the main menu marks the page shown (aria-current), once,
// and no link on a page the menu does not list (a11y probe: neither).
func TestNavMarksCurrentPage(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.Admin)
	current := regexp.MustCompile(`<a href="([^"]+)" aria-current="page">`)
	// The front page, where sign-in lands, is the queue.
	for path, want := range map[string]string{"/console/queue": "/console/queue", "/console/": "/console/queue", "/console/map": "/console/map",
		"/console/users": "/console/users", "/console/search?q=x": ""} {
		_, page := b.get(path)
		if !strings.Contains(page, `<a class="skip-link" href="#main">跳到正文</a>`) || !strings.Contains(page, `<main id="main" tabindex="-1">`) {
			t.Errorf("%s: no skip link to the main content", path)
		}
		got := current.FindAllStringSubmatch(page, -1)
		switch {
		case want == "" && len(got) != 0:
			t.Errorf("%s marks %q as the page shown", path, got[0][1])
		case want != "" && (len(got) != 1 || got[0][1] != want):
			t.Errorf("%s: the menu marks %v, want %s once", path, got, want)
		}
	}
}

// TestTitlesTellPagesApart: a page of one record, a search and an error
// say which in the window's title (a tab, a screen reader's first words),
// not only 检查详情, 搜索 or 出错了 for all of them (a11y probe).
func TestTitlesTellPagesApart(t *testing.T) {
	srv := apptest.Start(t)
	a, b := submitWith(t, srv.Login(apptest.Inspector), apptest.Xinfu, "construction_dust"), submitWith(t, srv.Login(apptest.Inspector), apptest.Xinfu, "coal_yard")
	office := loggedIn(t, srv, apptest.CountyOffice)
	title := regexp.MustCompile(`<title>([^<]*)</title>`)
	titleOf := func(path string) string {
		_, page := office.get(path)
		m := title.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s has no title", path)
		}
		return html.UnescapeString(m[1])
	}
	ta, tb := titleOf("/console/inspections/"+a), titleOf("/console/inspections/"+b)
	if ta == tb || !strings.Contains(ta, "建筑工地") && !strings.Contains(ta, "扬尘") || !strings.Contains(tb, "煤") {
		t.Errorf("two inspections' pages are titled %q and %q", ta, tb)
	}
	if got := titleOf("/console/search?q=" + url.QueryEscape("晋H")); !strings.HasPrefix(got, "搜索“晋H”") {
		t.Errorf("a search is titled %q", got)
	}
	if got := titleOf("/console/inspections/" + uuid.NewString()); !strings.HasPrefix(got, "未找到") {
		t.Errorf("a missing record's page is titled %q", got)
	}
	// A bulk approval's question and its answer.
	confirm := mustGet(t, office, "/console/bulk?"+url.Values{"id": {a}}.Encode())
	_, result := office.post("/console/bulk", withSeqs(url.Values{"csrf": {csrf(t, confirm)}, "id": {a}}, confirm))
	tc, tr := title.FindStringSubmatch(confirm), title.FindStringSubmatch(result)
	if tc == nil || tr == nil || tc[1] == tr[1] || !strings.HasPrefix(tc[1], "确认批量审核通过") || !strings.HasPrefix(tr[1], "批量审核结果") {
		t.Errorf("a bulk approval's pages are titled %q and %q", tc, tr)
	}
	// The header's name links to changing the password, and says so to a
	// screen reader beginning with the words shown.
	if !regexp.MustCompile(`<a class="who password-link" href="/console/password"[^>]* aria-label="[^"]+（[^"]+）：修改密码">`).MatchString(result) {
		t.Error("the header's link to 修改密码 has its purpose only in its title")
	}
}

// TestControlNamesUnique: no two buttons or disclosures of a page have the
// same accessible name — a screen reader's list of controls read 停用,
// 停用, 停用… on the users page and 保存 a hundred times on the ledger,
// not whose (a11y probe) — on the pages that repeat a control per row:
// users, ledger, and inspections with several findings to verify; and a
// name given beside the words shown begins with them.
func TestControlNamesUnique(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 3 }, apptest.MidMonth, apptest.HoldPhotos)
	control := regexp.MustCompile(`<(button|summary)([^>]*)>([^<]*)</(?:button|summary)>`)
	label := regexp.MustCompile(`aria-label="([^"]*)"`)
	detail := regexp.MustCompile(`href="(/console/inspections/[0-9a-f-]{36})`)
	// An approved inspection with two findings reported rectified: two
	// verify and two reopen forms on its page.
	phone := srv.Login(apptest.Inspector)
	insp, fs := uuid.NewString(), []string{uuid.NewString(), uuid.NewString()}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields(append([]any{
		"site_id", apptest.DemoSiteFor(t, apptest.Xinfu, "coal_boiler"), "template_id", "coal_boiler", "template_version", 1,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00"}, completeBoiler...)...)),
		apptest.Mut(phone, syncproto.EntityFinding, fs[0], apptest.Fields("inspection_id", insp, "description", "溢流口直排", "severity", "major", "status", "open")),
		apptest.Mut(phone, syncproto.EntityFinding, fs[1], apptest.Fields("inspection_id", insp, "description", "煤场未苫盖", "severity", "minor", "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	if err := srv.Login(apptest.CityOffice).Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]string{"decision": "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityFinding, f, apptest.Fields("status", "rectified", "rectification_note", "已整改")))
	}
	for _, user := range []string{apptest.Admin, apptest.CityOffice, apptest.CountyOffice} {
		b := loggedIn(t, srv, user)
		paths := []string{"/console/users", "/console/ledger", "/console/queue", "/console/findings?status=", "/console/vehicles", "/console/devices",
			"/console/inspections/" + insp}
		_, list := b.get("/console/findings?status=rectified")
		for i, m := range detail.FindAllStringSubmatch(list, -1) {
			if i < 10 {
				paths = append(paths, m[1])
			}
		}
		checked := 0
		for _, path := range paths {
			_, page := b.get(path)
			seen := map[string]bool{}
			for _, m := range control.FindAllStringSubmatch(page, -1) {
				name := html.UnescapeString(m[3])
				if l := label.FindStringSubmatch(m[2]); l != nil {
					name = html.UnescapeString(l[1])
					// The name begins with the words shown (WCAG 2.5.3:
					// a speech user says what they see).
					if shown := strings.TrimSpace(html.UnescapeString(m[3])); !strings.HasPrefix(name, shown) {
						t.Errorf("%s %s: a %s shows %q but is named %q", user, path, m[1], shown, name)
					}
				}
				if seen[m[1]+" "+name] {
					t.Errorf("%s %s: two %ss named %q", user, path, m[1], name)
				}
				seen[m[1]+" "+name] = true
				checked++
			}
		}
		if checked < 20 {
			t.Errorf("%s: only %d controls seen", user, checked)
		}
	}
}

// TestQueueSortSaid: the queue's header of the column it is sorted by
// says so to a screen reader (aria-sort), once, in the direction shown
// by its arrow (a11y probe: only the arrow said it).
func TestQueueSortSaid(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	// The arrow is drawn, not read (aria-sort says it; read aloud, 检查时间 ↓
	// was words to a screen reader, a11y probe).
	sorted := regexp.MustCompile(`<th class="col-(\w+) sorted" aria-sort="(\w+)"><a [^>]*>[^<]* <span aria-hidden="true">(↑|↓)</span></a>`)
	for query, want := range map[string]string{"": "started descending ↓", "?sort=flags&dir=asc": "flags ascending ↑",
		"?sort=failed&dir=desc": "failed descending ↓"} {
		_, page := b.get("/console/queue" + query)
		got := sorted.FindAllStringSubmatch(page, -1)
		if len(got) != 1 || strings.Join(got[0][1:], " ") != want || strings.Count(page, "aria-sort=") != 1 {
			t.Errorf("queue%s: sorted headers %q, want one: %s", query, got, want)
		}
	}
}

// TestStatsRowsHaveHeaders: in the report's and the roadside statistics'
// tables each row of figures begins with its header (th scope=row: the
// county, the checkpoint, the action), and a total row with its label, so
// that a screen reader says whose a figure is, not only its column (a11y
// probe).
func TestStatsRowsHaveHeaders(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 3 }, apptest.MidMonth, apptest.HoldPhotos)
	city := loggedIn(t, srv, apptest.CityOffice)
	tableRE := regexp.MustCompile(`(?s)<table class="list (?:report|vehicles)[^"]*" id="([^"]+)">(.*?)</table>`)
	bodyRows := regexp.MustCompile(`(?s)<(tbody|tfoot)>(.*?)</(?:tbody|tfoot)>`)
	rowRE := regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	seen := 0
	for _, path := range []string{"/console/report", "/console/vehicles"} {
		page := mustGet(t, city, path)
		for _, tm := range tableRE.FindAllStringSubmatch(page, -1) {
			for _, part := range bodyRows.FindAllStringSubmatch(tm[2], -1) {
				for _, r := range rowRE.FindAllStringSubmatch(part[2], -1) {
					if strings.Contains(r[1], `class="empty"`) {
						continue
					}
					seen++
					cells := strings.Count(r[1], "<th") + strings.Count(r[1], "<td")
					if strings.Count(r[1], `<th scope="row"`) != 1 || strings.Count(r[1], "<th") != 1 || cells < 2 {
						t.Errorf("%s %s: a %s row without one row header: %.200s", path, tm[1], part[1], r[1])
					}
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("only %d rows of figures looked at", seen)
	}
}

// TestBrowserFocusAndTargets: the keyboard's focus is a ring of 2 px,
// light on the green header (reviewer probe: the browser's 1 px dark
// ring was lost there), and on a phone the controls are at least 44 px
// tall, a check box 24 px (reviewer probe: inputs 19–21 px, a check box
// 13 px).
func TestBrowserFocusAndTargets(t *testing.T) {
	srv := apptest.Start(t)
	b := newChrome(t)
	b.do("phone size", chromedp.EmulateViewport(390, 844))
	b.navigate("login", chromedp.Navigate(srv.URL+"/console/login"))
	measure := func(sel string) (w, h float64) {
		t.Helper()
		r, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('`+sel+`').getBoundingClientRect(); return [r.width, r.height]; })()`))
		if err != nil || len(r) != 2 {
			t.Fatalf("%s: %v", sel, err)
		}
		return r[0], r[1]
	}
	for _, sel := range []string{`input[name="username"]`, `input[name="password"]`, `form button`} {
		if _, h := measure(sel); h < 44 {
			t.Errorf("on a phone, %s is %.0f px tall, want 44 at least", sel, h)
		}
	}
	phone := srv.Login(apptest.Inspector)
	pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...) // one the queue may tick
	b.login(srv.URL, apptest.CountyOffice)
	b.navigate("findings", chromedp.Navigate(srv.URL+"/console/findings"))
	if w, h := measure(`input[type="checkbox"]`); w < 24 || h < 24 {
		t.Errorf("on a phone, a check box is %.0f×%.0f px, want 24 at least", w, h)
	}
	// The queue's own check boxes, the ledger's 填报进展 and a pager's
	// links (verification probe: 21, 19 and 24×9 px).
	b.navigate("queue", chromedp.Navigate(srv.URL+"/console/queue?status=submitted"))
	if w, h := measure(`table.queue td.pick input`); w < 24 || h < 24 {
		t.Errorf("on a phone, the queue's check box is %.0f×%.0f px, want 24 at least", w, h)
	}
	b.navigate("vehicles", chromedp.Navigate(srv.URL+"/console/vehicles")) // the demo's checks: pages of them
	if _, h := measure(`nav.pager a`); h < 40 {
		t.Errorf("on a phone, a pager's link is %.0f px tall", h)
	}
	b.navigate("ledger", chromedp.Navigate(srv.URL+"/console/ledger"))
	if _, h := measure(`details.task-edit summary`); h < 40 {
		t.Errorf("on a phone, 填报进展 is %.0f px tall", h)
	}
	// The report's tables are cards on a phone: a task's status within
	// the screen (reviewer probe: 1,173 px wide, status off the edge).
	b.navigate("report", chromedp.Navigate(srv.URL+"/console/report"))
	right, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`(() => {
		const c = document.querySelector('[id="report-整改任务进展"] tbody td[data-label="状态"]');
		return c ? c.getBoundingClientRect().right : -1; })()`))
	if err != nil || right < 0 || right > 390 {
		t.Errorf("on a phone, the report's first task status ends at %.0f px (%v), want within 390", right, err)
	}
	// A filter's text box takes the line (its placeholder cut short).
	b.navigate("devices", chromedp.Navigate(srv.URL+"/console/devices"))
	if w, _ := measure(`.filters input[name="q"]`); w < 280 {
		t.Errorf("on a phone, 同步状态's search box is %.0f px wide, want the line", w)
	}
	b.do("desktop size", chromedp.EmulateViewport(1366, 768))
	ring, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const a = document.querySelector('nav.main-nav a'); a.focus();
		const s = getComputedStyle(a); return a.matches(':focus-visible') + ' ' + s.outlineWidth + ' ' + s.outlineStyle + ' ' + s.outlineColor; })()`))
	if err != nil || ring != "true 2px solid rgb(255, 213, 79)" {
		t.Errorf("a header link focused by the keyboard: %q (%v), want a 2px solid light ring", ring, err)
	}
	// On a desktop too, the queue's check box is 24 px (a11y probe: 13).
	b.navigate("queue", chromedp.Navigate(srv.URL+"/console/queue?status=submitted"))
	if w, h := measure(`table.queue td.pick input`); w < 24 || h < 24 {
		t.Errorf("on a desktop, the queue's check box is %.0f×%.0f px, want 24 at least", w, h)
	}
}
