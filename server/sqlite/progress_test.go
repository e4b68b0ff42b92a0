package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestMigrateTaskProgress (issue 10): a database left by a server before
// migration 009, with task-wide progress and roadside checks holding the
// Chinese labels, keeps everything. Each county a task concerned gets a row
// carrying the task's progress with the HLCs it was written with (every
// county for a task that named none, as that then meant), at new positions
// of the change feed; the task's own columns stay readable; the checks
// hold codes under the same HLCs, moved up the feed so phones pull them;
// the statistics are those of before (22 of 181 国六 in the joint action).
func TestMigrateTaskProgress(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fieldsync.db")
	raw := openAt(t, path, "009") // every migration before 009

	seed := syncproto.HLC{Wall: 1_700_000_000_000, Node: syncproto.ServerNode}
	office := syncproto.HLC{Wall: 1_700_000_500_000, Counter: 2, Node: syncproto.ServerNode}
	office2 := syncproto.HLC{Wall: 1_700_000_600_000, Node: syncproto.ServerNode}
	phone := syncproto.HLC{Wall: 1_700_000_700_000, Node: "0195f4b2-0000-7000-8000-000000000001"}
	seq := int64(0)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []string{"140902", "140921", "140925"} {
		seq++
		exec(`INSERT INTO county (id, seq, hlcs, created_at, updated_at, code) VALUES (?, ?, ?, 0, 0, ?)`,
			c, seq, fmt.Sprintf(`{%q:["code"]}`, seed), c)
	}
	// task-08 (4.4) named no county: "every county", progress entered once.
	// task-11 (5.1) names two counties. task-02 has no progress at all.
	for _, task := range []struct {
		id, counties, hlcs string
		status, progress   any
		pct                any
	}{
		{"task-08", `[]`, fmt.Sprintf(`{%q:["counties","number"],%q:["progress","progress_pct","status"]}`, seed, office),
			"in_progress", "忻府区已开展扬尘专项检查", 30},
		{"task-11", `["140902","140921"]`, fmt.Sprintf(`{%q:["counties","number"],%q:["status"],%q:["progress_pct"]}`, seed, office, office2),
			"done", nil, 100},
		{"task-02", `["140925"]`, fmt.Sprintf(`{%q:["counties","number"]}`, seed), nil, nil, nil},
	} {
		seq++
		exec(`INSERT INTO rectification_task (id, seq, hlcs, created_at, updated_at, number, counties, status, progress, progress_pct)
			VALUES (?, ?, ?, 0, 1700000600000, ?, ?, ?, ?, ?)`, task.id, seq, task.hlcs, task.id, task.counties, task.status, task.progress, task.pct)
	}
	// The plan's joint action as the old demo stored it: 国五 178 and 国六
	// 181, 22 of which removed, at two checkpoints; one check of another
	// county outside any action.
	vehicleHLCs := fmt.Sprintf(`{%q:["action","aftertreatment","campaign","checkpoint","county","emission_stage","fuel","plate"]}`, phone)
	var checks []string
	add := func(county, checkpoint, campaign, stage, after, action string) {
		seq++
		id := uuid.NewString()
		checks = append(checks, id)
		exec(`INSERT INTO vehicle_check (id, county, seq, hlcs, created_at, updated_at, checkpoint, campaign, plate, emission_stage,
			fuel, aftertreatment, action) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, '天然气', ?, ?)`,
			id, county, seq, vehicleHLCs, checkpoint, campaign, fmt.Sprintf("晋H%05d", seq), stage, after, action)
	}
	for _, cp := range []struct {
		name        string
		g5, g6, bad int
	}{{"豆罗检查站", 79, 50, 11}, {"秦城检查站", 99, 131, 11}} {
		for i := range cp.g5 + cp.g6 {
			stage, after, action := "国五", "present", "放行"
			if i >= cp.g5 {
				stage = "国六"
				if i-cp.g5 < cp.bad {
					after, action = "removed", "处罚"
				}
			}
			add("140902", cp.name, "联合路检", stage, after, action)
		}
	}
	add("140925", "宁武", "", "国三", "unknown", "责令维修")
	before := seq
	exec(`INSERT INTO meta (key, value) VALUES ('seq', ?), ('hlc_high', ?), ('epoch', 'before009')`, fmt.Sprint(before), phone.String())
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, path) // applies 009 and later
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rows, err := db.TaskProgress(ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, server.TaskProgressID(r.TaskID, r.County))
	}
	want := []string{"task-08@140902", "task-08@140921", "task-08@140925", "task-11@140902", "task-11@140921"}
	if !slices.Equal(ids, want) {
		t.Fatalf("rows %v, want %v", ids, want)
	}
	e := server.EntityByName(syncproto.EntityTaskProgress)
	for _, id := range want {
		rec, err := db.Get(ctx, e.Name, id)
		if err != nil {
			t.Fatal(err)
		}
		tp := server.TaskProgressOf(rec)
		f := rec.State.Fields
		switch tp.TaskID {
		case "task-08":
			if tp.Status != syncproto.TaskInProgress || tp.Pct != 30 || !tp.HasPct || tp.Note != "忻府区已开展扬尘专项检查" {
				t.Errorf("%s: %+v", id, tp)
			}
			if f["status"].HLC != office || f["note"].HLC != office || f["progress_pct"].HLC != office || f["task_id"].HLC != office {
				t.Errorf("%s: HLCs %v", id, f)
			}
		case "task-11":
			if tp.Status != syncproto.TaskDone || tp.Pct != 100 || tp.Note != "" {
				t.Errorf("%s: %+v", id, tp)
			}
			if f["status"].HLC != office || f["progress_pct"].HLC != office2 || f["county"].HLC != office2 {
				t.Errorf("%s: HLCs %v", id, f)
			}
			if _, ok := f["note"]; ok {
				t.Errorf("%s: a note that was never written: %v", id, f["note"])
			}
		}
		if rec.County != tp.County || string(f["county"].Value) != `"`+rec.County+`"` || rec.Seq <= before {
			t.Errorf("%s: county %q field %s seq %d (feed was at %d)", id, rec.County, f["county"].Value, rec.Seq, before)
		}
	}
	// The task's own columns are still there to read.
	task, err := db.Get(ctx, syncproto.EntityTask, "task-08")
	if err != nil || task.Text("status") != syncproto.TaskInProgress || task.Text("progress") != "忻府区已开展扬尘专项检查" {
		t.Errorf("task-08 after the migration: %v %v", task, err)
	}

	// Vehicle checks: codes, same HLCs, new feed positions; same figures.
	for _, id := range []string{checks[0], checks[len(checks)-1]} {
		rec, err := db.Get(ctx, syncproto.EntityVehicleCheck, id)
		if err != nil {
			t.Fatal(err)
		}
		f := rec.State.Fields
		if !slices.Contains([]string{"cn5", "cn3"}, rec.Text("emission_stage")) || rec.Text("fuel") != "natural_gas" ||
			!slices.Contains([]string{"release", "repair"}, rec.Text("action")) || f["emission_stage"].HLC != phone || rec.Seq <= before {
			t.Errorf("check %s after the migration: %+v seq %d", id, f, rec.Seq)
		}
	}
	stats, err := db.VehicleStats(ctx, server.VehicleQuery{Scope: server.Scope{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	_, sums := server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.Campaign })
	if j := sums["联合路检"]; j.Trucks != 359 || j.G6 != 181 || j.Removed != 22 || j.Rate() != 12.2 {
		t.Errorf("joint action after the migration: %+v", j)
	}
	// Phones pull every changed record after their old cursor.
	changes, _, err := db.Changes(ctx, server.Scope{All: true}, before, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != len(checks)+len(want) {
		t.Errorf("%d changes after the old feed position, want %d checks and %d progress rows", len(changes), len(checks), len(want))
	}
	// The feed goes on from past them.
	if err := db.Update(ctx, func(tx server.WriteTx) error {
		r := &server.StoredRecord{Entity: server.EntityByName(syncproto.EntityCounty), ID: "140981"}
		r.State.Fields = map[string]syncproto.FieldState{"code": {Value: []byte(`"140981"`), HLC: office2}}
		return tx.Put(ctx, r)
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Get(ctx, syncproto.EntityCounty, "140981"); c.Seq != before+int64(len(changes))+1 {
		t.Errorf("next write at seq %d, want %d", c.Seq, before+int64(len(changes))+1)
	}

	// A county's scope reads its own rows only.
	mine, err := db.TaskProgress(ctx, server.Scope{Counties: []string{"140921"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || mine[0].County != "140921" || mine[1].County != "140921" {
		t.Errorf("140921's rows: %+v", mine)
	}
}
