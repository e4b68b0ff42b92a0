package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// demoTaskProgress is one county's progress on one rectification task, as
// the demo's county offices report it in their monthly 信息报送.
type demoTaskProgress struct {
	TaskID, County string
	// Status is one of server.TaskStatuses; Pct the share done, 0–100.
	Status string
	Pct    int
	Note   string    // what the county reports, in Chinese
	At     time.Time // when it reported
}

// planDemoTaskProgress plans the progress rows of every task in each county
// it names (the city's own row, 市本级, when it names none): deterministic,
// dated in the month before day0.
func planDemoTaskProgress(set *seeds.Set, day0 time.Time) []demoTaskProgress {
	rng := rand.New(rand.NewPCG(demoSeed, 0x7a5c))
	var out []demoTaskProgress
	for _, t := range set.Tasks {
		counties := t.Counties
		if len(counties) == 0 { // the city's own task: one row, 市本级
			counties = []string{server.CityCounty}
		}
		for _, c := range counties {
			r := demoTaskProgress{TaskID: t.ID, County: c,
				At: day0.AddDate(0, 0, -1-rng.IntN(demoDays)).Add(time.Duration(9*60+rng.IntN(8*60)) * time.Minute)}
			switch n := rng.IntN(10); {
			case n < 2:
				r.Status, r.Pct, r.Note = "accepted", 100, "整改已完成，已通过市级验收。"
			case n < 4:
				r.Status, r.Pct, r.Note = "done", 100, "整改已完成，待市领导小组办公室验收。"
			case n < 9:
				r.Status, r.Pct, r.Note = "in_progress", 20+10*rng.IntN(8), "正在按整改方案推进，已完成阶段性任务。"
			default:
				r.Status, r.Note = "not_started", "整改方案已制定，尚未开工。"
			}
			out = append(out, r)
		}
	}
	return out
}

// writeDemoTaskProgress writes the planned rows as the offices' reports
// of per-county progress (task_progress), through the server's write path
// with their report dates: a second start finds every value stored and
// writes nothing.
func (a *App) writeDemoTaskProgress(ctx context.Context, set *seeds.Set, rows []demoTaskProgress) error {
	names := map[string]string{}
	for _, c := range set.Counties {
		names[c.Code] = c.Name
	}
	return a.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
		for _, r := range rows {
			pct := any(r.Pct)
			if r.Status == syncproto.TaskNotStarted {
				pct = nil
			}
			// Acceptance is the city's to record (a county cannot report
			// 已验收): an accepted row was last written by the city's
			// office, as the ledger then says (city probe: 已验收, 填报：宁武县督查室).
			office := names[r.County] + "督查室"
			if r.County == server.CityCounty || r.Status == syncproto.TaskAccepted {
				office = "市督查室"
			}
			err := a.Syncer.Upsert(ctx, tx, syncproto.EntityTaskProgress, server.TaskProgressID(r.TaskID, r.County), r.County, map[string]any{
				"task_id": r.TaskID, "county": r.County, "status": r.Status, "progress_pct": pct, "note": r.Note,
				"evidence": []string{}, "reported_by": "", "reported_by_name": office,
				"reported_at": r.At.UTC().Format(time.RFC3339Nano)})
			if err != nil {
				return fmt.Errorf("demo progress of %s in %s: %w", r.TaskID, r.County, err)
			}
		}
		return nil
	})
}
