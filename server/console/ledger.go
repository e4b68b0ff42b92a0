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

var taskStatusNames = map[string]string{"not_started": "未开始", "in_progress": "推进中", "done": "已完成", "accepted": "已验收"}

type vehicleRow struct {
	County, Checkpoint, Campaign string
	Trucks, G6, Removed          int
	Rate                         string
	Link                         string // the records behind the figures
}

func vehicleRowOf(county, checkpoint, campaign string, v server.VehicleStat, filter url.Values) vehicleRow {
	return vehicleRow{County: county, Checkpoint: checkpoint, Campaign: campaign, Trucks: v.Trucks, G6: v.G6, Removed: v.Removed,
		Rate: strconv.FormatFloat(v.Rate(), 'f', 1, 64), Link: "/console/vehicles?" + filter.Encode() + "#records"}
}

// aftertreatmentNames are the after-treatment states as the console shows them.
var aftertreatmentNames = map[string]string{"present": "完好", "removed": "已拆除", "damaged": "损坏", "unknown": "未查明"}

type vehicleRecord struct {
	ID, Checked, County, Checkpoint, Campaign, Plate, Stage, Fuel, After, Action, Note string
	Removed                                                                            bool
}

// vehicles shows the roadside vehicle-check statistics in the user's scope
// — per checkpoint, per special action (专项行动, across its checkpoints)
// and per county — and the records behind them, filtered by county,
// checkpoint, action and removed after-treatment.
func (c *Console) vehicles(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	stats, err := c.d.Store.VehicleStats(ctx, p.Scope())
	if err != nil {
		return err
	}
	var points, campaigns, counties []vehicleRow
	keys, sums := server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.County + "\x00" + v.Checkpoint })
	for _, k := range keys {
		county, cp, _ := strings.Cut(k, "\x00")
		name := cp
		if name == "" {
			name = "（未填检查站）"
		}
		points = append(points, vehicleRowOf(c.countyName(county), name, "", sums[k], url.Values{"county": {county}, "checkpoint": {cp}}))
	}
	keys, sums = server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.Campaign })
	for _, k := range keys {
		// The checkpoints the action spans, for the row's label.
		var where []string
		for _, v := range stats {
			if v.Campaign == k && !slices.Contains(where, v.Checkpoint) {
				where = append(where, v.Checkpoint)
			}
		}
		campaigns = append(campaigns, vehicleRowOf("", strings.Join(where, "、"), k, sums[k], url.Values{"campaign": {k}}))
	}
	keys, sums = server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.County })
	var total server.VehicleStat
	for _, k := range keys {
		counties = append(counties, vehicleRowOf(c.countyName(k), "", "", sums[k], url.Values{"county": {k}}))
		total.Add(sums[k])
	}

	q := server.VehicleQuery{Scope: p.Scope(), County: ec.QueryParam("county"), Checkpoint: ec.QueryParam("checkpoint"),
		Campaign: ec.QueryParam("campaign"), Removed: ec.QueryParam("removed") == "1", Limit: pageSize}
	if q.County != "" && !p.CanSee(q.County) {
		return server.Errorf(syncproto.CodeOutOfScope, "无权查看区县 %s 的路检记录", c.countyName(q.County))
	}
	page := pageParam(ec)
	q.Offset = (page - 1) * pageSize
	recs, n, err := c.d.Store.VehicleChecks(ctx, q)
	if err != nil {
		return err
	}
	records := make([]vehicleRecord, 0, len(recs))
	for _, r := range recs {
		after := r.Text("aftertreatment")
		records = append(records, vehicleRecord{ID: r.ID, Checked: localTime(r.Text("checked_at")), County: c.countyName(r.County),
			Checkpoint: r.Text("checkpoint"), Campaign: r.Text("campaign"), Plate: r.Text("plate"), Stage: r.Text("emission_stage"),
			Fuel: r.Text("fuel"), After: aftertreatmentNames[after], Action: r.Text("action"), Note: r.Text("note"),
			Removed: after == "removed"})
	}
	filters := nonEmpty(map[string]string{"county": q.County, "checkpoint": q.Checkpoint, "campaign": q.Campaign})
	if q.Removed {
		filters.Set("removed", "1")
	}
	data := map[string]any{"Points": points, "Campaigns": campaigns, "Counties": counties,
		"Total": vehicleRowOf("合计", "", "", total, url.Values{}), "Records": records, "Q": q, "N": n,
		"Filtered": len(filters) > 0}
	pageLinks(data, "/console/vehicles", filters, "#records", page, q.Offset+len(recs), n)
	return c.render(ec, http.StatusOK, "vehicles.html", data)
}

type ledgerRow struct {
	ID, Number, Category, Problem, Units, Acceptance, Deadline, Status, StatusName, Progress string
	Pct                                                                                      int
	HasPct, Overdue, MayEdit                                                                 bool
	// Checklists names the checklists whose inspections are the task's
	// evidence ("" when no field check applies); Evidence counts them.
	Checklists string
	Evidence   server.Evidence
	Roadside   bool // the task counts roadside vehicle checks too
}

// abridge shortens s to n runes.
func abridge(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// ledger shows the plan's rectification tasks with their progress;
// overdue tasks (deadline passed, not done or accepted) stand out.
func (c *Console) ledger(ec echo.Context) error {
	p := principalOf(ec)
	ctx := ec.Request().Context()
	tasks, err := c.d.Store.Tasks(ctx)
	if err != nil {
		return err
	}
	// The evidence each task shows is what this office may see.
	tallies, err := c.d.Store.InspectionTally(ctx, server.InspectionQuery{Scope: p.Scope()})
	if err != nil {
		return err
	}
	vehicles, err := c.d.Store.VehicleStats(ctx, p.Scope())
	if err != nil {
		return err
	}
	today := c.now().In(chinaTime).Format(time.DateOnly)
	rows := make([]ledgerRow, 0, len(tasks))
	overdue := 0
	for _, t := range tasks {
		units, status, deadline := taskFacts(t)
		r := ledgerRow{ID: t.ID, Number: t.Text("number"), Category: t.Text("category"), Problem: abridge(t.Text("problem"), 80),
			Units: strings.Join(units, "、"), Acceptance: t.Text("acceptance_unit"), Deadline: deadline,
			Status: status, StatusName: taskStatusNames[status], Progress: t.Text("progress"), MayEdit: server.MayUpdateTask(p, t)}
		if pct, ok := t.Float("progress_pct"); ok {
			r.Pct, r.HasPct = int(pct), true
		}
		if templates := server.TaskTemplates(t); len(templates) > 0 {
			titles := make([]string, len(templates))
			for i, id := range templates {
				titles[i] = c.templateTitle(id)
			}
			r.Checklists = strings.Join(titles, "、")
			r.Evidence = server.TaskEvidence(t, tallies, vehicles)
			r.Roadside = slices.Contains(templates, server.RoadsideTemplate)
		}
		if d := t.Text("deadline"); d != "" && d < today && status != "done" && status != "accepted" {
			r.Overdue = true
			overdue++
		}
		rows = append(rows, r)
	}
	return c.render(ec, http.StatusOK, "ledger.html", map[string]any{"Rows": rows, "Overdue": overdue, "Today": today,
		"Statuses": server.TaskStatuses, "StatusNames": taskStatusNames, "Saved": ec.QueryParam("saved")})
}

// taskFacts returns what the ledger and the report show of a task: its
// responsible units, its status (not_started until an office sets one)
// and its deadline (the date, or the plan's words for ongoing tasks).
func taskFacts(t *server.StoredRecord) (units []string, status, deadline string) {
	_ = json.Unmarshal(t.Value("responsible_units"), &units)
	if status = t.Text("status"); status == "" {
		status = "not_started"
	}
	if deadline = t.Text("deadline"); deadline == "" {
		deadline = t.Text("deadline_text")
	}
	return units, status, deadline
}

// updateTask records an office's progress on a task.
func (c *Console) updateTask(ec echo.Context) error {
	p := principalOf(ec)
	if !mayUse(p.Role) {
		return server.Errorf(syncproto.CodeForbidden, "无权更新整改台账")
	}
	pct := 0
	if s := strings.TrimSpace(ec.FormValue("progress_pct")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return server.Errorf(syncproto.CodeInvalidValue, "进度百分比应为 0 到 100 的整数")
		}
		pct = n
	}
	id := ec.Param("id")
	if err := c.d.Syncer.UpdateTask(ec.Request().Context(), p, id, ec.FormValue("status"), strings.TrimSpace(ec.FormValue("progress")), pct); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, "/console/ledger?saved="+url.QueryEscape(id)+"#task-"+url.QueryEscape(id))
}

func (c *Console) now() time.Time {
	if c.d.Syncer != nil && c.d.Syncer.Now != nil {
		return c.d.Syncer.Now()
	}
	return time.Now()
}
