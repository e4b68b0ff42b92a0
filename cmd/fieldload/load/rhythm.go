package load

import (
	"context"
	"time"
)

// Rhythms of the devices (Config.Rhythm).
const (
	// RhythmStress: every device visits back to back (or with Think
	// between visits), pulling before each: far above a working day.
	RhythmStress = "stress"
	// RhythmRealistic: every device syncs every 1–5 minutes and makes a
	// visit every 10–30 minutes, both divided by Config.Compress, the
	// first sync at a random moment within Config.Stagger.
	RhythmRealistic = "realistic"
)

// The realistic rhythm's intervals before compression.
const (
	syncEvery0, syncEvery1   = time.Minute, 5 * time.Minute
	visitEvery0, visitEvery1 = 10 * time.Minute, 30 * time.Minute
)

// realistic runs the device as an inspector's phone through a working
// day, compressed: its first sync (pull from the empty cursor) comes at a
// random moment within Stagger; after that it syncs every 1–5 minutes
// (pull from its cursor; its outbox is empty, see below) and makes a
// visit every 10–30 minutes (the same visit as the stress rhythm:
// inspection, findings, photos, and now and then an edit of another
// device's inspection). Like the app (sync.md 5.2: push whenever there is
// network and the outbox is not empty), it pushes a visit right after
// recording it, online as it is here, and uploads its photos then, rather
// than waiting for the next periodic sync.
func (d *device) realistic(ctx context.Context) {
	cfg := d.r.cfg
	between := func(lo, hi time.Duration) time.Duration {
		lo, hi = time.Duration(float64(lo)/cfg.Compress), time.Duration(float64(hi)/cfg.Compress)
		return lo + time.Duration(d.rnd.Int64N(int64(hi-lo)+1))
	}
	start := time.Now()
	nextSync := start
	if cfg.Stagger > 0 {
		nextSync = start.Add(time.Duration(d.rnd.Int64N(int64(cfg.Stagger))))
	}
	nextVisit := nextSync.Add(between(visitEvery0, visitEvery1))
	for done := 0; ctx.Err() == nil && (cfg.Visits == 0 || done < cfg.Visits); {
		if nextSync.Before(nextVisit) || len(d.sites) == 0 {
			sleep(ctx, time.Until(nextSync))
			if ctx.Err() != nil {
				return
			}
			if err := d.pull(ctx); err != nil {
				d.r.fail(ctx, err)
			} else {
				d.r.count(&d.r.syncs)
			}
			nextSync = time.Now().Add(between(syncEvery0, syncEvery1))
			continue
		}
		sleep(ctx, time.Until(nextVisit))
		if ctx.Err() != nil {
			return
		}
		if err := d.visit(ctx); err != nil {
			d.r.fail(ctx, err)
		} else {
			done++
		}
		nextVisit = time.Now().Add(between(visitEvery0, visitEvery1))
	}
}
