package server

import (
	"context"
	"encoding/json"
	"math"
	"slices"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// VehicleStat sums the roadside vehicle checks of one checkpoint in one
// county made in one special action (Campaign "" for checks outside any).
type VehicleStat struct {
	County, Checkpoint, Campaign string
	Trucks                       int // trucks checked
	G6                           int // 国六 trucks checked
	Removed                      int // 国六 trucks with after-treatment removed
}

// Add adds o's counts to v's.
func (v *VehicleStat) Add(o VehicleStat) {
	v.Trucks, v.G6, v.Removed = v.Trucks+o.Trucks, v.G6+o.G6, v.Removed+o.Removed
}

// SumVehicleStats adds up stats by the key each has, keeping the keys in
// the order they first appear; stats whose key is "" are left out.
func SumVehicleStats(stats []VehicleStat, key func(VehicleStat) string) (keys []string, sums map[string]VehicleStat) {
	sums = map[string]VehicleStat{}
	for _, v := range stats {
		k := key(v)
		if k == "" {
			continue
		}
		sum, seen := sums[k]
		if !seen {
			keys = append(keys, k)
		}
		sum.Add(v)
		sums[k] = sum
	}
	return keys, sums
}

// VehicleQuery selects roadside vehicle checks for the console's list.
type VehicleQuery struct {
	Scope Scope
	// County, Checkpoint and Campaign filter by equality; "" is any.
	County, Checkpoint, Campaign string
	// Removed keeps only 国六 trucks whose after-treatment was removed.
	Removed bool
	// Limit and Offset page the list (newest check first).
	Limit, Offset int
}

// Tally counts the inspections of one checklist in one county that have
// one review status.
type Tally struct {
	County, TemplateID, Status string
	N                          int
}

// RoadsideTemplate is the roadside heavy-truck checklist. A rectification
// task that names it also counts the roadside vehicle checks of its
// counties as evidence: they are the per-truck records of those checks.
const RoadsideTemplate = "roadside_truck"

// Evidence is what the field has produced for a rectification task.
type Evidence struct {
	Submitted, Returned, Approved int // the task's inspections by review status
	VehicleChecks                 int // roadside checks (tasks naming RoadsideTemplate)
}

// Inspections is the number of the task's inspections under review or reviewed.
func (e Evidence) Inspections() int { return e.Submitted + e.Returned + e.Approved }

// TaskTemplates returns the checklists whose inspections are a task's
// evidence.
func TaskTemplates(r *StoredRecord) []string {
	var ts []string
	_ = json.Unmarshal(r.Value("templates"), &ts)
	return ts
}

// TaskEvidence sums the tallies and vehicle statistics that belong to a
// task: inspections of its checklists, and roadside checks if it names the
// roadside checklist, in its counties (in any county when it names none).
// The caller passes only what the viewer may see.
func TaskEvidence(task *StoredRecord, tallies []Tally, vehicles []VehicleStat) Evidence {
	templates, counties := TaskTemplates(task), TaskCounties(task)
	inTask := func(county string) bool { return len(counties) == 0 || slices.Contains(counties, county) }
	var e Evidence
	for _, t := range tallies {
		if !slices.Contains(templates, t.TemplateID) || !inTask(t.County) {
			continue
		}
		switch t.Status {
		case "submitted":
			e.Submitted += t.N
		case "returned":
			e.Returned += t.N
		case "approved":
			e.Approved += t.N
		}
	}
	if slices.Contains(templates, RoadsideTemplate) {
		for _, v := range vehicles {
			if inTask(v.County) {
				e.VehicleChecks += v.Trucks
			}
		}
	}
	return e
}

// Rate is the share of 国六 trucks with after-treatment removed, in
// percent rounded to one decimal (0 when no 国六 truck was checked).
func (v VehicleStat) Rate() float64 {
	if v.G6 == 0 {
		return 0
	}
	return math.Round(float64(v.Removed)*1000/float64(v.G6)) / 10
}

// TaskStatuses are the statuses of a rectification task, in order.
var TaskStatuses = []string{"not_started", "in_progress", "done", "accepted"}

// TaskCounties returns the counties a rectification task names (none: the
// task concerns the whole city).
func TaskCounties(r *StoredRecord) []string {
	var cs []string
	_ = json.Unmarshal(r.Value("counties"), &cs)
	return cs
}

// MayUpdateTask reports whether p may record progress on task r: city
// offices and admins on any task, a county office on tasks that name one
// of its counties or name none.
func MayUpdateTask(p *Principal, r *StoredRecord) bool {
	switch p.Role {
	case RoleCityOffice, RoleAdmin:
		return true
	case RoleCountyOffice:
		cs := TaskCounties(r)
		if len(cs) == 0 {
			return true
		}
		for _, c := range cs {
			if slices.Contains(p.Counties, c) {
				return true
			}
		}
	}
	return false
}

// UpdateTask records an office's progress on a rectification task through
// the server's write path, so that phones receive it on their next pull.
func (s *Syncer) UpdateTask(ctx context.Context, p *Principal, id, status, progress string, pct int) error {
	switch {
	case !slices.Contains(TaskStatuses, status):
		return Errorf(syncproto.CodeInvalidValue, "状态只能是未开始、推进中、已完成或已验收")
	case pct < 0 || pct > 100:
		return Errorf(syncproto.CodeInvalidValue, "进度百分比应在 0 到 100 之间")
	case len([]rune(progress)) > 8000:
		return Errorf(syncproto.CodeInvalidField, "进展说明不能超过 8000 字")
	}
	return s.Store.Update(ctx, func(tx WriteTx) error {
		r, err := tx.Get(ctx, EntityByName(syncproto.EntityTask), id)
		switch {
		case err != nil:
			return err
		case r == nil || r.State.IsDeleted():
			return Errorf(syncproto.CodeNotFound, "整改任务不存在")
		case !MayUpdateTask(p, r):
			return Errorf(syncproto.CodeOutOfScope, "无权更新其他区县的整改任务")
		}
		return s.Upsert(ctx, tx, syncproto.EntityTask, id, r.County, map[string]any{
			"status": status, "progress": progress, "progress_pct": pct,
		})
	})
}

// MonthReport is one county's monthly report (信息报送): the inspections
// started in the month, their findings and photos, and the state of the
// rectification tasks that concern the county (those naming it or none).
type MonthReport struct {
	County                        string
	Submitted, Returned, Approved int
	ByTemplate                    map[string]int // template id → inspections
	Findings                      int
	Photos, FlaggedPhotos         int
	Tasks                         map[string]int // task status → tasks
	TaskPct                       float64        // mean progress of those tasks, percent
}

// Inspections is the number of inspections in the report.
func (r MonthReport) Inspections() int { return r.Submitted + r.Returned + r.Approved }
