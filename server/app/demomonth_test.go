package app

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/geo"
)

var testDay0 = time.Date(2026, 11, 30, 0, 0, 0, 0, chinaTime)

func testPlan(t testing.TB, day0 time.Time) *demoMonth {
	t.Helper()
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := seeds.LoadDemo()
	if err != nil {
		t.Fatal(err)
	}
	return planDemoMonth(set, demo, day0, demoDays)
}

// planJSON is everything a plan writes except the photo bytes, for
// comparing plans.
func planJSON(t testing.TB, m *demoMonth) string {
	t.Helper()
	visits, photos := m.batches()
	var ids []string
	for _, b := range photos {
		for _, p := range b.photos {
			ids = append(ids, p.id, p.hlc, p.fraud)
		}
	}
	b, err := json.Marshal(map[string]any{"visits": visits, "photos": ids})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDemoPlanDeterministic: the same day gives the same month, mutation
// for mutation (HLCs included), so re-sent batches are replays; another
// day gives the same records (ids) at other times, so a later start can
// find the month's first visit by id and date the month from it.
func TestDemoPlanDeterministic(t *testing.T) {
	a, b := testPlan(t, testDay0), testPlan(t, testDay0)
	if planJSON(t, a) != planJSON(t, b) {
		t.Fatal("two plans of the same day differ")
	}
	later := testPlan(t, testDay0.AddDate(0, 0, 9))
	if len(later.visits) != len(a.visits) {
		t.Fatalf("%d visits on another day, %d on the first", len(later.visits), len(a.visits))
	}
	for i := range a.visits {
		if a.visits[i].id != later.visits[i].id || !later.visits[i].start.Equal(a.visits[i].start.AddDate(0, 0, 9)) {
			t.Fatalf("visit %d: %s at %v, then %s at %v", i, a.visits[i].id, a.visits[i].start, later.visits[i].id, later.visits[i].start)
		}
	}
	if first := a.visits[0]; first.day != demoDays {
		t.Errorf("the first visit is %d days before the demo's day, want %d (demoDay dates the month by it)", first.day, demoDays)
	}
}

// TestDemoPlanIsAMonth: several inspectors in several counties, every
// template, a few hundred visits (most submitted and complete, some drafts,
// some incomplete), findings due in the past and rectified, decisions both
// ways, every planted fraud — and a bounded amount of work.
func TestDemoPlanIsAMonth(t *testing.T) {
	m := testPlan(t, testDay0)
	photos := m.photos()
	if n := len(m.visits); n < 250 || n > 450 {
		t.Errorf("%d visits, want a few hundred (250–450)", n)
	}
	// The work a start does is bounded: JPEGs encoded, photos, mutations.
	scenes := map[[2]uint64]bool{}
	for _, p := range photos {
		scenes[[2]uint64{p.scene, uint64(p.quality)}] = true
	}
	if len(photos) < 1500 || len(photos) > 3000 || len(scenes) > 700 {
		t.Errorf("%d photos from %d pictures, want 1500–3000 from at most 700", len(photos), len(scenes))
	}
	// A complete inspection has a photo of every photo-required item; an
	// incomplete one lacks one; a draft's are a prefix of its answers'.
	for _, v := range m.visits {
		shot := map[string]bool{}
		for _, p := range v.photos {
			shot[p.item] = true
		}
		var unshot []string
		for _, it := range v.tmpl.Items {
			if it.PhotoRequired && !shot[it.Key] {
				unshot = append(unshot, it.Key)
			}
		}
		if v.submitted && !v.incomplete && len(unshot) > 0 {
			t.Errorf("complete visit %s (%s) has no photo of %v", v.id, v.tmpl.ID, unshot)
		}
		if v.incomplete && len(unshot) == 0 {
			t.Errorf("incomplete visit %s has a photo of every item", v.id)
		}
		// Answers in the form answers.schema.json gives them, as the
		// field app writes them: an object with result or value.
		for _, it := range v.tmpl.Items {
			a, ok := v.answers[it.Key]
			if !ok {
				continue
			}
			m, isObject := a.(map[string]any)
			_, hasResult := m["result"]
			_, hasValue := m["value"]
			if !isObject || it.Type == seeds.ItemTypeCheck && !hasResult || !hasResult && !hasValue {
				t.Errorf("visit %s answers %s (%s) with %#v, want {result} or {value}", v.id, it.Key, it.Type, a)
				break
			}
		}
	}
	visits, _ := m.batches()
	mutations := 0
	for _, b := range visits {
		mutations += len(b.mutations)
		if len(b.mutations) > 1000 {
			t.Errorf("batch %s has %d mutations, more than a push takes", b.id, len(b.mutations))
		}
	}
	if mutations > 2500 {
		t.Errorf("%d mutations at start-up, want at most 2500", mutations)
	}

	inspectors, counties, templates := map[string]bool{}, map[string]bool{}, map[string]int{}
	var drafts, incomplete, approved, returned, pending, findings, overdue, rectified int
	for _, v := range m.visits {
		inspectors[v.dev.user.Username] = true
		counties[v.site.county] = true
		templates[v.tmpl.ID]++
		switch {
		case !v.submitted:
			drafts++
		case v.review == server.DecisionApprove:
			approved++
		case v.review == server.DecisionReturn:
			returned++
			if v.comment == "" {
				t.Errorf("visit %s returned without a comment", v.id)
			}
		default:
			pending++
		}
		if v.incomplete {
			incomplete++
		}
		for _, f := range v.findings {
			findings++
			if f.status != "rectified" && f.deadline < testDay0.Format(time.DateOnly) {
				overdue++
			}
			if f.status == "rectified" {
				rectified++
			}
		}
		if v.end.After(testDay0) {
			t.Errorf("visit %s ends %v, after the demo's day: its HLCs would be in the future", v.id, v.end)
		}
	}
	if len(inspectors) < 6 || len(counties) < 4 {
		t.Errorf("%d inspectors in %d counties, want at least 6 in 4", len(inspectors), len(counties))
	}
	set, _ := seeds.Load()
	for _, tp := range set.Templates {
		if templates[tp.ID] < 5 {
			t.Errorf("template %s has %d inspections, want at least 5", tp.ID, templates[tp.ID])
		}
	}
	for name, n := range map[string]int{"drafts": drafts, "incomplete": incomplete, "approved": approved, "returned": returned,
		"waiting for review": pending, "findings": findings, "overdue findings": overdue, "rectified findings": rectified} {
		if n == 0 {
			t.Errorf("no %s", name)
		}
	}
	if approved < len(m.visits)/3 {
		t.Errorf("%d of %d visits approved; most of a month's work should be", approved, len(m.visits))
	}

	frauds := map[string]int{}
	for _, p := range photos {
		frauds[p.fraud]++
		if (p.fraud == demoReused || p.fraud == demoNear) && (p.source == nil || p.source.visit.site == p.visit.site) {
			t.Errorf("%s photo %s has no source at another site", p.fraud, p.id)
		}
	}
	for _, fc := range demoFraudCounts {
		if frauds[fc.fraud] != fc.n {
			t.Errorf("%d %s photos, want %d", frauds[fc.fraud], fc.fraud, fc.n)
		}
	}
	if frauds[demoPending] == 0 {
		t.Error("no photo waits for its upload")
	}

	// The site a phone placed on a GCJ-02 map is visited.
	visited := false
	for _, v := range m.visits {
		if len(m.newSites) > 0 && v.site == m.newSites[0] {
			visited = true
			if d := geo.DistanceM(geo.GCJ02ToWGS84(v.site.sent), v.site.at); d > 1 {
				t.Errorf("the phone's site was sent %.0f m from where it is", d)
			}
		}
	}
	if !visited {
		t.Error("nobody visits the site a phone created")
	}
}

// TestDemoVehicleChecks: the plan's roadside figures, per action, at
// checkpoints in the counties they are in.
func TestDemoVehicleChecks(t *testing.T) {
	type sum struct{ trucks, g5, g6, bad int }
	byCampaign, byCounty := map[string]*sum{}, map[string]map[string]bool{}
	for _, v := range demoVehicleChecks() {
		c := v.values["campaign"].(string)
		if byCampaign[c] == nil {
			byCampaign[c] = &sum{}
		}
		s := byCampaign[c]
		s.trucks++
		switch v.values["emission_stage"] {
		case vehicleValue("emission_stage", "国五"):
			s.g5++
		case vehicleValue("emission_stage", "国六"):
			s.g6++
			if v.values["aftertreatment"] == vehicleValue("aftertreatment", "removed") {
				s.bad++
			}
		}
		if byCounty[v.county] == nil {
			byCounty[v.county] = map[string]bool{}
		}
		byCounty[v.county][v.values["checkpoint"].(string)] = true
	}
	if s := byCampaign[demoJointAction]; *s != (sum{359, 178, 181, 22}) {
		t.Errorf("joint action: %+v, want 359 trucks, 国五 178 (the plan's 179 makes 360), 国六 181, 22 removed", *s)
	}
	if s := byCampaign[demoSevenDays]; *s != (sum{549, 238, 311, 41}) {
		t.Errorf("7-day action: %+v, want 549, 238, 311, 41", *s)
	}
	demo, _ := seeds.LoadDemo()
	for county, points := range byCounty {
		for cp := range points {
			if !slices.ContainsFunc(demo.Sites, func(s seeds.Site) bool { return s.County == county && s.Name == cp && s.Kind == "checkpoint" }) {
				t.Errorf("checkpoint %s is not a demo checkpoint site of county %s", cp, county)
			}
		}
	}
	if len(byCounty) < 5 {
		t.Errorf("roadside checks in %d counties, want the 5 whose checkpoints the actions used", len(byCounty))
	}
}

// TestDemoTaskProgress: the rows the task-progress hook receives cover
// every task, in the counties it names, with valid statuses.
func TestDemoTaskProgress(t *testing.T) {
	set, _ := seeds.Load()
	rows := planDemoTaskProgress(set, testDay0)
	per := map[string]int{}
	for _, r := range rows {
		per[r.TaskID]++
		if !slices.Contains(server.TaskStatuses, r.Status) || r.Pct < 0 || r.Pct > 100 || !r.At.Before(testDay0) {
			t.Errorf("row %+v", r)
		}
	}
	for _, task := range set.Tasks {
		if len(task.Counties) > 0 && per[task.ID] != len(task.Counties) {
			t.Errorf("task %s: %d rows for %d counties", task.Number, per[task.ID], len(task.Counties))
		}
		if per[task.ID] == 0 {
			t.Errorf("task %s has no progress rows", task.Number)
		}
	}
}
