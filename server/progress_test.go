package server

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// task returns a rectification task record naming counties, with a
// deadline ("" for a long-term task).
func task(id, deadline string, counties ...string) *StoredRecord {
	r := &StoredRecord{Entity: EntityByName(syncproto.EntityTask), ID: id}
	r.State.Fields = map[string]syncproto.FieldState{}
	cs, _ := json.Marshal(append([]string{}, counties...))
	r.State.Fields["counties"] = syncproto.FieldState{Value: cs}
	if deadline != "" {
		d, _ := json.Marshal(deadline)
		r.State.Fields["deadline"] = syncproto.FieldState{Value: d}
	}
	return r
}

func pct(n int) TaskProgress {
	return TaskProgress{Status: syncproto.TaskInProgress, Pct: n, HasPct: true}
}

// TestRollUp: counts by status over every county of the task (a county
// that never reported is not started), the slowest unfinished counties,
// and the overdue ones only once the deadline has passed.
func TestRollUp(t *testing.T) {
	tk := task("task-11", "2022-12-31", "140902", "140921", "140922", "140923")
	ix := IndexProgress([]TaskProgress{
		{TaskID: "task-11", County: "140902", Status: syncproto.TaskInProgress, Pct: 30, HasPct: true},
		{TaskID: "task-11", County: "140922", Status: syncproto.TaskDone},
		{TaskID: "task-11", County: "140923", Status: syncproto.TaskAccepted, Pct: 100, HasPct: true},
		{TaskID: "task-04", County: "140921", Status: syncproto.TaskDone}, // another task
		{TaskID: "task-11", County: "140925", Status: syncproto.TaskDone}, // a county the task does not name
	})
	all := func(string) bool { return true }
	for _, tc := range []struct {
		today   string
		overdue []string
	}{
		{"2022-12-31", nil}, // the deadline day itself is not late
		{"2023-01-01", []string{"140902", "140921"}},
	} {
		l := LedgerOf(tk, ix, all, tc.today)
		r := l.Rollup
		if r.Counties != 4 || r.Counts[syncproto.TaskNotStarted] != 1 || r.Counts[syncproto.TaskInProgress] != 1 ||
			r.Counts[syncproto.TaskDone] != 1 || r.Counts[syncproto.TaskAccepted] != 1 {
			t.Errorf("%s: counts %v of %d", tc.today, r.Counts, r.Counties)
		}
		// 140921 never reported: 0%, slower than 140902's 30%; the
		// finished ones count 100 (140922 reported no percentage).
		if !slices.Equal(r.Slowest, []string{"140921"}) || r.SlowestPct != 0 || r.MeanPct != 57.5 {
			t.Errorf("%s: slowest %v at %d%%, mean %v", tc.today, r.Slowest, r.SlowestPct, r.MeanPct)
		}
		if !slices.Equal(r.Overdue, tc.overdue) {
			t.Errorf("%s: overdue %v, want %v", tc.today, r.Overdue, tc.overdue)
		}
		if len(l.Others) != 1 || l.Others[0].County != "140925" {
			t.Errorf("%s: rows of counties the task does not name: %+v", tc.today, l.Others)
		}
	}
	// A county office sees its own row only, and its roll-up is its own.
	l := LedgerOf(tk, ix, func(c string) bool { return c == "140921" }, "2023-01-01")
	if len(l.Rows) != 1 || l.Rows[0].Status != syncproto.TaskNotStarted || !slices.Equal(l.Rollup.Overdue, []string{"140921"}) || len(l.Others) != 0 {
		t.Errorf("定襄县's view: %+v", l)
	}
	// Ties are all named; nobody is slowest once everyone finished; a
	// long-term task is never overdue.
	long := task("task-08", "", "140902", "140921")
	if r := RollUp(long, []TaskProgress{pct(10), pct(10)}, "2030-01-01"); len(r.Slowest) != 2 || r.Overdue != nil {
		t.Errorf("tie: %+v", r)
	}
	if r := RollUp(tk, []TaskProgress{{Status: syncproto.TaskDone}}, "2030-01-01"); r.Slowest != nil || r.SlowestPct != 0 || r.Overdue != nil {
		t.Errorf("all done: %+v", r)
	}
	// A task naming no county is the city's: one row, the city's.
	city := task("task-99", "")
	if cs := ProgressCounties(city); !slices.Equal(cs, []string{CityCounty}) {
		t.Errorf("counties of a city task: %v", cs)
	}
}

// TestCountyTasks: a county's report counts its own rows of the tasks
// naming it, never another county's.
func TestCountyTasks(t *testing.T) {
	tasks := []*StoredRecord{task("task-08", "", "140902", "140921"), task("task-11", "2022-12-31", "140902"), task("task-99", "")}
	ix := IndexProgress([]TaskProgress{
		{TaskID: "task-08", County: "140902", Status: syncproto.TaskInProgress, Pct: 30, HasPct: true},
		{TaskID: "task-99", County: CityCounty, Status: syncproto.TaskDone},
	})
	if ct := CountyTasksOf("140921", tasks, ix); ct.Tasks != 1 || ct.Counts[syncproto.TaskNotStarted] != 1 || ct.MeanPct != 0 {
		t.Errorf("定襄县: %+v", ct)
	}
	if ct := CountyTasksOf("140902", tasks, ix); ct.Tasks != 2 || ct.Counts[syncproto.TaskInProgress] != 1 || ct.MeanPct != 15 {
		t.Errorf("忻府区: %+v", ct)
	}
	if ct := CountyTasksOf(CityCounty, tasks, ix); ct.Tasks != 1 || ct.Counts[syncproto.TaskDone] != 1 || ct.MeanPct != 100 {
		t.Errorf("市本级: %+v", ct)
	}
}

// TestMayReport: who may report on which row, with which status.
func TestMayReport(t *testing.T) {
	tk := task("task-08", "", "140902", "140921")
	cityTask := task("task-99", "")
	xinfu := &Principal{Role: RoleCountyOffice, Counties: []string{"140902"}}
	city := &Principal{Role: RoleCityOffice}
	inspector := &Principal{Role: RoleInspector, Counties: []string{"140902"}}
	started := TaskProgress{Status: syncproto.TaskNotStarted}
	accepted := TaskProgress{Status: syncproto.TaskAccepted}
	for _, tc := range []struct {
		name   string
		p      *Principal
		task   *StoredRecord
		county string
		cur    TaskProgress
		status string
		code   string
	}{
		{"own row", xinfu, tk, "140902", started, syncproto.TaskInProgress, ""},
		{"another county's row", xinfu, tk, "140921", started, syncproto.TaskInProgress, syncproto.CodeOutOfScope},
		{"the city's row", xinfu, cityTask, CityCounty, started, syncproto.TaskInProgress, syncproto.CodeOutOfScope},
		{"own county, not the task's", xinfu, task("task-13", "", "140924"), "140902", started, syncproto.TaskDone, syncproto.CodeNotFound},
		{"county sets accepted", xinfu, tk, "140902", started, syncproto.TaskAccepted, syncproto.CodeForbidden},
		{"county changes an accepted row", xinfu, tk, "140902", accepted, syncproto.TaskDone, syncproto.CodeForbidden},
		{"inspector", inspector, tk, "140902", started, syncproto.TaskDone, syncproto.CodeForbidden},
		{"city on a county's row", city, tk, "140921", accepted, syncproto.TaskAccepted, ""},
		{"city on its own row", city, cityTask, CityCounty, started, syncproto.TaskDone, ""},
		{"city on a county the task does not name", city, tk, "140925", started, syncproto.TaskDone, syncproto.CodeNotFound},
	} {
		if got := ErrorCode(MayReport(tc.p, tc.task, tc.county, tc.cur, tc.status)); got != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.code)
		}
	}
}

// TestVehicleCodes: the catalog's vehicle-check enums are codes with
// Chinese labels; the labels phones sent before are stored as the codes.
func TestVehicleCodes(t *testing.T) {
	e := EntityByName(syncproto.EntityVehicleCheck)
	for _, tc := range []struct {
		field, in, code, label string
	}{
		{"emission_stage", `"国六"`, "cn6", "国六"},
		{"emission_stage", `"cn5"`, "cn5", "国五"},
		{"fuel", `"天然气"`, "natural_gas", "天然气"},
		{"fuel", `"\u67f4\u6cb9"`, "diesel", "柴油"}, // escaped: not the plain fast path
		{"action", `"处罚"`, "fine", "处罚"},
		{"aftertreatment", `"removed"`, "removed", "已拆除"},
	} {
		f, _ := e.Field(tc.field)
		got, err := f.Canonical(json.RawMessage(tc.in), true)
		if err != nil || string(got) != `"`+tc.code+`"` {
			t.Errorf("%s %s: %s, %v; want %q", tc.field, tc.in, got, err, tc.code)
		}
		if l := f.Label(tc.code); l != tc.label {
			t.Errorf("%s label of %s: %q, want %q", tc.field, tc.code, l, tc.label)
		}
		if code, ok := f.Code(tc.label); !ok || code != tc.code {
			t.Errorf("%s code of %s: %q %v", tc.field, tc.label, code, ok)
		}
	}
	for _, bad := range []struct{ field, in string }{{"emission_stage", `"国七"`}, {"aftertreatment", `"已拆除"`}, {"fuel", `"CNG"`}} {
		f, _ := e.Field(bad.field)
		if _, err := f.Canonical(json.RawMessage(bad.in), true); ErrorCode(err) != syncproto.CodeInvalidValue {
			t.Errorf("%s %s: %v, want invalid_value", bad.field, bad.in, err)
		}
	}
	// Every code is snake_case ASCII and every enum of these fields has a
	// label for each code.
	for _, f := range e.Fields {
		for _, code := range f.Enum {
			if f.Labels[code] == "" {
				t.Errorf("%s.%s: code %q has no label", e.Name, f.Name, code)
			}
			for _, c := range code {
				if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
					t.Errorf("%s.%s: code %q is not snake_case", e.Name, f.Name, code)
				}
			}
		}
	}
}

// TestPercentRounding: every percentage the offices see rounds halves
// away from zero to one decimal — a ledger mean of 30.25% is 30.3% as a
// roadside rate of 1 in 16 (6.25%) is 6.3% (the mean was printed 30.2,
// ties to even).
func TestPercentRounding(t *testing.T) {
	tk := task("task-04", "", "140902", "140921", "140922", "140923")
	r := RollUp(tk, []TaskProgress{{County: "140902", Status: syncproto.TaskNotStarted}, {County: "140921", Status: syncproto.TaskNotStarted},
		{County: "140922", Status: syncproto.TaskAccepted}, {County: "140923", Status: syncproto.TaskInProgress, Pct: 21, HasPct: true}}, "2026-12-01")
	if r.MeanPct != 30.3 {
		t.Errorf("mean of 0, 0, 100, 21: %v, want 30.3", r.MeanPct)
	}
	for _, tc := range []struct {
		g6, removed int
		want        float64
	}{{16, 1, 6.3}, {8, 1, 12.5}, {3, 1, 33.3}, {3, 2, 66.7}, {181, 22, 12.2}, {0, 0, 0}} {
		if got := (VehicleStat{G6: tc.g6, Removed: tc.removed}).Rate(); got != tc.want {
			t.Errorf("rate of %d in %d: %v, want %v", tc.removed, tc.g6, got, tc.want)
		}
	}
	if got := RoundPct(-0.25); got != -0.3 {
		t.Errorf("RoundPct(-0.25) = %v", got)
	}
}
