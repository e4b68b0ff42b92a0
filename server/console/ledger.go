package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var taskStatusNames = map[string]string{"not_started": "未开始", "in_progress": "推进中", "done": "已完成", "accepted": "已验收"}

type vehicleRow struct {
	County, Checkpoint  string
	Trucks, G6, Removed int
	Rate                string
}

func vehicleRowOf(name, checkpoint string, v server.VehicleStat) vehicleRow {
	return vehicleRow{County: name, Checkpoint: checkpoint, Trucks: v.Trucks, G6: v.G6, Removed: v.Removed,
		Rate: strconv.FormatFloat(v.Rate(), 'f', 1, 64)}
}

// vehicles shows the roadside vehicle-check statistics per checkpoint and
// per county in the user's scope.
func (c *Console) vehicles(ec echo.Context) error {
	p := principalOf(ec)
	stats, err := c.d.Store.VehicleStats(ec.Request().Context(), p.Scope())
	if err != nil {
		return err
	}
	var points, counties []vehicleRow
	var county server.VehicleStat
	var total server.VehicleStat
	flush := func() {
		if county.County != "" {
			counties = append(counties, vehicleRowOf(c.countyName(county.County), "", county))
		}
	}
	for _, v := range stats {
		if v.County != county.County {
			flush()
			county = server.VehicleStat{County: v.County}
		}
		county.Trucks, county.G6, county.Removed = county.Trucks+v.Trucks, county.G6+v.G6, county.Removed+v.Removed
		total.Trucks, total.G6, total.Removed = total.Trucks+v.Trucks, total.G6+v.G6, total.Removed+v.Removed
		cp := v.Checkpoint
		if cp == "" {
			cp = "（未填检查站）"
		}
		points = append(points, vehicleRowOf(c.countyName(v.County), cp, v))
	}
	flush()
	return c.render(ec, http.StatusOK, "vehicles.html", map[string]any{"Points": points, "Counties": counties,
		"Total": vehicleRowOf("合计", "", total)})
}

type ledgerRow struct {
	ID, Number, Category, Problem, Units, Acceptance, Deadline, Status, StatusName, Progress string
	Pct                                                                                      int
	HasPct, Overdue, MayEdit                                                                 bool
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
	tasks, err := c.d.Store.Tasks(ec.Request().Context())
	if err != nil {
		return err
	}
	today := c.now().In(chinaTime).Format(time.DateOnly)
	rows := make([]ledgerRow, 0, len(tasks))
	overdue := 0
	for _, t := range tasks {
		var units []string
		_ = json.Unmarshal(t.Value("responsible_units"), &units)
		status := t.Text("status")
		if status == "" {
			status = "not_started"
		}
		deadline := t.Text("deadline")
		if deadline == "" {
			deadline = t.Text("deadline_text")
		}
		r := ledgerRow{ID: t.ID, Number: t.Text("number"), Category: t.Text("category"), Problem: abridge(t.Text("problem"), 80),
			Units: strings.Join(units, "、"), Acceptance: t.Text("acceptance_unit"), Deadline: deadline,
			Status: status, StatusName: taskStatusNames[status], Progress: t.Text("progress"), MayEdit: server.MayUpdateTask(p, t)}
		if pct, ok := t.Float("progress_pct"); ok {
			r.Pct, r.HasPct = int(pct), true
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
