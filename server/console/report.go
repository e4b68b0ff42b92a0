package console

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// reMonth is a month a page or export takes (YYYY-MM): from 2000 on, as
// every record is (0000-01 is a typing slip, not a month to report).
var reMonth = regexp.MustCompile(`^[2-9][0-9]{3}-(0[1-9]|1[0-2])$`)

// badMonth is the answer to a month parameter reMonth refuses, shown
// with an example (this month): a month written otherwise, or one before
// the year 2000.
func badMonth(param string, now time.Time) error {
	example := now.In(chinaTime).Format("2006-01")
	if m, err := time.Parse("2006-01", param); err == nil && m.Year() < 2000 {
		return server.Errorf(syncproto.CodeInvalidValue, "月份 %s 太早：可查 2000 年以来的月份，如 %s", param, example)
	}
	return server.Errorf(syncproto.CodeInvalidValue, "月份 %q 无法识别：请写作年-月，如 %s", param, example)
}

// reportTable is one table of the monthly report, the same on the page,
// in the CSV and in the XLSX.
type reportTable struct {
	Title string
	// Note, when set, says what the table's figures stand at (the day a
	// past month's progress is shown at); it follows the title.
	Note   string
	Header []string
	Rows   [][]string
	// Kinds are the columns' types, by position (one missing is text):
	// only a count or a percent column is written as numbers in the XLSX
	// and summed (counts) in its totals; free text that looks like a
	// number (a note "007", "50%") stays as typed.
	Kinds []cellKind
	// TotalCells are totals that are no sums, by column (the summary's
	// mean progress over every county's tasks), as text like the rows'.
	TotalCells map[int]string
}

// cellKind is the type of a report column's cells.
type cellKind int

const (
	kindText  cellKind = iota
	kindCount          // a whole number, or "—" where it does not apply
	// kindShared is a whole number (or "—") that rows share: the same
	// inspection counts under every task whose checklists it has, so a
	// column of them is not summed.
	kindShared
	kindPercent // "12.5%"
)

// heading is the table's title with its note, "整改任务进展（状态、进度和逾期截至
// 2026-11-30）".
func (t reportTable) heading() string {
	if t.Note == "" {
		return t.Title
	}
	return t.Title + "（" + t.Note + "）"
}

// kind is the type of column col.
func (t reportTable) kind(col int) cellKind {
	if col < len(t.Kinds) {
		return t.Kinds[col]
	}
	return kindText
}

// reportParams say what a monthly report covers: a month, and optionally
// one county and one responsible unit (which narrows the table by task).
type reportParams struct {
	Month, County, Unit string
	// AsOf is the day (YYYY-MM-DD, China time) whose end the tasks'
	// progress is shown at: the month's last day for a month that has
	// ended, else today.
	AsOf string
}

// query is the report's address parameters, for its downloads.
func (rp reportParams) query() string {
	q := nonEmpty(map[string]string{"county": rp.County, "unit": rp.Unit})
	q.Set("month", rp.Month)
	return q.Encode()
}

// findingsList is the address of the 问题整改 page listing the findings
// the report counts: those of the visits of its month (in its county, if
// one), as they are now. The list was in the XLSX only (city probe).
func (rp reportParams) findingsList() string {
	q := nonEmpty(map[string]string{"county": rp.County})
	if first, err := time.Parse("2006-01", rp.Month); err == nil {
		q.Set("from", first.Format(time.DateOnly))
		q.Set("to", first.AddDate(0, 1, -1).Format(time.DateOnly))
	}
	return "/console/findings?" + q.Encode()
}

// unitFilter is the responsible unit a report narrows its task table to.
// A county's own unit (繁峙县党委、政府) is that county's: the tasks that
// name it under either spelling of its party committee (繁峙县委、政府
// too) or name every county's (各县（市、区）党委、政府), and of those
// only that county's rows — what the county owes. Any other unit (市生态环境局)
// is its tasks, every county's rows.
type unitFilter struct {
	name string
	// county and countyName: the county whose own unit it is; suffix:
	// the unit after the county's name, its party committee's 党 dropped.
	county, countyName, suffix string
}

// everyCounty begins the plan's name of a unit of every county.
const everyCounty = "各县（市、区）"

func (c *Console) unitFilterOf(name string) unitFilter {
	f := unitFilter{name: name}
	for _, ct := range c.counties {
		if rest, ok := strings.CutPrefix(name, ct.Name); ok && rest != "" {
			f.county, f.countyName, f.suffix = ct.Code, ct.Name, unitSuffix(rest)
		}
	}
	return f
}

// unitSuffix is a county's unit after the county's name, in the form two
// spellings of one unit share: brackets and the party committee's 党
// dropped (党委、政府 and 委、政府; （党工委、管委会） and 党工委、管委会).
func unitSuffix(rest string) string {
	return strings.TrimPrefix(strings.NewReplacer("（", "", "）", "").Replace(rest), "党")
}

// key is what a unit is known by: a county's own, by its county and
// suffix, whatever the spelling; any other, by its name.
func (f unitFilter) key() string {
	if f.county != "" {
		return f.county + "\x00" + f.suffix
	}
	return f.name
}

// names reports whether a task's responsible unit u is the one f names.
func (f unitFilter) names(u string) bool {
	if u == f.name {
		return true
	}
	if f.county == "" {
		return false
	}
	rest, ok := strings.CutPrefix(u, everyCounty)
	if !ok {
		rest, ok = strings.CutPrefix(u, f.countyName)
	}
	return ok && unitSuffix(rest) == f.suffix
}

// responsibleUnits lists the units the tasks name, in the tasks' order,
// each once under the first spelling the plan gives it (繁峙县党委、政府,
// not also 繁峙县委、政府).
func (c *Console) responsibleUnits(tasks []*server.StoredRecord) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tasks {
		units, _ := taskFacts(t)
		for _, u := range units {
			if k := c.unitFilterOf(u).key(); !seen[k] {
				seen[k] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// tasksOf are the tasks falling on the counties p's reports cover (the
// units a report filter offers p are theirs).
func (c *Console) tasksOf(p *server.Principal, tasks []*server.StoredRecord) []*server.StoredRecord {
	counties := c.reportCounties(p, tasks)
	var out []*server.StoredRecord
	for _, t := range tasks {
		if slices.ContainsFunc(server.ProgressCounties(t), func(county string) bool { return slices.Contains(counties, county) }) {
			out = append(out, t)
		}
	}
	return out
}

// reportCounties are the counties a viewer's reports cover: those in its
// scope and, for the city, the city itself (市本级) when some task names
// no county.
func (c *Console) reportCounties(p *server.Principal, tasks []*server.StoredRecord) []string {
	scope := p.Scope()
	var counties []string
	for _, ct := range c.counties {
		if scope.All || slices.Contains(p.Counties, ct.Code) {
			counties = append(counties, ct.Code)
		}
	}
	if scope.All && slices.ContainsFunc(tasks, func(t *server.StoredRecord) bool { return len(server.TaskCounties(t)) == 0 }) {
		counties = append(counties, server.CityCounty)
	}
	return counties
}

// monthReport gathers the report's tables for the request's month, county
// and responsible unit, within the user's scope. The state of each
// county's tasks is its own progress rows.
func (c *Console) monthReport(ec echo.Context) (reportParams, []reportTable, error) {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	unit, err := typedParam(ec, "unit")
	if err != nil {
		return reportParams{}, nil, err
	}
	rp := reportParams{Month: ec.QueryParam("month"), County: ec.QueryParam("county"), Unit: unit}
	now := c.now().In(chinaTime)
	month, start, err := requestedMonth(rp.Month, now, "报表")
	if err != nil {
		return rp, nil, err
	}
	rp.Month = month
	tasks, err := c.d.Store.Tasks(ctx)
	if err != nil {
		return rp, nil, err
	}
	progress, err := c.d.Store.TaskProgress(ctx, p.Scope())
	if err != nil {
		return rp, nil, err
	}
	rp.AsOf = now.Format(time.DateOnly)
	if end := start.AddDate(0, 1, 0); !end.After(now) {
		// A month that has ended: its progress as it stood at its end.
		rp.AsOf = end.AddDate(0, 0, -1).Format(time.DateOnly)
		if progress, err = server.ProgressAsOf(ctx, c.d.Store, progress, end.Add(-time.Nanosecond)); err != nil {
			return rp, nil, err
		}
	}
	ix := server.IndexProgress(progress)
	counties := c.reportCounties(p, tasks)
	if county := rp.County; county != "" {
		if err := c.checkCounty(p, county, "报表"); err != nil {
			return rp, nil, err
		}
		if !slices.Contains(counties, county) {
			return rp, nil, server.Errorf(syncproto.CodeOutOfScope, "无权查看其他区县的报表")
		}
		counties = []string{county}
	}
	reports, err := server.LoadMonthlyReport(ctx, c.d.Store, month, counties)
	if err != nil {
		return rp, nil, err
	}
	itoa := strconv.Itoa
	// The month's inspections are fixed by when they were made; their
	// review status is the one they have now, which a closed month's
	// report says, as a download made later differs.
	sumNote := "审核状态和整改任务各列截至 " + rp.AsOf
	if today := now.Format(time.DateOnly); today != rp.AsOf {
		sumNote = "整改任务各列截至 " + rp.AsOf + "；待审核、已退回、已通过为生成报表时（" + today + "）的审核状态"
	}
	if rp.Unit != "" {
		sumNote += "，计入本区县全部整改任务（责任单位筛选只作用于“整改任务进展”）"
	}
	late, err := c.sentLate(ec, month, start.AddDate(0, 1, 0), counties)
	if err != nil {
		return rp, nil, err
	}
	sumNote += late
	sum := reportTable{Title: "检查与整改汇总", Note: sumNote, Header: []string{"区县", "检查总数", "待审核", "已退回", "已通过", "发现问题",
		"照片", "有疑点照片", "整改任务", "未开始", "推进中", "已完成", "已验收", "平均进度"},
		Kinds: []cellKind{kindText, kindCount, kindCount, kindCount, kindCount, kindCount, kindCount, kindCount, kindCount,
			kindCount, kindCount, kindCount, kindCount, kindPercent}}
	byTmpl := reportTable{Title: "按检查表统计", Header: []string{"区县", "检查表", "检查数"}, Kinds: []cellKind{kindText, kindText, kindCount}}
	// The counties' mean progress over all their tasks: each county's
	// mean weighed by its tasks.
	allTasks, pctSum := 0, 0.0
	for _, r := range reports {
		ct := server.CountyTasksOf(r.County, tasks, ix)
		allTasks, pctSum = allTasks+ct.Tasks, pctSum+ct.MeanPct*float64(ct.Tasks)
		sum.Rows = append(sum.Rows, []string{c.countyName(r.County), itoa(r.Inspections()), itoa(r.Submitted), itoa(r.Returned),
			itoa(r.Approved), itoa(r.Findings), itoa(r.Photos), itoa(r.FlaggedPhotos), itoa(ct.Tasks),
			itoa(ct.Counts[syncproto.TaskNotStarted]), itoa(ct.Counts[syncproto.TaskInProgress]), itoa(ct.Counts[syncproto.TaskDone]),
			itoa(ct.Counts[syncproto.TaskAccepted]), pctText(ct.MeanPct, ct.Tasks)})
		// Inspections naming a checklist the catalogue does not have (a
		// phone's mistake, or a made-up id) are one row, not a row each
		// under whatever name they were sent with.
		ids := make([]string, 0, len(r.ByTemplate))
		unknown := 0
		for id, n := range r.ByTemplate {
			if t := c.set.LatestTemplate(id); t != nil && t.Title != "" {
				ids = append(ids, id)
			} else {
				unknown += n
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			byTmpl.Rows = append(byTmpl.Rows, []string{c.countyName(r.County), c.set.LatestTemplate(id).Title, itoa(r.ByTemplate[id])})
		}
		if unknown > 0 {
			byTmpl.Rows = append(byTmpl.Rows, []string{c.countyName(r.County), unknownTemplate, itoa(unknown)})
		}
	}
	if allTasks > 0 {
		sum.TotalCells = map[int]string{len(sum.Header) - 1: pctText(pctSum/float64(allTasks), allTasks)}
	}
	failures, err := c.d.Store.MonthItemFailures(ctx, month, counties)
	if err != nil {
		return rp, nil, err
	}
	vehicles, err := c.monthVehicleStats(ec, month, counties, server.VehicleQuery{})
	if err != nil {
		return rp, nil, err
	}
	byTask, err := c.taskTable(ec, rp, counties, tasks, ix, vehicles)
	if err != nil {
		return rp, nil, err
	}
	// The month's roadside statistics, on the page and in the CSV as in
	// the XLSX: the removal rates the plan tracks were only in the
	// workbook, not on the page an office prints and signs (city probe).
	roadside := c.vehicleStatsTable("路检路查统计", vehicles)
	return rp, []reportTable{sum, byTmpl, c.failedItemTable(reports, failures), byTask, roadside}, nil
}

// sentLate says, for a month that has ended (end, the next month's start,
// is past), how many of its inspections and roadside checks reached the
// server after it ended, and how many of its roadside checks received in
// time were changed or voided after it ("" when none, or the month has
// not ended): they count in the report as they are now, so a report of
// the month made again later differs from one sent before them, and says
// why (month-end probe: a removal recorded in December changed
// November's sealed removal rate without a word).
func (c *Console) sentLate(ec echo.Context, month string, end time.Time, counties []string) (string, error) {
	if end.After(c.now()) {
		return "", nil
	}
	tallies, err := c.d.Store.InspectionTally(ec.Request().Context(), server.InspectionQuery{Scope: principalOf(ec).Scope(),
		Counties: counties, From: month + "-01", To: month + "-31", ReceivedAfter: end})
	if err != nil {
		return "", err
	}
	inspections := 0
	for _, t := range tallies {
		inspections += t.N
	}
	trucks, err := c.monthVehicleStats(ec, month, counties, server.VehicleQuery{ReceivedAfter: end})
	if err != nil {
		return "", err
	}
	// Checks received in time and changed since (corrected, voided):
	// the figures they count in differ from a report made before.
	changed, err := c.monthVehicleStats(ec, month, counties, server.VehicleQuery{ChangedAfter: end, Voided: server.AnyVoided})
	if err != nil {
		return "", err
	}
	note := ""
	if inspections+len(trucks) > 0 {
		note = fmt.Sprintf("；本月有 %d 次检查、%d 辆路检车辆的记录在月末之后才送达服务器（补报），已计入本表，此前生成的本月报表不含这些记录", inspections, len(trucks))
	}
	if len(changed) > 0 {
		note += fmt.Sprintf("；本月有 %d 辆路检车辆的记录在月末之后被修改或作废，路检统计按修改后计，与此前生成的本月报表可能不同", len(changed))
	}
	return note, nil
}

// failedItemTable is the report's count of failed checklist items: for
// each county, checklist and item (in the checklist's order), the month's
// submitted inspections whose answer fails it (failed_items: 六个百分百
// item by item, say), and their share of that county's inspections with
// that checklist. Drafts do not count, as in the other tables.
func (c *Console) failedItemTable(reports []server.MonthReport, failures []server.ItemTally) reportTable {
	t := reportTable{Title: "不合格检查项统计", Note: "已提交的检查中答案判为不合格的检查项；占比为该检查项不合格的检查数占本区县用含该检查项的检查表版本所做的检查数",
		Header: []string{"区县", "检查表", "检查项", "不合格检查数", "占比"},
		Kinds:  []cellKind{kindText, kindText, kindText, kindShared, kindPercent}}
	type key struct{ county, template, item string }
	n := map[key]int{}
	for _, f := range failures {
		if server.Reviewable(f.Status) {
			n[key{f.County, f.TemplateID, f.Item}] += f.Inspections
		}
	}
	for _, r := range reports {
		ids := make([]string, 0, len(r.ByTemplate))
		for id := range r.ByTemplate {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			title, items := unknownTemplate, c.set.ItemsEver(id)
			if tp := c.set.LatestTemplate(id); tp != nil && tp.Title != "" {
				title = tp.Title
			}
			var keys, labels []string
			for _, it := range items {
				keys, labels = append(keys, it.Key), append(labels, it.Label)
			}
			// Keys no version has (an unknown checklist's) follow, by name.
			var other []string
			for k := range n {
				if k.county == r.County && k.template == id && !slices.Contains(keys, k.item) {
					other = append(other, k.item)
				}
			}
			sort.Strings(other)
			keys, labels = append(keys, other...), append(labels, other...)
			for i, item := range keys {
				if failed := n[key{r.County, id, item}]; failed > 0 {
					of := c.askedItem(r, id, item)
					t.Rows = append(t.Rows, []string{c.countyName(r.County), title, labels[i], strconv.Itoa(failed),
						pctText(100*float64(failed)/float64(of), of)})
				}
			}
		}
	}
	return t
}

// askedItem is the number of r's inspections whose checklist version
// asks item of checklist id: the share's denominator, so that an item a
// new version adds is not understated while phones move to it, nor one
// an old version had by the inspections that no longer ask it. A key no
// version in the catalogue has counts against every inspection of the
// checklist.
func (c *Console) askedItem(r server.MonthReport, id, item string) int {
	n := 0
	for v, insp := range r.ByVersion[id] {
		if t := c.set.Template(id, v); t != nil && t.ItemIndex(item) >= 0 {
			n += insp
		}
	}
	if n == 0 {
		return r.ByTemplate[id]
	}
	return n
}

// signOff is the report's last table: where the plan's 信息报送 wants it
// signed — 经主要领导审核并加盖公章 — with who made the file and when;
// the office fills in the blanks on paper.
func (c *Console) signOff(ec echo.Context) reportTable {
	return reportTable{Title: "报送审核", Header: []string{"项目", "内容"}, Rows: [][]string{
		{"报送单位（加盖公章）", ""},
		{"审核人（主要领导签字）", ""},
		{"填报人", principalOf(ec).Name},
		{"生成时间", c.now().In(chinaTime).Format("2006-01-02 15:04")},
		{"报送日期", ""},
	}}
}

// unknownTemplate is the report's row of inspections whose checklist is
// not in the catalogue.
const unknownTemplate = "未知检查表（不在检查表目录中）"

// taskTable is the report's table by rectification task and county: for
// each task falling on these counties (and, if rp names a unit, naming
// that unit), each of these counties' own progress — status, percentage,
// whether overdue, note — and its evidence made in the month (as the
// ledger counts it, for one month and that county): inspections with its
// checklists, and for a roadside task the trucks checked (vehicles, the
// month's checks).
func (c *Console) taskTable(ec echo.Context, rp reportParams, counties []string, tasks []*server.StoredRecord, ix server.ProgressIndex,
	vehicles []server.VehicleStat) (reportTable, error) {
	month := rp.Month
	t := reportTable{Title: "整改任务进展", Note: "状态、进度和逾期截至 " + rp.AsOf, Header: []string{"序号", "区县", "责任单位", "责任领导", "责任人", "验收单位", "整改时限", "状态", "进度", "逾期",
		"进展说明", "本月现场检查", "其中已通过", "本月路检车辆", "最近填报"},
		Kinds: []cellKind{kindText, kindText, kindText, kindText, kindText, kindText, kindText, kindText, kindPercent, kindText, kindText, kindShared, kindShared, kindShared, kindText}}
	unit := c.unitFilterOf(rp.Unit)
	if rp.Unit != "" && !slices.ContainsFunc(tasks, func(task *server.StoredRecord) bool {
		units, _ := taskFacts(task)
		return slices.ContainsFunc(units, unit.names)
	}) {
		return t, server.Errorf(syncproto.CodeInvalidValue, "没有责任单位“%s”的整改任务", rp.Unit)
	}
	if rp.Unit != "" {
		// The only table the unit narrows says so wherever it goes.
		label := rp.Unit
		if unit.county != "" {
			label += "（含责任单位为" + everyCounty + "的任务，只列" + unit.countyName + "）"
		}
		t.Note = "责任单位：" + label + "；" + t.Note
	}
	tallies, err := c.d.Store.InspectionTally(ec.Request().Context(), server.InspectionQuery{Scope: principalOf(ec).Scope(),
		Counties: counties, From: month + "-01", To: month + "-31"})
	if err != nil {
		return t, err
	}
	for _, task := range tasks {
		units, deadline := taskFacts(task)
		if rp.Unit != "" && !slices.ContainsFunc(units, unit.names) {
			continue
		}
		for _, county := range server.ProgressCounties(task) {
			if !slices.Contains(counties, county) || unit.county != "" && county != unit.county {
				continue
			}
			tp := ix.Get(task.ID, county)
			pct, overdue := "", ""
			if n, ok := tp.ShownPct(); ok {
				pct = strconv.Itoa(n) + "%"
			}
			if tp.Overdue(task, rp.AsOf) {
				overdue = "是"
			}
			inspections, approved, trucks := "—", "—", "—"
			if templates := server.TaskTemplates(task); len(templates) > 0 {
				e := server.CountyEvidence(task, county, tallies, vehicles)
				inspections, approved = strconv.Itoa(e.Inspections()), strconv.Itoa(e.Approved)
				if slices.Contains(templates, server.RoadsideTemplate) {
					trucks = strconv.Itoa(e.VehicleChecks)
				}
			}
			// Who reported last, and when, by the report's day: a row never
			// reported reads 尚未填报, not 未开始 alone (city probe).
			reported := "尚未填报"
			if !tp.ReportedAt.IsZero() {
				reported = strings.TrimSpace(tp.ReportedByName + " " + tp.ReportedAt.In(chinaTime).Format("2006-01-02 15:04"))
			}
			t.Rows = append(t.Rows, []string{task.Text("number"), c.countyName(county), strings.Join(units, "、"), tp.Leader, tp.Person,
				task.Text("acceptance_unit"), deadline, server.TaskStatusLabel(tp.Status), pct, overdue, tp.Note, inspections, approved, trucks, reported})
		}
	}
	return t, nil
}

// report shows the monthly report (信息报送).
func (c *Console) report(ec echo.Context) error {
	rp, tables, err := c.monthReport(ec)
	if err != nil {
		return err
	}
	tasks, err := c.d.Store.Tasks(ec.Request().Context())
	if err != nil {
		return err
	}
	seal, why, err := c.monthSeal(ec, rp.Month)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "report.html", map[string]any{"Month": rp.Month, "County": rp.County, "Unit": rp.Unit,
		"Tables": tables, "Counties": c.countyOptions(principalOf(ec), rp.County), "Units": c.responsibleUnits(c.tasksOf(principalOf(ec), tasks)),
		"Seal": sealTable(seal, why), "Sealed": seal != nil, "Audit": c.auditLinks(ec, rp), "SignOff": c.signOff(ec),
		// Built here from encoded values: as a template value the query
		// would be escaped as one parameter.
		"XLSX": template.URL("/console/report.xlsx?" + rp.query()), "CSV": template.URL("/console/report.csv?" + rp.query()),
		"FindingsList": template.URL(rp.findingsList())})
}

// attachment makes the answer a download named name: filename* carries
// the name (UTF-8, RFC 6266); the plain filename, for clients that read
// only it, an ASCII fallback (asciiName).
func attachment(ec echo.Context, name string) {
	ec.Response().Header().Set("Content-Disposition", `attachment; filename="`+asciiName(name)+`"; filename*=UTF-8''`+url.PathEscape(name))
	// A county's records, as the pages are: kept by no cache.
	ec.Response().Header().Set("Cache-Control", "no-store")
}

// reportFilter captions the county a report is narrowed to ("" for all
// of the viewer's).
func (c *Console) reportFilter(rp reportParams) string {
	county := ""
	if rp.County != "" {
		county = c.countyName(rp.County)
	}
	return caption([2]string{"区县", county})
}

// reportCSV downloads the report as CSV, UTF-8 with a BOM so that Excel
// reads the Chinese; the tables follow one another, a blank line apart.
func (c *Console) reportCSV(ec echo.Context) error {
	rp, tables, err := c.monthReport(ec)
	if err != nil {
		return err
	}
	month := rp.Month
	seal, why, err := c.monthSeal(ec, month)
	if err != nil {
		return err
	}
	st := sealTable(seal, why)
	tables = append(tables, st, c.signOff(ec))
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	// What the file is, as the XLSX's sheet titles say it: a CSV saved or
	// sent on is read without the address it came from.
	// The unit and the day it was made, as every XLSX title row says.
	_ = w.Write(csvCells([]string{c.exportUnit(principalOf(ec)) + " " + withFilter("信息报送（"+month+"）", c.reportFilter(rp)) +
		"　制表日期：" + c.today()}))
	for _, t := range tables {
		_ = w.Write([]string{})
		_ = w.Write(csvCells([]string{t.heading()}))
		_ = w.Write(csvCells(t.Header))
		for _, row := range t.Rows {
			_ = w.Write(csvCells(row))
		}
		if t.Title != st.Title && t.Title != "报送审核" {
			if tot := t.Totals(); tot != nil {
				_ = w.Write(csvCells(tot))
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	attachment(ec, "信息报送-"+month+".csv")
	return ec.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula: = + - @, their full-width forms (which Chinese and
// Japanese Excel read as the ASCII ones), a tab or a carriage return.
const formulaStarts = "=+-@＝＋－＠\t\r"

// csvCells returns row, its direction controls shown (unbidi), with every cell that a spreadsheet would take for
// a formula (one beginning with one of formulaStarts, and not a number) quoted with a leading apostrophe, which spreadsheets show
// as text: a county's note "=HYPERLINK(…)" must reach the city's report
// as the words it is, not run on the machine that opens it (OWASP's "CSV
// injection").
func csvCells(row []string) []string {
	out := make([]string, len(row))
	for i, cell := range row {
		cell = unbidiText(cell)
		out[i] = cell
		if first, _ := utf8.DecodeRuneInString(cell); cell == "" || !strings.ContainsRune(formulaStarts, first) {
			continue
		}
		if _, err := strconv.ParseFloat(cell, 64); err == nil {
			continue // a negative number is a number
		}
		out[i] = "'" + cell
	}
	return out
}

type deviceRow struct {
	Username, Person, Name, LastPull, LastPush string
	// ID is the device's id, shown whole: the command line revokes by it.
	ID string
	// synced is the device's last sync (pull or push; its sign-in when
	// none), for the "oldest first" order.
	synced                   time.Time
	Pending                  int
	Revoked, Stale, Disabled bool
	// Never: the device has neither pulled nor pushed since it signed in.
	Never bool
	// Refused says when and why its last push was refused whole, when
	// none has been applied since (Device.PushesRefused); "" otherwise.
	Refused string
	// Rejected counts the records its last push had refused one by one
	// (out_of_scope after a county was taken away, say), and Codes says
	// why: they wait on the phone, in its failed list, for a person.
	Rejected int
	Codes    string
	// PullsBehind: it pushes, but has not pulled for StaleAfter.
	PullsBehind bool
}

// devices shows each device's sync health in the user's scope.
func (c *Console) devices(ec echo.Context) error {
	p := principalOf(ec)
	devs, err := c.d.Store.Devices(ec.Request().Context(), p.Scope())
	if err != nil {
		return err
	}
	now := c.now()
	fmtT := func(t *time.Time) string {
		if t == nil {
			return "从未"
		}
		return t.In(chinaTime).Format("2006-01-02 15:04")
	}
	// The devices' last pushes, in one read: their records refused one
	// by one.
	ids := make([]string, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	pushes, err := c.d.Store.LastPushes(ec.Request().Context(), ids)
	if err != nil {
		return err
	}
	rows := make([]deviceRow, 0, len(devs))
	stale, refused := 0, 0
	for _, d := range devs {
		r := deviceRow{Username: d.Username, Person: d.UserName, Name: d.Name, ID: d.ID, synced: lastSync(d),
			LastPull: fmtT(d.Health.LastPullAt), LastPush: fmtT(d.Health.LastPushAt),
			Pending: d.Health.PendingUploads, Revoked: d.RevokedAt != nil, Disabled: d.UserDisabled,
			Never: d.Health.LastPullAt == nil && d.Health.LastPushAt == nil, Stale: d.Stale(now), PullsBehind: d.PullsBehind(now)}
		if rp := d.PushesRefused(); rp != nil {
			r.Refused = fmtT(&rp.At) + "：" + rp.Message + "（错误代码 " + rp.Code + "）"
			refused++
		} else if b := pushes[d.ID]; b != nil {
			var codes []string
			if r.Rejected, codes, err = b.Rejected(); err != nil {
				return err
			}
			r.Codes = strings.Join(codes, "、")
		}
		if r.Stale {
			stale++
		}
		rows = append(rows, r)
	}
	// The administrator's filters: a name, user or device (its id too),
	// the devices that need someone, the longest silent first.
	q, err := typedParam(ec, "q")
	if err != nil {
		return err
	}
	attention, err := flagParam(ec, "attention")
	if err != nil {
		return err
	}
	total := len(rows)
	rows = slices.DeleteFunc(rows, func(r deviceRow) bool {
		if attention && !r.needsAttention() {
			return true
		}
		// Letters and digits in either width, as the header's search
		// (ｉnspector2 found nothing here: verification probe).
		return q != "" && !slices.ContainsFunc([]string{r.Person, r.Username, r.Name, r.ID}, func(v string) bool {
			return strings.Contains(strings.ToLower(server.NarrowASCII(v)), strings.ToLower(server.NarrowASCII(q)))
		})
	})
	oldest := ec.QueryParam("sort") == "oldest"
	if oldest {
		slices.SortStableFunc(rows, func(a, b deviceRow) int { return a.synced.Compare(b.synced) })
	}
	return c.render(ec, http.StatusOK, "devices.html", map[string]any{"Rows": rows, "Stale": stale, "Refused": refused,
		"Q": q, "Attention": attention, "Oldest": oldest, "Total": total, "Filtered": q != "" || attention || oldest})
}

// needsAttention: a device someone should look at — silent for days,
// behind on downloads, its last push refused whole or in part, photos
// still to upload — and that could still sync.
func (r deviceRow) needsAttention() bool {
	if r.Revoked || r.Disabled {
		return false
	}
	return r.Stale || r.PullsBehind || r.Refused != "" || r.Rejected > 0 || r.Pending > 0
}

// lastSync is when the device last synced (pulled or pushed), else when
// it signed in.
func lastSync(d *server.Device) time.Time {
	last := d.CreatedAt
	for _, t := range []*time.Time{d.Health.LastPullAt, d.Health.LastPushAt} {
		if t != nil && t.After(last) {
			last = *t
		}
	}
	return last
}

// asciiName is a file name in printable ASCII for a header's quoted
// string: each run of other characters (Chinese, quotes, backslashes) is
// one "_", and one leading "_" or "-" so left is dropped:
// "信息报送-2026-12.csv" is "2026-12.csv".
func asciiName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			if !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			continue
		}
		b.WriteRune(r)
	}
	out := strings.TrimLeft(b.String(), "_-")
	if out == "" || strings.HasPrefix(out, ".") {
		out = "export" + out
	}
	return out
}

// requestedMonth reads a month parameter (YYYY-MM; empty: this month)
// and returns it with its first moment in China's time. A month not begun
// is refused, saying this month (what gives the figures of a month that
// has none yet?). what names the page ("报表", "概览").
func requestedMonth(param string, now time.Time, what string) (string, time.Time, error) {
	if param == "" {
		param = now.Format("2006-01")
	}
	if !reMonth.MatchString(param) {
		return param, time.Time{}, badMonth(param, now)
	}
	start, _ := time.ParseInLocation("2006-01", param, chinaTime)
	if start.After(now) {
		// Not begun: its figures would be today's, or none.
		return param, start, server.Errorf(syncproto.CodeInvalidValue, "%s 还没有开始，没有%s（本月是 %s）", param, what, now.Format("2006-01"))
	}
	return param, start, nil
}
