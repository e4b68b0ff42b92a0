package app

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
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
// it names (every county-level unit when it names none): deterministic,
// dated in the month before day0.
func planDemoTaskProgress(set *seeds.Set, day0 time.Time) []demoTaskProgress {
	rng := rand.New(rand.NewPCG(demoSeed, 0x7a5c))
	var all []string
	for _, c := range set.Counties {
		if c.Kind != "special" {
			all = append(all, c.Code)
		}
	}
	var out []demoTaskProgress
	for _, t := range set.Tasks {
		counties := t.Counties
		if len(counties) == 0 {
			counties = all
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

// writeDemoTaskProgress is the demo's hook for per-county task progress
// rows: it receives planDemoTaskProgress's rows once, when the month is
// written.
//
// TODO(task_progress): write each row through the task_progress entity
// (per task and county) once it is merged, through the server's write
// path so a second start adds nothing. Until then the rows are dropped
// and the ledger shows the tasks' own (city-level) status.
func (a *App) writeDemoTaskProgress(ctx context.Context, rows []demoTaskProgress) error {
	_, _ = ctx, rows
	return nil
}
