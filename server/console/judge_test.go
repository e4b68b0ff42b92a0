package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// pushIn has a phone push a submitted inspection of template at a demo
// site of county with the given answers, started at start, and returns
// its id.
func pushIn(t *testing.T, c *syncproto.Client, county, template, start string, answers ...any) string {
	t.Helper()
	id := uuid.NewString()
	f := apptest.Fields(append([]any{"site_id", apptest.DemoSiteFor(t, county, template), "template_id", template, "template_version", 1,
		"status", "submitted", "started_at", start}, answers...)...)
	apptest.PushApplied(t, c, syncproto.Mutation{Entity: syncproto.EntityInspection, ID: id, HLC: c.Clock.Now().String(), Fields: f})
	return id
}

// cells returns the text of a row's cells (td and th), tags removed.
func cells(row string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<t[dh][^>]*>(.*?)</t[dh]>`).FindAllStringSubmatch(row, -1) {
		out = append(out, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
	}
	return out
}

// order returns the ids in the order the queue page lists them.
func order(page string, ids ...string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-id="([^"]+)">`).FindAllStringSubmatch(page, -1) {
		for _, id := range ids {
			if m[1] == id {
				out = append(out, id)
			}
		}
	}
	return out
}

// TestQueueJudgingColumns (issue 12): the queue shows the inspector, the
// failed items, photos, evidence flags and 缺项 of each inspection, sorts
// on each column server-side (stable, keeping the filters, in scope) and
// refuses an unknown sort.
func TestQueueJudgingColumns(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	clean := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	dust := submit(t, phone, apptest.Xinfu) // material_cover failed, 2026-11-28
	addPhoto(t, srv, dust, apptest.Xinfu)   // two flags
	gaps := pushIn(t, phone, apptest.Xinfu, "construction_dust", "2026-11-26T09:00:00+08:00", incompleteDust...)
	other := pushIn(t, srv.Login(apptest.NingwuInsp), apptest.Ningwu, "construction_dust", "2026-11-29T09:00:00+08:00")
	// Complete, but with a photo the server has not checked yet (its bytes
	// still to come): its flags are not known, so it is not approved in
	// bulk; nor is one with an answer the checklist does not have.
	unchecked := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T12:00:00+08:00", completeBoiler...)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, uuid.NewString(), apptest.Fields("inspection_id", unchecked,
		"sha256", strings.Repeat("9a", 32), "content_type", "image/jpeg")))
	unknown := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T13:00:00+08:00", append(slices.Clone(completeBoiler), "answers.zz_unknown", true)...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	confirmed := mustGet(t, b, "/console/bulk?"+url.Values{"id": {unchecked, unknown}}.Encode())
	if !strings.Contains(confirmed, "有 1 张照片尚未上传或尚未完成检查，不能批量通过") || !strings.Contains(confirmed, "未知检查项") ||
		strings.Contains(confirmed, `name="id" value="`+unchecked) || strings.Contains(confirmed, `name="id" value="`+unknown) {
		t.Errorf("an inspection with an unchecked photo or an unknown answer is offered for bulk approval:\n%s", confirmed)
	}

	page := mustGet(t, b, "/console/queue?status=submitted")
	for _, h := range []string{"最近送达", "巡查员", "不合格项", "照片", "带标记照片", "缺项"} {
		if !strings.Contains(page, ">"+h) {
			t.Errorf("queue lacks the column %s", h)
		}
	}
	// time, received, county, site, checklist, inspector, status, failed, photos, flags, 缺项 (after the checkbox)
	for id, want := range map[string][]string{
		dust:  {"张巡查", "待审核", "1", "1", "1", "缺项 "}, // one photo, two flags
		clean: {"张巡查", "待审核", "0", "0", "0", "完整"},
		gaps:  {"张巡查", "待审核", "0", "0", "0", "缺项 15"},
	} {
		got := cells(rowOf(page, id))
		if len(got) != 12 || strings.Join(got[6:11], "|") != strings.Join(want[:5], "|") || !strings.HasPrefix(got[11], want[5]) ||
			!regexp.MustCompile(`^\d\d-\d\d \d\d:\d\d$`).MatchString(got[2]) {
			t.Errorf("row %s: %q, want …%q", id, got, want)
		}
	}
	if rowOf(page, other) != "" {
		t.Error("忻府区's queue lists 宁武县's inspection")
	}
	// Complete, yet out of the bulk approval: the row says why (the
	// referential probe found no word of it).
	if row := rowOf(page, unknown); !strings.Contains(row, "完整") || !strings.Contains(row, "有未知检查项的答案") || strings.Contains(row, `type="checkbox"`) {
		t.Errorf("the row of a complete inspection with an unknown answer: %q", row)
	}
	if strings.Contains(rowOf(page, clean), "未知检查项") {
		t.Error("a clean row speaks of unknown items")
	}
	if got := order(page, dust, clean, gaps); strings.Join(got, ",") != strings.Join([]string{dust, clean, gaps}, ",") {
		t.Errorf("default order (newest first): %v", got)
	}
	// By arrival, latest first (county probe: what came since yesterday):
	// gaps, a visit older than clean's, reached the server after it.
	if got := order(mustGet(t, b, "/console/queue?status=submitted&sort=received&dir=desc"), clean, gaps); strings.Join(got, ",") != gaps+","+clean {
		t.Errorf("by arrival, latest first: %v, want the one sent last first", got)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sort=flags&dir=desc", []string{dust, clean, gaps}},
		{"sort=flags&dir=asc", []string{clean, gaps, dust}}, // ties newest first
		{"sort=failed", []string{dust, clean, gaps}},
		{"sort=missing&dir=desc", []string{gaps, dust, clean}},
		{"sort=missing&dir=asc", []string{clean, dust, gaps}},
		{"sort=photos&dir=asc", []string{clean, gaps, dust}},
		{"sort=started&dir=asc", []string{gaps, clean, dust}},
		{"sort=template&dir=asc", []string{clean, dust, gaps}},
		{"sort=flags&dir=desc&complete=complete", []string{clean}},
	} {
		page := mustGet(t, b, "/console/queue?status=submitted&"+tc.query)
		if got := order(page, dust, clean, gaps, other); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	// The headers link to their sort, keeping the filters; the sorted
	// column's link reverses it.
	page = mustGet(t, b, "/console/queue?status=submitted&complete=complete&sort=flags&dir=desc")
	if !strings.Contains(page, `href="/console/queue?complete=complete&amp;dir=asc&amp;sort=flags&amp;status=submitted"`) ||
		!strings.Contains(page, `href="/console/queue?complete=complete&amp;dir=desc&amp;sort=failed&amp;status=submitted"`) {
		t.Errorf("sort links do not keep the filters or do not reverse:\n%s", page)
	}
	if !strings.Contains(page, `<input type="hidden" name="sort" value="flags"><input type="hidden" name="dir" value="desc">`) {
		t.Error("the filter form does not keep the sort")
	}
	for _, q := range []string{"sort=bogus", "sort=flags&dir=up"} {
		if st, _ := b.get("/console/queue?" + q); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, st)
		}
	}
	// The city sees both counties, sorted the same way.
	city := loggedIn(t, srv, apptest.CityOffice)
	page = mustGet(t, city, "/console/queue?status=submitted&sort=started&dir=desc")
	if got := order(page, dust, clean, gaps, other); strings.Join(got, ",") != strings.Join([]string{other, dust, clean, gaps}, ",") {
		t.Errorf("city, newest first: %v", got)
	}
}

// TestBulkApprove (issue 12): clean, complete inspections are ticked and
// approved in one step after a confirmation page; flagged, incomplete and
// other counties' inspections have no checkbox and are refused, each with
// its reason, when posted anyway; the POST needs the CSRF token.
func TestBulkApprove(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	clean1 := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	clean2 := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T10:00:00+08:00", completeBoiler...)
	flagged := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T11:00:00+08:00", completeBoiler...)
	addPhoto(t, srv, flagged, apptest.Xinfu)
	gaps := pushIn(t, phone, apptest.Xinfu, "construction_dust", "2026-11-26T09:00:00+08:00", incompleteDust...)
	other := pushIn(t, srv.Login(apptest.NingwuInsp), apptest.Ningwu, "construction_dust", "2026-11-29T09:00:00+08:00")
	// Complete, but with a photo the server has not checked yet (its bytes
	// still to come): its flags are not known, so it is not approved in
	// bulk; nor is one with an answer the checklist does not have.
	unchecked := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T12:00:00+08:00", completeBoiler...)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, uuid.NewString(), apptest.Fields("inspection_id", unchecked,
		"sha256", strings.Repeat("9a", 32), "content_type", "image/jpeg")))
	unknown := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T13:00:00+08:00", append(slices.Clone(completeBoiler), "answers.zz_unknown", true)...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	confirmed := mustGet(t, b, "/console/bulk?"+url.Values{"id": {unchecked, unknown}}.Encode())
	if !strings.Contains(confirmed, "有 1 张照片尚未上传或尚未完成检查，不能批量通过") || !strings.Contains(confirmed, "未知检查项") ||
		strings.Contains(confirmed, `name="id" value="`+unchecked) || strings.Contains(confirmed, `name="id" value="`+unknown) {
		t.Errorf("an inspection with an unchecked photo or an unknown answer is offered for bulk approval:\n%s", confirmed)
	}

	page := mustGet(t, b, "/console/queue?status=submitted")
	box := func(id string) bool {
		return strings.Contains(rowOf(page, id), `type="checkbox" name="id" value="`+id+`"`)
	}
	if !box(clean1) || !box(clean2) || box(flagged) || box(gaps) {
		t.Errorf("checkboxes: clean %v %v, flagged %v, incomplete %v", box(clean1), box(clean2), box(flagged), box(gaps))
	}
	// Nor is a checkbox offered for what the confirmation refuses: a
	// photo unchecked (said in its row), an unknown answer.
	if box(unchecked) || box(unknown) || !strings.Contains(rowOf(page, unchecked), "（1 张待检查）") {
		t.Errorf("checkboxes: unchecked photo %v, unknown answer %v; row %s", box(unchecked), box(unknown), rowOf(page, unchecked))
	}
	if !strings.Contains(page, `<form id="bulk" method="get" action="/console/bulk"`) {
		t.Error("no bulk form on the queue")
	}

	// The confirmation counts each one's failed items (不合格项), as the
	// queue does: approved, their findings enter the ledger.
	failing := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T14:00:00+08:00",
		append(slices.Clone(completeBoiler), "answers.no_new_boiler", map[string]any{"result": "fail", "note": "新装一台"})...)
	withFailed := mustGet(t, b, "/console/bulk?"+url.Values{"id": {clean1, failing}}.Encode())
	if got := rowOf(withFailed, failing); !strings.Contains(got, `n-failed has">1<`) {
		t.Errorf("the confirmation's row of an inspection with a failed item does not count it:\n%s\n%s", got, withFailed)
	}
	if got := rowOf(withFailed, clean1); !strings.Contains(got, `n-failed">0<`) {
		t.Errorf("the confirmation's row of a passing inspection: %s", got)
	}
	if !strings.Contains(withFailed, "其中 1 条有不合格项（共 1 项），审核通过后其发现的问题列入“问题整改”") {
		t.Errorf("the confirmation does not say how many of them have failed items:\n%s", withFailed)
	}
	if strings.Contains(mustGet(t, b, "/console/bulk?"+url.Values{"id": {clean1, clean2}}.Encode()), "条有不合格项") {
		t.Error("the confirmation of passing inspections says some have failed items")
	}
	// One returned and submitted again is marked so, with the comment it
	// was returned with, as the queue marks it (office probe: approved
	// among others unread).
	again := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T15:00:00+08:00", completeBoiler...)
	if err := srv.Login(apptest.CityOffice).Do(ctx, http.MethodPost, "/api/v1/inspections/"+again+"/review", map[string]string{"decision": "return", "comment": "请补充锅炉铭牌照片"}, nil); err != nil {
		t.Fatal(err)
	}
	pullAll(t, phone, "")
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, again, apptest.Fields("status", "submitted")))
	resub := mustGet(t, b, "/console/bulk?"+url.Values{"id": {clean1, again}}.Encode())
	if got := rowOf(resub, again); !strings.Contains(got, "（退回后重新提交；上次退回意见：请补充锅炉铭牌照片）") {
		t.Errorf("the confirmation's row of a resubmitted inspection: %s", got)
	}
	if !strings.Contains(resub, "其中 1 条是退回后重新提交的") || strings.Contains(rowOf(resub, clean1), "重新提交") {
		t.Errorf("the confirmation does not say which was resubmitted:\n%s", resub)
	}

	confirm := mustGet(t, b, "/console/bulk?"+url.Values{"id": {clean1, clean2, flagged}}.Encode())
	form := confirm[strings.Index(confirm, `<form method="post" action="/console/bulk"`):]
	form = form[:strings.Index(form, "</form>")]
	for _, want := range []string{"确认批量审核通过", `name="id" value="` + clean1, `name="id" value="` + clean2, "确认审核通过这 2 条"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("confirmation lacks %q", want)
		}
	}
	if strings.Contains(form, flagged) || !strings.Contains(confirm, "有 1 张照片带证据标记，不能批量通过") {
		t.Errorf("confirmation: the flagged inspection is in the form or not refused:\n%s", confirm)
	}
	status := func(id string) string {
		r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, id)
		if err != nil || r == nil {
			t.Fatalf("get %s: %v", id, err)
		}
		return r.Text("status")
	}
	if st, _ := b.post("/console/bulk", url.Values{"id": {clean1, clean2}}); st != http.StatusForbidden || status(clean1) != "submitted" {
		t.Errorf("bulk POST without the CSRF token: %d, %s", st, status(clean1))
	}
	st, done := b.post("/console/bulk", withSeqs(url.Values{"csrf": {csrf(t, confirm)}, "id": {clean1, clean2, flagged, gaps, other}}, confirm))
	if st != http.StatusOK {
		t.Fatalf("bulk approve: %d\n%s", st, done)
	}
	for id, want := range map[string]string{clean1: "approved", clean2: "approved", flagged: "submitted", gaps: "submitted", other: "submitted"} {
		if got := status(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	for _, want := range []string{"共 5 条，已审核通过 2 条", "有 1 张照片带证据标记", "有 15 项缺项，不能批量通过", "无权审核其他区县的检查记录",
		"未批量通过：", "状态未变"} {
		if !strings.Contains(done, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	// One left out of a bulk approval was not judged: it is not said to
	// have failed review (city probe: 未通过 reads as returned).
	if strings.Contains(strings.ReplaceAll(done, "未批量通过", ""), "未通过") {
		t.Errorf("the result page says 未通过 of inspections it did not judge:\n%s", done)
	}
	// Each approval is a review like a single one: recorded with the
	// reviewer, and the phone pulls it.
	rs, err := srv.App.DB.Find(ctx, syncproto.EntityReview, "inspection_id", clean1)
	if err != nil || len(rs) != 1 || rs[0].Text("decision") != "approve" || rs[0].Text("reviewer_name") == "" {
		t.Errorf("review of %s: %v %v", clean1, rs, err)
	}
	// Posting them again: no longer waiting for review.
	if st, again := b.post("/console/bulk", url.Values{"csrf": {csrf(t, confirm)}, "id": {clean1}}); st != http.StatusConflict || !strings.Contains(again, "不是待审核状态") {
		t.Errorf("approving again: %d", st)
	}
}

// TestDetailJudging (issue 12): the detail page names the inspector,
// labels coordinates 经度/纬度, has a lightbox per photo with its capture
// time, position, distance, device and flags and links to its neighbours,
// and a review bar whose return reads 退回修改/补充; the CSP allows only
// the console's own script files, and the page has two, the lightbox's
// keys and the forms' guard against a second click.
func TestDetailJudging(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	p1 := addPhoto(t, srv, insp, apptest.Xinfu)
	p2 := addPhoto(t, srv, insp, apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	req, _ := http.NewRequest(http.MethodGet, b.base+"/console/inspections/"+insp, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// No inline script, no plugin, and no <base> an injected tag could
	// use to send the page's relative links and forms elsewhere.
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") ||
		!strings.Contains(csp, "base-uri 'none'") || !strings.Contains(csp, "object-src 'none'") {
		t.Errorf("CSP: %s", csp)
	}
	page := mustGet(t, b, "/console/inspections/"+insp)
	for _, want := range []string{
		`<dt>巡查员</dt><dd class="inspector">张巡查</dd>`,
		"<dt>点位坐标</dt><dd>经度 ", "纬度 ",
		`<div class="lightbox" id="lb-` + p1 + `"`, `<div class="lightbox" id="lb-` + p2 + `"`,
		`<a class="lb-next" href="#lb-` + p2 + `" accesskey="n"`, `<a class="lb-prev" href="#lb-` + p1 + `" accesskey="p"`,
		`<a class="lb-open" href="#lb-` + p1 + `"`,
		"<dt>拍摄时间</dt><dd>2026-11-28 09:10</dd>", "<dt>拍摄位置</dt><dd>经度 112.800000，纬度 38.500000</dd>",
		"<dt>距点位</dt><dd>", "<dt>设备</dt>", "拍摄位置距点位 850 米",
		`<section class="review review-bar"`, "<button type=\"submit\">退回修改/补充</button>", "修改或补充后重新提交；这不是整改通知",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if strings.Contains(page, "退回整改") || strings.Count(page, "<script") != 2 || !strings.Contains(page, `<script src="/console/keys.js" defer></script>`) ||
		!strings.Contains(page, `<script src="/console/forms.js" defer></script>`) {
		t.Error("detail still says 退回整改, or has a script other than the lightbox's keys and the forms' guard")
	}
}

// TestReviewIsOfWhatWasShown: a decision is on the version of the
// inspection the office saw. Between the bulk confirmation (or the detail
// page) and the button, the city returns the inspection and the phone
// submits it again with other content: the old confirmation and the old
// detail page approve nothing, and say so; opened again, they approve the
// new version.
func TestReviewIsOfWhatWasShown(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	county := loggedIn(t, srv, apptest.CountyOffice)
	city := loggedIn(t, srv, apptest.CityOffice)
	status := func() string {
		t.Helper()
		r, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
		if err != nil || r == nil {
			t.Fatal(err)
		}
		return r.Text("status")
	}
	returnAndResubmit := func(summary string) {
		t.Helper()
		detail := mustGet(t, city, "/console/inspections/"+insp)
		if st, page := city.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, detail)}, "decision": {"return"}, "comment": {"请补充"}}, detail)); st != http.StatusOK {
			t.Fatalf("city returns: %d\n%s", st, page)
		}
		resp := apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("summary", summary, "status", "submitted")))
		if resp.Results[0].Status != syncproto.StatusApplied {
			t.Fatalf("phone resubmits: %+v", resp.Results[0])
		}
	}

	confirm := mustGet(t, county, "/console/bulk?"+url.Values{"id": {insp}}.Encode())
	returnAndResubmit("改过的内容一")
	st, done := county.post("/console/bulk", withSeqs(url.Values{"csrf": {csrf(t, confirm)}, "id": {insp}}, confirm))
	if st != http.StatusConflict || !strings.Contains(done, "在您查看后有了更新") || status() != "submitted" {
		t.Fatalf("the old confirmation: %d, status %s\n%s", st, status(), done)
	}

	detail := mustGet(t, county, "/console/inspections/"+insp)
	returnAndResubmit("改过的内容二")
	if st, page := county.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, detail)}, "decision": {"approve"}}, detail)); st != http.StatusConflict || status() != "submitted" {
		t.Fatalf("the old detail page: %d, status %s\n%s", st, status(), page)
	}
	// A form without its version approves nothing either.
	// A form without its version, or with one no record has, approves
	// nothing either, and says what is wrong with it (not that the
	// record changed).
	for _, seq := range []string{"", "abc", "-3", "0", "1.5"} {
		form := url.Values{"csrf": {csrf(t, detail)}, "decision": {"approve"}}
		if seq != "" {
			form.Set("seq", seq)
		}
		if st, page := county.post("/console/inspections/"+insp+"/review", form); st != http.StatusBadRequest || status() != "submitted" ||
			!strings.Contains(page, "缺少所审记录的版本号") {
			t.Fatalf("a form with seq %q: %d, status %s\n%s", seq, st, status(), page)
		}
	}

	detail = mustGet(t, county, "/console/inspections/"+insp)
	if !strings.Contains(detail, "改过的内容二") {
		t.Fatal("the detail page does not show the new version")
	}
	if st, page := county.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, detail)}, "decision": {"approve"}}, detail)); st != http.StatusOK || status() != "approved" {
		t.Fatalf("approving what is shown: %d, status %s\n%s", st, status(), page)
	}
}

// TestFindingPhotosOnTheDetailPage: a photo that names only a finding of
// the inspection is on the inspection's page, where the review refusing
// bulk approval for its flags sends the reviewer; a photo naming both
// the inspection and its finding is counted once.
func TestFindingPhotosOnTheDetailPage(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	s := srv.App.Syncer
	finding, onlyFinding, both, rect := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	flags := map[string]any{"no_gps": map[string]any{"device_location": false}}
	err := s.Store.Update(t.Context(), func(tx server.WriteTx) error {
		if err := s.Upsert(t.Context(), tx, syncproto.EntityFinding, finding, apptest.Xinfu, map[string]any{"inspection_id": insp, "description": "锅炉房堆放散煤"}); err != nil {
			return err
		}
		if err := s.Upsert(t.Context(), tx, syncproto.EntityPhoto, onlyFinding, apptest.Xinfu, map[string]any{
			"finding_id": finding, "sha256": strings.Repeat("cd", 32), "caption": "散煤", "flags": flags}); err != nil {
			return err
		}
		// Taken days after the visit: the rectification's.
		if err := s.Upsert(t.Context(), tx, syncproto.EntityPhoto, rect, apptest.Xinfu, map[string]any{
			"finding_id": finding, "sha256": strings.Repeat("ab", 32), "captured_at": "2026-12-01T10:00:00+08:00"}); err != nil {
			return err
		}
		return s.Upsert(t.Context(), tx, syncproto.EntityPhoto, both, apptest.Xinfu, map[string]any{
			"inspection_id": insp, "finding_id": finding, "sha256": strings.Repeat("ef", 32), "caption": "煤堆近景", "flags": flags})
	})
	if err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, b, "/console/inspections/"+insp)
	for _, id := range []string{onlyFinding, both, rect} {
		if n := strings.Count(page, `<figure id="photo-`+id+`">`); n != 1 {
			t.Errorf("photo %s on the detail page %d times, want once", id, n)
		}
	}
	// Each says in the gallery that it is the finding's, and which: a
	// rectification's photo had no caption at all (county office probe).
	for id, want := range map[string]string{onlyFinding: "问题照片</span> · <b>锅炉房堆放散煤</b>", rect: "整改照片</span> · <b>锅炉房堆放散煤</b>"} {
		fig := regexp.MustCompile(`(?s)<figure id="photo-` + id + `">.*?</figure>`).FindString(page)
		if !strings.Contains(fig, want) {
			t.Errorf("the finding's photo %s in the gallery lacks %q:\n%s", id, want, fig)
		}
	}
	confirm := mustGet(t, b, "/console/bulk?"+url.Values{"id": {insp}}.Encode())
	if !strings.Contains(confirm, "有 2 张照片带证据标记") {
		t.Errorf("bulk check of the two flagged photos:\n%s", confirm)
	}
}

// TestDetailBackToList: a detail page opened from a filtered list (the
// queue, the findings, the roadside records) leads back to that list as it
// was filtered, and so does the page after a decision taken on it; a back
// parameter that is not one of the console's lists is ignored.
func TestDetailBackToList(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	county := loggedIn(t, srv, apptest.CountyOffice)
	backRE := regexp.MustCompile(`<p><a href="([^"]*)">← ([^<]*)</a></p>`)
	backOf := func(page string) (string, string) {
		t.Helper()
		m := backRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("the page has no ← link")
		}
		return html.UnescapeString(m[1]), m[2]
	}
	follow := func(list, linkPrefix string) string {
		t.Helper()
		page := mustGet(t, county, list)
		m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(linkPrefix) + `[^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s has no link to %s…", list, linkPrefix)
		}
		return mustGet(t, county, html.UnescapeString(m[1]))
	}

	queue := "/console/queue?county=" + apptest.Xinfu + "&sort=site&status=submitted"
	detail := follow(queue, "/console/inspections/"+insp)
	if href, label := backOf(detail); href != queue || label != "返回审核队列" {
		t.Errorf("detail from the queue: ← %s %q, want %s", href, label, queue)
	}
	for _, bad := range []string{"https://evil.example/console/queue", "//evil.example/console/queue", "/console/inspections/" + insp,
		"/console/../login", "/console/queue\\x", "javascript:alert(1)", "/console/nosuch", "/consolequeue"} {
		page := mustGet(t, county, "/console/inspections/"+insp+"?"+url.Values{"back": {bad}}.Encode())
		if href, _ := backOf(page); href != "/console/" {
			t.Errorf("back=%q: ← %s, want the queue", bad, href)
		}
		if strings.Contains(page, `name="back"`) {
			t.Errorf("back=%q is carried on by the page's forms", bad)
		}
	}

	form := withSeqs(url.Values{"csrf": {csrf(t, detail)}, "decision": {"approve"}}, detail)
	if m := regexp.MustCompile(`name="back" value="([^"]*)"`).FindStringSubmatch(detail); m != nil {
		form.Set("back", html.UnescapeString(m[1]))
	}
	st, after := county.post("/console/inspections/"+insp+"/review", form)
	if st != http.StatusOK || !strings.Contains(after, "审核通过") {
		t.Fatalf("approve: %d\n%s", st, after)
	}
	if href, _ := backOf(after); href != queue {
		t.Errorf("after approving: ← %s, want %s", href, queue)
	}

	withFinding := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, withFinding, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-20T09:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityFinding, uuid.NewString(), apptest.Fields("inspection_id", withFinding, "description", "出入口未冲洗",
			"deadline", server.ChinaDay(time.Now().AddDate(0, 6, 0)), "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, withFinding, apptest.Fields("status", "submitted")))
	findings := "/console/findings?county=" + apptest.Xinfu + "&status=todo"
	if href, label := backOf(follow(findings, "/console/inspections/")); href != findings || label != "返回问题整改" {
		t.Errorf("detail from the findings: ← %s %q, want %s", href, label, findings)
	}
	vehicles := "/console/vehicles?from=2020-01-01&to=2099-12-31"
	if href, label := backOf(follow(vehicles, "/console/vehicles/")); href != vehicles+"#records" || label != "返回路检路查" {
		t.Errorf("roadside check from its list: ← %s %q, want %s#records", href, label, vehicles)
	}

}

// TestDecisionIsOfTheEvidenceShown: a photo that reaches an inspection
// after the office read its page — pushed as a record, or its bytes
// checked and flagged by the server — stops the review from that page
// (409, the photo named as a reason); so does a photo of the
// rectification for the verification of a finding. Opened again, the page
// decides on what it now shows. The API, whose seq is the record's own as
// pulled, is not changed by evidence.
func TestDecisionIsOfTheEvidenceShown(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	county := loggedIn(t, srv, apptest.CountyOffice)
	status := func(entity, id string) string {
		t.Helper()
		r, err := srv.App.DB.Get(t.Context(), entity, id)
		if err != nil || r == nil {
			t.Fatal(err)
		}
		return r.Text("status")
	}
	photo := func(parent, id string) string {
		t.Helper()
		ph := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, ph, apptest.Fields(parent, id,
			"sha256", strings.Repeat("cd", 32), "caption", "溢流口正在排污", "captured_at", "2026-11-27T09:30:00+08:00")))
		return ph
	}
	review := func(page, insp string) (int, string) {
		t.Helper()
		return county.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}}, page))
	}

	// A photo record pushed after the page was read.
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	page := mustGet(t, county, "/console/inspections/"+insp)
	ph := photo("inspection_id", insp)
	if st, done := review(page, insp); st != http.StatusConflict || !strings.Contains(done, "照片") || status(syncproto.EntityInspection, insp) != "submitted" {
		t.Fatalf("approved from a page read before a photo arrived: %d, %s\n%s", st, status(syncproto.EntityInspection, insp), done)
	}
	// The server checking that photo and flagging it after the page was
	// read (a write to the photo only).
	page = mustGet(t, county, "/console/inspections/"+insp)
	serverWrite(t, srv, syncproto.EntityPhoto, ph, apptest.Xinfu, map[string]any{"flags": []any{"far_from_site"}, "processed_at": "2026-11-27T09:31:00+08:00"})
	if st, _ := review(page, insp); st != http.StatusConflict || status(syncproto.EntityInspection, insp) != "submitted" {
		t.Fatalf("approved from a page read before its photo was flagged: %d", st)
	}
	page = mustGet(t, county, "/console/inspections/"+insp)
	if st, done := review(page, insp); st != http.StatusOK && st != http.StatusSeeOther || status(syncproto.EntityInspection, insp) != "approved" {
		t.Fatalf("the page read again does not approve: %d\n%s", st, done)
	}

	// A rectification photo pushed after the finding's page was read.
	f, insp2 := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp2, apptest.Fields(append([]any{
		"site_id", apptest.DemoSiteFor(t, apptest.Xinfu, "coal_boiler"), "template_id", "coal_boiler", "template_version", 1,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00"}, completeBoiler...)...)),
		apptest.Mut(phone, syncproto.EntityFinding, f, apptest.Fields("inspection_id", insp2,
			"description", "溢流口直排", "severity", "major", "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp2, apptest.Fields("status", "submitted")))
	if st, done := review(mustGet(t, county, "/console/inspections/"+insp2), insp2); st != http.StatusOK && st != http.StatusSeeOther {
		t.Fatalf("approve the second: %d\n%s", st, done)
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityFinding, f, apptest.Fields("status", "rectified", "rectification_note", "已封堵")))
	page = mustGet(t, county, "/console/inspections/"+insp2)
	photo("finding_id", f)
	verify := func(page string) (int, string) {
		t.Helper()
		m := regexp.MustCompile(`action="/console/findings/` + f + `/verify" class="verify"><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" name="seq" value="([0-9]+)">`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no verify form for the finding:\n%s", page)
		}
		return county.post("/console/findings/"+f+"/verify", url.Values{"csrf": {csrf(t, page)}, "seq": {m[1]}, "decision": {"verify"}})
	}
	if st, done := verify(page); st != http.StatusConflict || status(syncproto.EntityFinding, f) != "rectified" {
		t.Fatalf("verified from a page read before a rectification photo arrived: %d %s\n%s", st, status(syncproto.EntityFinding, f), done)
	}
	// Read again, but another office sends it back before the form is
	// posted: the refusal says an office did, not the inspector.
	page = mustGet(t, county, "/console/inspections/"+insp2)
	city := loggedIn(t, srv, apptest.CityOffice)
	cityPage := mustGet(t, city, "/console/inspections/"+insp2)
	m := regexp.MustCompile(`action="/console/findings/` + f + `/verify" class="reopen"><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" name="seq" value="([0-9]+)">`).FindStringSubmatch(cityPage)
	if m == nil {
		t.Fatalf("no reopen form for the city")
	}
	if st, done := city.post("/console/findings/"+f+"/verify", url.Values{"csrf": {csrf(t, cityPage)}, "seq": {m[1]}, "decision": {"reopen"}, "comment": {"复测仍超标"}}); st != http.StatusOK && st != http.StatusSeeOther {
		t.Fatalf("the city sends it back: %d\n%s", st, done)
	}
	cityUser, _, err := srv.App.DB.UserByUsername(ctx, apptest.CityOffice)
	if err != nil {
		t.Fatal(err)
	}
	if st, done := verify(page); st != http.StatusConflict || !strings.Contains(done, "已由"+cityUser.DisplayName+"退回整改") || strings.Contains(done, "巡查员尚未报告") ||
		!strings.Contains(done, "<h1>操作与记录当前状态不符</h1>") {
		t.Errorf("verified after another office sent it back: %d, want 409 saying an office did\n%s", st, done)
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityFinding, f, apptest.Fields("status", "rectified", "rectification_note", "已重新封堵")))
	if st, done := verify(mustGet(t, county, "/console/inspections/"+insp2)); st != http.StatusOK && st != http.StatusSeeOther || status(syncproto.EntityFinding, f) != "verified" {
		t.Fatalf("the page read again does not verify: %d\n%s", st, done)
	}

	// The API: the inspection's seq as pulled, photos after it or not.
	insp3 := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-29T09:00:00+08:00", completeBoiler...)
	r, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp3)
	if err != nil {
		t.Fatal(err)
	}
	photo("inspection_id", insp3)
	api := srv.Login(apptest.CityOffice)
	var out syncproto.Change
	if err := api.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp3+"/review", map[string]any{"decision": "approve", "seq": r.Seq}, &out); err != nil {
		t.Fatalf("the API's review with the inspection's pulled seq, a photo after it: %v", err)
	}
}

// TestCommentLineBreaks: a comment's line breaks are stored as one LF
// each, whether a browser's form sent CR LF or an API client a lone CR,
// so that phones read one text however the office wrote it.
func TestCommentLineBreaks(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	county := loggedIn(t, srv, apptest.CountyOffice)
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	page := mustGet(t, county, "/console/inspections/"+insp)
	form := withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"return"}, "comment": {"第一行\r\n第二行\r第三行\n"}}, page)
	if st, done := county.post("/console/inspections/"+insp+"/review", form); st != http.StatusOK && st != http.StatusSeeOther {
		t.Fatalf("return: %d\n%s", st, done)
	}
	r, err := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp)
	if err != nil || r.Text("review_comment") != "第一行\n第二行\n第三行" {
		t.Errorf("the console's comment stored as %+q (%v), want LF line breaks", r.Text("review_comment"), err)
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	api := srv.Login(apptest.CityOffice)
	if err := api.Do(t.Context(), http.MethodPost, "/api/v1/inspections/"+insp+"/review", map[string]any{"decision": "return", "comment": "甲\r\n乙\r丙"}, nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := srv.App.DB.Get(t.Context(), syncproto.EntityInspection, insp); r.Text("review_comment") != "甲\n乙\n丙" {
		t.Errorf("the API's comment stored as %+q, want LF line breaks", r.Text("review_comment"))
	}
	// Every form's textarea: a ledger note too.
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"note": {"围挡已完成\r\n苫盖进行中"}}); st != http.StatusOK {
		t.Fatalf("ledger report: %d\n%s", st, page)
	}
	if got := storedProgress(t, srv, "task-08", apptest.Xinfu).Note; got != "围挡已完成\n苫盖进行中" {
		t.Errorf("a ledger note stored as %+q, want LF line breaks", got)
	}
}

// TestApproveAsksWhatBulkRefuses: an inspection that bulk approval
// refuses — missing items, answers to items not on its checklist, photos
// not yet uploaded or checked — is said beside 审核通过, which asks before
// it approves, as it does for flagged photos; a clean one is approved at
// one click. One click approved an inspection with required items
// unanswered and photos not uploaded, unwarned (reviewer probe).
func TestApproveAsksWhatBulkRefuses(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	clean := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	gaps := pushIn(t, phone, apptest.Xinfu, "construction_dust", "2026-11-27T10:00:00+08:00", incompleteDust...)
	waiting := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T11:00:00+08:00", completeBoiler...)
	if err := srv.App.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
		return srv.App.Syncer.Upsert(ctx, tx, syncproto.EntityPhoto, uuid.NewString(), apptest.Xinfu,
			map[string]any{"inspection_id": waiting, "sha256": strings.Repeat("ab", 32)})
	}); err != nil {
		t.Fatal(err)
	}
	b := loggedIn(t, srv, apptest.CountyOffice)
	confirmOf := regexp.MustCompile(`<form method="post" action="/console/inspections/[^"]+/review" class="approve"(?: data-confirm="([^"]*)")?>`)
	cautionsOf := regexp.MustCompile(`(?s)<p class="warn review-cautions" id="review-cautions">(.*?)</p>`)
	for _, tc := range []struct {
		name, id string
		says     []string
	}{
		{"clean", clean, nil},
		{"missing items and an unknown item", gaps, []string{"缺项", `<a href="#missing">查看缺项</a>`, "检查表中没有的检查项"}},
		{"a photo not uploaded", waiting, []string{"有 1 张照片尚未上传或尚未完成检查"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := mustGet(t, b, "/console/inspections/"+tc.id)
			form := confirmOf.FindStringSubmatch(page)
			if form == nil {
				t.Fatal("no 审核通过 form")
			}
			cautions := cautionsOf.FindStringSubmatch(page)
			if tc.says == nil {
				if form[1] != "" || cautions != nil {
					t.Errorf("a clean inspection asks %q and warns %v", form[1], cautions)
				}
				return
			}
			if cautions == nil || form[1] == "" {
				t.Fatalf("warned %v, asks %q", cautions, form[1])
			}
			for _, s := range tc.says {
				if !strings.Contains(cautions[1], s) {
					t.Errorf("the warning %q does not say %q", cautions[1], s)
				}
				if plain := html.UnescapeString(form[1]); !strings.HasPrefix(s, "<") && !strings.Contains(plain, s) {
					t.Errorf("the question %q does not say %q", plain, s)
				}
				// A sentence: 此检查有 …, not 此检查1 张照片 (county office probe).
				if plain := html.UnescapeString(form[1]); !strings.HasPrefix(plain, "此检查有 ") && !strings.HasPrefix(plain, "此检查尚未") {
					t.Errorf("the question %q does not read as a sentence", plain)
				}
			}
		})
	}
}

// TestFindingRowShowsItsPhotos: a finding's row links to its photos with
// when each was taken, those after the day of the visit marked, and a
// finding reported rectified with none taken after that day says so —
// a reviewer verifying a rectification saw the note and the button, and
// had to find its evidence among the visit's photos (reviewer probe).
func TestFindingRowShowsItsPhotos(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	s := srv.App.Syncer
	withLater, without, visit, later, own := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	err := s.Store.Update(t.Context(), func(tx server.WriteTx) error {
		for _, f := range []string{withLater, without} {
			if err := s.Upsert(t.Context(), tx, syncproto.EntityFinding, f, apptest.Xinfu, map[string]any{"inspection_id": insp,
				"description": "锅炉房堆放散煤 " + f[:4], "status": "rectified", "rectification_note": "已清运"}); err != nil {
				return err
			}
		}
		for _, ph := range []struct {
			id, finding, at, sum string
		}{{visit, withLater, "2026-11-27T09:20:00+08:00", "cd"}, {later, withLater, "2026-11-30T15:10:00+08:00", "ef"},
			{own, without, "2026-11-27T23:50:00+08:00", "ab"}} {
			if err := s.Upsert(t.Context(), tx, syncproto.EntityPhoto, ph.id, apptest.Xinfu, map[string]any{
				"finding_id": ph.finding, "sha256": strings.Repeat(ph.sum, 32), "captured_at": ph.at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page := mustGet(t, loggedIn(t, srv, apptest.CountyOffice), "/console/inspections/"+insp)
	row := func(id string) string {
		m := regexp.MustCompile(`(?s)<tr id="finding-` + id + `">(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no row of finding %s", id)
		}
		return m[1]
	}
	r := row(withLater)
	for _, want := range []string{`<a href="#photo-` + visit + `">照片 `, "（2026-11-27 09:20）", `<a href="#photo-` + later + `">照片 `, "（2026-11-30 15:10，检查之后）"} {
		if !strings.Contains(r, want) {
			t.Errorf("the row of a finding with a later photo lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "none-later") {
		t.Error("a finding with a photo taken after the visit says it has none")
	}
	r = row(without)
	if !strings.Contains(r, `<a href="#photo-`+own+`">`) || strings.Contains(r, "检查之后") || !strings.Contains(r, "没有检查当天之后或审核通过之后拍摄的照片") {
		t.Errorf("the row of a rectified finding with only the visit day's photo:\n%s", r)
	}
	for _, id := range []string{visit, later, own} {
		if !strings.Contains(page, `<figure id="photo-`+id+`">`) {
			t.Errorf("photo %s linked from its finding is not on the page", id)
		}
	}
}

// TestRefusedFormKeptAsText: a comment refused for invalid UTF-8 or a
// NUL is shown again on the error page as text (U+FFFD), the page valid
// UTF-8 as its charset says — it held the raw bytes (security probe).
func TestRefusedFormKeptAsText(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	path := "/console/inspections/" + insp
	_, page := b.get(path)
	for _, comment := range []string{"照片\xff\xfe<b>不清</b>", "照片\x00不清"} {
		st, out := b.post(path+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"return"}, "comment": {comment}}, page))
		if st != http.StatusBadRequest || !utf8.ValidString(out) || strings.Contains(out, "\x00") {
			t.Errorf("comment %q: %d, valid UTF-8 %v", comment, st, utf8.ValidString(out))
		}
		if want := strings.ToValidUTF8(strings.ReplaceAll(comment, "\x00", ""), "\uFFFD"); !strings.Contains(out, html.EscapeString(want)) {
			t.Errorf("comment %q: the page does not keep it as %q", comment, want)
		}
	}
}

// TestResubmittedMarked: an inspection submitted again after a return is
// marked so in the queue, and its page shows the return's comment as the
// last return's, not as a current 审核意见 (reviewer probe).
func TestResubmittedMarked(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	again := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T09:00:00+08:00", completeBoiler...)
	first := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-27T10:00:00+08:00", completeBoiler...)
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/inspections/"+again+"/review", map[string]any{"decision": "return", "comment": "请补拍锅炉房"}, nil); err != nil {
		t.Fatal(err)
	}
	pullAll(t, phone, "")
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, again, apptest.Fields("status", "submitted", "summary", "已补拍")))
	b := loggedIn(t, srv, apptest.CountyOffice)
	queue := mustGet(t, b, "/console/queue")
	if !strings.Contains(rowOf(queue, again), "（退回后重新提交）") || strings.Contains(rowOf(queue, first), "重新提交") {
		t.Errorf("the queue's rows: resubmitted %q, first %q", rowOf(queue, again), rowOf(queue, first))
	}
	page := mustGet(t, b, "/console/inspections/"+again)
	if !strings.Contains(page, "<dt>上次退回意见</dt><dd>请补拍锅炉房") || strings.Contains(page, "<dt>审核意见</dt>") || !strings.Contains(page, "重新提交；改了什么见下方修改历史") {
		t.Error("the resubmitted inspection's page does not show the comment as the last return's")
	}
}

// TestRectifiedOnTheSpot: a finding's photo taken the day of the visit
// but after the office approved the inspection (the site put right on the
// spot) is the rectification's — 整改照片 in the gallery, 审核通过后 in its
// row — not the problem's (verification probe).
func TestRectifiedOnTheSpot(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	now := time.Now().In(server.ChinaTime)
	insp := pushIn(t, phone, apptest.Xinfu, "coal_boiler", now.Add(-time.Minute).Format(time.RFC3339), completeBoiler...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, b, "/console/inspections/"+insp)
	if st, page := b.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}}, page)); st != http.StatusOK {
		t.Fatalf("approve: %d\n%s", st, page)
	}
	finding, photo := uuid.NewString(), uuid.NewString()
	s := srv.App.Syncer
	if err := s.Store.Update(t.Context(), func(tx server.WriteTx) error {
		if err := s.Upsert(t.Context(), tx, syncproto.EntityFinding, finding, apptest.Xinfu, map[string]any{"inspection_id": insp,
			"description": "锅炉房堆放散煤", "status": "rectified", "rectification_note": "当场清运"}); err != nil {
			return err
		}
		return s.Upsert(t.Context(), tx, syncproto.EntityPhoto, photo, apptest.Xinfu, map[string]any{"finding_id": finding,
			"sha256": strings.Repeat("ab", 32), "captured_at": time.Now().Add(time.Minute).In(server.ChinaTime).Format(time.RFC3339)})
	}); err != nil {
		t.Fatal(err)
	}
	page = mustGet(t, b, "/console/inspections/"+insp)
	fig := regexp.MustCompile(`(?s)<figure id="photo-` + photo + `">.*?</figure>`).FindString(page)
	if !strings.Contains(fig, "整改照片</span>") {
		t.Errorf("the photo taken after the approval is not the rectification's:\n%s", fig)
	}
	// The approval's history says what it changed, not a comment it left empty.
	if hist := strings.Join(tableRows(t, page, "history"), "\n"); !strings.Contains(hist, "状态：待审核 → 已通过") || strings.Contains(hist, "（空） → （空）") {
		t.Errorf("the approval's history:\n%s", hist)
	}
	row := regexp.MustCompile(`(?s)<tr id="finding-` + finding + `">.*?</tr>`).FindString(page)
	if !strings.Contains(row, "审核通过后）") && !strings.Contains(row, "检查之后）") || strings.Contains(row, "none-later") {
		t.Errorf("the finding's row does not say its photo came after:\n%s", row)
	}
}

// TestQueueResubmittedArrivesAgain (office probe): an inspection returned
// and submitted again is, by 最近送达, as recent as its resubmission — it
// kept the day its draft first reached the server, and a correction sent
// today sorted below everything else.
func TestQueueResubmittedArrivesAgain(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	first := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-20T09:00:00+08:00", completeBoiler...)
	later := pushIn(t, phone, apptest.Xinfu, "coal_boiler", "2026-11-21T09:00:00+08:00", completeBoiler...)
	if err := srv.Login(apptest.CityOffice).Do(ctx, http.MethodPost, "/api/v1/inspections/"+first+"/review", map[string]string{"decision": "return", "comment": "请补充铭牌照片"}, nil); err != nil {
		t.Fatal(err)
	}
	pullAll(t, phone, "")
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, first, apptest.Fields("status", "submitted")))
	b := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, b, "/console/queue?status=submitted&sort=received&dir=desc")
	if got := order(page, first, later); strings.Join(got, ",") != first+","+later {
		t.Errorf("by 最近送达, latest first: %v, want the resubmitted %s first", got, first)
	}
	r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, first)
	if err != nil {
		t.Fatal(err)
	}
	if want := `class="received">` + r.UpdatedAt.In(server.ChinaTime).Format("01-02 15:04") + `<`; !strings.Contains(rowOf(page, first), want) || !r.UpdatedAt.After(r.CreatedAt) {
		t.Errorf("the resubmitted row's 最近送达: %s, want %s (its resubmission; created %s)", rowOf(page, first), want, r.CreatedAt)
	}
}
