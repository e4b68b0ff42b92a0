package console_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"github.com/xuri/excelize/v2"
)

func TestMonthlyReport(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	ids := []string{submit(t, phone, apptest.Xinfu), submit(t, phone, apptest.Xinfu), submit(t, phone, apptest.Xinfu)}
	submit(t, srv.Login(apptest.NingwuInsp), apptest.Ningwu)
	addPhoto(t, srv, ids[0], apptest.Xinfu)
	// Roadside checks about the month's ends: in November in China
	// (two), and in December in China though November in UTC.
	for _, at := range []string{"2026-11-30T23:30:00+08:00", "2026-10-31T20:00:00Z", "2026-11-30T16:30:00Z"} {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "豆罗检查站", "plate", "晋H12345", "emission_stage", "国六", "fuel", "柴油", "aftertreatment", "present", "checked_at", at)))
	}

	b := loggedIn(t, srv, apptest.CountyOffice)
	for i, decision := range []string{"approve", "return"} {
		_, page := b.get("/console/inspections/" + ids[i])
		if st, page := b.post("/console/inspections/"+ids[i]+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {decision},
			"comment": {"请补充照片"}}, page)); st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", decision, st, page)
		}
	}

	want, err := server.LoadMonthlyReport(ctx, srv.App.DB, "2026-11", []string{apptest.Xinfu})
	if err != nil {
		t.Fatal(err)
	}
	w := want[0]
	if w.Submitted != 1 || w.Approved != 1 || w.Returned != 1 || w.Photos != 1 || w.FlaggedPhotos != 1 {
		t.Fatalf("database report: %+v", w)
	}

	// XLSX: the figures are the database's.
	st, body := b.get("/console/report.xlsx?month=2026-11")
	if st != http.StatusOK {
		t.Fatalf("xlsx: %d %s", st, body)
	}
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// Each sheet: a title row, the header, the data and a totals row.
	rows := checkSheet(t, body, f, "检查与整改汇总")
	if len(rows) != 2 || rows[1][0] != "忻府区" {
		t.Fatalf("xlsx rows: %v", rows)
	}
	// By task (and so by responsible unit): the tasks naming 忻府区, none
	// of which it has reported on, and task 4.4's (construction dust)
	// evidence this month — the three inspections, one approved — as the
	// ledger counts it.
	tasks, err := srv.App.DB.Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	concerning := 0
	for _, task := range tasks {
		if slices.Contains(server.TaskCounties(task), apptest.Xinfu) {
			concerning++
		}
	}
	for col, n := range map[int]int{1: w.Inspections(), 2: w.Submitted, 3: w.Returned, 4: w.Approved, 5: w.Findings, 6: w.Photos,
		7: w.FlaggedPhotos, 8: concerning, 9: concerning} {
		if rows[1][col] != strconv.Itoa(n) {
			t.Errorf("xlsx %s = %s, database %d", rows[0][col], rows[1][col], n)
		}
	}
	tmpl := checkSheet(t, body, f, "按检查表统计")
	if len(tmpl) != 2 || tmpl[1][2] != "3" {
		t.Errorf("xlsx by checklist: %v", tmpl)
	}
	// The failed items: material_cover, failed in all three.
	failedItems := checkSheet(t, body, f, "不合格检查项统计")
	if len(failedItems) != 2 || strings.Join(failedItems[1], "|") != "忻府区|建筑施工扬尘“六个百分百”检查|物料堆放100%苫盖|3|100.0%" {
		t.Errorf("xlsx failed items: %v", failedItems)
	}
	byTask := checkSheet(t, body, f, "整改任务进展")
	if len(byTask) != 1+concerning {
		t.Errorf("xlsx by task: %d rows, want %d tasks concerning 忻府区", len(byTask)-1, concerning)
	}
	// Task 4.5 (roadside) also counts the trucks checked in 忻府区 in the
	// month, in China time (the ledger's 路检车辆 for one month).
	checks, _, err := srv.App.DB.VehicleChecks(ctx, server.VehicleQuery{Scope: server.Scope{All: true}, County: apptest.Xinfu, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	trucks := 0
	for _, r := range checks {
		if at, err := time.Parse(time.RFC3339, r.Text("checked_at")); err == nil && at.In(server.ChinaTime).Format("2006-01") == "2026-11" {
			trucks++
		}
	}
	if trucks == 0 {
		t.Fatal("no roadside check of 忻府区 in 2026-11 to count")
	}
	found := map[string]bool{}
	for _, row := range byTask {
		switch row[0] {
		case "4.4":
			found[row[0]] = true
			if row[1] != "忻府区" || row[7] != "未开始" {
				t.Errorf("xlsx task 4.4 row %v, want 忻府区 not started", row)
			}
			if got := row[11:14]; got[0] != "3" || got[1] != "1" || got[2] != "—" {
				t.Errorf("xlsx task 4.4 evidence %v, want 3 inspections, 1 approved, no trucks (not a roadside task)", got)
			}
			// Never reported: said so, not 未开始 alone (city probe).
			if len(row) < 15 || row[14] != "尚未填报" {
				t.Errorf("xlsx task 4.4, never reported, last report %v, want 尚未填报", row[14:])
			}
		case "4.5":
			found[row[0]] = true
			if got := row[13]; got != strconv.Itoa(trucks) {
				t.Errorf("xlsx task 4.5 trucks checked %s, want %d", got, trucks)
			}
		}
	}
	// Its totals leave the evidence columns empty: an inspection counts
	// under every task whose checklists it has (4.4 and 5.x share some),
	// so their sum would count it again and again.
	all, _ := f.GetRows("整改任务进展")
	totals := all[len(all)-1]
	for col := len(byTask[0]) - 3; col < len(byTask[0]); col++ {
		if col < len(totals) && totals[col] != "" {
			t.Errorf("xlsx by task: totals %v sum the shared column %s", totals, byTask[0][col])
		}
	}
	if !found["4.4"] || !found["4.5"] {
		t.Errorf("xlsx by task lacks task 4.4 or 4.5: %v", found)
	}

	// CSV: BOM, and every row is on the page.
	_, page := b.get("/console/report?month=2026-11")
	page = squash(page)
	st, body = b.get("/console/report.csv?month=2026-11")
	if st != http.StatusOK || !strings.HasPrefix(body, "\uFEFF") {
		t.Fatalf("csv: %d %q", st, body[:min(len(body), 20)])
	}
	r := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(body, "\uFEFF"))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Each table's rows end with its totals (合计), on the page too: the
	// count columns summed, the shared and percent ones left empty (but
	// the summary's mean progress, below).
	data, sumRows := 0, 0
	var sums []int // the running column sums of the table being read
	for _, rec := range recs {
		if len(rec) < 3 || rec[0] == "区县" || rec[0] == "序号" { // a title or a header
			sums = nil
			continue
		}
		if rec[0] == "合计" {
			sumRows++
			// The label is the row's header, the figures its cells.
			if cells := `<th scope="row">` + rec[0] + `</th><td class="total">` + strings.Join(rec[1:], `</td><td class="total">`) + "</td>"; !strings.Contains(page, "<tfoot><tr>"+cells+"</tr></tfoot>") {
				t.Errorf("page lacks the CSV totals %q", cells)
			}
			for col, v := range rec[1:] {
				if n, err := strconv.Atoi(v); err == nil && n != sums[col] {
					t.Errorf("totals %q: column %d is %d, its rows sum to %d", rec, col+1, n, sums[col])
				}
			}
			continue
		}
		data++
		if cells := `<th scope="row">` + rec[0] + "</th><td>" + strings.Join(rec[1:], "</td><td>") + "</td>"; !strings.Contains(page, cells) {
			t.Errorf("page lacks the CSV row %q", cells)
		}
		if sums == nil {
			sums = make([]int, len(rec)-1)
		}
		for col, v := range rec[1:] {
			n, _ := strconv.Atoi(v)
			sums[col] += n
		}
	}
	// The month's roadside statistics are on the page and in the CSV too
	// (they were in the XLSX only: city probe), their totals counting
	// every truck of the month.
	roadRows, roadTrucks, inRoad := 0, "", false
	for _, rec := range recs {
		switch {
		case len(rec) == 1: // a table's title
			inRoad = strings.HasPrefix(rec[0], "路检路查统计")
		case inRoad && rec[0] == "合计":
			roadTrucks, inRoad = rec[3], false
		case inRoad && rec[0] != "区县":
			roadRows++
		}
	}
	if roadRows == 0 || roadTrucks != strconv.Itoa(trucks) || !strings.Contains(page, `id="report-路检路查统计"`) {
		t.Errorf("the report's roadside statistics: %d rows, %q trucks in total, want %d (on the page: %v)\n%s", roadRows, roadTrucks, trucks,
			strings.Contains(page, `id="report-路检路查统计"`), body)
	}
	if data != 3+concerning+roadRows {
		t.Errorf("csv data rows %d, want %d:\n%s", data, 3+concerning+roadRows, body)
	}
	if sumRows != 5 {
		t.Errorf("csv totals rows %d, want one under each of the 5 tables with rows:\n%s", sumRows, body)
	}
	// Not even as a county it may choose, nor as the responsible unit of
	// tasks not on its county (宁武县党委、政府).
	if strings.Contains(page, ">宁武县<") || strings.Contains(page, `value="140925"`) || strings.Contains(page, `value="宁武县党委、政府"`) {
		t.Error("a county office's report page offers or shows 宁武县")
	}
	if strings.Contains(body, "宁武县") || strings.Contains(page, ">宁武县</t") {
		t.Error("a county office's report shows 宁武县")
	}
	if st, _ := b.get("/console/report.csv?month=2026-11&county=" + apptest.Ningwu); st != http.StatusForbidden {
		t.Errorf("county office asking for another county: %d", st)
	}
	if st, _ := b.get("/console/report?month=2026-13"); st != http.StatusBadRequest {
		t.Errorf("bad month: %d", st)
	}

	// The city office sees both counties.
	city := loggedIn(t, srv, apptest.CityOffice)
	_, cp := city.get("/console/report?month=2026-11")
	if cp = squash(cp); !strings.Contains(cp, `<th scope="row">宁武县</th><td>1</td><td>1</td>`) || !strings.Contains(cp, `<th scope="row">忻府区</th><td>3</td><td>1</td><td>1</td><td>1</td>`) ||
		!strings.Contains(cp, `href="/console/report"`) {
		t.Errorf("city report:\n%s", cp)
	}
	// The summary's totals give the mean progress over every county's
	// tasks (each county's mean weighed by its tasks), as text on the
	// page and the CSV, as a percent in the XLSX (it was left empty:
	// reviewer probe).
	// One 忻府区 task half done this month: the mean weighs it by 忻府区's
	// tasks among all, not as one county's mean of sixteen.
	office, _, err := srv.App.DB.UserByUsername(ctx, apptest.CountyOffice)
	if err != nil {
		t.Fatal(err)
	}
	var xinfuTask string
	for _, task := range tasks {
		if slices.Contains(server.TaskCounties(task), apptest.Xinfu) {
			xinfuTask = task.ID
			break
		}
	}
	half := 50
	if err := srv.App.Syncer.ReportProgress(ctx, &server.Principal{UserID: office.ID, Username: office.Username, Name: office.DisplayName,
		Role: office.Role, Counties: office.Counties}, xinfuTask, apptest.Xinfu,
		server.ProgressReport{Status: syncproto.TaskInProgress, Pct: &half, Note: "过半"}); err != nil {
		t.Fatal(err)
	}
	thisMonth := server.ChinaDay(srv.App.Syncer.Now())[:7]
	_, cityCSV := city.get("/console/report.csv?month=" + thisMonth)
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(cityCSV, "\uFEFF")))
	cr.FieldsPerRecord = -1
	recs, err = cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var weighed, tasksAll float64
	var totalPct string
	for _, rec := range recs {
		if len(rec) != 14 || rec[0] == "区县" {
			continue
		}
		if rec[0] == "合计" {
			totalPct = rec[13]
			break
		}
		n, _ := strconv.ParseFloat(rec[8], 64)
		pct, _ := strconv.ParseFloat(strings.TrimSuffix(rec[13], "%"), 64)
		weighed, tasksAll = weighed+pct*n, tasksAll+n
	}
	// (Exactly: one task at 50% among all; the rows' figures are rounded.)
	if want := strconv.FormatFloat(float64(half)/tasksAll, 'f', 1, 64) + "%"; tasksAll == 0 || weighed == 0 || totalPct != want {
		t.Errorf("the summary's mean progress %q, want %q over %v tasks", totalPct, want, tasksAll)
	}
	_, cityXLSX := city.get("/console/report.xlsx?month=" + thisMonth)
	cf, err := excelize.OpenReader(strings.NewReader(cityXLSX))
	if err != nil {
		t.Fatal(err)
	}
	summary, err := cf.GetRows("检查与整改汇总", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	last := summary[len(summary)-1]
	if v, err := strconv.ParseFloat(last[len(last)-1], 64); last[0] != "合计" || err != nil || math.Abs(v*100-float64(half)/tasksAll) > 0.06 {
		t.Errorf("the XLSX summary's totals %v: the mean progress is not the percent %.1f", last, float64(half)/tasksAll)
	}
}

func TestDevicesPage(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	resp, err := phone.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{{Entity: syncproto.EntityPhoto, ID: uuid.NewString(),
		HLC: phone.Clock.Now().String(), Fields: apptest.Fields("inspection_id", insp, "item_key", "fence", "sha256", strings.Repeat("cd", 32),
			"content_type", "image/jpeg", "size_bytes", 1234, "captured_at", "2026-11-28T09:05:00+08:00")}})
	if err != nil || len(resp.Results) != 1 || resp.Results[0].Status != "applied" {
		t.Fatalf("push photo: %v %+v", err, resp)
	}
	srv.Login(apptest.NingwuInsp)

	b := loggedIn(t, srv, apptest.CountyOffice)
	st, page := b.get("/console/devices")
	page = squash(page)
	if st != http.StatusOK {
		t.Fatalf("devices: %d\n%s", st, page)
	}
	devs, err := srv.App.DB.Devices(ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var pushed *server.Device
	for _, d := range devs {
		if d.Username == apptest.Inspector && d.Health.LastPushAt != nil {
			pushed = d
		}
	}
	if pushed == nil {
		t.Fatal("no device of inspector with a push")
	}
	row := "<td>" + apptest.Inspector + "</td><td>" + template.HTMLEscapeString(pushed.Name) + ` <code class="device-id" title="设备编号（fieldsync device revoke 用）">` + pushed.ID + "</code></td><td>"
	push := pushed.Health.LastPushAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
	// A photo still to upload: not 正常 (reviewer probe: listed among the
	// devices that need someone, and said 正常).
	if !strings.Contains(page, row) || !strings.Contains(page, "<td>"+push+"</td><td>1</td><td>照片待上传</td>") {
		t.Errorf("devices page lacks the pushed device (push %s, 1 pending)\n%s", push, page)
	}
	if strings.Contains(page, "<td>"+apptest.NingwuInsp+"</td>") {
		t.Error("a county office sees another county's device")
	}
	if !strings.Contains(page, `href="/console/devices"`) {
		t.Error("no nav link to the devices page")
	}
	// A push whose records were refused one by one (another county's,
	// here) is said on the row, with why: the phone is not 正常 in all
	// but name (admin probe: after a county was taken away, every record
	// was refused and the phone showed 正常).
	resp, err = phone.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{
		apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Ningwu, "checkpoint", "宁武检查站",
			"plate", "晋H30272", "checked_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Ningwu, "checkpoint", "宁武检查站",
			"plate", "晋H30273", "checked_at", "2026-11-28T10:05:00+08:00"))})
	if err != nil || resp.Results[0].Code != syncproto.CodeOutOfScope {
		t.Fatalf("push of another county's checks: %v %+v", err, resp)
	}
	if _, page = b.get("/console/devices"); !strings.Contains(page, "最近一次上传有 2 条记录被拒收（out_of_scope），留在手机上待处理") {
		t.Error("the devices page does not say the last push's refused records")
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "豆罗检查站", "plate", "晋H30274", "checked_at", "2026-11-28T10:10:00+08:00")))
	if _, page = b.get("/console/devices"); strings.Contains(page, "被拒收") || strings.Contains(page, "超过 3 天未下载") {
		t.Error("a push applied whole after them still says records were refused, or a phone that never had to pull is said behind")
	}
	// It pushes, but last pulled five days ago: said, though not stale
	// (admin probe: a phone that pushed today and had not pulled for five
	// days was 正常, and received no review).
	if err := srv.App.DB.MarkPulled(ctx, phone.DeviceID, 0, srv.App.Syncer.Now().Add(-5*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, page = b.get("/console/devices"); !strings.Contains(page, "需处理<br><span class=\"warn pulls-behind\">超过 3 天未下载") {
		t.Error("the devices page does not say a pushing phone has not pulled for five days")
	}
}

// TestMonthlyReportByUnit: a responsible unit sees its own tasks in the
// table by task, on the page and in the downloads alike.
func TestMonthlyReportByUnit(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	const unit = "市住建局"
	tasks, err := srv.App.DB.Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One row per task naming the unit and county the task names.
	var want []string
	for _, task := range tasks {
		var units []string
		_ = json.Unmarshal(task.Value("responsible_units"), &units)
		if slices.Contains(units, unit) {
			for range server.ProgressCounties(task) {
				want = append(want, task.Text("number"))
			}
		}
	}
	if len(want) == 0 {
		t.Fatalf("no task names %s", unit)
	}
	q := "?month=2026-11&unit=" + url.QueryEscape(unit)
	page := mustGet(t, city, "/console/report"+q)
	var got []string
	for _, r := range tableRows(t, page, "report-整改任务进展")[1:] {
		cells := strings.Split(r, "|")
		if cells[0] == "合计" {
			if cells[1] != strconv.Itoa(len(want))+" 行" {
				t.Errorf("totals %q, want %d 行", r, len(want))
			}
			continue
		}
		if !strings.Contains(cells[2], unit) {
			t.Errorf("row %q does not name %s", r, unit)
		}
		got = append(got, cells[0])
	}
	if !slices.Equal(got, want) {
		t.Errorf("tasks of %s on the page: %v, want %v", unit, got, want)
	}
	if !strings.Contains(page, `report.csv?month=2026-11&amp;unit=`+url.QueryEscape(unit)) {
		t.Errorf("the downloads do not keep the unit: %s", page[strings.Index(page, "下载"):][:300])
	}
	_, body := city.get("/console/report.csv" + q)
	rows := 0
	lines := strings.Split(strings.TrimPrefix(body, "\uFEFF"), "\n")
	for _, line := range lines {
		if strings.Contains(line, unit) && !strings.HasPrefix(line, "整改任务进展") {
			rows++
		}
	}
	if rows != len(want) {
		t.Errorf("CSV has %d rows naming %s, want %d", rows, unit, len(want))
	}
	// The unit narrows only the tasks' table, and says so there, in the
	// CSV and in the XLSX alike; the other tables and sheets, every
	// county's figures of the month, do not name it. The CSV's first line
	// says what the file is.
	// By whom and when, as the XLSX's titles say (reviewer probe: the
	// CSV's named neither).
	made := "　制表日期：" + server.ChinaDay(srv.App.Syncer.Now())
	if lines[0] != "忻州市 信息报送（2026-11）"+made {
		t.Errorf("the CSV begins %q, want the unit, the report's title and month, and the day made", lines[0])
	}
	headed := 0
	for _, line := range lines {
		if strings.HasPrefix(line, "整改任务进展（责任单位："+unit+"；") {
			headed++
		}
	}
	if headed != 1 {
		t.Errorf("%d of the CSV's lines head the tasks' table with its unit, want 1", headed)
	}
	st, xlsx := city.get("/console/report.xlsx" + q + "&county=" + apptest.Xinfu)
	f, err := excelize.OpenReader(strings.NewReader(xlsx))
	if st != http.StatusOK || err != nil {
		t.Fatalf("xlsx by unit and county: %d %v", st, err)
	}
	for _, sheet := range f.GetSheetList() {
		title, _ := f.GetCellValue(sheet, "A1")
		if !strings.Contains(title, "区县：忻府区") && sheet != "审计封存" { // the month's seal is the city's
			t.Errorf("sheet %s: title %q does not name the county it is narrowed to", sheet, title)
		}
		if strings.Contains(title, unit) != (sheet == "整改任务进展") {
			t.Errorf("sheet %s: title %q, want the unit named on the tasks' sheet only", sheet, title)
		}
	}
	_, csvCounty := city.get("/console/report.csv" + q + "&county=" + apptest.Xinfu)
	if first, _, _ := strings.Cut(strings.TrimPrefix(csvCounty, "\uFEFF"), "\n"); first != "忻州市 信息报送（2026-11；区县：忻府区）"+made {
		t.Errorf("the CSV of one county begins %q, want its title to name the county", first)
	}
	if st, page := city.get("/console/report?month=2026-11&unit=" + url.QueryEscape("不存在的单位")); st != http.StatusBadRequest || !strings.Contains(page, "没有责任单位") {
		t.Errorf("unknown unit: %d", st)
	}

	// A county's own unit is what that county owes: the tasks naming it
	// under either spelling the plan uses, and those naming every
	// county's, with that county's row alone. The unit filter lists it
	// once.
	units := regexp.MustCompile(`<option value="([^"]*)"`).FindAllStringSubmatch(mustGet(t, city, "/console/report?month=2026-11"), -1)
	for _, c := range []struct {
		county, name string
		spellings    []string
	}{
		{"140924", "繁峙县", []string{"繁峙县党委、政府", "繁峙县委、政府"}},
		{"140971", "五台山风景名胜区", []string{"五台山风景名胜区（党工委、管委会）", "五台山风景名胜区党工委、管委会"}},
	} {
		own := map[string]bool{"各县（市、区）党委、政府": true}
		listed := 0
		for _, sp := range c.spellings {
			own[sp] = true
			listed += len(slices.DeleteFunc(slices.Clone(units), func(m []string) bool { return html.UnescapeString(m[1]) != sp }))
		}
		if listed != 1 {
			t.Errorf("the unit filter lists %s %d times under %q", c.name, listed, c.spellings)
		}
		want = nil
		for _, task := range tasks {
			var units []string
			_ = json.Unmarshal(task.Value("responsible_units"), &units)
			if slices.ContainsFunc(units, func(u string) bool { return own[u] }) && slices.Contains(server.ProgressCounties(task), c.county) {
				want = append(want, task.Text("number"))
			}
		}
		for _, spelling := range c.spellings {
			got = nil
			page := mustGet(t, city, "/console/report?month=2026-11&unit="+url.QueryEscape(spelling))
			for _, r := range tableRows(t, page, "report-整改任务进展")[1:] {
				cells := strings.Split(r, "|")
				if cells[0] == "合计" {
					continue
				}
				if cells[1] != c.name {
					t.Errorf("unit %s: row %q is not %s's", spelling, r, c.name)
				}
				got = append(got, cells[0])
			}
			if len(want) < 4 || !slices.Equal(got, want) {
				t.Errorf("unit %s: tasks %v, want %v", spelling, got, want)
			}
		}
	}
}

// TestReportCSVCellsAreText: what an office types reaches the CSV report
// as text, whatever its first character; a cell a spreadsheet would run
// as a formula begins with an apostrophe, and numbers stay numbers.
func TestReportCSVCellsAreText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=HYPERLINK(\"http://evil.example/\",\"点此查看\")", "'=HYPERLINK(\"http://evil.example/\",\"点此查看\")"},
		{"+1+1", "'+1+1"}, {"-2+3", "'-2+3"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"＝HYPERLINK(\"http://evil.example/\")", "'＝HYPERLINK(\"http://evil.example/\")"}, {"＋1+cmd", "'＋1+cmd"},
		{"－2+3", "'－2+3"}, {"＠SUM(1+1)", "'＠SUM(1+1)"},
		{"-5", "-5"}, {"-0.25", "-0.25"}, {"+3", "+3"}, {"30%", "30%"}, {"忻府区", "忻府区"}, {"", ""}, {"a=b", "a=b"},
	} {
		if got := console.CSVCells([]string{tc.in})[0]; got != tc.want {
			t.Errorf("cell %q written %q, want %q", tc.in, got, tc.want)
		}
	}

	var clock fakeClock
	clock.Set("2022-12-20")
	srv := apptest.Start(t, clock.option)
	xinfu, city := loggedIn(t, srv, apptest.CountyOffice), loggedIn(t, srv, apptest.CityOffice)
	note := `=HYPERLINK("http://evil.example/","点此查看")`
	if st, page := report(t, xinfu, "task-08", apptest.Xinfu, url.Values{"status": {"in_progress"}, "progress_pct": {"10"},
		"note": {note}, "evidence": {"＝1+1"}}); st != http.StatusOK {
		t.Fatalf("忻府区 reports: %d\n%s", st, page)
	}
	st, body := city.get("/console/report.csv?month=2022-12")
	if st != http.StatusOK {
		t.Fatalf("csv: %d", st)
	}
	// Every export holds a county's records: no cache keeps it.
	for _, path := range []string{"/console/report.csv?month=2022-12", "/console/report.xlsx?month=2022-12", "/console/queue.xlsx",
		"/console/findings.xlsx", "/console/vehicles.xlsx", "/console/ledger.xlsx"} {
		if st, cc := city.getHeader(path, "Cache-Control"); st != http.StatusOK || cc != "no-store" {
			t.Errorf("%s: %d, Cache-Control %q, want no-store", path, st, cc)
		}
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range recs {
		for _, cell := range rec {
			if strings.Contains(cell, "HYPERLINK") {
				found = true
				if cell != "'"+note {
					t.Errorf("the note is written %q, want %q", cell, "'"+note)
				}
			}
			if first, _ := utf8.DecodeRuneInString(cell); cell != "" && strings.ContainsRune("=+@＝＋＠", first) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	if !found {
		t.Errorf("the note is not in the CSV report:\n%s", body)
	}
}

// TestTimesCountedInChina: a phone that writes its times in UTC (or any
// offset) has them counted by their date in China, as the console shows
// them: the month of the report, the queue's dates, the week of the
// roadside chart. The phone pulls back the +08:00 form under its own HLC.
func TestTimesCountedInChina(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")
	counts := func() (nov, dec int) {
		for _, m := range []string{"2026-11", "2026-12"} {
			r, err := server.LoadMonthlyReport(ctx, srv.App.DB, m, []string{apptest.Xinfu})
			if err != nil {
				t.Fatal(err)
			}
			if m == "2026-11" {
				nov = r[0].Inspections()
			} else {
				dec = r[0].Inspections()
			}
		}
		return nov, dec
	}
	nov, dec := counts()
	scope := server.Scope{Counties: []string{apptest.Xinfu}}
	weekOf := func(week string) (g6 int) {
		o, err := srv.App.DB.Overview(ctx, scope, "2026-12-02", "2026-11-01", "2026-12-03")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range o.Weeks {
			if w.Checkpoint == "阳坡检查站" && w.Week == week {
				g6 += w.G6
			}
		}
		return g6
	}

	insp, vc := uuid.NewString(), uuid.NewString()
	m := apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "submitted",
		"started_at", "2026-11-30T16:30:00.000Z", "finished_at", "2026-11-30T17:00:00Z")) // 2026-12-01 00:30 and 01:00 in China
	apptest.PushApplied(t, phone, m)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "阳坡检查站", "plate", "晋H51234", "emission_stage", "cn6", "aftertreatment", "removed",
		"checked_at", "2026-11-22T16:30:00Z"))) // Monday 2026-11-23 00:30 in China

	if n, d := counts(); n != nov || d != dec+1 {
		t.Errorf("the report counts November %d (was %d) and December %d (was %d): want the inspection in December", n, nov, d, dec)
	}
	q := server.InspectionQuery{Scope: scope, From: "2026-12-01", To: "2026-12-01", Limit: 100}
	es, _, err := srv.App.DB.InspectionQueue(ctx, q, server.QueueSort{})
	if err != nil || !slices.ContainsFunc(es, func(e server.QueueEntry) bool { return e.Record.ID == insp }) {
		t.Errorf("the queue of 2026-12-01 lacks the inspection (%v)", err)
	}
	if g := weekOf("2026-11-23"); g != 1 || weekOf("2026-11-16") != 0 {
		t.Errorf("the roadside chart: %d 国六 trucks in the week of 11-23, %d in 11-16; want 1, 0", g, weekOf("2026-11-16"))
	}

	changes, _ := pullAll(t, phone, cursor)
	for _, c := range changes {
		if c.ID == insp {
			if got := string(c.Fields["started_at"]); got != `"2026-12-01T00:30:00+08:00"` || c.HLCs["started_at"] != m.HLC {
				t.Errorf("pulled started_at %s at %s, want the +08:00 form at the phone's own HLC %s", got, c.HLCs["started_at"], m.HLC)
			}
		}
	}
}

// TestInspectionWithoutStart: an inspection submitted without started_at
// (the field is optional), or with it cleared, counts in the month and on
// the day the server received it — in the report, the queue's date filter
// and the overview — and the queue and its page say when that was.
func TestInspectionWithoutStart(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	today := time.Now().In(server.ChinaTime).Format(time.DateOnly)
	count := func() int {
		r, err := server.LoadMonthlyReport(ctx, srv.App.DB, today[:7], []string{apptest.Xinfu})
		if err != nil {
			t.Fatal(err)
		}
		return r[0].Inspections()
	}
	before := count()
	none, cleared := uuid.NewString(), uuid.NewString()
	fields := func(extra ...any) map[string]json.RawMessage {
		return apptest.Fields(append([]any{"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust",
			"template_version", 1, "status", "submitted"}, extra...)...)
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, none, fields()))
	draft := fields("started_at", "2025-01-01T09:00:00+08:00")
	draft["status"] = json.RawMessage(`"draft"`)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, cleared, draft))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, cleared, apptest.Fields("started_at", nil, "status", "submitted")))

	if got := count(); got != before+2 {
		t.Errorf("the report of %s counts %d inspections, want %d", today[:7], got, before+2)
	}
	scope := server.Scope{Counties: []string{apptest.Xinfu}}
	es, _, err := srv.App.DB.InspectionQueue(ctx, server.InspectionQuery{Scope: scope, From: today, To: today, Limit: 100}, server.QueueSort{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{none, cleared} {
		if !slices.ContainsFunc(es, func(e server.QueueEntry) bool { return e.Record.ID == id }) {
			t.Errorf("the queue of %s lacks inspection %s", today, id)
		}
	}
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, path := range []string{"/console/queue", "/console/inspections/" + none} {
		if page := mustGet(t, county, path); !strings.Contains(page, "未填开始时间") {
			t.Errorf("%s does not say the inspection has no start", path)
		}
	}
}

// TestReportUnknownTemplates: inspections naming checklists the catalogue
// does not have are one row of 按检查表统计 per county, not a row each
// under the name a phone sent (the security probe's made-up
// "=1+1<b>…" stood as a checklist in the official report).
func TestReportUnknownTemplates(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	for _, tmpl := range []string{"=1+1<b>假检查表</b>", "no_such_checklist"} {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, uuid.NewString(), apptest.Fields(
			"site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", tmpl, "template_version", 1,
			"status", "submitted", "started_at", "2026-11-20T09:00:00+08:00", "finished_at", "2026-11-20T10:00:00+08:00")))
	}
	b := loggedIn(t, srv, apptest.CountyOffice)
	rows := tableRows(t, mustGet(t, b, "/console/report?month=2026-11"), "report-按检查表统计")
	found := false
	for _, r := range rows {
		if strings.Contains(r, "假检查表") || strings.Contains(r, "no_such_checklist") {
			t.Errorf("a made-up checklist has a row of its own: %q", r)
		}
		found = found || strings.HasPrefix(r, "忻府区|未知检查表（不在检查表目录中）|2")
	}
	if !found {
		t.Errorf("no row of the 2 inspections of unknown checklists:\n%s", strings.Join(rows, "\n"))
	}
	if _, body := b.get("/console/report.csv?month=2026-11"); strings.Contains(body, "假检查表") {
		t.Error("the CSV names the made-up checklist")
	}
}

// TestFailedItemsReport: the monthly report counts, per county, checklist
// and item, the submitted inspections whose answer fails the item, with
// their share of the county's inspections whose checklist version asks
// the item: a failing option (coal_boiler@2's 仍在燃煤) as well as a check
// answered 不合格, items of every version of a checklist (roadside_truck's
// twc of version 2 and twc_present of version 1) under their own labels,
// newest version's first, each a share of its own version's inspections
// (the versions probe: twc's was of both versions', understated while
// phones move to version 2); drafts, other counties' inspections and
// inspections of a version the catalogue does not have do not count.
func TestFailedItemsReport(t *testing.T) {
	srv := apptest.Start(t)
	phone, ningwu := srv.Login(apptest.Inspector), srv.Login(apptest.NingwuInsp)
	burning := append(slices.Clone(completeBoiler), "answers.boiler_status", map[string]any{"value": "burning"},
		"answers.boiler_retired", map[string]any{"result": "fail"})
	pushVersion(t, phone, apptest.Xinfu, "coal_boiler", 2, "submitted", burning...)
	pushVersion(t, phone, apptest.Xinfu, "coal_boiler", 2, "submitted", completeBoiler...)
	pushVersion(t, phone, apptest.Xinfu, "coal_boiler", 1, "submitted", append(slices.Clone(completeBoiler),
		"answers.boiler_retired", map[string]any{"result": "fail"})...)
	pushVersion(t, phone, apptest.Xinfu, "coal_boiler", 2, "draft", burning...)
	pushVersion(t, ningwu, apptest.Ningwu, "coal_boiler", 2, "submitted", burning...)
	pushVersion(t, phone, apptest.Xinfu, "roadside_truck", 2, "submitted", "answers.twc", map[string]any{"value": "removed"})
	pushVersion(t, phone, apptest.Xinfu, "roadside_truck", 1, "submitted", "answers.twc_present", map[string]any{"result": "fail"},
		"answers.obd_mil_off", map[string]any{"result": "fail"})
	pushVersion(t, phone, apptest.Xinfu, "roadside_truck", 9, "submitted", "answers.twc", map[string]any{"value": "removed"})

	b := loggedIn(t, srv, apptest.CityOffice)
	_, page := b.get("/console/report?month=2026-11&county=" + apptest.Xinfu)
	table := regexp.MustCompile(`(?s)<table class="list report[^"]*" id="report-不合格检查项统计">.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(page)
	if table == nil {
		t.Fatalf("no table of failed items:\n%s", page)
	}
	var got []string
	for _, row := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(table[1], -1) {
		got = append(got, strings.Join(cells(row[0]), "|"))
	}
	want := []string{
		"忻府区|35蒸吨以下燃煤锅炉淘汰核查|锅炉现状|1|33.3%",
		"忻府区|35蒸吨以下燃煤锅炉淘汰核查|淘汰任务已完成|2|66.7%",
		"忻府区|重型货车路检路查|OBD故障指示灯（MIL）未点亮|1|50.0%",
		"忻府区|重型货车路检路查|三元催化器（燃气车）|1|100.0%",
		"忻府区|重型货车路检路查|三元催化器完好（燃气车）|1|100.0%",
	}
	if !slices.Equal(got, want) {
		t.Errorf("failed items:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestReportSaysWhatCameLate: a month's report made after the month
// ended says how many of its inspections and roadside checks reached the
// server after its end — counted in it, so the same month's report made
// later differs from one sent before them — and says nothing of a month
// whose records all came in time.
func TestReportSaysWhatCameLate(t *testing.T) {
	var at atomic.Int64 // the server's clock, Unix ns
	month := time.Now().In(server.ChinaTime).AddDate(0, -2, 0)
	day := func(d, h int) time.Time {
		return time.Date(month.Year(), month.Month(), d, h, 0, 0, 0, server.ChinaTime)
	}
	at.Store(day(10, 12).UnixNano())
	srv := apptest.Start(t, func(c *app.Config) { c.Now = func() time.Time { return time.Unix(0, at.Load()) } })
	clock := func() time.Time { return time.Unix(0, at.Load()) }
	phone := srv.Login(apptest.Inspector)
	phone.Clock = syncproto.NewClock(phone.DeviceID, clock) // the phone's clock is right
	send := func(started time.Time, plate string) string {
		t.Helper()
		pushIn(t, phone, apptest.Xinfu, "boiler", started.Format(time.RFC3339), completeBoiler...)
		id := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "豆罗检查站", "plate", plate, "emission_stage", "cn6", "checked_at", started.Format(time.RFC3339))))
		return id
	}
	inTime := send(day(10, 9), "晋H70001")
	ym := month.Format("2006-01")
	city := loggedIn(t, srv, apptest.CityOffice)
	if page := mustGet(t, city, "/console/report?month="+ym); strings.Contains(page, "补报") {
		t.Error("the month's report, made within it, speaks of records sent in after it")
	}
	// The month ends; a week later, a phone back on the network sends
	// what it did on the 28th.
	at.Store(day(1, 12).AddDate(0, 1, 7).UnixNano())
	if page := mustGet(t, loggedIn(t, srv, apptest.CityOffice), "/console/report?month="+ym); strings.Contains(page, "补报") {
		t.Error("a month whose records all came in time speaks of records sent in after it")
	}
	send(day(28, 9), "晋H70002")
	page := mustGet(t, loggedIn(t, srv, apptest.CityOffice), "/console/report?month="+ym)
	if !strings.Contains(page, "本月有 1 次检查、1 辆路检车辆的记录在月末之后才送达服务器（补报），已计入本表") {
		t.Errorf("the month's report does not say what came late:\n%s", page)
	}
	_, f := download(t, loggedIn(t, srv, apptest.CityOffice), "/console/report.xlsx?month="+ym)
	if rows, err := f.GetRows("检查与整改汇总"); err != nil || !strings.Contains(fmt.Sprint(rows), "1 次检查、1 辆路检车辆的记录在月末之后") {
		t.Errorf("the export does not say it: %v %v", rows, err)
	}
	// A check received in time, corrected after the month ended: its
	// figures changed, and the report says so.
	const changed = "本月有 1 辆路检车辆的记录在月末之后被修改或作废"
	if strings.Contains(page, changed) {
		t.Error("the report speaks of a check changed after the month before any was")
	}
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, inTime, apptest.Fields("aftertreatment", "removed")))
	if page := mustGet(t, loggedIn(t, srv, apptest.CityOffice), "/console/report?month="+ym); !strings.Contains(page, changed) {
		t.Errorf("the month's report does not say a check was changed after it:\n%s", page)
	}
}

// TestReportLinksItsFindings: the monthly report's page links to the
// findings it counts — those of its month's visits, in its county — on
// the 问题整改 page, as the XLSX's 发现问题 sheet lists them (city probe:
// the list was in the XLSX only).
func TestReportLinksItsFindings(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	for _, v := range []struct{ started, desc string }{
		{"2026-11-30T23:30:00+08:00", "十一月末的料堆裸露"},
		{"2026-10-31T09:00:00+08:00", "十月的料堆裸露"},
		{"2026-12-01T00:30:00+08:00", "十二月初的料堆裸露"},
	} {
		insp := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
			"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", v.started)),
			apptest.Mut(phone, syncproto.EntityFinding, uuid.NewString(), apptest.Fields("inspection_id", insp, "item_key", "material_cover",
				"description", v.desc, "severity", "major", "deadline", "2026-12-20", "status", "open")))
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	}
	b := loggedIn(t, srv, apptest.CityOffice)
	for _, county := range []string{"", apptest.Xinfu} {
		page := mustGet(t, b, "/console/report?"+url.Values{"month": {"2026-11"}, "county": {county}}.Encode())
		m := regexp.MustCompile(`<a href="([^"]+)" id="report-findings">`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("county %q: the report does not link to its findings:\n%s", county, page)
		}
		link := html.UnescapeString(m[1])
		u, err := url.Parse(link)
		if err != nil || u.Path != "/console/findings" || u.Query().Get("from") != "2026-11-01" || u.Query().Get("to") != "2026-11-30" || u.Query().Get("county") != county {
			t.Errorf("county %q: the findings link is %q", county, link)
		}
		list := mustGet(t, b, link)
		if !strings.Contains(list, "十一月末的料堆裸露") || strings.Contains(list, "十月的料堆裸露") || strings.Contains(list, "十二月初的料堆裸露") {
			t.Errorf("county %q: the linked list does not hold the month's finding alone:\n%s", county, list)
		}
	}
}
