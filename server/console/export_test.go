package console_test

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xuri/excelize/v2"
)

// sheetXML returns the raw XML of the workbook's sheet name, found
// through workbook.xml and its relationships.
func sheetXML(t *testing.T, body, name string) string {
	t.Helper()
	z, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) []byte {
		f, err := z.Open(p)
		if err != nil {
			t.Fatalf("xlsx lacks %s: %v", p, err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(read("xl/workbook.xml"), &wb); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(read("xl/_rels/workbook.xml.rels"), &rels); err != nil {
		t.Fatal(err)
	}
	for _, s := range wb.Sheets {
		if s.Name != name {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.RID {
				target := strings.TrimPrefix(r.Target, "/")
				if !strings.HasPrefix(target, "xl/") {
					target = path.Join("xl", target)
				}
				return string(read(target))
			}
		}
	}
	t.Fatalf("xlsx has no sheet %q", name)
	return ""
}

var (
	reDimension  = regexp.MustCompile(`<dimension ref="([A-Z0-9:]+)"`)
	reAutoFilter = regexp.MustCompile(`<autoFilter ref="([A-Z0-9:$]+)"`)
	reWhole      = regexp.MustCompile(`^-?[0-9]+$`)
	rePercent    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?%$`)
)

// checkSheet checks an exported sheet the way a spreadsheet would read it
// — a title row (unit, date made), the header frozen under it with an
// autofilter over the data, a totals row (合计) last, the sheet's
// dimension exactly its extent, numbers and percentages as numeric cells
// — and returns the header and data rows.
func checkSheet(t *testing.T, body string, f *excelize.File, name string) [][]string {
	t.Helper()
	rows, err := f.GetRows(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 {
		t.Fatalf("sheet %s: %d rows, want a title, a header and a totals row", name, len(rows))
	}
	if title := rows[0][0]; !strings.HasPrefix(title, "忻州市") || !strings.Contains(title, "制表日期：20") {
		t.Errorf("sheet %s title row %q: want the unit and the date made", name, title)
	}
	if rows[len(rows)-1][0] != "合计" {
		t.Errorf("sheet %s last row %v, want the totals", name, rows[len(rows)-1])
	}
	if !slices.ContainsFunc(rows[len(rows)-1][1:], func(v string) bool { return v != "" }) {
		t.Errorf("sheet %s totals row %v says nothing but 合计", name, rows[len(rows)-1])
	}
	cols := len(rows[1])
	lastCol, _ := excelize.ColumnNumberToName(cols)
	raw := sheetXML(t, body, name)
	if m := reDimension.FindStringSubmatch(raw); m == nil || m[1] != "A1:"+lastCol+strconv.Itoa(len(rows)) {
		t.Errorf("sheet %s dimension %v, want A1:%s%d (%d columns, %d rows)", name, m, lastCol, len(rows), cols, len(rows))
	}
	if m := reAutoFilter.FindStringSubmatch(raw); m == nil || strings.ReplaceAll(m[1], "$", "") != "A2:"+lastCol+strconv.Itoa(max(len(rows)-1, 2)) {
		t.Errorf("sheet %s autofilter %v, want A2:%s%d", name, m, lastCol, len(rows)-1)
	}
	panes, err := f.GetPanes(name)
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
		t.Errorf("sheet %s panes %+v, %v: want the first two rows frozen", name, panes, err)
	}
	for r, row := range rows[2:] {
		for c, v := range row {
			if rows[1][c] == "序号" || rows[1][c] == "进展说明" || !(reWhole.MatchString(v) || rePercent.MatchString(v)) {
				continue
			}
			ref, _ := excelize.CoordinatesToCellName(c+1, r+3)
			typ, err := f.GetCellType(name, ref)
			if err != nil || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
				t.Errorf("sheet %s %s = %q is stored as type %v, want a number", name, ref, v, typ)
			}
			if strings.HasSuffix(v, "%") {
				rawV, _ := f.GetCellValue(name, ref, excelize.Options{RawCellValue: true})
				want, _ := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
				if got, err := strconv.ParseFloat(rawV, 64); err != nil || abs(got*100-want) > 0.06 {
					t.Errorf("sheet %s %s = %q is %q underneath, want the fraction", name, ref, v, rawV)
				}
			}
		}
	}
	if w, err := f.GetColWidth(name, "A"); err != nil || w < 8 {
		t.Errorf("sheet %s column A width %v %v", name, w, err)
	}
	return rows[1 : len(rows)-1]
}

func abs(f float64) float64 { return max(f, -f) }

// download fetches an XLSX export and opens it.
func download(t *testing.T, b *browser, path string) (string, *excelize.File) {
	t.Helper()
	st, body := b.get(path)
	if st != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Fatalf("%s: %d %.200s", path, st, body)
	}
	f, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	// Every export's own properties say who made it, what and when.
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	// (The test servers' clocks vary: made in this century, not the
	// library's 2006.)
	if made, err := time.Parse(time.RFC3339, props.Created); !strings.HasPrefix(props.Creator, "忻州市") || props.Title == "" || err != nil || made.Year() < 2020 {
		t.Errorf("%s: the file's properties say creator %q, title %q, created %q; want the office, the export and when", path, props.Creator, props.Title, props.Created)
	}
	return body, f
}

// exportHref finds the page's link to an export and returns its address.
func exportHref(t *testing.T, page, prefix string) string {
	t.Helper()
	m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(prefix) + `[^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no link to %s", prefix)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestExports(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	ids := []string{submit(t, phone, apptest.Xinfu), submit(t, phone, apptest.Xinfu), submit(t, phone, apptest.Xinfu)}
	submit(t, srv.Login(apptest.NingwuInsp), apptest.Ningwu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/inspections/" + ids[0])
	if st, page := b.post("/console/inspections/"+ids[0]+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}}, page)); st != http.StatusOK {
		t.Fatalf("approve: %d\n%s", st, page)
	}

	// The queue's export carries the page's filter and lists exactly
	// the rows it selects (every page of them).
	for _, tc := range []struct {
		page string
		want []string
	}{
		{"/console/queue", ids[1:]},                      // the default: 待审核
		{"/console/queue?status=approved", ids[:1]},      // one approved
		{"/console/queue?status=&county=140902", ids[:]}, // every status
	} {
		_, page := b.get(tc.page)
		href := exportHref(t, page, "/console/queue.xlsx")
		body, f := download(t, b, href)
		rows := checkSheet(t, body, f, "检查记录")
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[len(r)-1])
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s → %s: ids %v, want %v", tc.page, href, got, want)
		}
		if n := len(rows) - 1; !strings.Contains(squash(page), "共 "+strconv.Itoa(n)+" 条") {
			t.Errorf("%s: export has %d rows, the page another count", tc.page, n)
		}
		// The totals row adds up 不合格项, 照片, 带标记照片 (month-end
		// probe: it counted the rows only).
		all, _ := f.GetRows("检查记录")
		totals := all[len(all)-1]
		for col := 6; col <= 8; col++ {
			sum := 0
			for _, r := range rows[1:] {
				n, _ := strconv.Atoi(r[col])
				sum += n
			}
			if len(totals) <= col || totals[col] != strconv.Itoa(sum) {
				t.Errorf("%s: totals row %v, want %s %d", tc.page, totals, rows[0][col], sum)
			}
		}
		_ = exportHref(t, page, "/console/findings.xlsx")
	}
	// A sorted queue exports in its order, with the columns it shows;
	// a sort it does not know is refused there as on the page.
	for _, order := range []string{"sort=started&dir=asc", "sort=started&dir=desc", "sort=site&dir=asc"} {
		_, page := b.get("/console/queue?status=&county=140902&" + order)
		var shown []string
		for _, m := range regexp.MustCompile(`<tr data-id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
			shown = append(shown, m[1])
		}
		href := exportHref(t, page, "/console/queue.xlsx")
		body, f := download(t, b, href)
		rows := checkSheet(t, body, f, "检查记录")
		if want := []string{"检查时间", "区县", "点位", "检查表", "巡查员", "状态", "不合格项", "照片", "带标记照片", "缺项", "检查记录编号"}; !slices.Equal(rows[0], want) {
			t.Errorf("%s: export header %v, want %v", order, rows[0], want)
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[len(r)-1])
			if r[4] == "" {
				t.Errorf("%s: row %v has no inspector", order, r)
			}
		}
		if len(shown) != 3 || !slices.Equal(got, shown) {
			t.Errorf("%s: export order %v, the page's %v", order, got, shown)
		}
	}
	for _, bad := range []string{"sort=bogus", "sort=started&dir=up"} {
		for _, export := range []string{"/console/queue.xlsx?", "/console/findings.xlsx?"} {
			if st, _ := b.get(export + bad); st != http.StatusBadRequest {
				t.Errorf("%s%s: %d, want 400 as the page answers", export, bad, st)
			}
		}
	}
	body, f := download(t, b, "/console/findings.xlsx?status=")
	checkSheet(t, body, f, "发现问题")

	// The report: its tables, the roadside statistics and the findings.
	body, f = download(t, b, "/console/report.xlsx?month=2026-11")
	for _, name := range []string{"检查与整改汇总", "按检查表统计", "不合格检查项统计", "整改任务进展", "路检路查统计", "发现问题"} {
		checkSheet(t, body, f, name)
	}
	if got := f.GetSheetList(); len(got) != 8 || got[6] != "审计封存" || got[7] != "报送审核" { // audit_test.go checks the seal sheet
		t.Errorf("report sheets %v", got)
	}
	// The last sheet is where the plan's 信息报送 is signed and sealed,
	// with who made the file.
	sign, _ := f.GetRows("报送审核")
	if text := fmt.Sprint(sign); !strings.Contains(text, "报送单位（加盖公章）") || !strings.Contains(text, "审核人（主要领导签字）") ||
		!strings.Contains(text, "填报人 赵督查") {
		t.Errorf("the sign-off sheet: %v", sign)
	}
	sum, _ := f.GetRows("检查与整改汇总")
	if total := sum[len(sum)-1]; total[1] != "4" && total[1] != "3" {
		t.Errorf("report totals %v", total)
	}

	// Roadside records and the ledger, as the city.
	city := loggedIn(t, srv, apptest.CityOffice)
	_, page = city.get("/console/vehicles")
	body, f = download(t, city, exportHref(t, page, "/console/vehicles.xlsx"))
	checkSheet(t, body, f, "路检记录")
	_, page = city.get("/console/ledger?status=not_started&county=140902")
	href := exportHref(t, page, "/console/ledger.xlsx")
	if !strings.Contains(href, "county=140902") || !strings.Contains(href, "status=not_started") {
		t.Errorf("ledger export link %s lacks the filter", href)
	}
	body, f = download(t, city, href)
	rows := checkSheet(t, body, f, "整改台账")
	if len(rows) < 2 {
		t.Fatalf("ledger export: %v", rows)
	}
	roadside := false
	for _, r := range rows[1:] {
		if r[6] != "忻府区" || r[9] != "未开始" {
			t.Errorf("ledger export row outside the filter: %v", r)
		}
		// The trucks checked, for a roadside task, as its row on the
		// page counts them; "—" for the others.
		switch want := "—"; {
		case r[0] == "4.5":
			roadside = true
			if !strings.Contains(countyRow(t, page, "task-09", apptest.Xinfu), "路检 "+r[18]+" 辆") {
				t.Errorf("ledger export 4.5 trucks %q, the page's row %q", r[18], countyRow(t, page, "task-09", apptest.Xinfu))
			}
		case len(r) > 18 && r[18] != want:
			t.Errorf("ledger export row %v: trucks %q, want %q", r[:2], r[18], want)
		}
		// Who reported the row and when, as its row on the page says
		// (填报：… or 尚未填报).
		if rows[0][14] != "填报人" || rows[0][15] != "填报时间" {
			t.Fatalf("ledger export header %v", rows[0])
		}
		if r[14] == "尚未填报" && len(r) > 15 && r[15] != "" {
			t.Errorf("ledger export row %v: never reported, yet a time %q", r[:2], r[15])
		}
	}
	if !roadside {
		t.Error("ledger export lacks task 4.5")
	}
	if n := strings.Count(page, `class="county-row`); n != len(rows)-1 {
		t.Errorf("ledger page shows %d county rows, export %d", n, len(rows)-1)
	}
	// A row reported: its reporter and time in the export.
	county := loggedIn(t, srv, apptest.CountyOffice)
	rep := ledgerForm(t, mustGet(t, county, "/console/ledger"), "task-08", apptest.Xinfu,
		url.Values{"status": {"in_progress"}, "progress_pct": {"40"}, "note": {"已拆除两台锅炉"}})
	if st, _ := county.post("/console/ledger/task-08/"+apptest.Xinfu, rep); st != http.StatusOK {
		t.Fatalf("report task-08: %d", st)
	}
	_, page = city.get("/console/ledger?county=140902")
	body, f = download(t, city, exportHref(t, page, "/console/ledger.xlsx"))
	reported := false
	for _, r := range checkSheet(t, body, f, "整改台账")[1:] {
		if strings.Contains(r[12], "已拆除两台锅炉") {
			reported = true
			if r[14] == "尚未填报" || r[14] == "" || !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$`).MatchString(r[15]) ||
				!strings.Contains(countyRow(t, page, "task-08", apptest.Xinfu), "填报："+r[14]+" "+r[15]) {
				t.Errorf("the reported row's reporter %q and time %q, the page's row %q", r[14], r[15], countyRow(t, page, "task-08", apptest.Xinfu))
			}
		}
	}
	if !reported {
		t.Error("ledger export lacks the row reported")
	}
}

// TestExportsPastTheirLimit: the monthly report's roadside sheet counts
// every check of its month however many newer ones there are (it read the
// newest exportLimit only), and a list export cut at the limit says so.
func TestExportsPastTheirLimit(t *testing.T) {
	srv := apptest.Start(t)
	defer console.SetExportLimit(40)()
	city := loggedIn(t, srv, apptest.CityOffice)
	all, total, err := srv.App.DB.VehicleChecks(t.Context(), server.VehicleQuery{Scope: server.Scope{All: true}, Limit: 100000})
	if err != nil || total <= 80 {
		t.Fatalf("the demo's roadside checks: %d %v", total, err)
	}
	months := map[string]int{}
	for _, r := range all {
		t, err := time.Parse(time.RFC3339, r.Text("checked_at"))
		if err == nil {
			months[t.In(time.FixedZone("CST", 8*3600)).Format("2006-01")]++
		}
	}
	for month, want := range months {
		body, f := download(t, city, "/console/report.xlsx?month="+month)
		rows := checkSheet(t, body, f, "路检路查统计")
		got := 0
		for _, row := range rows[1:] {
			n, _ := strconv.Atoi(row[3])
			got += n
			// The stages add up to the trucks, as on the 路检路查 page.
			if len(row) > 6 && row[0] != "区县" {
				g5, _ := strconv.Atoi(row[4])
				g6, _ := strconv.Atoi(row[5])
				other, err := strconv.Atoi(row[6])
				if err != nil || g5+g6+other != n {
					t.Errorf("%s: %v: 国五 %d + 国六 %d + 国四及以下或未填 %q ≠ %d trucks", month, row, g5, g6, row[6], n)
				}
			}
		}
		if got != want {
			t.Errorf("%s: the roadside sheet counts %d trucks, want the month's %d", month, got, want)
		}
	}
	_, f := download(t, city, "/console/vehicles.xlsx")
	rows, err := f.GetRows("路检记录")
	if err != nil || !strings.Contains(rows[0][0], fmt.Sprintf("共 %d 条，只导出了最新的 40 条", total)) || len(rows) != 40+3 {
		t.Errorf("the capped list: title %q, %d rows (%v)", rows[0][0], len(rows), err)
	}
}

// TestFindingsExportOrder: the queue's findings export lists its
// inspections' findings in the queue's order (it was always newest first).
func TestFindingsExportOrder(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	b := loggedIn(t, srv, apptest.CountyOffice)
	// The findings export lists its inspections' findings in the queue's
	// order too: two inspections with findings, on 11-10 and 11-12.
	for _, day := range []string{"10", "12"} {
		insp, finding := uuid.NewString(), uuid.NewString()
		apptest.PushApplied(t, phone,
			apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
				"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-"+day+"T09:00:00+08:00")),
			apptest.Mut(phone, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "description", "围挡破损 11-"+day)),
			apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	}
	for _, order := range []string{"sort=started&dir=asc", "sort=started&dir=desc"} {
		_, page := b.get("/console/queue?status=&county=140902&from=2026-11-10&to=2026-11-12&" + order)
		var shown []string
		for _, m := range regexp.MustCompile(`<tr data-id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
			shown = append(shown, m[1])
		}
		body, f := download(t, b, exportHref(t, page, "/console/findings.xlsx"))
		var got []string
		for _, r := range checkSheet(t, body, f, "发现问题")[1:] {
			if id := r[len(r)-1]; len(got) == 0 || got[len(got)-1] != id {
				got = append(got, id)
			}
		}
		if len(shown) != 2 || !slices.Equal(got, shown) {
			t.Errorf("%s: findings export's inspections %v, the page's %v", order, got, shown)
		}
	}
}

// TestExportCaptions: an export's title says the filter that made it, so
// that a sheet sent up or printed says what it counts; an unfiltered one
// says none (the queue's says its default status).
func TestExportCaptions(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	for _, tc := range []struct {
		path, sheet string
		want        []string // in the title, in this order
		not         []string
	}{
		{"/console/queue.xlsx", "检查记录", []string{"（检查状态：待审核）"}, []string{"区县"}},
		{"/console/queue.xlsx?status=&county=" + apptest.Xinfu + "&template=coal_boiler&from=2026-11-01&to=2026-11-30&flag=no_gps&complete=incomplete",
			"检查记录", []string{"区县：忻府区", "检查表：", "检查状态：全部", "完整性：", "证据标记：无定位", "期间：2026-11-01 至 2026-11-30"}, nil},
		{"/console/queue.xlsx?status=approved&task=task-08", "检查记录", []string{"整改任务：", "检查状态：已通过"}, nil},
		{"/console/findings.xlsx?status=returned&from=2026-11-01", "发现问题", []string{"检查状态：已退回", "期间：2026-11-01 起"}, nil},
		{"/console/vehicles.xlsx", "路检记录", nil, []string{"（", "期间"}},
		{"/console/vehicles.xlsx?county=" + apptest.Xinfu + "&removed=1&to=2026-11-30&nocampaign=1", "路检记录",
			[]string{"区县：忻府区", "专项行动：未列入专项行动", "后处理：只看拆除", "期间：截至 2026-11-30"}, nil},
		// The list matches part of a checkpoint's name or a plate; exact=1
		// (a link from a figure) the whole.
		{"/console/vehicles.xlsx?checkpoint=G108&plate=H930", "路检记录", []string{"检查站：含“G108”", "号牌或识别代号：含“H930”"}, nil},
		{"/console/vehicles.xlsx?checkpoint=G108&exact=1", "路检记录", []string{"检查站：G108"}, []string{"含“"}},
		{"/console/ledger.xlsx?status=in_progress&county=" + apptest.Xinfu + "&overdue=1", "整改台账", []string{"区县：忻府区", "状态：", "逾期：只看逾期"}, nil},
		{"/console/ledger.xlsx", "整改台账", nil, []string{"（"}},
		// Said once: 只看逾期：截至 <today>, not …截至 <today> 逾期.
		{"/console/findings-list.xlsx?overdue=1", "问题整改", []string{"（只看逾期：截至 20"}, []string{"逾期）"}},
		{"/console/report.xlsx?month=2026-11&county=" + apptest.Xinfu, "路检路查统计", []string{"信息报送（2026-11）路检路查统计（区县：忻府区）"}, nil},
	} {
		_, f := download(t, city, tc.path)
		title, err := f.GetCellValue(tc.sheet, "A1")
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		rest := title
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: title %q lacks %q (or has it out of order)", tc.path, title, w)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, w := range tc.not {
			if strings.Contains(strings.TrimPrefix(title, "忻州市"), w) {
				t.Errorf("%s: title %q has %q", tc.path, title, w)
			}
		}
	}
}
