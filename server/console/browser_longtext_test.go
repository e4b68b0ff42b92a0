package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserLongTextFits: text typed in the field as one unbroken run (a
// list of OBD codes joined by commas, a pasted link, a long checkpoint
// name) wraps inside its cell at 1366×768: no page scrolls sideways and a
// row's label reads on one line; the figures beside it too. (It used to widen a check's page to
// 1700 px and more, its labels two characters a line.)
func TestBrowserLongTextFits(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	codes := strings.TrimSuffix(strings.Repeat("P20EE,P2463,P0401,P242F,P2002,P20B9,", 5), ",")
	link := "https://example.cn/" + strings.Repeat("DpfRemovedEvidence", 20) // no hyphen to break at
	checkpoint := "G208" + strings.Repeat("K", 150) + "检查站"
	campaign := "Campaign" + strings.Repeat("X", 92) // the longest a check takes, 100
	vc, insp, finding := uuid.NewString(), uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, phone,
		apptest.Mut(phone, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu, "checkpoint", checkpoint,
			"campaign", campaign, "plate", "晋H12345", "plate_color", "黄", "emission_stage", "cn6", "fuel", "diesel", "aftertreatment", "removed",
			"obd_mil", true, "obd_codes", codes, "action", "fine", "note", link, "checked_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
			"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00",
			"summary", strings.Repeat("围挡", 10)+link, "answers.material_cover", map[string]any{"result": "fail", "note": link})),
		apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "description", strings.Repeat("A", 3990),
			"severity", "major", "status", "open", "deadline", "2026-12-20")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))

	b := newChrome(t)
	b.do("desktop size", chromedp.EmulateViewport(1366, 768))
	b.login(srv.URL, apptest.CityOffice)
	for _, page := range []string{
		"/console/vehicles/" + vc,
		"/console/inspections/" + insp,
		"/console/vehicles",
		"/console/vehicles?checkpoint=" + url.QueryEscape(checkpoint) + "#records",
		"/console/queue",
		"/console/search?q=" + url.QueryEscape("晋H12345"),
	} {
		b.navigate(page, chromedp.Navigate(srv.URL+page))
		b.noSideways(page + " at 1366")
	}
	b.navigate("the check", chromedp.Navigate(srv.URL+"/console/vehicles/"+vc))
	if !strings.Contains(b.text(), "P0401,P242F") {
		t.Fatal("the check's page lacks its OBD codes")
	}
	// A label's text on more than one line: its rectangles lie at more
	// than one height.
	broken := b.eval("labels over two lines", `Array.from(document.querySelectorAll('#vehicle-facts th')).filter(th => {
		const r = document.createRange();
		r.selectNodeContents(th);
		return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size > 1;
	}).length`)
	if broken > 0 {
		t.Errorf("%d of the check's labels break over lines", broken)
	}
	b.shot("console-vehicle-long-text-1366.png")

	// The findings list with a 3,990-character description: cut to its
	// head with 展开全文, the other columns read whole (a date on one
	// line; it used to be one character a line, the row 1,100 px tall).
	b.navigate("findings", chromedp.Navigate(srv.URL+"/console/findings"))
	if !strings.Contains(b.text(), "展开全文（3990 字）") {
		t.Error("the findings list shows a 3,990-character description whole")
	}
	if h := b.eval("row height", `Math.round(document.querySelector('#finding-list tr[data-id="`+finding+`"]').getBoundingClientRect().height)`); h > 300 {
		t.Errorf("the finding's row is %d px tall", h)
	}
	if lines := b.eval("deadline lines", `(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector('#finding-list tr[data-id="`+finding+`"] td'));
		return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; })()`); lines != 1 {
		t.Errorf("the deadline takes %d lines", lines)
	}
	b.noSideways("/console/findings at 1366")
	// The roadside statistics and records with the long checkpoint: its
	// name wraps in its share of the row, and every figure and time reads
	// on one line (the figures were one character wide, a time five lines).
	b.navigate("vehicles", chromedp.Navigate(srv.URL+"/console/vehicles"))
	if lines := b.eval("figures' lines", `(() => {
		const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el);
			return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; };
		let most = 0;
		for (const td of document.querySelectorAll('#by-campaign tbody td:not(.wrap), #by-checkpoint tbody td:not(.wrap), #vehicle-records tbody td.time')) most = Math.max(most, lines(td));
		return most; })()`); lines != 1 {
		t.Errorf("a figure or a time of the roadside page takes %d lines", lines)
	}
	// At 390 px: the campaign filter's long option no longer widens the
	// roadside page (930 px wide before).
	b.do("phone size", chromedp.EmulateViewport(390, 844))
	for _, page := range []string{"/console/vehicles", "/console/findings"} {
		b.navigate(page+" at 390", chromedp.Navigate(srv.URL+page+"?at=390"))
		b.noSideways(page + " at 390")
	}
	// A list with no finding says so without a label's colon before it
	// (it read "：没有符合条件的问题").
	b.navigate("no findings at 390", chromedp.Navigate(srv.URL+"/console/findings?status=verified"))
	if empty := b.textOf("#finding-list td.empty"); empty == "" ||
		b.eval("empty row's label", `getComputedStyle(document.querySelector('#finding-list td.empty'), '::before').content === 'none' ? 0 : 1`) != 0 {
		t.Errorf("the empty findings list's row %q has a label before it", empty)
	}
}
