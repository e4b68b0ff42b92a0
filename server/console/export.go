package console

import (
	"cmp"
	"fmt"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// exportLimit bounds the rows of one exported list; a list cut there says
// so in its title (capped).
var exportLimit = 20000

// capped is a list's title, saying, when the list selected more than
// exportLimit records, that only the newest were exported.
func capped(title string, total int) string {
	if total <= exportLimit {
		return title
	}
	return fmt.Sprintf("%s（共 %d 条，只导出了最新的 %d 条，请缩小筛选范围）", title, total, exportLimit)
}

// typedRow turns row i of a report table into cells by its columns'
// kinds: a count's whole number as a number, a percent's "12.5%" as a
// percent; the rest, and what does not parse ("—"), as text.
func typedRow(t reportTable, row []string) []any {
	out := make([]any, len(row))
	for i, v := range row {
		out[i] = typedCell(t, i, v)
	}
	return out
}

// typedCell is the cell of column i holding v, by the column's kind.
func typedCell(t reportTable, i int, v string) any {
	switch t.kind(i) {
	case kindCount, kindShared:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	case kindPercent:
		if s, ok := strings.CutSuffix(v, "%"); ok {
			// 46.3% is the number nearest 0.463 (46.3/100 is not:
			// 0.46299999999999997 in the cell).
			if f, err := strconv.ParseFloat(s+"e-2", 64); err == nil {
				return percent(f)
			}
		}
	}
	return v
}

// sumTotals is a totals row (合计 in the first column) summing the count
// columns (not the shared ones) of t's typed rows, whose cells are numbers or "—" where a count
// does not apply (a task without field checks); other columns, and a
// count of "—" only, are left empty. A table without count columns
// (the report's progress by task) counts its rows in the second column.
func sumTotals(t reportTable, rows [][]any) []any {
	tot := make([]any, len(t.Header))
	tot[0] = "合计"
	if len(tot) > 1 && !slices.Contains(t.Kinds, kindCount) {
		tot[1] = strconv.Itoa(len(rows)) + " 行"
		for col := 2; col < len(tot); col++ {
			tot[col] = ""
		}
		return tot
	}
	for col := 1; col < len(tot); col++ {
		tot[col] = ""
		if t.kind(col) != kindCount {
			continue
		}
		sum, numbers := 0, 0
		for _, r := range rows {
			if n, ok := r[col].(int); ok {
				sum += n
				numbers++
			}
		}
		if numbers > 0 {
			tot[col] = sum
		}
	}
	for col, v := range t.TotalCells {
		tot[col] = typedCell(t, col, v)
	}
	return tot
}

// Totals is the table's totals row as text (合计, the count columns
// summed, as the XLSX's), for the page and the CSV; nil for a table
// without rows.
func (t reportTable) Totals() []string {
	if len(t.Rows) == 0 {
		return nil
	}
	typed := make([][]any, len(t.Rows))
	for i, r := range t.Rows {
		typed[i] = typedRow(t, r)
	}
	tot := sumTotals(t, typed)
	out := make([]string, len(tot))
	for i, v := range tot {
		out[i] = fmt.Sprint(v)
	}
	for col, v := range t.TotalCells {
		out[col] = v // as the rows show it ("57.5%"), not as the XLSX's number
	}
	return out
}

// reportXLSX downloads the monthly report as an XLSX workbook: a sheet
// for each of the report's tables, then the month's roadside statistics
// and its findings.
func (c *Console) reportXLSX(ec echo.Context) error {
	rp, tables, err := c.monthReport(ec)
	if err != nil {
		return err
	}
	var sheets []xlsxSheet
	for _, t := range tables {
		sheets = append(sheets, sheetOf(t, "信息报送（"+rp.Month+"）"+t.heading()))
	}
	counties, err := c.exportCounties(ec, rp.County)
	if err != nil {
		return err
	}
	q := server.InspectionQuery{Scope: principalOf(ec).Scope(), Counties: counties, From: rp.Month + "-01", To: rp.Month + "-31"}
	findings, err := c.findingsSheet(ec, q, nil)
	if err != nil {
		return err
	}
	// Findings are as they are now, whatever the month.
	findings.Title = "信息报送（" + rp.Month + "）发现问题（整改状态和逾期天数截至 " + c.today() + "）"
	seal, why, err := c.monthSeal(ec, rp.Month)
	if err != nil {
		return err
	}
	st := sealTable(seal, why)
	sealSheet := xlsxSheet{Name: st.Title, Title: "信息报送（" + rp.Month + "）审计封存", Header: st.Header}
	for _, r := range st.Rows {
		sealSheet.Rows = append(sealSheet.Rows, []any{r[0], r[1]}) // text, hashes and counts alike
	}
	sheets = append(sheets, findings)
	// The county narrows every sheet; the unit only the tasks' table,
	// whose own title says it.
	for i := range sheets {
		sheets[i].Filter = c.reportFilter(rp)
	}
	so := c.signOff(ec)
	signSheet := xlsxSheet{Name: so.Title, Title: "信息报送（" + rp.Month + "）" + so.Title, Header: so.Header, Filter: c.reportFilter(rp)}
	for _, r := range so.Rows {
		signSheet.Rows = append(signSheet.Rows, []any{r[0], r[1]})
	}
	return c.exportXLSX(ec, "信息报送-"+rp.Month, append(sheets, sealSheet, signSheet))
}

// exportCounties are the counties of the viewer's scope, or the one it
// asks for.
func (c *Console) exportCounties(ec echo.Context, county string) ([]string, error) {
	p := principalOf(ec)
	if county != "" {
		if err := c.checkCounty(p, county, "数据"); err != nil {
			return nil, err
		}
		return []string{county}, nil
	}
	var out []string
	for _, ct := range c.counties {
		if p.CanSee(ct.Code) {
			out = append(out, ct.Code)
		}
	}
	if p.CanSee(server.CityCounty) {
		out = append(out, server.CityCounty)
	}
	return out, nil
}

// monthVehicleStats are the roadside checks of counties made in month
// (YYYY-MM, the date in China), one VehicleStat a check, sorted by county,
// checkpoint and special action; of those, the ones also selected by
// sel's ReceivedAfter, ChangedAfter and Voided (the zero VehicleQuery:
// every check that counts).
func (c *Console) monthVehicleStats(ec echo.Context, month string, counties []string, sel server.VehicleQuery) ([]server.VehicleStat, error) {
	// The checks of the month's days and one day either side are read, a
	// page at a time, and those of the month in China kept: a time
	// stored before times were stored at +08:00 may be a day off by its
	// text.
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return nil, badMonth(month, c.now())
	}
	q := server.VehicleQuery{Scope: principalOf(ec).Scope(), Limit: exportLimit,
		After: first.AddDate(0, 0, -1).Format(time.DateOnly), Before: first.AddDate(0, 1, 1).Format(time.DateOnly),
		ReceivedAfter: sel.ReceivedAfter, ChangedAfter: sel.ChangedAfter, Voided: sel.Voided}
	var stats []server.VehicleStat
	for offset := 0; ; offset += exportLimit {
		q.Offset = offset
		recs, total, err := c.d.Store.VehicleChecks(ec.Request().Context(), q)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if !slices.Contains(counties, r.County) || !strings.HasPrefix(localTime(r.Text("checked_at")), month) {
				continue
			}
			v := server.VehicleStat{County: r.County, Checkpoint: server.LabelKey(r.Text("checkpoint")), Campaign: server.LabelKey(r.Text("campaign")), Trucks: 1}
			if r.Text("emission_stage") == syncproto.StageCN5 {
				v.G5 = 1
			}
			if r.Text("emission_stage") == syncproto.StageCN6 {
				v.G6 = 1
				if r.Text("aftertreatment") == syncproto.AftertreatmentRemoved {
					v.Removed = 1
				}
				if r.Text("fuel") == syncproto.FuelNaturalGas {
					v.GasG6, v.GasRemoved = 1, v.Removed
				}
			}
			stats = append(stats, v)
		}
		if len(recs) == 0 || offset+len(recs) >= total {
			break
		}
	}
	slices.SortStableFunc(stats, func(a, b server.VehicleStat) int {
		return strings.Compare(a.County+"\x00"+a.Checkpoint+"\x00"+a.Campaign, b.County+"\x00"+b.Checkpoint+"\x00"+b.Campaign)
	})
	return stats, nil
}

// vehicleStatsTable is roadside statistics stats by county, checkpoint
// and special action: trucks checked, 国五 and 国六 trucks, the others
// (older, or the stage not recorded: the columns add up to the trucks, as
// the 路检路查 page's), 国六 with after-treatment removed and the removal
// rate, the same of 国六 gas trucks; its totals row gives the rates of
// the totals. The monthly report's table (page, CSV and XLSX alike), and
// the 路检路查 export's sheet for the period chosen.
func (c *Console) vehicleStatsTable(title string, stats []server.VehicleStat) reportTable {
	t := reportTable{Title: title,
		Header: []string{"区县", "检查站", "专项行动", "检查车辆", "国五车辆", "国六车辆", "国四及以下或未填", "后处理拆除（国六）", "拆除率",
			"国六燃气车", "后处理拆除（国六燃气车）", "燃气车拆除率"},
		Kinds: []cellKind{kindText, kindText, kindText, kindCount, kindCount, kindCount, kindCount, kindCount, kindPercent, kindCount, kindCount, kindPercent}}
	keys, sums := server.SumVehicleStats(stats, func(v server.VehicleStat) string {
		return v.County + "\x00" + v.Checkpoint + "\x00" + v.Campaign
	})
	itoa := strconv.Itoa
	var total server.VehicleStat
	for _, k := range keys {
		parts := strings.SplitN(k, "\x00", 3)
		campaign := parts[2]
		if campaign == "" {
			campaign = noCampaign
		}
		v := sums[k]
		t.Rows = append(t.Rows, []string{c.countyName(parts[0]), parts[1], campaign, itoa(v.Trucks), itoa(v.G5), itoa(v.G6), itoa(v.Trucks - v.G5 - v.G6),
			itoa(v.Removed), rateText(v.Removed, v.G6), itoa(v.GasG6), itoa(v.GasRemoved), rateText(v.GasRemoved, v.GasG6)})
		total.Add(v)
	}
	t.TotalCells = map[int]string{8: rateText(total.Removed, total.G6), 11: rateText(total.GasRemoved, total.GasG6)}
	return t
}

// vehicleStatsSheet is vehicleStatsTable as an export's sheet, under
// title.
func (c *Console) vehicleStatsSheet(title string, stats []server.VehicleStat) xlsxSheet {
	return sheetOf(c.vehicleStatsTable("路检路查统计", stats), title)
}

// sheetOf is table t as an export's sheet titled title: its rows typed
// (counts and percents as numbers), with its totals.
func sheetOf(t reportTable, title string) xlsxSheet {
	s := xlsxSheet{Name: t.Title, Title: title, Header: t.Header}
	for _, r := range t.Rows {
		s.Rows = append(s.Rows, typedRow(t, r))
	}
	s.Totals = sumTotals(t, s.Rows)
	return s
}

// findingsHeader are the columns of an export's findings (findingCells).
var findingsHeader = []string{"检查时间", "区县", "点位", "检查表", "检查项", "问题描述", "严重程度", "整改时限", "逾期天数", "整改状态",
	"整改完成日期", "超过时限天数", "整改报告送达日期", "整改说明", "整改报告人", "巡查员", "检查状态", "检查记录编号"}

// findingCells is finding f of inspection insp as an export's row, on day
// today; items name the checklist tmpl's items, people the users
// (peopleNames).
func (c *Console) findingCells(ec echo.Context, insp, f *server.StoredRecord, tmpl *seeds.Template, items, people map[string]string, today time.Time) []any {
	item := itemLabel(items, f.Text("item_key"))
	status := findingStatusNames[f.Text("status")]
	if status == "" {
		status = "待整改"
	}
	r := c.rectificationOf(ec, f, people)
	reporter := cmp.Or(people[r.By], r.By)
	return []any{visitStarted(insp), c.countyName(insp.County), c.siteName(ec, insp.Text("site_id")), tmpl.Title, item,
		f.Text("description"), severityNames[f.Text("severity")], f.Text("deadline"), overdueCell(overdueBy(f, today)),
		status, r.Day, overdueCell(r.Late), r.Received, f.Text("rectification_note"), reporter, people[f.CreatedBy], statusNames[insp.Text("status")], insp.ID}
}

// rectifiedBy is the user who reported finding f rectified ("" for a
// finding not rectified, or a device no longer known), its devices read
// once a request (server.RectifiedBy).
func (c *Console) rectifiedBy(ec echo.Context, f *server.StoredRecord) string {
	users, _ := ec.Get(reportersKey).(map[string]string)
	if users == nil {
		users = map[string]string{}
		ec.Set(reportersKey, users)
	}
	by, err := server.RectifiedBy(ec.Request().Context(), c.d.Store, f, users)
	if err != nil {
		return ""
	}
	return by
}

// reportersKey keeps a request's devices' users (server.RectifiedBy).
const reportersKey = "fieldsync.reporters"

// findingsTotals is the totals row of an export's findings.
func findingsTotals(n int) []any {
	row := make([]any, len(findingsHeader))
	for i := range row {
		row[i] = ""
	}
	row[0], row[5] = "合计", strconv.Itoa(n)+" 个问题"
	return row
}

// findingsSheet lists the findings of the inspections q selects, newest
// first or, if sort is given, in the queue's order.
func (c *Console) findingsSheet(ec echo.Context, q server.InspectionQuery, sort *server.QueueSort) (xlsxSheet, error) {
	s := xlsxSheet{Name: "发现问题", Title: "发现问题", Header: findingsHeader}
	today := c.todayAt()
	ctx := ec.Request().Context()
	people := c.peopleNames(ctx)
	q.Limit, q.Offset = exportLimit, 0
	var insps []*server.StoredRecord
	var total int
	var err error
	if sort == nil {
		insps, total, err = c.d.Store.Inspections(ctx, q) // newest first
	} else {
		var entries []server.QueueEntry
		entries, total, err = c.d.Store.InspectionQueue(ctx, q, *sort)
		for _, e := range entries {
			if e.Record != nil {
				insps = append(insps, e.Record)
			}
		}
	}
	if err != nil {
		return s, err
	}
	s.Title = capped(s.Title, total)
	for _, insp := range insps {
		fs, err := c.d.Store.Find(ctx, syncproto.EntityFinding, "inspection_id", insp.ID)
		if err != nil {
			return s, err
		}
		if len(fs) == 0 {
			continue
		}
		tmpl, err := c.template(ec, insp)
		if err != nil {
			return s, err
		}
		items := itemLabels(tmpl.Items)
		for _, f := range fs {
			if f.State.IsDeleted() {
				continue
			}
			s.Rows = append(s.Rows, c.findingCells(ec, insp, f, tmpl, items, people, today))
		}
	}
	s.Totals = findingsTotals(len(s.Rows))
	return s, nil
}

// findingsListXLSX exports the findings the 问题整改 page's filter selects
// (county, status, the visit's dates, overdue), every page, in its order: the earliest
// deadline first.
func (c *Console) findingsListXLSX(ec echo.Context) error {
	ctx := ec.Request().Context()
	q, err := c.findingQuery(ec)
	if err != nil {
		return err
	}
	q.Limit, q.Offset = exportLimit, 0
	recs, total, err := c.d.Store.Findings(ctx, q)
	if err != nil {
		return err
	}
	s := xlsxSheet{Name: "问题整改", Title: capped("问题整改", total), Header: findingsHeader}
	today := c.todayAt()
	people := c.peopleNames(ctx)
	for _, f := range recs {
		insp, err := c.d.Store.Get(ctx, syncproto.EntityInspection, f.Text("inspection_id"))
		if err != nil {
			return err
		}
		if insp == nil {
			continue
		}
		tmpl, err := c.template(ec, insp)
		if err != nil {
			return err
		}
		items := itemLabels(tmpl.Items)
		s.Rows = append(s.Rows, c.findingCells(ec, insp, f, tmpl, items, people, today))
	}
	s.Totals = findingsTotals(len(s.Rows))
	county := ""
	if q.County != "" {
		county = c.countyName(q.County)
	}
	status := ""
	for _, o := range findingStatusChoices {
		if o.Value == ec.QueryParam("status") && o.Value != "" {
			status = o.Label
		}
	}
	overdue := ""
	if q.OverdueOn != "" {
		overdue = "截至 " + q.OverdueOn
	}
	visited := ""
	if q.From != "" || q.To != "" {
		visited = cmp.Or(q.From, "…") + " 至 " + cmp.Or(q.To, "…")
	}
	s.Filter = caption([2]string{"区县", county}, [2]string{"整改状态", status}, [2]string{"检查日期", visited}, [2]string{"只看逾期", overdue})
	return c.exportXLSX(ec, "问题整改-"+c.now().In(chinaTime).Format("20060102"), []xlsxSheet{s})
}

// overdueCell is a finding's days overdue as an export's cell: a number,
// or empty when it is not overdue.
func overdueCell(n int) any {
	if n == 0 {
		return ""
	}
	return n
}

// inspectionQuery reads the queue's filter from the request (the status
// defaults to 待审核 when absent), for the queue page and its exports. With
// task=<id> it selects a rectification task's evidence, the inspections of
// its checklists in its counties, and returns the task.
func (c *Console) inspectionQuery(ec echo.Context) (server.InspectionQuery, *server.StoredRecord, error) {
	p := principalOf(ec)
	q := server.InspectionQuery{Scope: p.Scope(), County: ec.QueryParam("county"), TemplateID: ec.QueryParam("template"),
		Status: ec.QueryParam("status"), From: ec.QueryParam("from"), To: ec.QueryParam("to"), Flag: ec.QueryParam("flag"),
		Completeness: ec.QueryParam("complete")}
	if _, ok := ec.QueryParams()["status"]; !ok {
		q.Status = "submitted" // the queue opens on what waits for review
	}
	if q.Status != "" && !slices.Contains(server.ReviewStatuses, q.Status) {
		return q, nil, server.Errorf(syncproto.CodeBadRequest, "状态只能是待审核、已退回或已通过")
	}
	if _, _, err := dateRange(q.From, q.To); err != nil {
		return q, nil, err
	}
	if q.Completeness != "" && q.Completeness != server.CompletenessComplete && q.Completeness != server.CompletenessIncomplete {
		return q, nil, server.Errorf(syncproto.CodeBadRequest, "完整性筛选只能是只看缺项（incomplete）或只看完整（complete）")
	}
	if q.Flag != "" && !slices.Contains(FlagNames, q.Flag) {
		return q, nil, server.Errorf(syncproto.CodeBadRequest, "未知的证据标记 %q", q.Flag)
	}
	if err := c.checkCounty(p, q.County, "检查"); err != nil {
		return q, nil, err
	}
	id := ec.QueryParam("task")
	if id == "" {
		return q, nil, nil
	}
	t, err := c.d.Store.Get(ec.Request().Context(), syncproto.EntityTask, id)
	if err != nil {
		return q, nil, err
	}
	if t == nil || t.State.IsDeleted() {
		return q, nil, server.Errorf(syncproto.CodeNotFound, "整改任务 %s 不存在", id)
	}
	if len(server.TaskTemplates(t)) == 0 {
		return q, nil, server.Errorf(syncproto.CodeBadRequest, "整改任务 %s 没有对应的现场检查", t.Text("number"))
	}
	q.TemplateIDs, q.Counties = server.TaskTemplates(t), server.TaskCounties(t)
	return q, t, nil
}

// queueXLSX exports the queue's current filter in its current order:
// every inspection it selects (not only the page shown), with the
// columns the reviewer judges by on the page.
func (c *Console) queueXLSX(ec echo.Context) error {
	q, task, err := c.inspectionQuery(ec)
	if err != nil {
		return err
	}
	sort, err := queueSort(ec)
	if err != nil {
		return err
	}
	q.Limit = exportLimit
	rows, total, err := c.queueEntries(ec, q, sort)
	if err != nil {
		return err
	}
	s := xlsxSheet{Name: "检查记录", Title: capped("审核队列导出", total), Filter: c.inspectionCaption(q, task),
		Header: []string{"检查时间", "区县", "点位", "检查表", "巡查员", "状态", "不合格项", "照片", "带标记照片", "缺项", "检查记录编号"}}
	// The totals add up the counts (month-end probe: only the rows were
	// counted); 缺项 those checked.
	var failed, photos, flagged, missing int
	for _, r := range rows {
		var miss any = "未检查"
		if r.Checked {
			miss = r.Missing
			missing += r.Missing
		}
		failed, photos, flagged = failed+r.Failed, photos+r.Photos, flagged+r.Flags
		s.Rows = append(s.Rows, []any{r.Started, r.County, r.Site, r.Template, r.Inspector, statusNames[r.Status],
			r.Failed, r.Photos, r.Flags, miss, r.ID})
	}
	s.Totals = []any{"合计", strconv.Itoa(len(s.Rows)) + " 条", "", "", "", "", failed, photos, flagged, missing, ""}
	return c.exportXLSX(ec, "审核队列-"+c.now().In(chinaTime).Format("20060102"), []xlsxSheet{s})
}

// findingsXLSX exports the findings of the inspections the queue's
// current filter selects.
func (c *Console) findingsXLSX(ec echo.Context) error {
	q, task, err := c.inspectionQuery(ec)
	if err != nil {
		return err
	}
	sort, err := queueSort(ec)
	if err != nil {
		return err
	}
	s, err := c.findingsSheet(ec, q, &sort)
	if err != nil {
		return err
	}
	s.Filter = c.inspectionCaption(q, task)
	return c.exportXLSX(ec, "发现问题-"+c.now().In(chinaTime).Format("20060102"), []xlsxSheet{s})
}

// vehiclesXLSX exports the roadside records the vehicles page's current
// filter selects.
func (c *Console) vehiclesXLSX(ec echo.Context) error {
	q, err := c.vehicleQuery(ec, exportLimit)
	if err != nil {
		return err
	}
	recs, total, err := c.d.Store.VehicleChecks(ec.Request().Context(), q)
	if err != nil {
		return err
	}
	// Every field the inspector recorded, as the check's page lists them
	// (vehicleFacts), a number as a number with its unit in the heading,
	// and who recorded it.
	s := xlsxSheet{Name: "路检记录", Title: capped("路检路查记录", total), Filter: c.vehicleCaption(ec, q),
		Header: []string{"检查时间", "区县", "检查站", "专项行动", "号牌"}}
	for _, f := range vehicleFacts(&server.StoredRecord{Entity: server.EntityByName(syncproto.EntityVehicleCheck)}) {
		h := f.Label
		if label, ok := strings.CutSuffix(h, "）"); ok && f.Unit != "" {
			h = label + "，" + f.Unit + "）" // 不透光烟度（光吸收系数，m⁻¹）
		} else if f.Unit != "" {
			h += "（" + f.Unit + "）"
		}
		s.Header = append(s.Header, h)
	}
	s.Header = append(s.Header, "巡查员")
	// A list that holds voided checks says of each when, by whom and why
	// (evidence kept, not counted).
	voided := q.Voided != server.NotVoided
	if voided {
		s.Header = append(s.Header, "作废时间", "作废人", "作废原因")
	}
	ctx := ec.Request().Context()
	for _, r := range recs {
		row := []any{localTime(r.Text("checked_at")), c.countyName(r.County), r.Text("checkpoint"), r.Text("campaign"), r.Text("plate")}
		for _, f := range vehicleFacts(r) {
			switch {
			case f.Number != nil:
				row = append(row, f.Number)
			case f.Value == "—":
				row = append(row, "")
			default:
				row = append(row, f.Value)
			}
		}
		row = append(row, c.userName(ctx, r.CreatedBy))
		if voided {
			row = append(row, "", "", "")
			if at := r.Text("voided_at"); at != "" {
				row = append(row[:len(row)-3], localTime(at), c.userName(ctx, r.Text("voided_by")), r.Text("void_reason"))
			}
		}
		s.Rows = append(s.Rows, row)
	}
	s.Totals = make([]any, len(s.Header))
	s.Totals[0], s.Totals[1] = "合计", strconv.Itoa(len(s.Rows))+" 辆"
	for i := 2; i < len(s.Totals); i++ {
		s.Totals[i] = ""
	}
	// The statistics of the period and county chosen, as the page shows
	// them above its list (the other filters narrow the list only): what
	// an office signs for a special action's days, which the monthly
	// report's sheet, a calendar month, cannot give (month-end probe).
	stats, err := c.d.Store.VehicleStats(ctx, server.VehicleQuery{Scope: q.Scope, County: q.County, After: q.After, Before: q.Before})
	if err != nil {
		return err
	}
	title := "路检路查统计"
	if p := period(ec.QueryParam("from"), ec.QueryParam("to")); p != "" {
		title += "（" + p + "）"
	}
	st := c.vehicleStatsSheet(title, stats)
	if q.County != "" {
		st.Filter = c.countyName(q.County)
	}
	return c.exportXLSX(ec, "路检记录-"+c.now().In(chinaTime).Format("20060102"), []xlsxSheet{s, st})
}

// exportQuery is the page's query without its page number, for the
// export links that carry the page's filter (re-encoded, so safe in an
// href).
func exportQuery(ec echo.Context) template.URL {
	q := ec.Request().URL.Query()
	q.Del("page")
	return template.URL(q.Encode())
}
