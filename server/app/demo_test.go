package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"golang.org/x/crypto/bcrypt"
)

// startDemo runs the real server with --demo on a loopback port with dir
// as its data directory, and returns it with a function that stops it.
// before, if any, see the app opened before it serves.
func startDemo(t testing.TB, dir string, before ...func(*App)) (*App, func()) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Demo, cfg.BcryptCost = "127.0.0.1:0", dir, true, bcrypt.MinCost
	// The photos of 30 days take many minutes to process under the race
	// detector; three days still have every planted condition and the
	// rest checkDemoPlan asks of the plan.
	cfg.DemoDays = 3
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := a.Listen(); err != nil {
		a.Close()
		t.Fatal(err)
	}
	for _, f := range before {
		f(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return a, stop
}

// feed is what the store holds: records per entity and the last sequence
// number of the change feed.
type feed struct {
	counts map[string]int
	seq    int64
}

func readFeed(t testing.TB, a *App) feed {
	t.Helper()
	recs, more, err := a.DB.Changes(context.Background(), server.Scope{All: true}, 0, 1<<30)
	if err != nil || more {
		t.Fatalf("changes: %v (more: %v)", err, more)
	}
	f := feed{counts: map[string]int{}}
	for _, r := range recs {
		f.counts[r.Entity.Name]++
		f.seq = max(f.seq, r.Seq)
	}
	return f
}

// TestDemoMonthThroughTheServer starts the real server with --demo on a
// fresh directory: the month's records are there when it serves; its
// photos follow, stored through the upload path and processed by the
// pool, which flags every planted fraud and nothing else (honest photos at
// the site a phone placed on a GCJ-02 map included). The demo gives way
// to real phones: with a device's request in flight it waits, and sends
// anyway once its patience runs out. A second start on the same directory
// adds nothing.
func TestDemoMonthThroughTheServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// The first time the demo gives way it stops in the hook, having
	// waited, until the test has looked.
	const patience = 50 * time.Millisecond
	gaveWay, looked := make(chan time.Duration, 1), make(chan struct{})
	var once, lookedOnce sync.Once
	doneLooking := func() { lookedOnce.Do(func() { close(looked) }) }
	demoGaveWay = func(waited time.Duration) {
		once.Do(func() {
			gaveWay <- waited
			<-looked
		})
	}
	t.Cleanup(func() { demoGaveWay = nil }) // after the servers stop
	var endRequest func()
	a, stop := startDemo(t, dir, func(a *App) {
		endRequest = a.Activity.Begin()
		a.demoPatience = patience
	})
	t.Cleanup(doneLooking) // before the server stops, should the test fail first
	set, _ := seeds.Load()
	demo, _ := seeds.LoadDemo()
	day0, err := a.demoDay(ctx, set, demo)
	if err != nil {
		t.Fatal(err)
	}
	m := planDemoMonth(set, demo, day0, a.demoDays())
	checkDemoPlan(t, m)
	// At once: every visit, and the decisions.
	if f := readFeed(t, a); f.counts[syncproto.EntityInspection] != len(m.visits) {
		t.Fatalf("%d inspections when the server starts serving, want %d", f.counts[syncproto.EntityInspection], len(m.visits))
	}
	// A device's request is in flight: the demo waits for its patience
	// before it sends any photo, and, the request never ending, sends
	// them all anyway, a batch each time its patience runs out.
	select {
	case waited := <-gaveWay:
		// Its patience began a moment before its wait did.
		if waited < patience/2 {
			t.Errorf("the demo waited %v for a device's request in flight, want about its patience, %v", waited, patience)
		}
	case <-time.After(time.Minute): // a hang, not a timing
		t.Fatal("the demo's photos did not give way to the device's request in flight")
	}
	if n := readFeed(t, a).counts[syncproto.EntityPhoto]; n != 0 {
		t.Errorf("%d demo photos sent before the demo gave way to a device's request in flight", n)
	}
	doneLooking()
	a.WaitDemo()
	endRequest()
	a.Photos.WaitIdle()

	checkDemoPhotos(t, a, m)
	checkDemoCompleteness(t, a, m)
	checkDemoDevices(t, a, m)
	checkDemoTimes(t, a, m)
	// Acceptance is the city's to record: an accepted row reads as the
	// city's office's report (city probe: 已验收, 填报：宁武县督查室).
	if accepted, err := a.DB.Find(ctx, syncproto.EntityTaskProgress, "status", syncproto.TaskAccepted); err != nil || len(accepted) == 0 {
		t.Errorf("the demo's accepted progress rows: %d (%v)", len(accepted), err)
	} else {
		for _, r := range accepted {
			if by := r.Text("reported_by_name"); by != "市督查室" {
				t.Errorf("accepted progress %s reported by %q, want 市督查室", r.ID, by)
			}
		}
	}
	first := readFeed(t, a)
	reviews := 0
	for _, v := range m.visits {
		if v.review != "" {
			reviews++
		}
	}
	for entity, want := range map[string]int{syncproto.EntityPhoto: len(m.photos()), syncproto.EntityReview: reviews,
		syncproto.EntitySite:         len(demo.Sites) + len(m.newSites),
		syncproto.EntityTaskProgress: len(planDemoTaskProgress(set, day0))} {
		if first.counts[entity] != want {
			t.Errorf("%d %s records, want %d", first.counts[entity], entity, want)
		}
	}
	// An office revokes a demo phone: the next start skips it.
	if err := a.DB.RevokeDevice(ctx, m.devices[5].id, time.Now()); err != nil {
		t.Fatal(err)
	}
	stop()

	a, _ = startDemo(t, dir)
	a.WaitDemo()
	a.Photos.WaitIdle()
	if again := readFeed(t, a); again.seq != first.seq || !equalCounts(again.counts, first.counts) {
		t.Errorf("a second start wrote to the store: seq %d → %d, records %v → %v", first.seq, again.seq, first.counts, again.counts)
	}

	// A start days later dates the month as the first did, and a start
	// cut short before it was written sends the same batches again:
	// replays, which change nothing.
	later := &App{Cfg: a.Cfg, Syncer: server.NewSyncer(a.DB, func() time.Time { return time.Now().AddDate(0, 0, 3) })}
	if d, err := later.demoDay(ctx, set, demo); err != nil || !d.Equal(day0) {
		t.Errorf("three days later the month ends %v (%v), want %v", d, err, day0)
	}
	principals, written, err := a.demoDevices(ctx, m)
	if err != nil || !written {
		t.Fatalf("the month is not seen as written (%v)", err)
	}
	visits, _ := m.batches()
	if err := a.writeDemoMonth(ctx, m, visits, principals); err != nil {
		t.Fatalf("writing the month again: %v", err)
	}
	if again := readFeed(t, a); again.seq != first.seq {
		t.Errorf("writing the month again moved the feed from %d to %d", first.seq, again.seq)
	}
}

// checkDemoTimes: the month reads as a month of work — each visit reached
// the server on its day, after it was made (the console said of every
// one that it arrived days late), and each decision on it came after it
// arrived, the next morning, in the past.
func checkDemoTimes(t *testing.T, a *App, m *demoMonth) {
	t.Helper()
	ctx := context.Background()
	for _, v := range m.visits {
		r, err := a.DB.Get(ctx, syncproto.EntityInspection, v.id)
		if err != nil || r == nil {
			t.Fatalf("visit %s: %v", v.id, err)
		}
		if got := r.CreatedAt; got.Before(v.start) || got.Sub(v.start) > 24*time.Hour {
			t.Errorf("visit of %s received %v, want on its day, after %v", v.start.Format(time.DateTime), got, v.start)
		}
		if v.review == "" {
			continue
		}
		rs, err := a.DB.Find(ctx, syncproto.EntityReview, "inspection_id", v.id)
		if err != nil || len(rs) != 1 {
			t.Fatalf("visit %s: %d reviews (%v)", v.id, len(rs), err)
		}
		decided, _ := time.Parse(time.RFC3339Nano, rs[0].Text("decided_at"))
		if !decided.After(r.CreatedAt) || decided.After(time.Now()) || decided.Sub(r.CreatedAt) > 3*24*time.Hour {
			t.Errorf("visit received %v decided %v, want after it and within days, in the past", r.CreatedAt, decided)
		}
	}
}

// checkDemoPlan fails the test unless the shortened month it runs still
// has what the checks below are about: every planted condition, photos
// waiting on a phone, honest uploaded photos from phones of each
// coordinate system, and some at the site a phone placed on a GCJ-02 map.
func checkDemoPlan(t *testing.T, m *demoMonth) {
	t.Helper()
	planted := map[string]int{}
	honest := map[string]int{} // by the phone's crs, and "new site"
	for _, p := range m.photos() {
		planted[p.fraud]++
		if p.fraud == "" && p.upload {
			honest[p.visit.dev.crs]++
			if slices.Contains(m.newSites, p.visit.site) {
				honest["new site"]++
			}
		}
	}
	for _, c := range []string{demoFar, demoEdited, demoStale, demoReused, demoNear, demoMock, demoNoGPS, demoPending} {
		if planted[c] == 0 {
			t.Errorf("the %d-day demo month plants no %q photo", m.days, c)
		}
	}
	for _, k := range []string{geo.WGS84, geo.GCJ02, "new site"} {
		if honest[k] == 0 {
			t.Errorf("the %d-day demo month has no honest uploaded photo of %q", m.days, k)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// demoFlags is the flag each planted condition must raise.
var demoFlags = map[string]string{demoFar: "far_from_site", demoEdited: "edited", demoStale: "time_mismatch", demoReused: "duplicate",
	demoNear: "near_duplicate", demoMock: "mock_location", demoNoGPS: "no_gps"}

// checkDemoPhotos checks each planned photo's record: uploaded unless its
// bytes wait on the phone; a planted fraud raises its flag (a reused
// photo also its other site's position and time, and its picture is a
// near duplicate), the photo it copies is flagged in turn, and every other
// photo is clean.
func checkDemoPhotos(t *testing.T, a *App, m *demoMonth) {
	t.Helper()
	// The photo a fraud copies is not flagged (the reuse is): it carries
	// a reused_by note naming the kinds of reuse.
	sources := map[*demoPhoto][]string{}
	for _, p := range m.photos() {
		switch p.fraud {
		case demoReused:
			sources[p.source] = append(sources[p.source], "duplicate") // an exact copy is no near duplicate too
		case demoNear:
			sources[p.source] = append(sources[p.source], "near_duplicate")
		}
	}
	for _, p := range m.photos() {
		r, err := a.DB.Get(context.Background(), syncproto.EntityPhoto, p.id)
		if err != nil || r == nil {
			t.Fatalf("photo %s: %v", p.id, err)
		}
		if r.Uploaded() != p.upload {
			t.Errorf("photo %s (%s): uploaded %v, want %v", p.id, p.fraud, r.Uploaded(), p.upload)
			continue
		}
		if !p.upload {
			continue
		}
		var flags map[string]any
		_ = json.Unmarshal(r.Value("flags"), &flags)
		var got []string
		for k := range flags {
			got = append(got, k)
		}
		sort.Strings(got)
		var want []string
		switch {
		case p.fraud == demoReused:
			if !slices.Contains(got, "duplicate") {
				t.Errorf("reused photo %s: flags %v, want duplicate among them", p.id, got)
			}
			continue
		case demoFlags[p.fraud] != "":
			want = []string{demoFlags[p.fraud]}
		case sources[p] != nil:
			var notes struct {
				ReusedBy struct {
					Photos []struct{ Kind string }
				} `json:"reused_by"`
			}
			_ = json.Unmarshal(r.Value("notes"), &notes)
			kinds := map[string]bool{}
			for _, ref := range notes.ReusedBy.Photos {
				kinds[ref.Kind] = true
			}
			for _, k := range sources[p] {
				if !kinds[k] {
					t.Errorf("original photo %s: notes %s, want reused_by of kind %s", p.id, r.Value("notes"), k)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("photo %s (%q at %s, %s): flags %v, want %v: %s", p.id, p.fraud, p.visit.site.name, p.visit.dev.crs, got, want, r.Value("flags"))
		}
	}
}

// checkDemoCompleteness checks what the server says each visit lacks
// once its photos are in: nothing for a complete submission whose photos
// were uploaded, an upload for one whose photos wait on the phone,
// something for an incomplete submission — and that most of the month's
// inspections are complete.
func checkDemoCompleteness(t *testing.T, a *App, m *demoMonth) {
	t.Helper()
	complete, submitted := 0, 0
	for _, v := range m.visits {
		if v.submitted {
			submitted++
		}
		r, err := a.DB.Get(context.Background(), syncproto.EntityInspection, v.id)
		if err != nil || r == nil {
			t.Fatalf("inspection %s: %v", v.id, err)
		}
		var missing []syncproto.MissingItem
		if err := json.Unmarshal(r.Value("missing_items"), &missing); err != nil {
			t.Fatalf("inspection %s: missing_items %s: %v", v.id, r.Value("missing_items"), err)
		}
		waiting := slices.ContainsFunc(v.photos, func(p *demoPhoto) bool { return !p.upload })
		uploadMissing := slices.ContainsFunc(missing, func(mi syncproto.MissingItem) bool { return mi.Reason == syncproto.MissingUpload })
		switch {
		case v.submitted && !v.incomplete && !waiting:
			if len(missing) > 0 {
				t.Errorf("complete inspection %s (%s) lacks %+v", v.id, v.tmpl.ID, missing)
			}
			complete++
		case v.submitted && !v.incomplete:
			if !uploadMissing {
				t.Errorf("inspection %s whose photos wait on the phone lacks %+v, want an upload among them", v.id, missing)
			}
		case v.incomplete && len(missing) == 0:
			t.Errorf("incomplete inspection %s lacks nothing", v.id)
		}
	}
	// Drafts are not (yesterday's later visits, a short demo's third).
	if complete*10 < submitted*7 {
		t.Errorf("%d of %d submitted demo inspections are complete, want most (70%%)", complete, submitted)
	}
}

// checkDemoDevices checks the devices page's facts: every demo phone
// pushed and pulled, and the one without signal has photos waiting.
func checkDemoDevices(t *testing.T, a *App, m *demoMonth) {
	t.Helper()
	ds, err := a.DB.Devices(context.Background(), server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*server.Device{}
	for _, d := range ds {
		byID[d.ID] = d
	}
	waiting := 0
	for _, p := range m.photos() {
		if !p.upload {
			waiting++
		}
	}
	pending := 0
	for _, d := range m.devices {
		got := byID[d.id]
		if got == nil || got.Health.LastPushAt == nil || got.Health.LastPullAt == nil {
			t.Errorf("device %s: %+v, want one that pushed and pulled", d.name, got)
			continue
		}
		pending += got.Health.PendingUploads
	}
	if pending != waiting {
		t.Errorf("%d photos wait on the demo phones, want %d", pending, waiting)
	}
}
