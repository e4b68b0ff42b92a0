package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xinzhou-eco/fieldsync/server/audit"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// CityCounty is the county of the city's own progress rows: a
// rectification task that names no county falls on the city (市本级), and
// its one progress row is filed under the city's division code, 140900
// 忻州市. No county record has this code and no user's county list holds
// it, so only users who see every county (the city office, admins) read
// those rows; inspectors' phones never pull them.
const CityCounty = "140900"

// Limits of a progress report.
const (
	MaxProgressNote     = 8000 // characters of the note
	MaxProgressEvidence = 50   // evidence items
	MaxEvidenceItem     = 300  // characters of one evidence item (all of them fit the 64 KiB of a JSON field)
	MaxResponsible      = 100  // characters of the responsible leader's or person's name
)

// TaskStatuses are the codes of task_progress.status, in order.
var TaskStatuses = syncproto.Codes(syncproto.TaskStatuses)

// TaskStatusLabel returns the Chinese label of a task progress status.
func TaskStatusLabel(status string) string { return syncproto.Label(syncproto.TaskStatuses, status) }

// TaskProgressID returns the record id of a task's progress in a county,
// "<task id>@<county>" (task-08@140921). It is made from the pair alone, so
// two offices reporting on the same pair write the same record: there can
// never be two rows for one task and county.
func TaskProgressID(taskID, county string) string { return taskID + "@" + county }

// TaskProgress is a county's progress on a rectification task: a typed
// view of a task_progress record, or the zero progress (not started) of a
// county that has reported nothing.
type TaskProgress struct {
	TaskID, County string
	Status         string // one of TaskStatuses
	Pct            int    // progress percentage, when HasPct
	HasPct         bool
	Note           string
	Evidence       []string
	// Leader and Person are who answers for the task in the county: its
	// 责任领导 and 责任人, as the plan asks each task to be put on named
	// people (把任务分解到人).
	Leader, Person string
	// ReportedBy and ReportedByName are the user id and name of the last
	// report; ReportedAt is zero when the county never reported.
	ReportedBy, ReportedByName string
	ReportedAt                 time.Time
}

// TaskProgressOf reads a task_progress record.
func TaskProgressOf(r *StoredRecord) TaskProgress {
	tp := TaskProgress{TaskID: r.Text("task_id"), County: r.County, Status: r.Text("status"), Note: r.Text("note"),
		Leader: r.Text("responsible_leader"), Person: r.Text("responsible_person"),
		ReportedBy: r.Text("reported_by"), ReportedByName: r.Text("reported_by_name")}
	if tp.Status == "" {
		tp.Status = syncproto.TaskNotStarted
	}
	if pct, ok := r.Float("progress_pct"); ok {
		tp.Pct, tp.HasPct = int(pct), true
	}
	_ = json.Unmarshal(r.Value("evidence"), &tp.Evidence)
	tp.ReportedAt, _ = time.Parse(time.RFC3339Nano, r.Text("reported_at"))
	return tp
}

// Finished reports whether the county has done the task (done or accepted).
func (tp TaskProgress) Finished() bool {
	return tp.Status == syncproto.TaskDone || tp.Status == syncproto.TaskAccepted
}

// EffectivePct is the progress a roll-up counts: the percentage reported,
// else 100 for a finished task and 0 for an unfinished one.
func (tp TaskProgress) EffectivePct() int {
	switch {
	case tp.HasPct:
		return tp.Pct
	case tp.Finished():
		return 100
	}
	return 0
}

// ShownPct is the percentage the offices see: the one reported, else 100
// for a finished task and 0 for one not started (the roll-up counts them
// so, and a report must agree with its status: consistent); ok is false
// for a task under way without one (未填).
func (tp TaskProgress) ShownPct() (pct int, ok bool) {
	switch {
	case tp.HasPct:
		return tp.Pct, true
	case tp.Finished():
		return 100, true
	case tp.Status == syncproto.TaskNotStarted:
		return 0, true
	}
	return 0, false
}

// Overdue reports whether the county is past the task's deadline
// (YYYY-MM-DD; none for long-term tasks) on day today (YYYY-MM-DD, China
// time) without having finished.
func (tp TaskProgress) Overdue(task *StoredRecord, today string) bool {
	d := task.Text("deadline")
	return d != "" && d < today && !tp.Finished()
}

// ProgressCounties returns the counties that report progress on a task:
// those it names, or CityCounty alone for a task naming none.
func ProgressCounties(task *StoredRecord) []string {
	if cs := TaskCounties(task); len(cs) > 0 {
		return cs
	}
	return []string{CityCounty}
}

// ProgressIndex holds progress rows by task and county.
type ProgressIndex map[string]TaskProgress

// IndexProgress indexes rows by TaskProgressID.
func IndexProgress(rows []TaskProgress) ProgressIndex {
	ix := make(ProgressIndex, len(rows))
	for _, r := range rows {
		ix[TaskProgressID(r.TaskID, r.County)] = r
	}
	return ix
}

// Get returns the county's progress on the task: its row, or not started.
func (ix ProgressIndex) Get(taskID, county string) TaskProgress {
	if tp, ok := ix[TaskProgressID(taskID, county)]; ok {
		return tp
	}
	return TaskProgress{TaskID: taskID, County: county, Status: syncproto.TaskNotStarted}
}

// Rollup sums the progress of a task's counties for the city.
type Rollup struct {
	Counties int            // counties counted
	Counts   map[string]int // status → counties
	MeanPct  float64        // mean EffectivePct (RoundPct)
	// Slowest are the unfinished counties with the lowest EffectivePct
	// (SlowestPct), in the task's order; none when every county finished.
	Slowest    []string
	SlowestPct int
	// Overdue are the counties past the deadline without finishing.
	Overdue []string
}

// TaskLedger is one task's progress as a viewer sees it.
type TaskLedger struct {
	Task *StoredRecord
	// Rows are the progress of the task's counties the viewer may see, in
	// the task's order (not started for those that never reported).
	Rows []TaskProgress
	// Others are rows of counties the task does not name (kept from a
	// time when it named them, such as migrated task-wide progress): shown,
	// never counted.
	Others []TaskProgress
	Rollup Rollup
}

// LedgerOf gathers a task's progress for a viewer who sees the counties
// see accepts, on day today (YYYY-MM-DD), and rolls it up.
func LedgerOf(task *StoredRecord, ix ProgressIndex, see func(county string) bool, today string) TaskLedger {
	l := TaskLedger{Task: task}
	counties := ProgressCounties(task)
	for _, c := range counties {
		if see(c) {
			l.Rows = append(l.Rows, ix.Get(task.ID, c))
		}
	}
	for _, tp := range ix {
		if tp.TaskID == task.ID && see(tp.County) && !slices.Contains(counties, tp.County) {
			l.Others = append(l.Others, tp)
		}
	}
	slices.SortFunc(l.Others, func(a, b TaskProgress) int { return strings.Compare(a.County, b.County) })
	l.Rollup = RollUp(task, l.Rows, today)
	return l
}

// RollUp counts rows (one task's, one per county) by status, finds the
// slowest unfinished counties and those overdue on day today.
func RollUp(task *StoredRecord, rows []TaskProgress, today string) Rollup {
	r := Rollup{Counties: len(rows), Counts: map[string]int{}, SlowestPct: 101}
	sum := 0
	for _, tp := range rows {
		r.Counts[tp.Status]++
		pct := tp.EffectivePct()
		sum += pct
		if tp.Overdue(task, today) {
			r.Overdue = append(r.Overdue, tp.County)
		}
		if tp.Finished() {
			continue
		}
		switch {
		case pct < r.SlowestPct:
			r.Slowest, r.SlowestPct = []string{tp.County}, pct
		case pct == r.SlowestPct:
			r.Slowest = append(r.Slowest, tp.County)
		}
	}
	if len(rows) > 0 {
		r.MeanPct = RoundPct(float64(sum) / float64(len(rows)))
	}
	if r.Slowest == nil {
		r.SlowestPct = 0
	}
	return r
}

// CountyTasks is the state of the rectification tasks that fall on one
// county (or, for CityCounty, on the city), for its monthly report.
type CountyTasks struct {
	Tasks   int            // tasks falling on the county
	Counts  map[string]int // status → tasks
	MeanPct float64        // mean EffectivePct (RoundPct)
}

// CountyTasksOf sums the county's own rows of the tasks falling on it.
func CountyTasksOf(county string, tasks []*StoredRecord, ix ProgressIndex) CountyTasks {
	ct := CountyTasks{Counts: map[string]int{}}
	sum := 0
	for _, t := range tasks {
		if !slices.Contains(ProgressCounties(t), county) {
			continue
		}
		tp := ix.Get(t.ID, county)
		ct.Tasks++
		ct.Counts[tp.Status]++
		sum += tp.EffectivePct()
	}
	if ct.Tasks > 0 {
		ct.MeanPct = RoundPct(float64(sum) / float64(ct.Tasks))
	}
	return ct
}

// MayReport checks that p may report progress on task in county, whose
// current progress is cur, setting status. Offices report on their own
// counties' rows of the tasks that name them; the city office and admins
// on every row, the city's own included. Acceptance (已验收) is the
// acceptance unit's, the city's: only it sets or changes an accepted row.
// Errors: forbidden, out_of_scope, not_found.
func MayReport(p *Principal, task *StoredRecord, county string, cur TaskProgress, status string) error {
	city := p.Role == RoleCityOffice || p.Role == RoleAdmin
	switch {
	case !p.Role.CanReview():
		return Errorf(syncproto.CodeForbidden, "只有区县或市级督查人员可以填报整改进展")
	case !city && (county == CityCounty || !slices.Contains(p.Counties, county)):
		return Errorf(syncproto.CodeOutOfScope, "无权填报其他区县的整改进展")
	case !slices.Contains(ProgressCounties(task), county):
		return notInTask(task, "区县 "+county)
	case !city && status == syncproto.TaskAccepted:
		return Errorf(syncproto.CodeForbidden, "验收由市级督查（验收单位）确认，区县不能填报“已验收”")
	case !city && cur.Status == syncproto.TaskAccepted:
		return Errorf(syncproto.CodeForbidden, "已验收的整改进展只能由市级督查修改")
	}
	return nil
}

// notInTask is the not_found of a report on a county (named so) that task
// does not name.
func notInTask(task *StoredRecord, county string) error {
	return Errorf(syncproto.CodeNotFound, "整改任务 %s 不涉及%s", task.Text("number"), county)
}

// ProgressReport is what an office reports on a task in one county.
type ProgressReport struct {
	Status string
	Pct    *int // nil: no percentage
	Note   string
	// Evidence lists what backs the report (document numbers, links,
	// record ids), one item each.
	Evidence []string
	// Leader and Person name the county's 责任领导 and 责任人 for the task.
	Leader, Person string
	// Base, if set, is the row as the office saw it when it began the
	// report (a form's values): only what the report changes from it is
	// written, so that another office's report made meanwhile on the
	// other parts stands. nil: the report replaces the row.
	Base *ProgressReport `json:"-"`
	// Shown, if set, is how the form showed a value (the console shows
	// direction overrides as U+FFFD): values are compared as shown, so
	// that a value the office left as it was shown is unchanged, and a
	// stored one shown as Base shows it has not changed meanwhile.
	Shown func(string) string `json:"-"`
}

// ProgressReportOf is tp as a report: what a form to change it starts
// from (ProgressReport.Base).
func ProgressReportOf(tp TaskProgress) ProgressReport {
	rep := ProgressReport{Status: tp.Status, Note: tp.Note, Evidence: tp.Evidence, Leader: tp.Leader, Person: tp.Person}
	if tp.HasPct {
		pct := tp.Pct
		rep.Pct = &pct
	}
	if rep.Evidence == nil {
		rep.Evidence = []string{}
	}
	return rep
}

// progressParts are the parts of a progress row a report changes, each
// with its value as text (to compare) and its label (for messages).
var progressParts = []struct {
	label string
	value func(r ProgressReport) string
	set   func(dst *ProgressReport, src ProgressReport)
}{
	{"状态", func(r ProgressReport) string { return TaskStatusLabel(r.Status) }, func(d *ProgressReport, s ProgressReport) { d.Status = s.Status }},
	{"进度", pctText, func(d *ProgressReport, s ProgressReport) { d.Pct = s.Pct }},
	{"进展说明", func(r ProgressReport) string { return r.Note }, func(d *ProgressReport, s ProgressReport) { d.Note = s.Note }},
	{"佐证材料", func(r ProgressReport) string { return strings.Join(r.Evidence, "\n") }, func(d *ProgressReport, s ProgressReport) { d.Evidence = s.Evidence }},
	{"责任领导", func(r ProgressReport) string { return r.Leader }, func(d *ProgressReport, s ProgressReport) { d.Leader = s.Leader }},
	{"责任人", func(r ProgressReport) string { return r.Person }, func(d *ProgressReport, s ProgressReport) { d.Person = s.Person }},
}

// merged is the report rep makes of the row cur, given what it started
// from (rep.Base): the parts rep changed, over cur. A part cur has also
// changed since, to something else, is not settled for the office:
// conflict, naming it and its current value, and who changed it (by).
func (rep ProgressReport) merged(cur ProgressReport, by string) (ProgressReport, error) {
	if rep.Base == nil {
		return rep, nil
	}
	out := cur
	same := func(a, b string) bool {
		if rep.Shown != nil {
			a, b = rep.Shown(a), rep.Shown(b)
		}
		return a == b
	}
	var changed []string
	for _, p := range progressParts {
		if same(p.value(rep), p.value(*rep.Base)) {
			continue
		}
		if !same(p.value(cur), p.value(*rep.Base)) && !same(p.value(cur), p.value(rep)) {
			changed = append(changed, fmt.Sprintf("%s（现为「%s」）", p.label, p.value(cur)))
		}
		p.set(&out, rep)
	}
	if len(changed) > 0 {
		return rep, Errorf(syncproto.CodeConflict, "您填报期间，此行的%s已被%s修改，请刷新页面后重新填报", strings.Join(changed, "、"), by)
	}
	return out, nil
}

// check validates a report's values. Errors: invalid_value, invalid_field.
func (rep ProgressReport) check() error {
	switch {
	case !slices.Contains(TaskStatuses, rep.Status):
		return Errorf(syncproto.CodeInvalidValue, "状态只能是未开始、推进中、已完成或已验收")
	case rep.Pct != nil && (*rep.Pct < 0 || *rep.Pct > 100):
		return Errorf(syncproto.CodeInvalidValue, "进度百分比应在 0 到 100 之间")
	case !utf8.ValidString(rep.Note):
		return Errorf(syncproto.CodeInvalidField, "进展说明不是有效的文本")
	case utf8.RuneCountInString(rep.Note) > MaxProgressNote:
		return Errorf(syncproto.CodeInvalidField, "进展说明不能超过 %d 字", MaxProgressNote)
	case !MultiLine(rep.Note):
		// As a review's comment: it is read on the ledger, the report and
		// the phones; nothing may hide or reverse it.
		return Errorf(syncproto.CodeInvalidField, "进展说明不能含控制字符或文字方向控制符")
	case len(rep.Evidence) > MaxProgressEvidence:
		return Errorf(syncproto.CodeInvalidField, "佐证材料最多 %d 项", MaxProgressEvidence)
	}
	for _, who := range []struct{ label, name string }{{"责任领导", rep.Leader}, {"责任人", rep.Person}} {
		if !utf8.ValidString(who.name) || utf8.RuneCountInString(who.name) > MaxResponsible || !syncproto.NoControls(who.name) {
			return Errorf(syncproto.CodeInvalidField, "%s应为一行文字（不超过 %d 字，不能含换行、零宽字符或文字方向控制符）", who.label, MaxResponsible)
		}
	}
	for _, e := range rep.Evidence {
		if e == "" || !utf8.ValidString(e) || utf8.RuneCountInString(e) > MaxEvidenceItem {
			return Errorf(syncproto.CodeInvalidField, "每项佐证材料应为 1 到 %d 字", MaxEvidenceItem)
		}
		if !syncproto.NoControls(e) {
			return Errorf(syncproto.CodeInvalidField, "佐证材料每项应为一行文字，不能含零宽字符、文字方向控制符等控制字符")
		}
	}
	return nil
}

// consistent refuses a report whose percentage says otherwise than its
// status: a finished task (done or accepted) at less than 100%, one not
// started at more than 0%. Without a percentage the status decides
// (EffectivePct). Errors: invalid_value.
func (rep ProgressReport) consistent() error {
	switch {
	case rep.Pct == nil:
	case (rep.Status == syncproto.TaskDone || rep.Status == syncproto.TaskAccepted) && *rep.Pct != 100:
		return Errorf(syncproto.CodeInvalidValue, "状态为%s时进度应为 100%%（或不填），而填报的是 %d%%", TaskStatusLabel(rep.Status), *rep.Pct)
	case rep.Status == syncproto.TaskNotStarted && *rep.Pct != 0:
		return Errorf(syncproto.CodeInvalidValue, "状态为未开始时进度应为 0%%（或不填），而填报的是 %d%%", *rep.Pct)
	}
	return nil
}

// pctText is a report's percentage as text ("未填" for none).
func pctText(r ProgressReport) string {
	if r.Pct == nil {
		return "未填"
	}
	return strconv.Itoa(*r.Pct) + "%"
}

// sameReport reports whether two reports say the same in every part.
func sameReport(a, b ProgressReport) bool {
	for _, p := range progressParts {
		if p.value(a) != p.value(b) {
			return false
		}
	}
	return true
}

// changesPct reports whether rep sets the percentage: always without a
// Base, else when it differs from the Base's.
func (rep ProgressReport) changesPct() bool {
	return rep.Base == nil || pctText(rep) != pctText(*rep.Base)
}

// ReportProgress records an office's progress on a task in one county
// through the server's write path, so that the county's phones receive it
// on their next pull. Every field of the row is written, so the row is
// what this report says (with rep.Base: what it changed, over the row as
// it is). A percentage the report sets must agree with the status
// (consistent); one it leaves as it was becomes the status's (100% for a
// finished task, 0% for one not started) when it no longer agrees. Errors:
// forbidden, invalid_field, invalid_value, not_found, out_of_scope,
// conflict.
func (s *Syncer) ReportProgress(ctx context.Context, p *Principal, taskID, county string, rep ProgressReport) error {
	if err := rep.check(); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx WriteTx) error {
		task, err := tx.Get(ctx, EntityByName(syncproto.EntityTask), taskID)
		switch {
		case err != nil:
			return err
		case task == nil || task.State.IsDeleted():
			return Errorf(syncproto.CodeNotFound, "整改任务不存在")
		}
		id := TaskProgressID(taskID, county)
		cur := TaskProgress{Status: syncproto.TaskNotStarted}
		row, err := tx.Get(ctx, EntityByName(syncproto.EntityTaskProgress), id)
		if err != nil {
			return err
		}
		if row != nil {
			cur = TaskProgressOf(row)
		}
		sent := rep
		by := "其他人员"
		if cur.ReportedBy == p.UserID {
			// The same office's earlier save: another tab, a form kept
			// open (county office probe: it blamed someone else).
			by = "您在另一页面（或另一个浏览器标签页）"
		}
		rep, merr := rep.merged(ProgressReportOf(cur), by)
		if err := MayReport(p, task, county, cur, rep.Status); err != nil {
			if ErrorCode(err) == syncproto.CodeNotFound {
				// Said with the county's name, which people read.
				get := func(ctx context.Context, entity, id string) (*StoredRecord, error) {
					return tx.Get(ctx, EntityByName(entity), id)
				}
				return notInTask(task, CountyName(ctx, get, county))
			}
			return err
		}
		if merr != nil {
			return merr
		}
		if err := rep.consistent(); err != nil {
			if sent.changesPct() {
				return err
			}
			// A status changed over a percentage this report left as
			// it was: the percentage follows the status.
			pct := 0
			if rep.Status != syncproto.TaskNotStarted {
				pct = 100
			}
			rep.Pct = &pct
		}
		if row != nil && cur.ReportedBy == p.UserID && sameReport(rep, ProgressReportOf(cur)) {
			// This office's report as it stands (a form sent twice): the
			// first is in effect, and writing it again would only move
			// the report's time and send every phone the row again.
			return nil
		}
		evidence := rep.Evidence
		if evidence == nil {
			evidence = []string{}
		}
		var pct any // JSON null clears the percentage
		if rep.Pct != nil {
			pct = *rep.Pct
		}
		return s.Upsert(ctx, tx, syncproto.EntityTaskProgress, id, county, map[string]any{
			"task_id": taskID, "county": county, "status": rep.Status, "progress_pct": pct, "note": rep.Note,
			"evidence": evidence, "responsible_leader": rep.Leader, "responsible_person": rep.Person, "reported_by": p.UserID, "reported_by_name": p.Name,
			"reported_at": s.Now().UTC().Format(time.RFC3339Nano),
		})
	})
}

// ProgressHistory is what ProgressAsOf reads: a progress row as stored, and
// its audit entries.
type ProgressHistory interface {
	Get(ctx context.Context, entity, id string) (*StoredRecord, error)
	AuditHistory(ctx context.Context, entity, recordID string) ([]audit.Entry, error)
}

// ProgressAsOf returns rows as they stood at t (a past month's report
// shows its month's end, not today). A row last reported at or before t
// is as it is; one reported since is read again with the changes of the
// audited reports made after t undone, the latest first: each entry keeps
// the values it replaced, so what is left is the row as it was at t (not
// started for a row first reported after t; as it was stored for a row
// whose earlier reports predate the audit log). A report is dated by the
// reported_at it wrote, else (entries from before they recorded it) by
// when the entry was made. rows are not modified.
func ProgressAsOf(ctx context.Context, h ProgressHistory, rows []TaskProgress, t time.Time) ([]TaskProgress, error) {
	out := slices.Clone(rows)
	for i, tp := range rows {
		if !tp.ReportedAt.After(t) {
			continue
		}
		id := TaskProgressID(tp.TaskID, tp.County)
		rec, err := h.Get(ctx, syncproto.EntityTaskProgress, id)
		if err != nil {
			return nil, err
		}
		entries, err := h.AuditHistory(ctx, syncproto.EntityTaskProgress, id)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		for j := len(entries) - 1; j >= 0; j-- {
			e := &entries[j]
			if e.RecordID != id || e.Action != audit.ActionTaskProgress {
				continue
			}
			changes := e.DecodeChanges()
			at := e.At
			if ch, ok := changes["reported_at"]; ok {
				var s string
				if json.Unmarshal(ch.New, &s) == nil {
					if rt, ok := ParseTime(s); ok {
						at = rt
					}
				}
			}
			if !at.After(t) {
				break
			}
			for name, ch := range changes {
				f := rec.State.Fields[name]
				f.Value = ch.Old
				rec.State.Fields[name] = f
			}
		}
		back := TaskProgressOf(rec)
		if back.ReportedAt.After(t) { // an entry from before reported_at was recorded
			back.ReportedAt = time.Time{}
		}
		out[i] = back
	}
	return out, nil
}
