package console_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestFindingsList: the offices' list of findings, the earliest deadline
// first, marks and filters the overdue (past the deadline, not reported
// rectified); the overview's overdue figure links to that list and equals
// its count; status and county filter; another county's findings are not
// listed, and the findings export says how many days each is overdue.
func TestFindingsList(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	late, due, done := uuid.NewString(), uuid.NewString(), uuid.NewString()
	// Findings of a submitted inspection (pushed with it unsubmitted
	// first: a submitted inspection takes no new finding).
	draft := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, draft, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-20T09:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityFinding, late, apptest.Fields("inspection_id", draft, "item_key", "fence", "description", "围挡倒塌未修复",
			"severity", "critical", "deadline", "2026-11-25", "status", "rectifying")),
		apptest.Mut(phone, syncproto.EntityFinding, due, apptest.Fields("inspection_id", draft, "description", "出入口未冲洗",
			"deadline", server.ChinaDay(time.Now().AddDate(0, 6, 0)), "status", "open")),
		apptest.Mut(phone, syncproto.EntityFinding, done, apptest.Fields("inspection_id", draft, "description", "裸土未覆盖",
			"deadline", "2026-11-21", "status", "rectified", "rectification_note", "已覆盖")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, draft, apptest.Fields("status", "submitted")))

	b := loggedIn(t, srv, apptest.CountyOffice)
	_, ov := b.get("/console/overview")
	m := regexp.MustCompile(`href="/console/findings\?overdue=1"><b id="kpi-findings">(\d+)</b>`).FindStringSubmatch(ov)
	if m == nil {
		t.Fatal("the overview's overdue figure does not link to the overdue findings")
	}
	st, page := b.get("/console/findings?overdue=1")
	if st != http.StatusOK {
		t.Fatalf("overdue findings: %d\n%s", st, page)
	}
	if !strings.Contains(page, "共 "+m[1]+" 个问题") {
		t.Errorf("the overview counts %s overdue, the list another number", m[1])
	}
	row := func(page, id string) string {
		return regexp.MustCompile(`(?s)<tr data-id="` + id + `"[^>]*>.*?</tr>`).FindString(page)
	}
	if r := row(page, late); !strings.Contains(r, `class="overdue"`) || !strings.Contains(r, "逾期") || !strings.Contains(r, "围挡倒塌未修复") ||
		!strings.Contains(r, "整改中") || !strings.Contains(r, `href="/console/inspections/`+draft+`?back=%2Fconsole%2Ffindings%3Foverdue%3D1#finding-`+late+`"`) {
		t.Errorf("the overdue finding's row: %s", r)
	}
	if row(page, due) != "" || row(page, done) != "" {
		t.Error("a finding not overdue (future deadline, or rectified) is listed as overdue")
	}
	_, all := b.get("/console/findings")
	if row(all, due) == "" || row(all, done) == "" || strings.Contains(row(all, due), "逾期") || strings.Contains(row(all, done), "逾期") {
		t.Error("the whole list lacks a finding or marks one not overdue as overdue")
	}
	// The rectified finding, deadline 2026-11-21, was reported rectified
	// today: after its deadline, which its row says with the day.
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	lateBy := int(today.Sub(time.Date(2026, 11, 21, 0, 0, 0, 0, today.Location())).Hours() / 24)
	if r := row(all, done); !strings.Contains(r, today.Format(time.DateOnly)) || !strings.Contains(r, "超过时限 "+strconv.Itoa(lateBy)+" 天") {
		t.Errorf("the finding rectified %d days late: row %s", lateBy, r)
	}
	if r := row(all, due); strings.Contains(r, "超过时限") {
		t.Errorf("a finding still open says it was rectified late: %s", r)
	}
	if strings.Index(all, late) > strings.Index(all, due) {
		t.Error("the list is not by deadline, earliest first")
	}
	_, rectifying := b.get("/console/findings?status=rectifying")
	if row(rectifying, late) == "" || row(rectifying, done) != "" {
		t.Error("the status filter")
	}
	// 已整改（待核实） lists only what can be verified now: not a
	// rectified finding of an inspection still under review
	// (TestRectifiedToVerify).
	if _, rectified := b.get("/console/findings?status=rectified"); row(rectified, done) != "" || row(rectified, late) != "" {
		t.Error("the rectified filter lists a finding that cannot be verified yet")
	}
	_, todo := b.get("/console/findings?status=todo")
	if row(todo, late) == "" || row(todo, due) == "" || row(todo, done) != "" {
		t.Error("the still-to-rectify filter")
	}
	if st, _ := b.get("/console/findings?status=bogus"); st != http.StatusBadRequest {
		t.Errorf("unknown status: %d, want 400", st)
	}
	if st, _ := b.get("/console/findings?county=" + apptest.Dingxiang); st != http.StatusForbidden {
		t.Errorf("another county: %d, want 403", st)
	}
	if _, other := loggedIn(t, srv, apptest.DingxiangOffice).get("/console/findings"); strings.Contains(other, late) || strings.Contains(other, due) {
		t.Error("定襄县's office lists 忻府区's findings")
	}
	// The export says how overdue each finding is.
	body, f := download(t, b, "/console/findings.xlsx?status=")
	rows := checkSheet(t, body, f, "发现问题")
	col, header := -1, 0
	for i, r := range rows {
		for j, h := range r {
			if h == "逾期天数" {
				col, header = j, i
			}
		}
	}
	if col < 0 {
		t.Fatalf("findings export lacks a 逾期天数 column: %v", rows[:2])
	}
	// And, as the page, the rectification note and who found it.
	named := map[string]int{}
	for j, h := range rows[header] {
		named[h] = j
	}
	noteCol, inspCol := named["整改说明"], named["巡查员"]
	if noteCol == 0 || inspCol == 0 {
		t.Fatalf("findings export lacks 整改说明 or 巡查员: %v", rows[header])
	}
	for _, r := range rows[header+1:] {
		if slices.Contains(r, "裸土未覆盖") && (r[noteCol] != "已覆盖" || r[inspCol] != "张巡查") {
			t.Errorf("the rectified finding exported with 整改说明 %q, 巡查员 %q, want 已覆盖, 张巡查", r[noteCol], r[inspCol])
		}
		if slices.Contains(r, "裸土未覆盖") && (r[named["整改完成日期"]] != today.Format(time.DateOnly) || r[named["超过时限天数"]] != strconv.Itoa(lateBy)) {
			t.Errorf("the finding rectified late exported with 整改完成日期 %q, 超过时限天数 %q, want %s, %d",
				r[named["整改完成日期"]], r[named["超过时限天数"]], today.Format(time.DateOnly), lateBy)
		}
	}
	for _, r := range rows[header+1:] {
		for _, c := range r {
			if c == "围挡倒塌未修复" {
				if n, err := strconv.Atoi(r[col]); err != nil || n <= 0 {
					t.Errorf("overdue finding exported with 逾期天数 %q", r[col])
				}
			}
			if c == "出入口未冲洗" && r[col] != "" {
				t.Errorf("finding not overdue exported with 逾期天数 %q", r[col])
			}
		}
	}
	// The 问题整改 page exports what its filter selects, all pages: its
	// link keeps the filter, and the sheet's title says it.
	_, page = b.get("/console/findings?overdue=1&status=todo")
	href := exportHref(t, page, "/console/findings-list.xlsx")
	body, f = download(t, b, href)
	rows = checkSheet(t, body, f, "问题整改")
	var listed []string
	for _, r := range rows[1:] {
		if len(r) > 5 {
			listed = append(listed, r[5])
		}
	}
	if !slices.Equal(listed, []string{"围挡倒塌未修复"}) {
		t.Errorf("the overdue findings' export lists %v, want the one overdue", listed)
	}
	if title, _ := f.GetCellValue("问题整改", "A1"); !strings.Contains(title, "只看逾期") || !strings.Contains(title, "未整改完成") {
		t.Errorf("the export's title does not say its filter: %q", title)
	}
	if st, _ := b.get("/console/findings-list.xlsx?county=" + apptest.Dingxiang); st != http.StatusForbidden {
		t.Errorf("another county's findings export: %d, want 403", st)
	}
}

// TestFindingsByVisitDate: the 问题整改 list is filtered by the date of
// the inspection that found each problem (a month's findings: before, a
// month-end report had the whole year's), shows that time on each row,
// keeps the dates in its pages' links and its export, whose title says
// them; a date that is not one, or a range backwards, is refused.
func TestFindingsByVisitDate(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	found := func(started, desc string) string {
		insp, f := uuid.NewString(), uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
			"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", started)),
			apptest.Mut(phone, syncproto.EntityFinding, f, apptest.Fields("inspection_id", insp, "description", desc, "deadline", "2026-12-31", "status", "open")))
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
		return f
	}
	oct := found("2026-10-20T09:00:00+08:00", "十月发现的围挡问题")
	nov := found("2026-11-20T09:30:00+08:00", "十一月发现的裸土问题")
	lastDay := found("2026-11-30T23:30:00+08:00", "十一月最后一天发现的问题")
	b := loggedIn(t, srv, apptest.CountyOffice)
	row := func(page, id string) string {
		return regexp.MustCompile(`(?s)<tr data-id="` + id + `"[^>]*>.*?</tr>`).FindString(page)
	}
	st, page := b.get("/console/findings?from=2026-11-01&to=2026-11-30")
	if st != http.StatusOK {
		t.Fatalf("findings of November: %d\n%s", st, page)
	}
	if row(page, oct) != "" || row(page, nov) == "" || row(page, lastDay) == "" {
		t.Errorf("findings of November list October's (%v) or lack November's (%v, %v)", row(page, oct) != "", row(page, nov) != "", row(page, lastDay) != "")
	}
	if r := row(page, nov); !strings.Contains(r, `data-label="检查时间" class="time">2026-11-20 09:30<`) {
		t.Errorf("the row does not say when the inspection was: %s", r)
	}
	if !strings.Contains(page, `name="from" value="2026-11-01"`) || !strings.Contains(page, `name="to" value="2026-11-30"`) {
		t.Error("the form does not keep the dates")
	}
	if _, from := b.get("/console/findings?from=2026-11-21"); row(from, nov) != "" || row(from, lastDay) == "" {
		t.Error("from a day lists an earlier finding, or not a later one")
	}
	if _, to := b.get("/console/findings?to=2026-10-31"); row(to, oct) == "" || row(to, nov) != "" {
		t.Error("to a day lists a later finding, or not an earlier one")
	}
	for _, bad := range []string{"from=2026-13-01", "to=11/30", "from=2026-11-30&to=2026-11-01"} {
		if st, _ := b.get("/console/findings?" + bad); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, st)
		}
	}
	href := exportHref(t, page, "/console/findings-list.xlsx")
	if !strings.Contains(href, "from=2026-11-01") || !strings.Contains(href, "to=2026-11-30") {
		t.Errorf("the export link %s drops the dates", href)
	}
	body, f := download(t, b, href)
	rows := checkSheet(t, body, f, "问题整改")
	var listed []string
	for _, r := range rows[1:] {
		if len(r) > 5 && r[0] != "合计" && r[0] != "检查时间" {
			listed = append(listed, r[5])
		}
	}
	slices.Sort(listed)
	if want := []string{"十一月发现的裸土问题", "十一月最后一天发现的问题"}; !slices.Equal(listed, want) {
		t.Errorf("the export lists %v, want %v", listed, want)
	}
	if title, _ := f.GetCellValue("问题整改", "A1"); !strings.Contains(title, "检查日期") || !strings.Contains(title, "2026-11-01 至 2026-11-30") {
		t.Errorf("the export's title does not say its dates: %q", title)
	}
}
