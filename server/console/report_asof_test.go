package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestPastMonthReportShowsItsEnd: the report of a month that has ended
// shows each task's progress as it stood at the month's end — on the page,
// in the CSV and in the XLSX — and says so; reports made since (one or
// several) are undone, a row first reported since is not started, and a
// deadline on the month's last day is not yet overdue. This month's report
// shows the progress as it is today.
func TestPastMonthReportShowsItsEnd(t *testing.T) {
	var clock fakeClock
	clock.Set("2022-12-20")
	srv := apptest.Start(t, clock.option)
	xinfu := loggedIn(t, srv, apptest.CountyOffice)
	const december, january = "忻府区十二月：第一轮检查已完成", "忻府区一月：全部完成"
	post := func(task string, form url.Values) {
		t.Helper()
		if st, page := report(t, xinfu, task, apptest.Xinfu, form); st != http.StatusOK {
			t.Fatalf("report on %s: %d\n%s", task, st, page)
		}
	}
	// 4.4 (task-08) in December; in January twice more. 5.1 (task-11,
	// deadline 2022-12-31) first in January.
	post("task-08", url.Values{"status": {"in_progress"}, "progress_pct": {"30"}, "note": {december}})
	clock.Set("2023-01-05")
	// 4.3 (task-07): a report dated in December, written in January (as
	// the demo writes its month's reports), then a January report.
	s := srv.App.Syncer
	if err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityTaskProgress, server.TaskProgressID("task-07", apptest.Xinfu), apptest.Xinfu, map[string]any{
			"task_id": "task-07", "county": apptest.Xinfu, "status": "in_progress", "progress_pct": 50, "note": "十二月填报",
			"evidence": []string{}, "reported_by": "", "reported_by_name": "忻府区督查室", "reported_at": "2022-12-10T02:00:00Z"})
	}); err != nil {
		t.Fatal(err)
	}
	post("task-07", url.Values{"status": {"in_progress"}, "progress_pct": {"70"}, "note": {"一月填报"}})
	post("task-08", url.Values{"status": {"in_progress"}, "progress_pct": {"80"}, "note": {"忻府区一月：过半"}})
	post("task-08", url.Values{"status": {"done"}, "progress_pct": {"100"}, "note": {january}})
	post("task-11", url.Values{"status": {"in_progress"}, "progress_pct": {"60"}})

	row := func(page, number string) string {
		t.Helper()
		for _, r := range tableRows(t, page, "report-整改任务进展") {
			if strings.HasPrefix(r, number+"|忻府区|") {
				return r
			}
		}
		t.Fatalf("no row of %s", number)
		return ""
	}
	// 序号|区县|责任单位|责任领导|责任人|验收单位|整改时限|状态|进度|逾期|进展说明|…
	cells := func(r string) string { return strings.Join(strings.Split(r, "|")[7:11], "|") }
	dec := mustGet(t, xinfu, "/console/report?month=2022-12")
	for _, tc := range []struct{ number, want string }{
		{"4.4", "推进中|30%||" + december},
		{"5.1", "未开始|0%||"}, // reported only since; its deadline, the month's last day, not passed on it
		{"4.3", "推进中|50%||十二月填报"},
	} {
		if got := cells(row(dec, tc.number)); got != tc.want {
			t.Errorf("December's %s: %q, want %q", tc.number, got, tc.want)
		}
	}
	// Who reported last by the month's end, and when (city probe): one
	// reported only since reads 尚未填报.
	last := func(r string) string { c := strings.Split(r, "|"); return c[len(c)-1] }
	for _, tc := range []struct{ number, prefix, suffix string }{
		{"4.4", "赵督查", " 2022-12-20 10:00"}, {"5.1", "尚未填报", "尚未填报"}, {"4.3", "忻府区督查室 2022-12-10 10:00", ""},
	} {
		if got := last(row(dec, tc.number)); !strings.HasPrefix(got, tc.prefix) || !strings.HasSuffix(got, tc.suffix) || got == "尚未填报" && tc.prefix == "" {
			t.Errorf("December's %s last reported %q, want %q…%q", tc.number, got, tc.prefix, tc.suffix)
		}
	}
	if !strings.Contains(dec, "状态、进度和逾期截至 2022-12-31") || !strings.Contains(dec, "整改任务各列截至 2022-12-31") {
		t.Error("December's report does not say the day its progress stands at, in both tables")
	}
	// Its inspections' review status is today's, and it says so.
	if !strings.Contains(dec, "待审核、已退回、已通过为生成报表时（2023-01-05）的审核状态") {
		t.Error("December's summary does not say its review status is as of the day the report is made")
	}
	// 区县|检查…|整改任务|未开始|推进中|已完成|已验收|平均进度
	for _, r := range tableRows(t, dec, "report-检查与整改汇总") {
		if c := strings.Split(r, "|"); c[0] == "忻府区" && (c[10] != "2" || c[11] != "0") {
			t.Errorf("December's summary counts the tasks as they are now: %v", c)
		}
	}
	jan := mustGet(t, xinfu, "/console/report?month=2023-01")
	for _, tc := range []struct{ number, want string }{
		{"4.4", "已完成|100%||" + january},
		{"5.1", "推进中|60%|是|"},
		{"4.3", "推进中|70%||一月填报"},
	} {
		if got := cells(row(jan, tc.number)); got != tc.want {
			t.Errorf("January's %s: %q, want %q", tc.number, got, tc.want)
		}
	}
	if !strings.Contains(jan, "状态、进度和逾期截至 2023-01-05") || !strings.Contains(jan, "审核状态和整改任务各列截至 2023-01-05") {
		t.Error("this month's report does not say it stands at today")
	}

	// A month not begun has no report (it would be today's progress).
	for _, path := range []string{"/console/report?month=2023-02", "/console/report.csv?month=2023-02", "/console/report.xlsx?month=9999-12"} {
		if st, page := xinfu.get(path); st != http.StatusBadRequest || !strings.Contains(page, "还没有开始") {
			t.Errorf("%s: %d, want 400 saying the month has not begun", path, st)
		}
	}

	// The downloads say and show the same.
	st, csv := xinfu.get("/console/report.csv?month=2022-12")
	if st != http.StatusOK || !strings.Contains(csv, "整改任务进展（状态、进度和逾期截至 2022-12-31）") ||
		!strings.Contains(csv, "推进中,30%,,"+december) || strings.Contains(csv, january) {
		t.Errorf("December's CSV: %d\n%s", st, csv)
	}
	body, f := download(t, xinfu, "/console/report.xlsx?month=2022-12")
	rows := checkSheet(t, body, f, "整改任务进展")
	all, _ := f.GetRows("整改任务进展")
	if !strings.Contains(all[0][0], "（状态、进度和逾期截至 2022-12-31）") {
		t.Errorf("December's sheet title %q", all[0][0])
	}
	for _, r := range rows[1:] {
		if r[0] == "4.4" && r[1] == "忻府区" && (r[7] != "推进中" || r[10] != december) {
			t.Errorf("December's sheet row of 4.4: %v", r)
		}
	}
}
