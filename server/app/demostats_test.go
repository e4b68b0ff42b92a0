package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// demoStores opens each store fieldsync runs on, empty, closed when t
// ends: SQLite in a temporary directory and PostgreSQL on a database of
// its own.
var demoStores = []struct {
	name string
	open func(t *testing.T) server.Store
}{
	{"sqlite", func(t *testing.T) server.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fieldsync.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"postgres", func(t *testing.T) server.Store {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
}

// TestVehicleStatsSeeded: on every store, the demo's vehicle checks add up
// to the plan's figures, per checkpoint and in scope, and loading the demo
// again adds nothing.
func TestVehicleStatsSeeded(t *testing.T) {
	for _, st := range demoStores {
		t.Run(st.name, func(t *testing.T) { testVehicleStatsSeeded(t, st.open(t)) })
	}
}

func testVehicleStatsSeeded(t *testing.T, db server.Store) {
	ctx := context.Background()
	s := server.NewSyncer(db, nil)
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.LoadReference(ctx, s, set); err != nil {
		t.Fatal(err)
	}
	a := &app.App{Cfg: app.Config{BcryptCost: bcrypt.MinCost}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Syncer: s}
	if err := a.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		stats, err := db.VehicleStats(ctx, server.VehicleQuery{Scope: server.Scope{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		_, byCampaign := server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.Campaign })
		_, byPoint := server.SumVehicleStats(stats, func(v server.VehicleStat) string { return v.Checkpoint })
		roadside, week := byCampaign["豆罗、秦城检查站联合路检"], byCampaign["燃气货车七日专项行动"]
		for name, c := range map[string]struct {
			got                     server.VehicleStat
			trucks, g5, g6, removed int
			rate                    float64
		}{
			// The plan: 359 checked at 豆罗 and 秦城, 国五 179 and 国六 181
			// (179 + 181 = 360: the demo keeps the total and has 国五 178,
			// seeds/README.md); 549 in the 7-day action, 国五 238, 国六 311.
			"豆罗+秦城":  {roadside, 359, 178, 181, 22, 12.2},
			"豆罗":     {byPoint["豆罗检查站"], 129, 79, 50, 11, 22.0},
			"秦城":     {byPoint["秦城检查站"], 230, 99, 131, 11, 8.4},
			"七日专项行动": {week, 549, 238, 311, 41, 13.2},
			"代县G108": {byPoint["代县G108国道过境段检查点"], 140, 60, 80, 11, 13.8},
			"保德S249": {byPoint["保德县S249省道检查点"], 130, 57, 73, 9, 12.3},
		} {
			if c.got.Trucks != c.trucks || c.got.G5 != c.g5 || c.got.G6 != c.g6 || c.got.Removed != c.removed || c.got.Rate() != c.rate {
				t.Errorf("%s: %+v rate %.1f, want %d/%d/%d/%d %.1f", name, c.got, c.got.Rate(), c.trucks, c.g5, c.g6, c.removed, c.rate)
			}
		}
		if r := roadside.Rate(); int(r+0.5) != 12 {
			t.Errorf("roadside rate %.1f, the plan says 12%%", r)
		}
	}
	check()
	// Scope: a county sees its own checkpoints' records only.
	if stats, err := db.VehicleStats(ctx, server.VehicleQuery{Scope: server.Scope{Counties: []string{"140925"}}}); err != nil || len(stats) != 0 {
		t.Errorf("宁武县 scope: %+v %v", stats, err)
	}
	if stats, err := db.VehicleStats(ctx, server.VehicleQuery{Scope: server.Scope{Counties: []string{"140923"}}}); err != nil || len(stats) != 1 ||
		stats[0].Checkpoint != "代县G108国道过境段检查点" || stats[0].Trucks != 140 {
		t.Errorf("代县 scope: %+v %v", stats, err)
	}
	// A phone renames a demo site and corrects a demo roadside check; a
	// second load (a restart with --demo) keeps their values.
	demo, err := seeds.LoadDemo()
	if err != nil {
		t.Fatal(err)
	}
	site := demo.Sites[0]
	checks, _, err := db.Changes(ctx, server.Scope{Counties: []string{"140923"}}, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var check0 string
	for _, r := range checks {
		if r.Entity.Name == syncproto.EntityVehicleCheck {
			check0 = r.ID
			break
		}
	}
	phone := storetest.Inspector(t, db, site.County)
	other := storetest.Inspector(t, db, "140923")
	for _, w := range []struct {
		p      *server.Principal
		entity string
		id     string
		field  string
	}{{phone, syncproto.EntitySite, site.ID, "name"}, {other, syncproto.EntityVehicleCheck, check0, "note"}} {
		m := syncproto.Mutation{Entity: w.entity, ID: w.id, HLC: syncproto.HLC{Wall: time.Now().UnixMilli(), Node: w.p.DeviceID}.String(),
			Fields: map[string]json.RawMessage{w.field: json.RawMessage(`"手机更正"`)}}
		resp, err := s.Push(ctx, w.p, &syncproto.PushRequest{DeviceID: w.p.DeviceID, BatchID: uuid.NewString(), Mutations: []syncproto.Mutation{m}})
		if err != nil || resp.Results[0].Status != syncproto.StatusApplied {
			t.Fatalf("phone's change to %s: %+v %v", w.entity, resp, err)
		}
	}
	phoneValues := func() {
		t.Helper()
		for _, w := range [][3]string{{syncproto.EntitySite, site.ID, "name"}, {syncproto.EntityVehicleCheck, check0, "note"}} {
			r, err := db.Get(ctx, w[0], w[1])
			if err != nil || r == nil || r.Text(w[2]) != "手机更正" {
				t.Errorf("%s %s after a second load: %v %v, want the phone's value", w[0], w[2], r, err)
			}
		}
	}
	phoneValues()
	// Idempotent: a second load writes nothing.
	maxSeq := func() int64 {
		recs, _, err := db.Changes(ctx, server.Scope{All: true}, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		var m int64
		for _, r := range recs {
			m = max(m, r.Seq)
		}
		return m
	}
	before := maxSeq()
	if err := a.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if after := maxSeq(); after != before {
		t.Errorf("second demo load advanced the feed from %d to %d", before, after)
	}
	check()
	phoneValues()
}

// TestDemoOnTwoServersAtOnce: two servers started at once with the demo
// on one fresh PostgreSQL database both start, and the demo is written
// once: the month's inspections are those of one server's demo.
func TestDemoOnTwoServersAtOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	open := func() (*app.App, error) {
		cfg := app.DefaultConfig()
		cfg.DataDir, cfg.Database, cfg.Demo, cfg.DemoMonth, cfg.DemoDays, cfg.BcryptCost = t.TempDir(), dsn, true, true, 3, bcrypt.MinCost
		return app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	apps := make([]*app.App, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range apps {
		wg.Go(func() { apps[i], errs[i] = open() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		defer apps[i].Close()
	}
	count := func(a *app.App) int {
		recs, _, err := a.DB.Changes(ctx, server.Scope{All: true}, 0, 1000000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range recs {
			if r.Entity.Name == syncproto.EntityInspection {
				n++
			}
		}
		return n
	}
	one := count(apps[0])
	// The same demo alone on a database of its own.
	cfg := app.DefaultConfig()
	cfg.DataDir, cfg.Database, cfg.Demo, cfg.DemoMonth, cfg.DemoDays, cfg.BcryptCost = t.TempDir(), pgtest.NewDatabase(t), true, true, 3, bcrypt.MinCost
	alone, err := app.OpenStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	if want := count(alone); one != want || one == 0 {
		t.Errorf("%d inspections after two servers started at once, want the demo's %d", one, want)
	}
}
