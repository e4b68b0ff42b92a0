package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var overdueRE = regexp.MustCompile(`逾期未完成 <b>(\d+)</b>`)

func overdueCount(t *testing.T, page string) string {
	t.Helper()
	m := overdueRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no overdue count\n%s", page)
	}
	return m[1]
}

// fakeClock is the server's clock in a test: set, never slept on.
type fakeClock struct{ ns atomic.Int64 }

// Now is the clock's time.
func (c *fakeClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Set sets the clock to 10:00 China time on day (YYYY-MM-DD).
func (c *fakeClock) Set(day string) {
	d, err := time.ParseInLocation(time.DateOnly, day, time.FixedZone("CST", 8*3600))
	if err != nil {
		panic(err)
	}
	c.ns.Store(d.Add(10 * time.Hour).UnixNano())
}

// option makes the server run on the clock.
func (c *fakeClock) option(cfg *app.Config) { cfg.Now = c.Now }

// countyRow returns the ledger's row of a task's progress in a county as
// text (cells joined by "|"), or "" when the page has none.
func countyRow(t *testing.T, page, task, county string) string {
	t.Helper()
	for _, r := range regexp.MustCompile(`(?s)<tr id="p-`+task+`-`+county+`"[^>]*>.*?</tr>`).FindAllString(page, -1) {
		return strings.Join(tableRows(t, `<table id="x">`+r+`</table>`, "x"), "\n")
	}
	return ""
}

// taskRow returns the ledger's row of a task (number "4.4") as text.
func taskRow(t *testing.T, page, number string) string {
	t.Helper()
	for _, r := range tableRows(t, page, "ledger") {
		if strings.HasPrefix(r, number+"|") {
			return r
		}
	}
	t.Fatalf("no ledger row for task %s", number)
	return ""
}

// reportRow returns the row of a task in a county in this month's report
// (the progress as it is now), as text.
func reportRow(t *testing.T, b *browser, number, county string) string {
	t.Helper()
	for _, r := range tableRows(t, mustGet(t, b, "/console/report"), "report-整改任务进展") {
		if strings.HasPrefix(r, number+"|"+county+"|") {
			return r
		}
	}
	return ""
}

// report posts an office's progress on a task in a county, as its form
// on the ledger page would: the row's values as the page shows them, with
// those of form over them (none if the viewer has no form for the row).
func report(t *testing.T, b *browser, task, county string, form url.Values) (int, string) {
	t.Helper()
	return b.post("/console/ledger/"+task+"/"+county, ledgerForm(t, mustGet(t, b, "/console/ledger"), task, county, form))
}

// ledgerForm is what the form of a task's row in a county on a ledger
// page posts, with form's values over the row's.
func ledgerForm(t *testing.T, page, task, county string, form url.Values) url.Values {
	t.Helper()
	post := url.Values{"csrf": {csrf(t, page)}}
	action := `action="/console/ledger/` + task + `/` + county + `" class="task-form">`
	if i := strings.Index(page, action); i >= 0 {
		m := origRE.FindStringSubmatch(page[i:])
		if m == nil {
			t.Fatalf("the form of %s/%s has no orig", task, county)
		}
		orig := html.UnescapeString(m[1])
		var base server.ProgressReport
		if err := json.Unmarshal([]byte(orig), &base); err != nil {
			t.Fatalf("orig %q: %v", orig, err)
		}
		post.Set("orig", orig)
		if m := listRE.FindStringSubmatch(page[i:]); m != nil {
			post.Set("list", html.UnescapeString(m[1]))
		}
		post.Set("status", base.Status)
		post.Set("note", base.Note)
		post.Set("evidence", strings.Join(base.Evidence, "\n"))
		if base.Pct != nil {
			post.Set("progress_pct", strconv.Itoa(*base.Pct))
		}
	}
	for k, v := range form {
		post[k] = v
	}
	return post
}

// TestLedgerKeepsOtherReports: the city saves a row's form it opened
// before the county reported on the row: what the city changed is
// written, and what the county reported on the other parts stays; a part
// both changed comes back as a conflict naming it, and nothing is written.
func TestLedgerKeepsOtherReports(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	county := loggedIn(t, srv, apptest.CountyOffice)
	row := func() server.TaskProgress { return storedProgress(t, srv, "task-08", apptest.Xinfu) }
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"status": {"in_progress"}}); st != http.StatusOK {
		t.Fatalf("county reports: %d\n%s", st, page)
	}
	stale := mustGet(t, city, "/console/ledger")
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"progress_pct": {"90"}, "note": {"县里的进展"}}); st != http.StatusOK {
		t.Fatalf("county reports: %d\n%s", st, page)
	}
	if st, page := city.post("/console/ledger/task-08/"+apptest.Xinfu, ledgerForm(t, stale, "task-08", apptest.Xinfu, url.Values{"status": {"done"}})); st != http.StatusOK {
		t.Fatalf("city's stale form, status only: %d\n%s", st, page)
	}
	if r := row(); r.Status != "done" || !r.HasPct || r.Pct != 100 || r.Note != "县里的进展" {
		t.Errorf("after both: %+v; want the city's status with the county's note, and the county's 90%% (which a finished task cannot have) following the status", r)
	}
	stale = mustGet(t, city, "/console/ledger")
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"note": {"县里又改了说明"}}); st != http.StatusOK {
		t.Fatalf("county reports again: %d\n%s", st, page)
	}
	st, page := city.post("/console/ledger/task-08/"+apptest.Xinfu, ledgerForm(t, stale, "task-08", apptest.Xinfu, url.Values{"note": {"市里的说明"}}))
	if st != http.StatusConflict || !strings.Contains(page, "进展说明（现为「县里又改了说明」）已被其他人员修改") || row().Note != "县里又改了说明" {
		t.Errorf("both changed the note: %d, note %q\n%s", st, row().Note, page)
	}
	// The county's own form kept open in another tab, saved after its
	// later report: its own change, not someone else's (county office
	// probe).
	stale = mustGet(t, county, "/console/ledger")
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"note": {"第一个标签页"}}); st != http.StatusOK {
		t.Fatalf("county reports: %d\n%s", st, page)
	}
	st, page = county.post("/console/ledger/task-08/"+apptest.Xinfu, ledgerForm(t, stale, "task-08", apptest.Xinfu, url.Values{"note": {"第二个标签页"}}))
	if st != http.StatusConflict || !strings.Contains(page, "已被您在另一页面（或另一个浏览器标签页）修改") || strings.Contains(page, "其他人员") {
		t.Errorf("the county's own two tabs: %d\n%s", st, page)
	}
}

// TestProgressPerCounty (issue 10): a task shared by counties has one
// progress row per county. Each county office reports its own; its
// report shows its own progress and nobody else's; the city sees every
// county's row and the roll-up (counts, the slowest county, the overdue
// ones once the deadline has passed); no office reports on another
// county's row; each county's phones pull its own rows only.
func TestProgressPerCounty(t *testing.T) {
	var clock fakeClock
	clock.Set("2022-12-20")
	srv := apptest.Start(t, clock.option)
	xinfuPhone := srv.Login(apptest.Inspector)
	dingPhone := addInspector(t, srv, "dingxiang-insp", apptest.Dingxiang)
	_, xinfuCursor := pullAll(t, xinfuPhone, "")
	_, dingCursor := pullAll(t, dingPhone, "")
	xinfu, ding, city := loggedIn(t, srv, apptest.CountyOffice), loggedIn(t, srv, apptest.DingxiangOffice), loggedIn(t, srv, apptest.CityOffice)

	// 忻府区 reports on 4.4 (every county): 定襄县's report row is untouched.
	note := "忻府区已完成建筑工地扬尘专项检查第一轮"
	if st, page := report(t, xinfu, "task-08", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"30"},
		"note": {note}, "evidence": {"忻府环发〔2022〕12号\nhttps://example.gov.cn/notice/1\n"}}); st != http.StatusOK ||
		!strings.Contains(page, "已保存整改进展") {
		t.Fatalf("忻府区 reports: %d\n%s", st, page)
	}
	if r := reportRow(t, xinfu, "4.4", "忻府区"); !strings.Contains(r, "|推进中|30%|") || !strings.Contains(r, note) {
		t.Errorf("忻府区's report row for 4.4: %q", r)
	}
	if r := reportRow(t, ding, "4.4", "定襄县"); !strings.Contains(r, "|未开始|0%|") || strings.Contains(r, note) {
		t.Errorf("定襄县's report row for 4.4 after only 忻府区 reported: %q", r)
	}
	summary := func(b *browser, county string) string {
		t.Helper()
		for _, r := range tableRows(t, mustGet(t, b, "/console/report?month=2022-12"), "report-检查与整改汇总") {
			if strings.HasPrefix(r, county+"|") {
				return r
			}
		}
		t.Fatalf("no summary row for %s", county)
		return ""
	}
	// 区县|检查…|照片|有疑点|整改任务|未开始|推进中|已完成|已验收|平均进度
	if r := strings.Split(summary(ding, "定襄县"), "|"); r[10] != "0" || r[13] != "0.0%" {
		t.Errorf("定襄县's summary after only 忻府区 reported: %v", r)
	}
	if r := strings.Split(summary(xinfu, "忻府区"), "|"); r[10] != "1" {
		t.Errorf("忻府区's summary: %v", r)
	}
	// …then 定襄县 reports its own: each row is its own.
	if st, _ := report(t, ding, "task-08", apptest.Dingxiang, url.Values{"status": {"done"}, "note": {"定襄县工地全部整改完毕"}}); st != http.StatusOK {
		t.Fatalf("定襄县 reports: %d", st)
	}
	if r := reportRow(t, ding, "4.4", "定襄县"); !strings.Contains(r, "|已完成|100%|") { // a finished task shows 100% (ShownPct)
		t.Errorf("定襄县's report row: %q", r)
	}
	if r := reportRow(t, xinfu, "4.4", "忻府区"); !strings.Contains(r, "|推进中|30%|") {
		t.Errorf("忻府区's report row after 定襄县 reported: %q", r)
	}

	// No office reports on another county's row, nor accepts its own.
	for _, tc := range []struct {
		who    *browser
		task   string
		county string
		status string
		code   int
		want   string
	}{
		{xinfu, "task-08", apptest.Dingxiang, "done", http.StatusForbidden, "无权填报其他区县"},
		{ding, "task-11", apptest.Xinfu, "done", http.StatusForbidden, "无权填报其他区县"},
		{xinfu, "task-08", apptest.Xinfu, "accepted", http.StatusForbidden, "验收"},
		{xinfu, "task-08", apptest.Xinfu, "finished", http.StatusBadRequest, "状态只能是"},
		{xinfu, "task-06", apptest.Xinfu, "done", http.StatusNotFound, "不涉及忻府区"}, // 4.2 does not name 忻府区, said by its name
		{xinfu, "task-99", apptest.Xinfu, "done", http.StatusNotFound, "不存在"},
	} {
		if st, page := report(t, tc.who, tc.task, tc.county, url.Values{"status": {tc.status}}); st != tc.code || !strings.Contains(page, tc.want) {
			t.Errorf("%s/%s %s: %d, want %d with %q", tc.task, tc.county, tc.status, st, tc.code, tc.want)
		}
	}
	if st, page := report(t, xinfu, "task-08", apptest.Xinfu, url.Values{"status": {"done"}, "progress_pct": {"101"}}); st != http.StatusBadRequest ||
		!strings.Contains(page, "0 到 100") {
		t.Errorf("101%%: %d", st)
	}
	if rec, _ := srv.App.DB.Get(ctx, syncproto.EntityTaskProgress, "task-08@"+apptest.Dingxiang); rec.Text("status") != "done" {
		t.Errorf("a refused report changed 定襄县's row: %q", rec.Text("status"))
	}
	// CSRF: a POST without the session's token changes nothing.
	if st, page := xinfu.post("/console/ledger/task-08/"+apptest.Xinfu, url.Values{"status": {"done"}}); st != http.StatusForbidden || !strings.Contains(page, "CSRF") {
		t.Errorf("no token: %d", st)
	}

	// 5.1 (deadline 2022-12-31, seven counties): every county reports.
	if st, _ := report(t, xinfu, "task-11", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"60"}}); st != http.StatusOK {
		t.Fatal(st)
	}
	if st, _ := report(t, ding, "task-11", apptest.Dingxiang, url.Values{"status": {"in_progress"}, "progress_pct": {"20"}}); st != http.StatusOK {
		t.Fatal(st)
	}
	for county, status := range map[string]string{"140981": "done", "140924": "done", "140922": "done", "140923": "accepted", "140971": "in_progress"} {
		pct := map[bool]string{true: "100", false: "50"}[status != "in_progress"]
		if st, page := report(t, city, "task-11", county, url.Values{"status": {status}, "progress_pct": {pct}}); st != http.StatusOK {
			t.Fatalf("city reports for %s: %d\n%s", county, st, page)
		}
	}
	page := mustGet(t, city, "/console/ledger")
	row := taskRow(t, page, "5.1")
	for _, want := range []string{"未开始 0 · 推进中 3 · 已完成 3 · 已验收 1", "7 个单位", "最慢：定襄县 20%"} {
		if !strings.Contains(row, want) {
			t.Errorf("city's roll-up of 5.1 lacks %q:\n%s", want, row)
		}
	}
	if strings.Contains(row, "逾期") {
		t.Errorf("5.1 is overdue before its deadline:\n%s", row)
	}
	for county, want := range map[string]string{apptest.Xinfu: "推进中 60%", apptest.Dingxiang: "推进中 20%", "140923": "已验收 100%"} {
		if r := countyRow(t, page, "task-11", county); !strings.Contains(r, want) {
			t.Errorf("city's row of 5.1 for %s lacks %q: %q", county, want, r)
		}
	}
	// 4.4 for the city: two counties reported, fourteen did not.
	if row := taskRow(t, page, "4.4"); !strings.Contains(row, "未开始 14 · 推进中 1 · 已完成 1 · 已验收 0") {
		t.Errorf("city's roll-up of 4.4:\n%s", row)
	}
	// A county office sees and edits its own row only.
	dp := mustGet(t, ding, "/console/ledger")
	if countyRow(t, dp, "task-11", apptest.Xinfu) != "" || !strings.Contains(countyRow(t, dp, "task-11", apptest.Dingxiang), "推进中 20%") {
		t.Error("定襄县's ledger shows another county's row, or not its own")
	}
	if strings.Contains(dp, `action="/console/ledger/task-11/140902"`) || !strings.Contains(dp, `action="/console/ledger/task-11/140921"`) {
		t.Error("定襄县's ledger has a form for another county's row, or none for its own")
	}
	if strings.Contains(countyRow(t, dp, "task-11", apptest.Dingxiang), `<option value="accepted"`) {
		t.Error("a county office is offered 已验收")
	}

	// The deadline passes: the unfinished counties are overdue.
	clock.Set("2023-01-05")
	row = taskRow(t, mustGet(t, city, "/console/ledger"), "5.1")
	if !strings.Contains(row, "逾期：忻府区、定襄县、五台山风景名胜区") || !strings.Contains(row, "已逾期") {
		t.Errorf("city's roll-up of 5.1 after the deadline:\n%s", row)
	}
	dp = mustGet(t, ding, "/console/ledger")
	if n := overdueCount(t, dp); n != "1" {
		t.Errorf("定襄县's overdue count %s, want 1 (5.1)", n)
	}
	if r := countyRow(t, dp, "task-11", apptest.Dingxiang); !strings.Contains(r, "已逾期") {
		t.Errorf("定襄县's overdue row: %q", r)
	}

	// Each county's phones pull that county's rows only.
	for _, tc := range []struct {
		phone  *syncproto.Client
		cursor string
		county string
		want   []string
	}{
		{xinfuPhone, xinfuCursor, apptest.Xinfu, []string{"task-08@140902", "task-11@140902"}},
		{dingPhone, dingCursor, apptest.Dingxiang, []string{"task-08@140921", "task-11@140921"}},
	} {
		changes, _ := pullAll(t, tc.phone, tc.cursor)
		var got []string
		for _, ch := range changes {
			if ch.Entity != syncproto.EntityTaskProgress {
				continue
			}
			got = append(got, ch.ID)
			var status string
			_ = json.Unmarshal(ch.Fields["status"], &status)
			if ch.County != tc.county || status == "" {
				t.Errorf("%s's phone pulled %s (county %s, status %q)", tc.county, ch.ID, ch.County, status)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s's phone pulled task progress %v, want %v", tc.county, got, tc.want)
		}
	}
	// The pulled row is the report: 忻府区's note and evidence.
	rec, err := srv.App.DB.Get(ctx, syncproto.EntityTaskProgress, "task-08@140902")
	if err != nil {
		t.Fatal(err)
	}
	tp := server.TaskProgressOf(rec)
	if tp.Note != note || !slices.Equal(tp.Evidence, []string{"忻府环发〔2022〕12号", "https://example.gov.cn/notice/1"}) || tp.ReportedByName == "" {
		t.Errorf("stored progress %+v", tp)
	}
}

// addInspector adds an inspector of these counties and signs a phone in.
func addInspector(t *testing.T, srv *apptest.Server, username string, counties ...string) *syncproto.Client {
	t.Helper()
	apptest.Passwords[username] = "inspector-" + username
	if _, err := srv.App.AddUser(ctx, username, apptest.Passwords[username], username, server.RoleInspector, counties); err != nil {
		t.Fatal(err)
	}
	return srv.Login(username)
}

// TestLedgerOverdue: a county office's ledger counts the tasks its own
// rows are overdue on; reporting done takes one off; the task-wide fields
// of the task record are no longer written.
func TestLedgerOverdue(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, b, "/console/ledger")
	// 忻府区 is named by 3, 4.1, 4.3, 5.1, 5.3 and 5.4, all past their
	// deadlines today and not started.
	if n := overdueCount(t, page); n != "6" {
		t.Errorf("overdue count %s, want 6", n)
	}
	for _, want := range []string{`id="task-task-04" data-id="task-04" class="task overdue"`, "2022-07-31 <strong class=\"overdue-tag\">已逾期</strong>",
		"市生态环境局", "不涉及本单位"} {
		if !strings.Contains(page, want) {
			t.Errorf("ledger lacks %q", want)
		}
	}
	if strings.Contains(page, `data-id="task-01" class="task overdue"`) {
		t.Error("a long-term task without a deadline is marked overdue")
	}
	if st, _ := report(t, b, "task-04", apptest.Xinfu, url.Values{"status": {"done"}, "progress_pct": {"100"}}); st != http.StatusOK {
		t.Fatal(st)
	}
	page = mustGet(t, b, "/console/ledger")
	if n := overdueCount(t, page); n != "5" {
		t.Errorf("overdue count after done: %s, want 5", n)
	}
	if task, _ := srv.App.DB.Get(ctx, syncproto.EntityTask, "task-04"); task.Text("status") != "" {
		t.Errorf("the task-wide status was written: %q", task.Text("status"))
	}
}

// TestCityTask: a task naming no county is the city's own. Only the city
// reports on its one row (county 140900, 市本级), which the ledger and
// the city's report show and no county's phone pulls.
func TestCityTask(t *testing.T) {
	srv := apptest.Start(t)
	s := srv.App.Syncer
	if err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityTask, "task-99", "", map[string]any{"number": "9.9", "category": "市本级任务",
			"problem": "市直部门的整改", "responsible_units": []string{"市生态环境局"}, "counties": []string{}, "deadline": "2022-01-31"})
	}); err != nil {
		t.Fatal(err)
	}
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")
	county, city := loggedIn(t, srv, apptest.CountyOffice), loggedIn(t, srv, apptest.CityOffice)
	if st, _ := report(t, county, "task-99", server.CityCounty, url.Values{"status": {"done"}}); st != http.StatusForbidden {
		t.Errorf("county office on the city's row: %d", st)
	}
	if row := taskRow(t, mustGet(t, county, "/console/ledger"), "9.9"); !strings.Contains(row, "不涉及本单位") {
		t.Errorf("county office's ledger row of the city's task: %q", row)
	}
	if st, _ := report(t, city, "task-99", server.CityCounty, url.Values{"status": {"in_progress"}, "note": {"市生态环境局已部署"}}); st != http.StatusOK {
		t.Fatalf("city on its row: %d", st)
	}
	page := mustGet(t, city, "/console/ledger")
	if r := countyRow(t, page, "task-99", server.CityCounty); !strings.Contains(r, "市本级") || !strings.Contains(r, "推进中") || !strings.Contains(r, "已逾期") {
		t.Errorf("the city's row: %q", r)
	}
	if r := reportRow(t, city, "9.9", "市本级"); !strings.Contains(r, "|推进中|") {
		t.Errorf("the city's report row: %q", r)
	}
	changes, _ := pullAll(t, phone, cursor)
	for _, ch := range changes {
		if ch.Entity == syncproto.EntityTaskProgress {
			t.Errorf("忻府区's phone pulled %s", ch.ID)
		}
	}
}

// TestLedgerPercentAgreesWithStatus: a report whose percentage says
// otherwise than its status (已完成 at 60%, 未开始 at 30%) is refused with
// a message naming both, and nothing is written; a status changed over a
// percentage the form left as it was takes the percentage with it (the
// status decides), so a task marked 已完成 never shows 50% on the ledger.
func TestLedgerPercentAgreesWithStatus(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	row := func() server.TaskProgress { return storedProgress(t, srv, "task-08", apptest.Xinfu) }
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"50"}}); st != http.StatusOK {
		t.Fatalf("in progress at 50%%: %d\n%s", st, page)
	}
	for _, tc := range []struct {
		status, pct, want string
	}{
		{"done", "60", "状态为已完成时进度应为 100%（或不填），而填报的是 60%"},
		{"done", "0", "状态为已完成时进度应为 100%（或不填），而填报的是 0%"},
		{"not_started", "30", "状态为未开始时进度应为 0%（或不填），而填报的是 30%"},
	} {
		st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"status": {tc.status}, "progress_pct": {tc.pct}})
		if st != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s at %s%%: %d, want 400 saying %q\n%s", tc.status, tc.pct, st, tc.want, page)
		}
		if r := row(); r.Status != "in_progress" || r.Pct != 50 {
			t.Errorf("%s at %s%%: the row became %+v", tc.status, tc.pct, r)
		}
	}
	for _, tc := range []struct {
		form   url.Values
		status string
		hasPct bool
		pct    int
	}{
		{url.Values{"status": {"done"}}, "done", true, 100},                                        // the form's 50% left as it was follows the status
		{url.Values{"status": {"in_progress"}, "progress_pct": {"100"}}, "in_progress", true, 100}, // awaiting acceptance
		{url.Values{"status": {"done"}}, "done", true, 100},                                        // the form's 100% agrees
		{url.Values{"status": {"not_started"}, "progress_pct": {"0"}}, "not_started", true, 0},
		{url.Values{"status": {"done"}}, "done", true, 100}, // the form's 0% follows the status
		{url.Values{"status": {"in_progress"}, "progress_pct": {"40"}}, "in_progress", true, 40},
		{url.Values{"status": {"done"}, "progress_pct": {""}}, "done", false, 100},
	} {
		if st, page := report(t, county, "task-08", apptest.Xinfu, tc.form); st != http.StatusOK {
			t.Fatalf("%v: %d\n%s", tc.form, st, page)
		}
		if r := row(); r.Status != tc.status || r.HasPct != tc.hasPct || r.EffectivePct() != tc.pct {
			t.Errorf("%v: row %+v, want %s with %d%% (given %v)", tc.form, r, tc.status, tc.pct, tc.hasPct)
		}
	}
	// A finished row whose percentage was cleared shows what the roll-up
	// counts, 100%, on the ledger, in its export and in the report.
	page := mustGet(t, county, "/console/ledger")
	if r := countyRow(t, page, "task-08", apptest.Xinfu); !strings.Contains(r, "已完成 100%") {
		t.Errorf("ledger row of 已完成 with its %% cleared: %q, want 已完成 100%%", r)
	}
	body, f := download(t, county, "/console/ledger.xlsx")
	rows := checkSheet(t, body, f, "整改台账")
	found := false
	for _, r := range rows[1:] {
		if len(r) > 10 && r[6] == "忻府区" && r[9] == "已完成" {
			found = true
			// In whole percents, as the page shows them (month-end
			// probe: 100.0% in the export only).
			if r[10] != "100%" {
				t.Errorf("ledger export of 已完成 with its %% cleared: %v, want 100%%", r)
			}
		}
	}
	if !found {
		t.Error("the ledger export has no 已完成 row for 忻府区")
	}
	// Its totals count the tasks it lists: a county's export leaves out
	// the tasks not its own (不涉及本单位) that its page shows.
	tasks := map[string]bool{}
	for _, r := range rows[1:] { // after the header
		tasks[r[0]] = true
	}
	all, err := f.GetRows("整改台账")
	if err != nil {
		t.Fatal(err)
	}
	if total := all[len(all)-1]; len(total) < 3 || total[2] != strconv.Itoa(len(tasks))+" 项任务" {
		t.Errorf("the ledger export's totals row %v, want %d 项任务 (the tasks its rows list)", total, len(tasks))
	}
}

// TestLedgerLongNote: a row with a note of the most characters allowed
// (8,000 Chinese characters, each 9 bytes in a form, sent twice: as typed
// and in the form's orig) can be reported and then edited; a longer one is
// refused by its length, not by the size of the request.
func TestLedgerLongNote(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	note := strings.Repeat("整", server.MaxProgressNote)
	if st, page := report(t, county, "task-09", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"10"}, "note": {note}}); st != http.StatusOK {
		t.Fatalf("a note of %d characters: %d\n%.300s", server.MaxProgressNote, st, page)
	}
	if st, page := report(t, county, "task-09", apptest.Xinfu, url.Values{"progress_pct": {"20"}}); st != http.StatusOK {
		t.Fatalf("editing the row with the long note: %d\n%.300s", st, page)
	}
	st, page := report(t, county, "task-09", apptest.Xinfu, url.Values{"note": {note + "整"}})
	if st != http.StatusBadRequest || !strings.Contains(page, "进展说明不能超过 8000 字") {
		t.Errorf("a note one character too long: %d\n%.300s", st, page)
	}
}

// storedProgress reads a task's progress row in a county from the store.
func storedProgress(t *testing.T, srv *apptest.Server, task, county string) server.TaskProgress {
	t.Helper()
	r, err := srv.App.DB.Get(t.Context(), syncproto.EntityTaskProgress, server.TaskProgressID(task, county))
	if err != nil || r == nil {
		t.Fatalf("progress of %s in %s: %v %v", task, county, r, err)
	}
	return server.TaskProgressOf(r)
}

// TestLedgerTextHasNoControls: a ledger note or evidence item with a
// character that hides or reverses text (a bell, an escape, a direction
// override; a line break inside an evidence item's one line is a new
// item) is refused as a review's comment is, and nothing is stored; line
// breaks and tabs in the note are kept.
func TestLedgerTextHasNoControls(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, tc := range []struct {
		field, value, want string
	}{
		{"note", "已拆除\a两台", "进展说明不能含控制字符"},
		{"note", "已拆除\x1b[31m两台", "进展说明不能含控制字符"},
		{"note", "已拆除\u202e两台", "进展说明不能含控制字符"},
		{"note", "已拆除\u2067两台", "进展说明不能含控制字符"},
		{"evidence", "忻环发\u200b〔2026〕12号", "佐证材料每项应为一行文字"},
		{"evidence", "忻环发\u202e〔2026〕12号", "佐证材料每项应为一行文字"},
		{"evidence", "忻环发\x07〔2026〕12号", "佐证材料每项应为一行文字"},
	} {
		st, page := report(t, county, "task-09", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"10"}, tc.field: {tc.value}})
		if st != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s %q: %d, want 400 saying %s", tc.field, tc.value, st, tc.want)
		}
	}
	if r, err := srv.App.DB.Get(t.Context(), syncproto.EntityTaskProgress, server.TaskProgressID("task-09", apptest.Xinfu)); err != nil || (r != nil && r.Text("note") != "") {
		t.Fatalf("a refused report was stored: %v %v", r, err)
	}
	if st, page := report(t, county, "task-09", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"10"}, "note": {"第一台：已拆除\n第二台：\t下周"}}); st != http.StatusOK {
		t.Fatalf("a note on two lines with a tab: %d\n%.300s", st, page)
	}
	if got := storedProgress(t, srv, "task-09", apptest.Xinfu).Note; got != "第一台：已拆除\n第二台：\t下周" {
		t.Errorf("stored note %q", got)
	}
}

// TestLedgerFormSentTwice: the same progress form posted again (a double
// click, back and resubmit) is answered as the first: the row, its time
// of report and the audit log stay as the first left them, and phones are
// sent nothing new; the same content saved by another office is its
// report (its name and time).
func TestLedgerFormSentTwice(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	form := ledgerForm(t, mustGet(t, county, "/console/ledger"), "task-08", apptest.Xinfu,
		url.Values{"status": {"in_progress"}, "progress_pct": {"40"}, "note": {"已完成围挡整改"}})
	if st, page := county.post("/console/ledger/task-08/"+apptest.Xinfu, form); st != http.StatusOK {
		t.Fatalf("the report: %d\n%s", st, page)
	}
	rec := func() *server.StoredRecord {
		r, err := srv.App.DB.Get(t.Context(), syncproto.EntityTaskProgress, server.TaskProgressID("task-08", apptest.Xinfu))
		if err != nil || r == nil {
			t.Fatal(err)
		}
		return r
	}
	audits := func() int {
		es, err := srv.App.DB.AuditHistory(t.Context(), syncproto.EntityTaskProgress, server.TaskProgressID("task-08", apptest.Xinfu))
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	first, n := rec(), audits()
	if st, page := county.post("/console/ledger/task-08/"+apptest.Xinfu, form); st != http.StatusOK {
		t.Fatalf("the same form again: %d\n%s", st, page)
	}
	if again := rec(); again.Seq != first.Seq || again.Text("reported_at") != first.Text("reported_at") || audits() != n {
		t.Errorf("the same form again wrote the row (seq %d → %d, reported_at %s → %s, audit entries %d → %d)",
			first.Seq, again.Seq, first.Text("reported_at"), again.Text("reported_at"), n, audits())
	}
	city := loggedIn(t, srv, apptest.CityOffice)
	if st, page := report(t, city, "task-08", apptest.Xinfu, url.Values{}); st != http.StatusOK {
		t.Fatalf("the city saves the row as it is: %d\n%s", st, page)
	}
	if r := storedProgress(t, srv, "task-08", apptest.Xinfu); r.ReportedByName == first.Text("reported_by_name") || r.Note != "已完成围挡整改" {
		t.Errorf("the city's report of the same content is not the city's: %+v", r)
	}
}

// TestLedgerResponsible: a county names who answers for a task — its
// 责任领导 and 责任人 — on the ledger; the names are kept as parts of the
// row's report (another office's report meanwhile on other parts
// stands), shown on the ledger, in its export and in the monthly report,
// and pulled by the county's phones; a name on two lines or too long is
// refused and nothing is written.
func TestLedgerResponsible(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	city := loggedIn(t, srv, apptest.CityOffice)
	stale := mustGet(t, city, "/console/ledger")
	if st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"responsible_leader": {" 王副区长 "}, "responsible_person": {"李科长（区住建局）"}}); st != http.StatusOK {
		t.Fatalf("county names them: %d\n%s", st, page)
	}
	if st, page := city.post("/console/ledger/task-08/"+apptest.Xinfu, ledgerForm(t, stale, "task-08", apptest.Xinfu, url.Values{"note": {"市里的说明"}})); st != http.StatusOK {
		t.Fatalf("the city's form opened before, its note only: %d\n%s", st, page)
	}
	if r := storedProgress(t, srv, "task-08", apptest.Xinfu); r.Leader != "王副区长" || r.Person != "李科长（区住建局）" || r.Note != "市里的说明" {
		t.Errorf("the row: %+v; want the county's names with the city's note", r)
	}
	if row := countyRow(t, mustGet(t, county, "/console/ledger"), "task-08", apptest.Xinfu); !strings.Contains(row, "责任领导：王副区长") || !strings.Contains(row, "责任人：李科长（区住建局）") {
		t.Errorf("the ledger row does not name them: %s", row)
	}
	body, f := download(t, county, "/console/ledger.xlsx")
	found := false
	for _, r := range checkSheet(t, body, f, "整改台账")[1:] {
		if r[0] == "4.4" && r[6] == "忻府区" {
			found = r[7] == "王副区长" && r[8] == "李科长（区住建局）"
		}
	}
	if !found {
		t.Error("the ledger export does not name them")
	}
	month := srv.App.Syncer.Now().In(server.ChinaTime).Format("2006-01")
	if _, csv := county.get("/console/report.csv?month=" + month); !strings.Contains(csv, ",王副区长,李科长（区住建局）,") {
		t.Error("the monthly report does not name them")
	}
	phone := srv.Login(apptest.Inspector)
	changes, _ := pullAll(t, phone, "")
	pulled := false
	for _, c := range changes {
		if c.Entity == syncproto.EntityTaskProgress && c.ID == server.TaskProgressID("task-08", apptest.Xinfu) {
			pulled = string(c.Fields["responsible_leader"]) == `"王副区长"` && string(c.Fields["responsible_person"]) == `"李科长（区住建局）"`
		}
	}
	if !pulled {
		t.Error("the county's phones do not pull the names")
	}
	for _, bad := range []string{"王副区长\n兼指挥长", strings.Repeat("长", 101), "王\u202e长"} {
		st, page := report(t, county, "task-08", apptest.Xinfu, url.Values{"responsible_leader": {bad}})
		if st != http.StatusBadRequest || !strings.Contains(page, "责任领导应为一行文字") || storedProgress(t, srv, "task-08", apptest.Xinfu).Leader != "王副区长" {
			t.Errorf("leader %+q: %d, want 400 naming 责任领导, nothing written", bad, st)
		}
	}
}
