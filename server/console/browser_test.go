package console_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/chrometest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// chrome is a headless Chromium driven through chromedp, for one test.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	shots string // where screenshots go
}

// newChrome starts Debian's chromium for t (skipping t without it, except
// under CI), closed when t ends.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	// A guard against a hung browser, not a speed limit: under -race on a
	// busy two-core machine a whole browser test takes tens of seconds.
	bctx := chrometest.Start(t, 1280, 900, 3*time.Minute)
	return &chrome{t: t, ctx: bctx, shots: chrometest.ScreenshotDir(t)}
}

// do runs actions that stay on the page.
func (b *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// navigate runs actions that load a new page, waits for it and checks
// that it answered 200.
func (b *chrome) navigate(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	if resp.Status != 200 {
		b.t.Fatalf("%s: %s answered %d", step, resp.URL, resp.Status)
	}
}

// text returns the page's visible text.
func (b *chrome) text() string {
	b.t.Helper()
	// Read by script, not through the DOM's node ids: a node id of the
	// page just loaded could be stale by the time it was asked for ("No
	// node with given id found", under a full suite's load).
	body, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		b.t.Fatalf("page text: %v", err)
	}
	return body
}

// textOf returns the visible text of the element sel matches.
func (b *chrome) textOf(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// count returns how many elements sel matches.
func (b *chrome) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// visible reports whether the first element sel matches takes room on
// the page (not display: none).
func (b *chrome) visible(sel string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`);
		return !!e && e.getClientRects().length > 0 && e.textContent.trim() !== ''; })()`))
	if err != nil {
		b.t.Fatalf("visible %s: %v", sel, err)
	}
	return ok
}

// shot saves a screenshot of the whole page as name.
func (b *chrome) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // quality 100 captures PNG
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// login signs in through the login form.
func (b *chrome) login(base, username string) {
	b.t.Helper()
	b.navigate("login page", chromedp.Navigate(base+"/console/login"))
	b.do("login form", chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	b.do("fill login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[username]))
	b.navigate("log in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
}

// TestBrowserReturn drives a real headless Chromium through the console:
// login → review queue → inspection detail → return with a comment, and
// checks that the inspector's phone pulls the return. It saves screenshots
// of the main pages to screenshots/ at the repository root.
func TestBrowserReturn(t *testing.T) {
	br := newChrome(t)
	do, navigate, text, shot := br.do, br.navigate, br.text, br.shot

	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	// A roadside check outside any special action, as an older app sends
	// it: Chinese labels for the values.
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields(
		"county", apptest.Xinfu, "checkpoint", "忻州北收费站", "plate", "晋H7E123", "emission_stage", "国六", "fuel", "天然气",
		"aftertreatment", "removed", "action", "处罚", "checked_at", "2026-11-28T10:00:00+08:00")))
	_, cursor := pullAll(t, phone, "")

	// Login page.
	navigate("login page", chromedp.Navigate(srv.URL+"/console/login"))
	do("login form", chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)))
	shot("console-login.png")
	do("fill login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), apptest.CountyOffice),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[apptest.CountyOffice]))
	navigate("log in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))

	// Review queue: the phone's inspection is listed.
	row := `tr[data-id="` + insp + `"]`
	do("review queue", chromedp.WaitVisible(chromedp.CSS(row)))
	if body := text(); !strings.Contains(body, "审核队列") {
		t.Errorf("queue page lacks 审核队列:\n%s", body)
	}
	shot("console-queue.png")

	// Detail page.
	navigate("open detail", chromedp.Click(chromedp.CSS(row+` a`)))
	do("detail page", chromedp.WaitVisible(chromedp.CSS(`textarea[name="comment"]`)))
	body := text()
	for _, want := range []string{"建筑施工扬尘", "待审核", "不合格（东侧料堆裸露）"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q:\n%s", want, body)
		}
	}
	shot("console-detail.png")

	// Return with a comment.
	comment := "东侧料堆未苫盖，请三日内整改并补拍照片"
	do("fill comment", chromedp.SendKeys(chromedp.CSS(`textarea[name="comment"]`), comment))
	navigate("return", chromedp.Click(chromedp.CSS(`form:has(textarea[name="comment"]) button[type="submit"]`)))
	body = text()
	if !strings.Contains(body, "已退回") || !strings.Contains(body, comment) {
		t.Errorf("page after the return lacks 已退回 or the comment:\n%s", body)
	}
	// The confirmation has the focus (a screen reader reads it out).
	if br.eval("confirmation focused", `document.activeElement.matches('p#done[role=status]') && document.activeElement.textContent.includes('已退回修改') ? 1 : 0`) != 1 {
		t.Errorf("after the return the focus is not on the confirmation")
	}
	shot("console-returned.png")

	// The other main pages load and are captured for a person to look at.
	for _, page := range []struct{ path, want, file string }{
		{"/console/ledger", "整改台账", "console-ledger.png"},
		{"/console/findings", "问题整改", "console-findings.png"},
		{"/console/vehicles", "豆罗", "console-vehicles.png"},
		{"/console/report", "信息报送", "console-report.png"},
		{"/console/devices", "同步", "console-devices.png"},
		{"/console/users", "用户", "console-users.png"},
	} {
		navigate(page.path, chromedp.Navigate(srv.URL+page.path))
		if body := text(); !strings.Contains(body, page.want) {
			t.Errorf("%s lacks %q", page.path, page.want)
		}
		shot(page.file)
	}

	// The roadside check outside any action is counted under its own row
	// and shown with the labels, though stored as codes.
	navigate("vehicles outside any action", chromedp.Navigate(srv.URL+"/console/vehicles?nocampaign=1#records"))
	body = text()
	for _, want := range []string{"未列入专项行动", "晋H7E123", "国六", "天然气", "已拆除", "处罚", "共 1 条"} {
		if !strings.Contains(body, want) {
			t.Errorf("vehicles page lacks %q", want)
		}
	}
	shot("console-vehicles-unlisted.png")

	// The county office reports its own progress on task 4.4 in the
	// ledger's form.
	own := `#p-task-08-140902`
	navigate("ledger", chromedp.Navigate(srv.URL+"/console/ledger#p-task-08-140902"))
	do("fill progress",
		chromedp.SetValue(chromedp.CSS(own+` select[name="status"]`), "in_progress"),
		chromedp.SendKeys(chromedp.CSS(own+` input[name="progress_pct"]`), "40"),
		chromedp.SendKeys(chromedp.CSS(own+` textarea[name="note"]`), "忻府区在建工地已全部安装围挡"),
		chromedp.SendKeys(chromedp.CSS(own+` textarea[name="evidence"]`), "忻府环发〔2026〕8号"))
	navigate("save progress", chromedp.Click(chromedp.CSS(own+` button[type="submit"]`)))
	// TextContent: a textarea's text is the saved value the page shows.
	row, err := chromedp.Run(br.ctx, chromedp.TextContent(chromedp.CSS(own)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"忻府区", "推进中 40%", "忻府区在建工地已全部安装围挡", "忻府环发〔2026〕8号", "填报：赵督查"} {
		if !strings.Contains(row, want) {
			t.Errorf("the county's row after saving lacks %q:\n%s", want, row)
		}
	}
	if ledger, err := chromedp.Run(br.ctx, chromedp.OuterHTML(chromedp.CSS("#ledger"))); err != nil || strings.Contains(ledger, `data-county="140921"`) {
		t.Errorf("the county office's ledger shows 定襄县's rows (%v)", err)
	}
	shot("console-ledger-county.png")

	// The city office sees every county's row of 4.4 and the roll-up.
	navigate("log out", chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button[type="submit"]`)))
	do("city login form",
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), apptest.CityOffice),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), apptest.Passwords[apptest.CityOffice]))
	navigate("city logs in", chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
	navigate("city ledger", chromedp.Navigate(srv.URL+"/console/ledger#task-task-08"))
	for sel, want := range map[string][]string{
		`#task-task-08 td.rollup`: {"未开始 15 · 推进中 1 · 已完成 0 · 已验收 0", "16 个单位", "最慢：定襄县等 15 个单位 0%"},
		own:                       {"推进中 40%", "忻府区在建工地已全部安装围挡"},
		`#p-task-08-140921`:       {"定襄县", "未开始", "尚未填报"},
	} {
		got, err := chromedp.Run(br.ctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("city ledger %s lacks %q:\n%s", sel, w, got)
			}
		}
	}
	shot("console-ledger-city.png")

	// 定襄县's monthly report row for 4.4 shows nothing done.
	navigate("定襄县 report", chromedp.Navigate(srv.URL+"/console/report?month=2026-11&county=140921"))
	if body := text(); !strings.Contains(body, "定襄县") || strings.Contains(body, "忻府区在建工地") {
		t.Errorf("定襄县's report shows 忻府区's progress:\n%s", body)
	}
	shot("console-report-dingxiang.png")

	// The inspector's next pull carries the return and the comment.
	changes, _ := pullAll(t, phone, cursor)
	var got *syncproto.Change
	for i := range changes {
		if changes[i].Entity == syncproto.EntityInspection && changes[i].ID == insp {
			got = &changes[i]
		}
	}
	if got == nil {
		t.Fatalf("the phone's pull after the return has no change for %s", insp)
	}
	var status, gotComment string
	_ = json.Unmarshal(got.Fields["status"], &status)
	_ = json.Unmarshal(got.Fields["review_comment"], &gotComment)
	if status != "returned" || gotComment != comment {
		t.Errorf("phone pulled status %q comment %q, want returned %q", status, gotComment, comment)
	}
}

// TestBrowserReuse: in a real browser, a city office sees on the page of
// the reuse in 宁武县 its flag and a link to the original in 忻府区,
// follows it, and finds there the note 被复用于 linking back; the county
// office of 忻府区 sees the note naming 宁武县, no link, and nothing of
// 宁武县's records in the page.
func TestBrowserReuse(t *testing.T) {
	city := newChrome(t)
	r := reuseAcrossCounties(t)
	city.login(r.srv.URL, apptest.CityOffice)
	city.navigate("the reuse's page", chromedp.Navigate(r.srv.URL+"/console/inspections/"+r.theirs))
	flagLink := `#photo-` + r.copy + ` ul.flags a.reuse`
	city.do("the duplicate flag's link", chromedp.WaitVisible(chromedp.CSS(flagLink)))
	if body := city.text(); !strings.Contains(body, "同一张照片此前已作为其他检查的证据（1 张，其他区县），见忻府区·") {
		t.Errorf("the reuse's page lacks the duplicate flag with its link:\n%s", body)
	}
	city.shot("console-reuse-flag.png")
	city.navigate("follow the link to the original", chromedp.Click(chromedp.CSS(flagLink)))
	city.do("the original's note", chromedp.WaitVisible(chromedp.CSS(`#photo-`+r.original+` ul.notes a.reuse`)))
	if loc, err := chromedp.Run(city.ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/console/inspections/"+r.ours+"#photo-"+r.original) {
		t.Errorf("the link led to %s (%v), want the original's inspection", loc, err)
	}
	body := city.text()
	if !strings.Contains(body, "被复用于宁武县·") || !strings.Contains(body, "（近似照片）") || strings.Contains(body, "同一张照片") {
		t.Errorf("the original's page: want two 被复用于 notes and no duplicate flag:\n%s", body)
	}
	city.shot("console-reuse-note.png")

	county := newChrome(t)
	county.login(r.srv.URL, apptest.CountyOffice)
	county.navigate("the original's page", chromedp.Navigate(r.srv.URL+"/console/inspections/"+r.ours))
	county.do("the original's notes", chromedp.WaitVisible(chromedp.CSS(`#photo-`+r.original+` ul.notes`)))
	links, err := chromedp.Run(county.ctx, chromedp.Nodes(chromedp.CSS(`a.reuse`), chromedp.AtLeast(0)))
	if err != nil || len(links) != 0 {
		t.Errorf("the county office sees %d reuse links (%v), want none", len(links), err)
	}
	html, err := chromedp.Run(county.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, "被复用于其他区县（宁武县）") {
		t.Errorf("the county office's page lacks 被复用于其他区县（宁武县）")
	}
	for _, id := range []string{r.theirs, r.copy, r.near, r.theirSite} {
		if strings.Contains(html, id) {
			t.Errorf("the county office's page names %s of 宁武县", id)
		}
	}
	county.shot("console-reuse-county.png")
}

// TestBrowserDemo looks at the console as a first visitor of --demo does,
// logged in as the city office, and saves screenshots of the main pages
// with the demo's month in them: the review queue, an inspection whose
// photo a planted fraud flagged (with the photo), the ledger, the monthly
// report, the roadside figures, the devices and the users.
func TestBrowserDemo(t *testing.T) {
	// Two days of the month: the shortest with planted frauds (among its
	// ninety photos). Its photos are processed first, as far as
	// demoFlagged needs (each one's fingerprint takes a fifth of a second
	// under the race detector), and only then is the browser started,
	// whose guard is for the browser's own steps.
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 2 }, apptest.MidMonth, apptest.HoldPhotos)
	insp, flag := demoFlagged(t, srv)
	b := newChrome(t)
	b.login(srv.URL, apptest.CityOffice)
	b.do("review queue", chromedp.WaitVisible(chromedp.CSS(`tr[data-id]`)))
	b.shot("demo-queue.png")

	b.navigate("flag filter", chromedp.Navigate(srv.URL+"/console/queue?status=&flag="+flag))
	b.do("flagged inspection listed", chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+insp+`"]`)))
	b.navigate("detail", chromedp.Navigate(srv.URL+"/console/inspections/"+insp))
	b.do("photo shown", chromedp.WaitVisible(chromedp.CSS(`.photos img`)),
		chromedp.Poll[chromedp.Void](`Array.from(document.querySelectorAll('.photos img')).every(i => i.complete && i.naturalWidth > 0)`)) // the lightboxes' previews load when opened
	if body := b.text(); !strings.Contains(body, "照片") {
		t.Errorf("detail of %s lacks its photo:\n%s", insp, body)
	}
	b.shot("demo-detail.png")

	for _, page := range []struct{ path, want, file string }{
		{"/console/ledger", "整改台账", "demo-ledger.png"},
		{"/console/report", "信息报送", "demo-report.png"},
		{"/console/vehicles", "代县G108国道过境段检查点", "demo-vehicles.png"},
		{"/console/devices", "华为 Mate 40 Pro（张巡查）", "demo-devices.png"},
		{"/console/users", "孙代县", "demo-users.png"},
	} {
		b.navigate(page.path, chromedp.Navigate(srv.URL+page.path))
		if body := b.text(); !strings.Contains(body, page.want) {
			t.Errorf("%s lacks %q", page.path, page.want)
		}
		b.shot(page.file)
	}
}

// demoFlagged waits until the demo's photos are sent (they arrive after the
// server starts) and returns an inspection whose photo a planted fraud
// flagged, and the flag. With processing held, it processes the photos
// in the order they arrived, as the pool does, until one is flagged, and
// then the rest of that inspection's photos; the others stay queued.
func demoFlagged(t *testing.T, srv *apptest.Server) (string, string) {
	t.Helper()
	srv.App.WaitDemo()
	ids, err := srv.App.DB.UnprocessedPhotos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{"far_from_site", "edited", "time_mismatch", "duplicate", "mock_location"}
	insp := ""
	for _, id := range ids {
		r, err := srv.App.DB.Get(ctx, syncproto.EntityPhoto, id)
		if err != nil || r == nil {
			t.Fatalf("photo %s: %v", id, err)
		}
		if insp != "" && r.Text("inspection_id") != insp {
			continue
		}
		if err := srv.App.Photos.Process(ctx, id); err != nil {
			t.Fatalf("process photo %s: %v", id, err)
		}
		if r, err = srv.App.DB.Get(ctx, syncproto.EntityPhoto, id); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		_ = json.Unmarshal(r.Value("flags"), &got)
		for _, f := range flags {
			if insp == "" && got[f] != nil {
				insp = r.Text("inspection_id")
			}
		}
	}
	// The inspection is listed under its photo's flag.
	for _, flag := range flags {
		recs, _, err := srv.App.DB.Inspections(ctx, server.InspectionQuery{Scope: server.Scope{All: true}, Flag: flag})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if insp != "" && r.ID == insp {
				return insp, flag
			}
		}
	}
	t.Fatalf("no demo photo was flagged (of %d processed in turn)", len(ids))
	return "", ""
}
