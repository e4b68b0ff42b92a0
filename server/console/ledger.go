package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// ledgerTask is one task of the ledger with the progress rows the viewer
// sees and their roll-up.
type ledgerTask struct {
	ID, Number, Category, Problem, Units, Acceptance, Deadline string
	Summary                                                    string // the problem's first words; the full text unfolds
	Overdue                                                    bool   // some county the viewer sees is overdue
	Rollup                                                     rollupView
	Rows, Others                                               []progressRow
	// Checklists names the checklists whose inspections are the task's
	// evidence ("" when no field check applies); Evidence counts them.
	Checklists string
	Evidence   server.Evidence
	Roadside   bool // the task counts roadside vehicle checks too
}

// rollupView is a task's roll-up as the ledger writes it.
type rollupView struct {
	Counties       int
	Counts         []statusCount
	Mean, Slowest  string
	Overdue        string // the overdue counties' names
	OverdueCount   int
	SlowestCounty  string // the first slowest county's code, for tests and links
	SlowestPercent int
}

type statusCount struct {
	Status, Name string
	N            int
}

// progressRow is one county's progress on a task.
type progressRow struct {
	Anchor, TaskID, County, CountyName, Status, StatusName, Note string
	TaskNumber                                                   string // the plan's number of the task (4.3), naming the row's controls
	Pct                                                          int
	HasPct, Overdue, MayEdit, Reported                           bool   // HasPct: Pct was reported (the form's value)
	Shown                                                        string // the percentage shown, "" for none (server.TaskProgress.ShownPct)
	shown                                                        int
	Evidence                                                     []string
	Leader, Person                                               string // 责任领导, 责任人
	Reporter, ReportedAt                                         string
	Orig                                                         string   // the row as its form starts from (server.ProgressReport.Base), JSON
	Statuses                                                     []string // the statuses the viewer may set
	Field                                                        server.Evidence
	CSRF                                                         string // the session's token, for the form
	List                                                         string // the list's filter, as a query, for the form to come back to
	// Open shows the form unfolded: a county office's own rows are its
	// work; the city's page lists every county's and folds them.
	Open bool
	// Refused is why the report typed in the form was refused.
	Refused string
	// Saved: the row was just saved (the page opens at it, where it says
	// so).
	Saved bool
	// Typed, when set, is a refused report as typed, which the form shows
	// again; the row's own fields stay what is stored.
	Typed *progressForm
}

// progressForm is what a row's form holds.
type progressForm struct {
	Status, Leader, Person, Note string
	Pct                          int
	HasPct                       bool
	Evidence                     []string
}

// Form is what the row's form shows: the refused report as typed, else
// what is stored.
func (r progressRow) Form() progressForm {
	if r.Typed != nil {
		return *r.Typed
	}
	return progressForm{Status: r.Status, Leader: r.Leader, Person: r.Person, Note: r.Note, Pct: r.Pct, HasPct: r.HasPct, Evidence: r.Evidence}
}

// progressAnchor is the page anchor of a task's row for a county.
func progressAnchor(taskID, county string) string { return "p-" + taskID + "-" + county }

// ledgerFilter narrows the ledger to the county rows with a status, of
// a county, or overdue; "" and false are any.
type ledgerFilter struct {
	Status, County string
	Overdue        bool
	// bad is why the query's filter cannot be read (a flag not 0 or 1),
	// nil when it can: the page refuses it.
	bad error
}

func (f ledgerFilter) on() bool { return f.Status != "" || f.County != "" || f.Overdue }

// query is the filter as the list's query parameters.
func (f ledgerFilter) query() url.Values {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.County != "" {
		q.Set("county", f.County)
	}
	if f.Overdue {
		q.Set("overdue", "1")
	}
	return q
}

// ledgerFilterOf reads a filter from the list's query parameters.
func ledgerFilterOf(q url.Values) ledgerFilter {
	overdue, err := flagValue("overdue", q.Get("overdue"))
	return ledgerFilter{Status: q.Get("status"), County: q.Get("county"), Overdue: overdue, bad: err}
}

// keep reports whether a county's row passes the filter.
func (f ledgerFilter) keep(r progressRow) bool {
	return (f.Status == "" || r.Status == f.Status) && (f.County == "" || r.County == f.County) && (!f.Overdue || r.Overdue)
}

// ledger shows the plan's rectification tasks, each with the progress of
// the counties the viewer sees — a county office its own, the city every
// county's and a roll-up (counts by status, the slowest county, the
// overdue ones) — and the field evidence.
func (c *Console) ledger(ec echo.Context) error {
	return c.ledgerPage(ec, http.StatusOK, ledgerFilterOf(ec.QueryParams()), nil)
}

// ledgerRefill is a progress report the store refused: its row's form is
// shown open with what was typed and why it was refused.
type ledgerRefill struct {
	Task, County string
	Report       server.ProgressReport
	Err          error // the refusal, answered as such when the filter hides the row
}

// ledgerPage is the ledger as filter narrows it, answered with status;
// refill, if not nil, puts a refused report back in its row's form.
func (c *Console) ledgerPage(ec echo.Context, status int, filter ledgerFilter, refill *ledgerRefill) error {
	out, f, today, err := c.ledgerTasks(ec, filter)
	if err != nil {
		return err
	}
	if refill != nil {
		placed := false
		for i := range out {
			for _, rows := range [][]progressRow{out[i].Rows, out[i].Others} {
				for j := range rows {
					if r := &rows[j]; r.TaskID == refill.Task && r.County == refill.County && r.MayEdit {
						rep := refill.Report
						r.Typed = &progressForm{Status: rep.Status, Leader: rep.Leader, Person: rep.Person, Note: rep.Note, HasPct: rep.Pct != nil, Evidence: rep.Evidence}
						if rep.Pct != nil {
							r.Typed.Pct = *rep.Pct
						}
						r.Open, r.Refused, placed = true, server.ErrorMessage(refill.Err), true
					}
				}
			}
		}
		if !placed {
			return refill.Err // the error page keeps what was typed
		}
	}
	overdue := 0
	acceptance := ""
	for i, t := range out {
		if t.Overdue {
			overdue++
		}
		if i == 0 {
			acceptance = t.Acceptance
		} else if t.Acceptance != acceptance {
			acceptance = ""
		}
	}
	// The row just saved may no longer pass the filter: say so.
	saved, savedShown := takeNotice(ec).Get("saved"), false
	for _, t := range out {
		for _, rows := range [][]progressRow{t.Rows, t.Others} {
			for i := range rows {
				rows[i].Saved = saved != "" && server.TaskProgressID(rows[i].TaskID, rows[i].County) == saved
				savedShown = savedShown || rows[i].Saved
			}
		}
	}
	counties := c.countyChoices(principalOf(ec), f.County)
	return c.render(ec, status, "ledger.html", map[string]any{"Tasks": out, "Overdue": overdue, "Today": today,
		"Saved": saved, "SavedHidden": saved != "" && !savedShown, "F": f, "Filtered": f.on(), "Statuses": server.TaskStatuses, "Counties": counties,
		// The acceptance unit, when every task has the same, is said once.
		"Acceptance": acceptance})
}

// ledgerTasks are the ledger's tasks as the request's filter narrows them.
func (c *Console) ledgerTasks(ec echo.Context, f ledgerFilter) ([]ledgerTask, ledgerFilter, string, error) {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	if f.Status != "" && !slices.Contains(server.TaskStatuses, f.Status) {
		return nil, f, "", server.Errorf(syncproto.CodeBadRequest, "未知的整改状态 %q", f.Status)
	}
	if f.bad != nil {
		return nil, f, "", f.bad
	}
	if err := c.checkCounty(p, f.County, "整改进展"); err != nil {
		return nil, f, "", err
	}
	tasks, err := c.d.Store.Tasks(ctx)
	if err != nil {
		return nil, f, "", err
	}
	progress, err := c.d.Store.TaskProgress(ctx, p.Scope())
	if err != nil {
		return nil, f, "", err
	}
	// The evidence each task shows is what this office may see.
	tallies, err := c.d.Store.InspectionTally(ctx, server.InspectionQuery{Scope: p.Scope()})
	if err != nil {
		return nil, f, "", err
	}
	vehicles, err := c.d.Store.VehicleStats(ctx, server.VehicleQuery{Scope: p.Scope()})
	if err != nil {
		return nil, f, "", err
	}
	ix := server.IndexProgress(progress)
	today := c.now().In(chinaTime).Format(time.DateOnly)
	token := ""
	if s := sessionFrom(ec); s != nil {
		token = s.csrf
	}
	list := f.query().Encode()
	out := make([]ledgerTask, 0, len(tasks))
	for _, t := range tasks {
		units, deadline := taskFacts(t)
		l := server.LedgerOf(t, ix, p.CanSee, today)
		lt := ledgerTask{ID: t.ID, Number: t.Text("number"), Category: t.Text("category"), Problem: strings.TrimSpace(t.Text("problem")),
			Units: strings.Join(units, "、"), Acceptance: t.Text("acceptance_unit"), Deadline: deadline,
			Overdue: len(l.Rollup.Overdue) > 0, Rollup: c.rollupView(l.Rollup)}
		lt.Summary = server.Abridge(lt.Problem, 36)
		templates := server.TaskTemplates(t)
		for _, tp := range l.Rows {
			r := c.progressRow(p, t, tp, today, templates, tallies, vehicles)
			r.CSRF, r.List = token, list
			if f.keep(r) {
				lt.Rows = append(lt.Rows, r)
			}
		}
		for _, tp := range l.Others {
			r := c.progressRow(p, t, tp, today, nil, nil, nil)
			r.CSRF, r.List = token, list
			if f.keep(r) {
				lt.Others = append(lt.Others, r)
			}
		}
		if f.on() && len(lt.Rows)+len(lt.Others) == 0 {
			continue
		}
		if len(templates) > 0 {
			titles := make([]string, len(templates))
			for i, id := range templates {
				titles[i] = c.templateTitle(id)
			}
			lt.Checklists = strings.Join(titles, "、")
			lt.Evidence = server.TaskEvidence(t, tallies, vehicles)
			lt.Roadside = slices.Contains(templates, server.RoadsideTemplate)
		}
		out = append(out, lt)
	}
	return out, f, today, nil
}

// ledgerXLSX exports the ledger's current filter: a row for each task and
// county shown.
func (c *Console) ledgerXLSX(ec echo.Context) error {
	tasks, f, _, err := c.ledgerTasks(ec, ledgerFilterOf(ec.QueryParams()))
	if err != nil {
		return err
	}
	s := xlsxSheet{Name: "整改台账", Title: "整改台账", Filter: c.ledgerCaption(f), Header: []string{"序号", "类别", "问题", "责任单位", "验收单位", "整改时限",
		"区县", "责任领导", "责任人", "状态", "进度", "逾期", "进展说明", "佐证材料", "填报人", "填报时间", "现场检查（累计）", "其中已通过", "路检车辆（累计）"}}
	listed := 0 // the tasks with a row here (a county's page also shows those not its own, 不涉及本单位, without one)
	for _, t := range tasks {
		if len(t.Rows)+len(t.Others) > 0 {
			listed++
		}
		for _, r := range append(slices.Clip(t.Rows), t.Others...) {
			var pct any = ""
			if r.Shown != "" {
				pct = wholePercent(float64(r.shown) / 100)
			}
			overdue := ""
			if r.Overdue {
				overdue = "是"
			}
			var insp, approved, trucks any = "—", "—", "—"
			if t.Checklists != "" {
				insp, approved = r.Field.Inspections(), r.Field.Approved
			}
			if t.Roadside {
				trucks = r.Field.VehicleChecks
			}
			// Who reported last, and when: a row never reported says so,
			// not 未开始 alone, which reads as reported (city probe).
			reporter, reported := "尚未填报", ""
			if r.Reported {
				reporter, reported = r.Reporter, r.ReportedAt
			}
			s.Rows = append(s.Rows, []any{t.Number, t.Category, t.Problem, t.Units, t.Acceptance, t.Deadline, r.CountyName,
				r.Leader, r.Person, r.StatusName, pct, overdue, r.Note, strings.Join(r.Evidence, "\n"), reporter, reported, insp, approved, trucks})
		}
	}
	s.Totals = []any{"合计", "", strconv.Itoa(listed) + " 项任务", "", "", "", strconv.Itoa(len(s.Rows)) + " 条进展", "", "", "", "", "", "", "", "", "", "", "", ""}
	return c.exportXLSX(ec, "整改台账-"+c.now().In(chinaTime).Format("20060102"), []xlsxSheet{s})
}

// progressRow shows tp, one county's progress on task t; templates,
// tallies and vehicles give its field evidence (none for rows the task no
// longer names).
func (c *Console) progressRow(p *server.Principal, t *server.StoredRecord, tp server.TaskProgress, today string,
	templates []string, tallies []server.Tally, vehicles []server.VehicleStat) progressRow {
	r := progressRow{Anchor: progressAnchor(t.ID, tp.County), TaskID: t.ID, TaskNumber: t.Text("number"), County: tp.County, CountyName: c.countyName(tp.County),
		Status: tp.Status, StatusName: server.TaskStatusLabel(tp.Status), Note: tp.Note, Pct: tp.Pct, HasPct: tp.HasPct,
		Overdue: tp.Overdue(t, today), Evidence: tp.Evidence, Leader: tp.Leader, Person: tp.Person,
		Reporter: tp.ReportedByName, Reported: !tp.ReportedAt.IsZero()}
	if pct, ok := tp.ShownPct(); ok {
		r.shown, r.Shown = pct, strconv.Itoa(pct)+"%"
	}
	if r.Reported {
		r.ReportedAt = tp.ReportedAt.In(chinaTime).Format("2006-01-02 15:04")
	}
	orig, _ := json.Marshal(server.ProgressReportOf(tp))
	r.Orig = string(orig)
	if templates != nil {
		r.Field = server.CountyEvidence(t, tp.County, tallies, vehicles)
	}
	for _, st := range server.TaskStatuses {
		if server.MayReport(p, t, tp.County, tp, st) == nil {
			r.Statuses = append(r.Statuses, st)
		}
	}
	r.MayEdit = slices.Contains(r.Statuses, tp.Status)
	r.Open = !p.Role.AllCounties()
	return r
}

// rollupView writes a roll-up with county names.
func (c *Console) rollupView(r server.Rollup) rollupView {
	v := rollupView{Counties: r.Counties, Mean: pctText(r.MeanPct, r.Counties), OverdueCount: len(r.Overdue)}
	for _, st := range server.TaskStatuses {
		v.Counts = append(v.Counts, statusCount{Status: st, Name: server.TaskStatusLabel(st), N: r.Counts[st]})
	}
	// The slowest are worth naming unless every county is as slow.
	if len(r.Slowest) > 0 && len(r.Slowest) < r.Counties {
		v.SlowestCounty, v.SlowestPercent = r.Slowest[0], r.SlowestPct
		v.Slowest = c.countyName(r.Slowest[0])
		if n := len(r.Slowest); n > 1 {
			v.Slowest += "等 " + strconv.Itoa(n) + " 个单位"
		}
		v.Slowest += " " + strconv.Itoa(r.SlowestPct) + "%"
	}
	names := make([]string, len(r.Overdue))
	for i, code := range r.Overdue {
		names[i] = c.countyName(code)
	}
	v.Overdue = strings.Join(names, "、")
	return v
}

// taskFacts returns what the ledger and the report show of a task: its
// responsible units and its deadline (the date, or the plan's words for
// ongoing tasks).
func taskFacts(t *server.StoredRecord) (units []string, deadline string) {
	_ = json.Unmarshal(t.Value("responsible_units"), &units)
	if deadline = t.Text("deadline"); deadline == "" {
		deadline = t.Text("deadline_text")
	}
	return units, deadline
}

// evidenceLines splits a form's evidence into its items, one per line.
func evidenceLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// reportProgress records an office's progress on a task in one county.
func (c *Console) reportProgress(ec echo.Context) error {
	rep := server.ProgressReport{Status: ec.FormValue("status"), Note: strings.TrimSpace(ec.FormValue("note")),
		Evidence: evidenceLines(ec.FormValue("evidence")),
		Leader:   strings.TrimSpace(ec.FormValue("responsible_leader")), Person: strings.TrimSpace(ec.FormValue("responsible_person"))}
	if s := strings.TrimSpace(ec.FormValue("progress_pct")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return server.Errorf(syncproto.CodeInvalidValue, "进度百分比应为 0 到 100 的整数")
		}
		rep.Pct = &n
	}
	// The row as the form showed it: a report writes what it changed.
	// A form without it (a hand-made request, a page damaged in transit)
	// starts from a row no row is, so it is refused after the other
	// checks — as such, not as a row changed meanwhile.
	base := server.ProgressReport{Status: "?"}
	noBase := json.Unmarshal([]byte(ec.FormValue("orig")), &base) != nil
	if noBase {
		base = server.ProgressReport{Status: "?"}
	}
	rep.Base = &base
	rep.Shown = unbidiText // as the page showed the row (pages.go)
	task, county := ec.Param("task"), ec.Param("county")
	if err := c.d.Syncer.ReportProgress(ec.Request().Context(), principalOf(ec), task, county, rep); err != nil {
		if noBase && server.ErrorCode(err) == syncproto.CodeConflict {
			return server.Errorf(syncproto.CodeInvalidField, "表单缺少此行原有的内容（orig），请刷新页面后重新提交")
		}
		switch server.ErrorCode(err) {
		case syncproto.CodeInvalidValue, syncproto.CodeInvalidField, syncproto.CodeMissingField, syncproto.CodeForbidden:
			// What was typed goes back in the row's form, open, with
			// why (a row changed meanwhile is the error page's: the
			// form would overwrite what the other office wrote).
			return c.ledgerPage(ec, syncproto.HTTPStatus(server.ErrorCode(err)), postedLedgerFilter(ec),
				&ledgerRefill{Task: task, County: county, Report: rep, Err: err})
		}
		return err
	}
	q := postedLedgerFilter(ec).query()
	// At the confirmation, in the saved row (or above the list when the
	// filter no longer shows it): the browser focuses the fragment's
	// element, which a screen reader then reads out.
	return redirectDone(ec, withQuery("/console/ledger", q)+"#saved", url.Values{"saved": {server.TaskProgressID(task, county)}})
}

// postedLedgerFilter is the filter of the ledger a row's form was posted
// from (its list field), to go back to the list as it was filtered (after
// the save, or from the page refusing it). A filter the form names wrongly
// is dropped: the page would refuse it.
func postedLedgerFilter(ec echo.Context) ledgerFilter {
	list, _ := url.ParseQuery(ec.FormValue("list"))
	f := ledgerFilterOf(list)
	if p := principalOf(ec); f.bad != nil || f.Status != "" && !slices.Contains(server.TaskStatuses, f.Status) || f.County != "" && (p == nil || !p.CanSee(f.County)) {
		return ledgerFilter{}
	}
	return f
}

func (c *Console) now() time.Time {
	if c.d.Syncer != nil && c.d.Syncer.Now != nil {
		return c.d.Syncer.Now()
	}
	return time.Now()
}
