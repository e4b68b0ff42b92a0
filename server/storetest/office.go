package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// officeCases: what the office console reads. Every list is scoped, and
// the figures are exact counts of a small known data set.
var officeCases = []testCase{
	{"Inspections", testInspections},
	{"InspectionTally", testInspectionTally},
	{"InspectionQueue", testInspectionQueue},
	{"InspectionQueueCounts", testInspectionQueueCounts},
	{"Vehicles", testVehicles},
	{"VoidedVehicles", testVoidedVehicles},
	{"Tasks", testTasks},
	{"MonthlyReport", testMonthlyReport},
	{"Search", testSearch},
	{"SearchInvisible", testSearchInvisible},
	{"Overview", testOverview},
	{"Sites", testSites},
	{"Findings", testFindings},
}

// office is the office fixture: two counties' inspections in every status,
// findings, photos with and without evidence flags, and roadside checks.
//
//	A  忻府 coal_yard          submitted 2026-11-01  2 failed answers, photo flagged no_gps, finding fA (due 12-31)
//	B  忻府 construction_dust  approved  2026-11-03  finding fB (due 11-10, open) with a photo flagged far_from_site
//	C  定襄 construction_dust  submitted 2026-11-02  clean photo, finding fC (due 11-01, rectified)
//	D  忻府 coal_yard          draft     2026-11-04  (never listed)
//	E  忻府 coal_yard          returned  2026-10-15
type officeData struct {
	e              *env
	dx, dn         *device // inspectors of 忻府 and 定襄
	siteA, siteB   string  // 红星砖厂 (factory), 东风煤场 (coal_yard), both 忻府
	siteC          string  // 定襄砖厂
	a, b, c, d, x  string  // inspections (x is E)
	fA, fB, fC     string
	photoA, photoB string
	photoC         string
	v1, v2, v3, v4 string // roadside checks
	scopeX, scopeN server.Scope
	all            server.Scope
	nameX          string
}

func newOffice(t *testing.T, open Opener) *officeData {
	e := seeded(t, open)
	o := &officeData{e: e, all: server.Scope{All: true},
		scopeX: server.Scope{Counties: []string{xinfu}}, scopeN: server.Scope{Counties: []string{dingxia}}}
	o.dx, o.dn = e.inspector(xinfu), e.inspector(dingxia)
	o.nameX = o.dx.p.Name
	site := func(d *device, county, name, kind, address string) string {
		id := uuid.NewString()
		d.pushOK(d.mut(syncproto.EntitySite, id, map[string]any{"county": county, "kind": kind, "name": name, "address": address}))
		return id
	}
	o.siteA = site(o.dx, xinfu, "红星砖厂", "factory", "长征街100%号")
	o.siteB = site(o.dx, xinfu, "东风煤场", "coal_yard", "建设路_1号")
	o.siteC = site(o.dn, dingxia, "定襄砖厂", "factory", "北关村")
	insp := func(d *device, site, template, started string, answers map[string]any) string {
		id := uuid.NewString()
		f := map[string]any{"site_id": site, "template_id": template, "template_version": 1, "started_at": started,
			"status": "draft", "summary": "例行检查"}
		for k, v := range answers {
			f["answers."+k] = v
		}
		d.pushOK(d.mut(syncproto.EntityInspection, id, f))
		return id
	}
	o.a = insp(o.dx, o.siteA, "coal_yard", "2026-11-01T09:00:00+08:00", map[string]any{
		"closed_shed": map[string]any{"result": "fail", "note": `东侧"苫盖"破损，见 C:\堆场`}, "floor_paved": false, "dust_suppression": map[string]any{"result": "pass"}})
	o.b = insp(o.dx, o.siteB, "construction_dust", "2026-11-03T09:00:00+08:00", nil)
	o.c = insp(o.dn, o.siteC, "construction_dust", "2026-11-02T09:00:00+08:00", nil)
	o.d = insp(o.dx, o.siteA, "coal_yard", "2026-11-04T09:00:00+08:00", nil)
	o.x = insp(o.dx, o.siteA, "coal_yard", "2026-10-15T09:00:00+08:00", nil)
	finding := func(d *device, insp, desc, deadline, status string) string {
		id := uuid.NewString()
		d.pushOK(d.mut(syncproto.EntityFinding, id, map[string]any{"inspection_id": insp, "description": desc,
			"deadline": deadline, "status": status}))
		return id
	}
	o.fA = finding(o.dx, o.a, "料棚未封闭", "2026-12-31", "open")
	o.fB = finding(o.dx, o.b, "围挡缺失", "2026-11-10", "open")
	o.fC = finding(o.dn, o.c, "道路未硬化", "2026-11-01", "rectified")
	photo := func(d *device, parent, id string, n int, flags map[string]any) string {
		pid := uuid.NewString()
		d.pushOK(d.mut(syncproto.EntityPhoto, pid, map[string]any{parent: id, "sha256": sha(n), "content_type": "image/jpeg"}))
		if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, pid, map[string]any{"flags": flags}); err != nil {
			t.Fatal(err)
		}
		return pid
	}
	o.photoA = photo(o.dx, "inspection_id", o.a, 1, map[string]any{"no_gps": map[string]any{}})
	o.photoB = photo(o.dx, "finding_id", o.fB, 2, map[string]any{"far_from_site": map[string]any{"distance_m": 900}})
	o.photoC = photo(o.dn, "inspection_id", o.c, 3, map[string]any{})
	for _, id := range []string{o.a, o.b, o.x} {
		o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, id, map[string]any{"status": "submitted"}))
	}
	o.dn.pushOK(o.dn.mut(syncproto.EntityInspection, o.c, map[string]any{"status": "submitted"}))
	reviewer := e.office(server.RoleCityOffice)
	e.advance(time.Second)
	if _, err := e.s.Review(e.ctx, reviewer, o.b, server.DecisionApprove, "", server.Seen{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Review(e.ctx, reviewer, o.x, server.DecisionReturn, "重拍", server.Seen{}); err != nil {
		t.Fatal(err)
	}
	vc := func(d *device, county, checkpoint, campaign, plate, stage, after, at string) string {
		id := uuid.NewString()
		d.pushOK(d.mut(syncproto.EntityVehicleCheck, id, map[string]any{"county": county, "checkpoint": checkpoint,
			"campaign": campaign, "plate": plate, "emission_stage": stage, "aftertreatment": after, "checked_at": at,
			"vin": "LZZ1BLSE9KD120" + plate[len(plate)-3:]})) // 17 characters
		return id
	}
	o.v1 = vc(o.dx, xinfu, "豆罗检查站", "七日专项", "晋HAB123", "cn6", "removed", "2026-11-18T10:00:00+08:00")
	// The same checkpoint and action, typed with spaces around them
	// (server.LabelSpaces): the statistics count them as one.
	o.v2 = vc(o.dx, xinfu, "豆罗检查站 ", "七日专项", "晋HCD456", "cn6", "present", "2026-11-10T10:00:00+08:00")
	o.v3 = vc(o.dx, xinfu, "\u3000豆罗检查站", "七日专项\u00a0", "晋HEF789", "cn5", "removed", "2026-11-18T11:00:00+08:00")
	o.v4 = vc(o.dn, dingxia, "秦城检查站", "", "晋HGH012", "cn6", "removed", "2026-11-20T10:00:00+08:00")
	return o
}

func testInspections(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	for _, tc := range []struct {
		name  string
		q     server.InspectionQuery
		want  []string
		total int
	}{
		{"all", server.InspectionQuery{Scope: o.all}, []string{o.b, o.c, o.a, o.x}, 4},
		{"county scope", server.InspectionQuery{Scope: o.scopeX}, []string{o.b, o.a, o.x}, 3},
		{"county filter", server.InspectionQuery{Scope: o.all, County: dingxia}, []string{o.c}, 1},
		{"county filter outside the scope", server.InspectionQuery{Scope: o.scopeX, County: dingxia}, nil, 0},
		{"template", server.InspectionQuery{Scope: o.all, TemplateID: "construction_dust"}, []string{o.b, o.c}, 2},
		{"templates and counties", server.InspectionQuery{Scope: o.all, TemplateIDs: []string{"coal_yard", "construction_dust"},
			Counties: []string{xinfu}}, []string{o.b, o.a, o.x}, 3},
		{"status", server.InspectionQuery{Scope: o.all, Status: "submitted"}, []string{o.c, o.a}, 2},
		{"returned", server.InspectionQuery{Scope: o.all, Status: "returned"}, []string{o.x}, 1},
		{"draft is never a status filter", server.InspectionQuery{Scope: o.all, Status: "draft"}, []string{o.b, o.c, o.a, o.x}, 4},
		{"dates", server.InspectionQuery{Scope: o.all, From: "2026-11-02", To: "2026-11-02"}, []string{o.c}, 1},
		{"from", server.InspectionQuery{Scope: o.all, From: "2026-11-02"}, []string{o.b, o.c}, 2},
		{"to", server.InspectionQuery{Scope: o.all, To: "2026-11-01"}, []string{o.a, o.x}, 2},
		{"page", server.InspectionQuery{Scope: o.all, Limit: 2, Offset: 1}, []string{o.c, o.a}, 4},
		{"page past the end", server.InspectionQuery{Scope: o.all, Limit: 2, Offset: 4}, nil, 4},
		{"flag of the inspection's photo", server.InspectionQuery{Scope: o.all, Flag: "no_gps"}, []string{o.a}, 1},
		{"flag of a finding's photo", server.InspectionQuery{Scope: o.all, Flag: "far_from_site"}, []string{o.b}, 1},
		{"flag nobody has", server.InspectionQuery{Scope: o.all, Flag: "edited"}, nil, 0},
		{"flag and status", server.InspectionQuery{Scope: o.all, Flag: "no_gps", Status: "approved"}, nil, 0},
		// Any flag: a's photo and b's finding's photo raise one; c's
		// photo has flags {}, which raise none.
		{"any flag", server.InspectionQuery{Scope: o.all, Flag: server.AnyFlag}, []string{o.b, o.a}, 2},
		{"any flag and status", server.InspectionQuery{Scope: o.all, Flag: server.AnyFlag, Status: "submitted"}, []string{o.a}, 1},
		{"complete", server.InspectionQuery{Scope: o.all, Completeness: server.CompletenessComplete}, nil, 0},
		{"incomplete", server.InspectionQuery{Scope: o.all, Completeness: server.CompletenessIncomplete}, []string{o.b, o.c, o.a, o.x}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := e.st.Inspections(e.ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) || total != tc.total {
				t.Errorf("inspections %v (total %d), want %v (total %d)", ids(got), total, tc.want, tc.total)
			}
		})
	}
	// InspectionCounts counts by county, in every county of the scope
	// whatever q.County says (the console's county tabs).
	counts, err := e.st.InspectionCounts(e.ctx, server.InspectionQuery{Scope: o.all, County: dingxia, Status: "submitted"})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts[xinfu] != 1 || counts[dingxia] != 1 {
		t.Errorf("counts %v", counts)
	}
	if counts, _ := e.st.InspectionCounts(e.ctx, server.InspectionQuery{Scope: o.scopeX}); len(counts) != 1 || counts[xinfu] != 3 {
		t.Errorf("counts in 忻府's scope %v", counts)
	}
}

func testInspectionTally(t *testing.T, open Opener) {
	o := newOffice(t, open)
	got, err := o.e.st.InspectionTally(o.e.ctx, server.InspectionQuery{Scope: o.all, County: dingxia})
	if err != nil {
		t.Fatal(err)
	}
	want := []server.Tally{
		{County: xinfu, TemplateID: "coal_yard", Status: "returned", N: 1},
		{County: xinfu, TemplateID: "coal_yard", Status: "submitted", N: 1},
		{County: xinfu, TemplateID: "construction_dust", Status: "approved", N: 1},
		{County: dingxia, TemplateID: "construction_dust", Status: "submitted", N: 1},
	}
	sortTallies(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tally %v, want %v", got, want)
	}
	got, err = o.e.st.InspectionTally(o.e.ctx, server.InspectionQuery{Scope: o.scopeN, Status: "approved"})
	if err != nil || len(got) != 0 {
		t.Errorf("tally of 定襄's approved: %v %v", got, err)
	}
	// The ledger's evidence is counted from the tally.
	got, _ = o.e.st.InspectionTally(o.e.ctx, server.InspectionQuery{Scope: o.all, TemplateIDs: []string{"construction_dust"}})
	sortTallies(got)
	if fmt.Sprint(got) != fmt.Sprint(want[2:]) {
		t.Errorf("tally of construction_dust %v", got)
	}
	// ReceivedAfter keeps what the server received after a time (a
	// month's inspections sent in after it ended): an inspection pushed
	// an hour later, alone.
	before := o.e.Now()
	if got, err = o.e.st.InspectionTally(o.e.ctx, server.InspectionQuery{Scope: o.all, ReceivedAfter: before}); err != nil || len(got) != 0 {
		t.Errorf("tally of those received after the pushes: %v %v", got, err)
	}
	o.e.advance(time.Hour)
	late := uuid.NewString()
	o.dn.pushOK(o.dn.mut(syncproto.EntityInspection, late, map[string]any{"site_id": o.siteC, "template_id": "coal_yard", "template_version": 1,
		"started_at": "2026-11-05T09:00:00+08:00", "status": "submitted"}))
	got, err = o.e.st.InspectionTally(o.e.ctx, server.InspectionQuery{Scope: o.all, ReceivedAfter: before, From: "2026-11-01", To: "2026-11-30"})
	if want := []server.Tally{{County: dingxia, TemplateID: "coal_yard", Status: "submitted", N: 1}}; err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tally of the one received an hour later: %v %v, want %v", got, err, want)
	}
	if got, _ = o.e.st.InspectionTally(o.e.ctx, server.InspectionQuery{Scope: o.all, ReceivedAfter: o.e.Now()}); len(got) != 0 {
		t.Errorf("tally of those received after now: %v", got)
	}
}

func sortTallies(ts []server.Tally) {
	sort.Slice(ts, func(i, j int) bool {
		return fmt.Sprint(ts[i].County, ts[i].TemplateID, ts[i].Status) < fmt.Sprint(ts[j].County, ts[j].TemplateID, ts[j].Status)
	})
}

func testInspectionQueue(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	q := server.InspectionQuery{Scope: o.all, Limit: 10}
	es, total, err := e.st.InspectionQueue(e.ctx, q, server.QueueSort{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	byID := map[string]server.QueueEntry{}
	for _, qe := range es {
		got = append(got, qe.Record.ID)
		byID[qe.Record.ID] = qe
	}
	if total != 4 || !slices.Equal(got, []string{o.b, o.c, o.a, o.x}) {
		t.Fatalf("default queue %v (total %d), want newest first", got, total)
	}
	missing := func(id string) int {
		var ms []struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(byID[id].Record.Value("missing_items"), &ms); err != nil {
			t.Fatalf("missing_items of %s: %v", id, err)
		}
		keys := map[string]bool{}
		for _, m := range ms {
			keys[m.Key] = true
		}
		return len(keys)
	}
	for id, want := range map[string]server.QueueEntry{
		// closed_shed failed; floor_paved: false does not answer a
		// check item (it is listed invalid in missing_items), so it is
		// not a failed item.
		o.a: {Inspector: o.nameX, Failed: 1, Photos: 1, Flags: 1},
		o.b: {Inspector: o.nameX, Failed: 0, Photos: 1, Flags: 1},
		o.c: {Inspector: o.dn.p.Name, Failed: 0, Photos: 1, Flags: 0},
		o.x: {Inspector: o.nameX},
	} {
		g := byID[id]
		if g.Inspector != want.Inspector || g.Failed != want.Failed || g.Photos != want.Photos || g.Flags != want.Flags ||
			g.Missing != missing(id) || g.Missing <= 0 {
			t.Errorf("queue entry of %s: %+v, want %+v with %d missing", id, g, want, missing(id))
		}
	}
	for _, tc := range []struct {
		sort server.QueueSort
		want []string
	}{
		{server.QueueSort{Key: "started"}, []string{o.x, o.a, o.c, o.b}},
		{server.QueueSort{Key: "started", Desc: true}, []string{o.b, o.c, o.a, o.x}},
		{server.QueueSort{Key: "failed", Desc: true}, []string{o.a, o.b, o.c, o.x}},
		{server.QueueSort{Key: "county"}, []string{o.b, o.a, o.x, o.c}},
		{server.QueueSort{Key: "county", Desc: true}, []string{o.c, o.b, o.a, o.x}},
		{server.QueueSort{Key: "site"}, []string{o.b, o.c, o.a, o.x}}, // 东风煤场 < 定襄砖厂 < 红星砖厂 (code points)
		{server.QueueSort{Key: "template"}, []string{o.a, o.x, o.b, o.c}},
		{server.QueueSort{Key: "status"}, []string{o.b, o.x, o.c, o.a}},
		{server.QueueSort{Key: "photos"}, []string{o.x, o.b, o.c, o.a}},
		{server.QueueSort{Key: "flags", Desc: true}, []string{o.b, o.a, o.c, o.x}},
	} {
		es, _, err := e.st.InspectionQueue(e.ctx, q, tc.sort)
		if err != nil {
			t.Errorf("sort %+v: %v", tc.sort, err)
			continue
		}
		var got []string
		for _, qe := range es {
			got = append(got, qe.Record.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sort %+v: %v, want %v", tc.sort, got, tc.want)
		}
	}
	for _, key := range server.QueueSortKeys {
		if _, _, err := e.st.InspectionQueue(e.ctx, q, server.QueueSort{Key: key}); err != nil {
			t.Errorf("sort %s: %v", key, err)
		}
	}
	// The page and the scope.
	es, total, err = e.st.InspectionQueue(e.ctx, server.InspectionQuery{Scope: o.scopeX, Limit: 1, Offset: 1}, server.QueueSort{})
	if err != nil || total != 3 || len(es) != 1 || es[0].Record.ID != o.a {
		t.Errorf("page 2 of 忻府's queue: %d %v %v", total, es, err)
	}
	_, _, err = e.st.InspectionQueue(e.ctx, q, server.QueueSort{Key: "id; DROP TABLE inspection"})
	wantCode(t, err, syncproto.CodeBadRequest, "unknown sort key")

	// An inspection sent without started_at is shown, filtered and
	// counted at the time the server received it (here 11-20 10:00 in
	// China, after every visit above): it sorts there too.
	u := uuid.NewString()
	o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, u, map[string]any{"site_id": o.siteA, "template_id": "coal_yard", "template_version": 1,
		"status": "submitted"}))
	for _, tc := range []struct {
		sort server.QueueSort
		want []string
	}{
		{server.QueueSort{}, []string{u, o.b, o.c, o.a, o.x}},
		{server.QueueSort{Key: "started"}, []string{o.x, o.a, o.c, o.b, u}},
	} {
		es, _, err := e.st.InspectionQueue(e.ctx, q, tc.sort)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, qe := range es {
			got = append(got, qe.Record.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("with one received without started_at, sort %+v: %v, want %v", tc.sort, got, tc.want)
		}
	}
	recs, _, err := e.st.Inspections(e.ctx, q)
	if err != nil || len(recs) != 5 || recs[0].ID != u {
		t.Errorf("Inspections with one received without started_at: %v %v, want it first", recs, err)
	}
	day := server.InspectionQuery{Scope: o.all, From: "2026-11-20", To: "2026-11-20", Limit: 10}
	if es, total, err := e.st.InspectionQueue(e.ctx, day, server.QueueSort{}); err != nil || total != 1 || es[0].Record.ID != u {
		t.Errorf("the day it was received: %d %v %v", total, es, err)
	}
}

// testInspectionQueueCounts: InspectionQueue counts the failed answers
// the server listed (failed_items, from answers in every form they take),
// the photos of the inspection and of its findings and their flags (each
// flag, not each flagged photo), and the 缺项 (here h, the one required
// item).
func testInspectionQueueCounts(t *testing.T, open Opener) {
	e := newEnv(t, open)
	site := uuid.NewString()
	insp, other, finding := uuid.NewString(), uuid.NewString(), uuid.NewString()
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		for _, w := range []struct {
			entity, id, county string
			fields             map[string]any
		}{
			{syncproto.EntityCounty, xinfu, "", map[string]any{"code": xinfu}},
			{syncproto.EntitySite, site, xinfu, map[string]any{"county": xinfu, "kind": "factory", "name": "厂"}},
			// The checklist the answers are judged by: a to i, of every
			// kind an answer can fail (check, boolean with finding_on_fail)
			// or not (text, a boolean without it).
			{syncproto.EntityTemplate, "t@1", "", map[string]any{"template_id": "t", "version": 1, "items": []map[string]any{
				{"key": "a", "label": "甲", "type": "check"}, {"key": "b", "label": "乙", "type": "check"},
				{"key": "c", "label": "丙", "type": "boolean", "finding_on_fail": true}, {"key": "d", "label": "丁", "type": "boolean", "finding_on_fail": true},
				{"key": "e", "label": "戊", "type": "check"}, {"key": "f", "label": "己", "type": "boolean", "finding_on_fail": true},
				{"key": "g", "label": "庚", "type": "text"}, {"key": "h", "label": "辛", "type": "check", "required": true},
				{"key": "i", "label": "壬", "type": "boolean"}}}},
			{syncproto.EntityInspection, insp, xinfu, map[string]any{"site_id": site, "template_id": "t", "template_version": 1,
				"status": "submitted", "started_at": "2026-11-01T09:00:00+08:00",
				"answers.a": map[string]any{"result": "fail"}, "answers.b": "fail", "answers.c": false,
				"answers.d": map[string]any{"value": false}, "answers.e": map[string]any{"result": "pass"}, "answers.f": true,
				"answers.g": map[string]any{"value": "fail"}, "answers.i": false}},
			{syncproto.EntityInspection, other, xinfu, map[string]any{"site_id": site, "template_id": "t", "template_version": 1,
				"status": "submitted", "started_at": "2026-11-02T09:00:00+08:00"}},
			{syncproto.EntityFinding, finding, xinfu, map[string]any{"inspection_id": insp, "item_key": "a"}},
			{syncproto.EntityPhoto, uuid.NewString(), xinfu, map[string]any{"inspection_id": insp, "flags": map[string]any{"no_gps": map[string]any{}, "edited": map[string]any{}}}},
			{syncproto.EntityPhoto, uuid.NewString(), xinfu, map[string]any{"finding_id": finding, "flags": map[string]any{"far_from_site": map[string]any{}}}},
			{syncproto.EntityPhoto, uuid.NewString(), xinfu, map[string]any{"inspection_id": insp, "flags": map[string]any{}}},
		} {
			if err := e.s.Upsert(e.ctx, tx, w.entity, w.id, w.county, w.fields); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := server.InspectionQuery{Scope: server.Scope{All: true}, Limit: 10}
	es, total, err := e.st.InspectionQueue(e.ctx, q, server.QueueSort{Key: "failed", Desc: true})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(es) != 2 || es[0].Record.ID != insp || es[1].Record.ID != other {
		t.Fatalf("queue: %d %+v", total, es)
	}
	// Flags counts the photos flagged: two of three, one with two flags.
	if g := es[0]; g.Failed != 4 || g.Photos != 3 || g.Flags != 2 || g.Unchecked != 3 || g.Clean() {
		t.Errorf("counts: failed %d photos %d flagged %d unchecked %d", g.Failed, g.Photos, g.Flags, g.Unchecked)
	}
	if g := es[1]; g.Failed != 0 || g.Photos != 0 || g.Flags != 0 || g.Unchecked != 0 || g.Missing != 1 || g.Clean() { // h, required
		t.Errorf("empty inspection: %+v", g)
	}
	// A photo checked (processed) is no longer unchecked.
	var photo string
	for _, ph := range mustFind(t, e, syncproto.EntityPhoto, "inspection_id", insp) {
		if string(ph.Value("flags")) == "{}" {
			photo = ph.ID
		}
	}
	if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, photo, map[string]any{"processed_at": "2026-11-20T10:00:00+08:00"}); err != nil {
		t.Fatal(err)
	}
	if es, _, err := e.st.InspectionQueue(e.ctx, q, server.QueueSort{Key: "failed", Desc: true}); err != nil || es[0].Unchecked != 2 {
		t.Errorf("with one photo checked: %+v %v, want 2 unchecked", es, err)
	}
}

func testVehicles(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	stats, err := e.st.VehicleStats(e.ctx, server.VehicleQuery{Scope: o.all})
	if err != nil {
		t.Fatal(err)
	}
	want := []server.VehicleStat{
		{County: xinfu, Checkpoint: "豆罗检查站", Campaign: "七日专项", Trucks: 3, G5: 1, G6: 2, Removed: 1},
		{County: dingxia, Checkpoint: "秦城检查站", Campaign: "", Trucks: 1, G6: 1, Removed: 1},
	}
	if !sameStats(stats, want) {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
	if stats, err := e.st.VehicleStats(e.ctx, server.VehicleQuery{Scope: o.scopeN}); err != nil || !sameStats(stats, want[1:]) {
		t.Errorf("stats of 定襄 %+v %v", stats, err)
	}
	if stats, err := e.st.VehicleStats(e.ctx, server.VehicleQuery{Scope: server.Scope{Counties: []string{yuanpin}}}); err != nil || len(stats) != 0 {
		t.Errorf("stats of 原平 %+v %v", stats, err)
	}
	// The statistics of the checks a query selects: of 11-18 and later,
	// of 11-18 alone, of the removed.
	for _, tc := range []struct {
		q    server.VehicleQuery
		want []server.VehicleStat
	}{
		{server.VehicleQuery{Scope: o.all, After: "2026-11-18"}, []server.VehicleStat{
			{County: xinfu, Checkpoint: "豆罗检查站", Campaign: "七日专项", Trucks: 2, G5: 1, G6: 1, Removed: 1}, want[1]}},
		{server.VehicleQuery{Scope: o.all, After: "2026-11-18", Before: "2026-11-19"}, []server.VehicleStat{
			{County: xinfu, Checkpoint: "豆罗检查站", Campaign: "七日专项", Trucks: 2, G5: 1, G6: 1, Removed: 1}}},
		{server.VehicleQuery{Scope: o.scopeX, Removed: true}, []server.VehicleStat{
			{County: xinfu, Checkpoint: "豆罗检查站", Campaign: "七日专项", Trucks: 1, G6: 1, Removed: 1}}},
	} {
		if stats, err := e.st.VehicleStats(e.ctx, tc.q); err != nil || !sameStats(stats, tc.want) {
			t.Errorf("stats of %+v: %+v %v, want %+v", tc.q, stats, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name  string
		q     server.VehicleQuery
		want  []string
		total int
	}{
		{"all, latest first", server.VehicleQuery{Scope: o.all}, []string{o.v4, o.v3, o.v1, o.v2}, 4},
		{"scope", server.VehicleQuery{Scope: o.scopeX}, []string{o.v3, o.v1, o.v2}, 3},
		{"county", server.VehicleQuery{Scope: o.all, County: dingxia}, []string{o.v4}, 1},
		{"checkpoint", server.VehicleQuery{Scope: o.all, Checkpoint: "豆罗检查站"}, []string{o.v3, o.v1, o.v2}, 3},
		{"checkpoint with spaces", server.VehicleQuery{Scope: o.all, Checkpoint: " 豆罗检查站\u3000"}, []string{o.v3, o.v1, o.v2}, 3},
		{"campaign", server.VehicleQuery{Scope: o.all, Campaign: "七日专项"}, []string{o.v3, o.v1, o.v2}, 3},
		// A part of a checkpoint or plate, as an office types it.
		{"part of checkpoint, whole only", server.VehicleQuery{Scope: o.all, Checkpoint: "豆罗"}, nil, 0},
		{"part of checkpoint", server.VehicleQuery{Scope: o.all, Checkpoint: "豆罗", Partial: true}, []string{o.v3, o.v1, o.v2}, 3},
		{"part of checkpoint, 秦城", server.VehicleQuery{Scope: o.all, Checkpoint: " 秦城", Partial: true}, []string{o.v4}, 1},
		{"part of plate, whole only", server.VehicleQuery{Scope: o.all, Plate: "hab12"}, nil, 0},
		{"part of plate, any case and width", server.VehicleQuery{Scope: o.all, Plate: "ｈ ａｂ12", Partial: true}, []string{o.v1}, 1},
		{"whole plate, partial", server.VehicleQuery{Scope: o.all, Plate: "晋h·AB123", Partial: true}, []string{o.v1}, 1},
		{"part of a VIN, typed with a hyphen", server.VehicleQuery{Scope: o.all, Plate: "kd120-123", Partial: true}, []string{o.v1}, 1},
		{"a VIN's part every check's has", server.VehicleQuery{Scope: o.all, Plate: "LZZ1BLSE", Partial: true}, []string{o.v4, o.v3, o.v1, o.v2}, 4},
		{"a VIN, whole only: plates alone", server.VehicleQuery{Scope: o.all, Plate: "LZZ1BLSE9KD120123"}, nil, 0},
		{"a LIKE wildcard is a character", server.VehicleQuery{Scope: o.all, Checkpoint: "%", Partial: true}, nil, 0},
		{"no campaign", server.VehicleQuery{Scope: o.all, NoCampaign: true}, []string{o.v4}, 1},
		{"removed", server.VehicleQuery{Scope: o.all, Removed: true}, []string{o.v4, o.v1}, 2},
		{"page", server.VehicleQuery{Scope: o.all, Limit: 2, Offset: 1}, []string{o.v3, o.v1}, 4},
		{"out of scope", server.VehicleQuery{Scope: o.scopeX, County: dingxia}, nil, 0},
		{"no checkpoint, none", server.VehicleQuery{Scope: o.all, NoCheckpoint: true}, nil, 0},
		// Bounds on checked_at, as dates in China bound it.
		{"from 11-18", server.VehicleQuery{Scope: o.all, After: "2026-11-18"}, []string{o.v4, o.v3, o.v1}, 3},
		{"11-18 only", server.VehicleQuery{Scope: o.all, After: "2026-11-18", Before: "2026-11-19"}, []string{o.v3, o.v1}, 2},
		{"before 11-18", server.VehicleQuery{Scope: o.all, Before: "2026-11-18"}, []string{o.v2}, 1},
		// A page's trucks at once (the console's likely duplicates).
		{"plates", server.VehicleQuery{Scope: o.all, Plates: []string{"晋HAB123", "晋HGH012"}}, []string{o.v4, o.v1}, 2},
		{"plates in scope", server.VehicleQuery{Scope: o.scopeX, Plates: []string{"晋HAB123", "晋HGH012"}}, []string{o.v1}, 1},
		{"plates and a day", server.VehicleQuery{Scope: o.all, Plates: []string{"晋HAB123", "晋HEF789", "晋HCD456"}, After: "2026-11-18", Before: "2026-11-19"},
			[]string{o.v3, o.v1}, 2},
		{"plates, none stored", server.VehicleQuery{Scope: o.all, Plates: []string{"晋HZZ999"}}, nil, 0},
	} {
		got, total, err := e.st.VehicleChecks(e.ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) || total != tc.total {
			t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, ids(got), total, tc.want, tc.total)
		}
	}

	// Checks written before checkpoints were required (none, or blank),
	// and before labels had a canonical spelling (a checkpoint in lower
	// case, beside one written today). The first are one row of the
	// statistics, and NoCheckpoint lists them; the others are one
	// checkpoint, whatever the case a filter is typed in.
	old := []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		ve := server.EntityByName(syncproto.EntityVehicleCheck)
		for i, cp := range []string{`null`, `" \u3000"`, `"g5检查站\u3000"`, ``} {
			if err := e.s.Upsert(e.ctx, tx, ve.Name, old[i], dingxia, map[string]any{"county": dingxia,
				"checkpoint": "G5检查站", "plate": "晋H0000" + strconv.Itoa(i), "emission_stage": "cn6", "aftertreatment": "present",
				"checked_at": "2026-11-2" + strconv.Itoa(i+1) + "T10:00:00+08:00"}); err != nil {
				return err
			}
			if cp == "" {
				continue // as written today
			}
			// The value as an older server stored it, past today's checks.
			r, err := tx.Get(e.ctx, ve, old[i])
			if err != nil {
				return err
			}
			f := r.State.Fields["checkpoint"]
			f.Value = json.RawMessage(cp)
			r.State.Fields["checkpoint"] = f
			if err := tx.Put(e.ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stats, err = e.st.VehicleStats(e.ctx, server.VehicleQuery{Scope: o.scopeN})
	if want := append(want[1:], server.VehicleStat{County: dingxia, Trucks: 2, G6: 2},
		server.VehicleStat{County: dingxia, Checkpoint: "G5检查站", Trucks: 2, G6: 2}); err != nil || !sameStats(stats, want) {
		t.Errorf("stats with older checkpoints %+v %v, want %+v", stats, err, want)
	}
	got, total, err := e.st.VehicleChecks(e.ctx, server.VehicleQuery{Scope: o.all, NoCheckpoint: true})
	if want := []string{old[1], old[0]}; err != nil || !slices.Equal(ids(got), want) || total != 2 {
		t.Errorf("no checkpoint: %v (total %d) %v, want %v", ids(got), total, err, want)
	}
	for _, typed := range []server.VehicleQuery{{Checkpoint: "G5检查站"}, {Checkpoint: "g5检查站"}, {Checkpoint: "ｇ５检查站 "},
		{Checkpoint: "g5", Partial: true}, {Checkpoint: "５检", Partial: true}} {
		typed.Scope = o.all
		got, total, err := e.st.VehicleChecks(e.ctx, typed)
		if want := []string{old[3], old[2]}; err != nil || !slices.Equal(ids(got), want) || total != 2 {
			t.Errorf("checkpoint %+v: %v (total %d) %v, want %v", typed, ids(got), total, err, want)
		}
	}

	// ReceivedAfter keeps the checks the server received after a time:
	// one pushed an hour later, alone, in the statistics and the list.
	before := e.Now()
	e.advance(time.Hour)
	late := uuid.NewString()
	o.dn.pushOK(o.dn.mut(syncproto.EntityVehicleCheck, late, map[string]any{"county": dingxia, "checkpoint": "秦城检查站",
		"plate": "晋HLT001", "emission_stage": "cn5", "checked_at": "2026-11-19T23:50:00+08:00"}))
	q := server.VehicleQuery{Scope: o.all, After: "2026-11-01", Before: "2026-12-01", ReceivedAfter: before}
	if stats, err := e.st.VehicleStats(e.ctx, q); err != nil || !sameStats(stats, []server.VehicleStat{{County: dingxia, Checkpoint: "秦城检查站", Trucks: 1, G5: 1}}) {
		t.Errorf("stats of the checks received after the others: %+v %v", stats, err)
	}
	if got, total, err := e.st.VehicleChecks(e.ctx, q); err != nil || !slices.Equal(ids(got), []string{late}) || total != 1 {
		t.Errorf("checks received after the others: %v (total %d) %v", ids(got), total, err)
	}
	q.ReceivedAfter = e.Now()
	if stats, err := e.st.VehicleStats(e.ctx, q); err != nil || len(stats) != 0 {
		t.Errorf("stats of the checks received after now: %+v %v", stats, err)
	}
}

// testVoidedVehicles: a check an office voided counts in no statistic
// (per checkpoint, the overview's weeks) and is listed only when asked
// for (OnlyVoided, AnyVoided).
func testVoidedVehicles(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	if err := e.s.SetServerFields(e.ctx, syncproto.EntityVehicleCheck, o.v1, map[string]any{
		"voided_at": "2026-11-19T09:00:00Z", "voided_by": "someone", "void_reason": "重复录入"}); err != nil {
		t.Fatal(err)
	}
	stats, err := e.st.VehicleStats(e.ctx, server.VehicleQuery{Scope: o.scopeX})
	if want := []server.VehicleStat{{County: xinfu, Checkpoint: "豆罗检查站", Campaign: "七日专项", Trucks: 2, G5: 1, G6: 1, Removed: 0}}; err != nil || !sameStats(stats, want) {
		t.Errorf("stats with v1 voided: %+v %v, want %+v", stats, err, want)
	}
	for _, tc := range []struct {
		name string
		q    server.VehicleQuery
		want []string
	}{
		{"counted", server.VehicleQuery{Scope: o.all}, []string{o.v4, o.v3, o.v2}},
		{"voided only", server.VehicleQuery{Scope: o.all, Voided: server.OnlyVoided}, []string{o.v1}},
		{"voided only, out of scope", server.VehicleQuery{Scope: o.scopeN, Voided: server.OnlyVoided}, nil},
		{"both", server.VehicleQuery{Scope: o.all, Voided: server.AnyVoided}, []string{o.v4, o.v3, o.v1, o.v2}},
		{"removed, counted", server.VehicleQuery{Scope: o.all, Removed: true}, []string{o.v4}},
	} {
		got, total, err := e.st.VehicleChecks(e.ctx, tc.q)
		if err != nil || !slices.Equal(ids(got), tc.want) || total != len(tc.want) {
			t.Errorf("%s: %v (total %d) %v, want %v", tc.name, ids(got), total, err, tc.want)
		}
	}
	ov, err := e.st.Overview(e.ctx, o.all, "2026-11-20", "2026-11-01", "2100-01-01")
	want := []server.VehicleWeek{
		{County: xinfu, Checkpoint: "豆罗检查站", Week: "2026-11-09", G6: 1, Removed: 0},
		{County: dingxia, Checkpoint: "秦城检查站", Week: "2026-11-16", G6: 1, Removed: 1},
	}
	if err != nil || !sameWeeks(ov.Weeks, want) {
		t.Errorf("overview weeks with v1 voided: %+v %v, want %+v", ov.Weeks, err, want)
	}
}

func sameStats(got, want []server.VehicleStat) bool {
	key := func(v server.VehicleStat) string { return fmt.Sprintf("%+v", v) }
	var a, b []string
	for _, v := range got {
		a = append(a, key(v))
	}
	for _, v := range want {
		b = append(b, key(v))
	}
	return sameSet(a, b)
}

func testTasks(t *testing.T, open Opener) {
	e := seeded(t, open)
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tk := range set.Tasks {
		want = append(want, tk.ID)
	}
	slices.Sort(want)
	tasks, err := e.st.Tasks(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(tasks), want) {
		t.Errorf("tasks %v, want %v by id", ids(tasks), want)
	}
	if tasks[0].Text("number") != set.Tasks[slices.IndexFunc(set.Tasks, func(tk seeds.Task) bool { return tk.ID == want[0] })].Number {
		t.Errorf("task %s number %q", tasks[0].ID, tasks[0].Text("number"))
	}

	officeX := e.office(server.RoleCountyOffice, xinfu)
	officeN := e.office(server.RoleCountyOffice, dingxia)
	pct := 40
	e.advance(time.Hour)
	if err := e.s.ReportProgress(e.ctx, officeX, "task-05", xinfu, server.ProgressReport{Status: syncproto.TaskInProgress,
		Pct: &pct, Note: "已完成一半", Evidence: []string{"忻府环〔2026〕12号"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ReportProgress(e.ctx, officeN, "task-01", dingxia, server.ProgressReport{Status: syncproto.TaskDone}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.st.TaskProgress(e.ctx, server.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("progress rows %+v", rows)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].TaskID < rows[j].TaskID })
	wantX := server.TaskProgress{TaskID: "task-05", County: xinfu, Status: syncproto.TaskInProgress, Pct: 40, HasPct: true,
		Note: "已完成一半", Evidence: []string{"忻府环〔2026〕12号"}, ReportedBy: officeX.UserID, ReportedByName: officeX.Name,
		ReportedAt: t0.Add(time.Hour)}
	if g := rows[1]; g.TaskID != wantX.TaskID || g.County != wantX.County || g.Status != wantX.Status || g.Pct != 40 || !g.HasPct ||
		g.Note != wantX.Note || !slices.Equal(g.Evidence, wantX.Evidence) || g.ReportedBy != wantX.ReportedBy ||
		g.ReportedByName != wantX.ReportedByName || !g.ReportedAt.Equal(wantX.ReportedAt) {
		t.Errorf("progress %+v, want %+v", g, wantX)
	}
	if g := rows[0]; g.TaskID != "task-01" || g.County != dingxia || g.Status != syncproto.TaskDone || g.HasPct {
		t.Errorf("progress %+v", g)
	}
	if rows, err := e.st.TaskProgress(e.ctx, server.Scope{Counties: []string{xinfu}}); err != nil || len(rows) != 1 || rows[0].TaskID != "task-05" {
		t.Errorf("progress in 忻府's scope %+v %v", rows, err)
	}
}

func testMonthlyReport(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	tallies, err := e.st.MonthTallies(e.ctx, "2026-11", []string{xinfu, dingxia})
	if err != nil {
		t.Fatal(err)
	}
	want := []server.MonthTally{
		{County: xinfu, TemplateID: "coal_yard", Status: "draft", Version: 1, Inspections: 1},
		{County: xinfu, TemplateID: "coal_yard", Status: "submitted", Version: 1, Inspections: 1, Findings: 1, Photos: 1, FlaggedPhotos: 1},
		// b's photo names its finding only: it is b's, as in the queue.
		{County: xinfu, TemplateID: "construction_dust", Status: "approved", Version: 1, Inspections: 1, Findings: 1, Photos: 1, FlaggedPhotos: 1},
		{County: dingxia, TemplateID: "construction_dust", Status: "submitted", Version: 1, Inspections: 1, Findings: 1, Photos: 1},
	}
	sort.Slice(tallies, func(i, j int) bool {
		return fmt.Sprint(tallies[i].County, tallies[i].TemplateID, tallies[i].Status) < fmt.Sprint(tallies[j].County, tallies[j].TemplateID, tallies[j].Status)
	})
	if fmt.Sprintf("%+v", tallies) != fmt.Sprintf("%+v", want) {
		t.Errorf("tallies\n%+v\nwant\n%+v", tallies, want)
	}
	reports, err := server.LoadMonthlyReport(e.ctx, e.st, "2026-11", []string{xinfu, dingxia, yuanpin})
	if err != nil {
		t.Fatal(err)
	}
	x, n, y := reports[0], reports[1], reports[2]
	if x.County != xinfu || x.Submitted != 1 || x.Approved != 1 || x.Returned != 0 || x.ByTemplate["coal_yard"] != 1 ||
		x.ByTemplate["construction_dust"] != 1 || x.Findings != 2 || x.Photos != 2 || x.FlaggedPhotos != 2 {
		t.Errorf("忻府 %+v", x)
	}
	if n.County != dingxia || n.Inspections() != 1 || n.Submitted != 1 || n.Findings != 1 || n.Photos != 1 || n.FlaggedPhotos != 0 {
		t.Errorf("定襄 %+v", n)
	}
	if y.Inspections() != 0 || y.Findings != 0 {
		t.Errorf("原平 %+v", y)
	}
	// October: the returned inspection; only the counties asked for.
	oct, err := server.LoadMonthlyReport(e.ctx, e.st, "2026-10", []string{xinfu})
	if err != nil || len(oct) != 1 || oct[0].Returned != 1 || oct[0].Inspections() != 1 {
		t.Errorf("October %+v %v", oct, err)
	}
	if tallies, err := e.st.MonthTallies(e.ctx, "2026-11", []string{dingxia}); err != nil || len(tallies) != 1 {
		t.Errorf("定襄's tallies %+v %v", tallies, err)
	}
	if tallies, err := e.st.MonthTallies(e.ctx, "2026-11", nil); err != nil || len(tallies) != 0 {
		t.Errorf("no counties: %+v %v", tallies, err)
	}
	// Another version of a checklist is a tally of its own, and the report
	// splits the checklist's inspections by version.
	v2 := uuid.NewString()
	o.dn.pushOK(o.dn.mut(syncproto.EntityInspection, v2, map[string]any{"site_id": o.siteC, "template_id": "construction_dust",
		"template_version": 2, "started_at": "2026-11-05T09:00:00+08:00", "status": "submitted"}))
	tallies, err = e.st.MonthTallies(e.ctx, "2026-11", []string{dingxia})
	wantN := []server.MonthTally{
		{County: dingxia, TemplateID: "construction_dust", Status: "submitted", Version: 1, Inspections: 1, Findings: 1, Photos: 1},
		{County: dingxia, TemplateID: "construction_dust", Status: "submitted", Version: 2, Inspections: 1},
	}
	if err != nil || fmt.Sprintf("%+v", tallies) != fmt.Sprintf("%+v", wantN) {
		t.Errorf("定襄's tallies by version\n%+v\nwant\n%+v (%v)", tallies, wantN, err)
	}
	if r, err := server.LoadMonthlyReport(e.ctx, e.st, "2026-11", []string{dingxia}); err != nil || r[0].ByTemplate["construction_dust"] != 2 ||
		fmt.Sprint(r[0].ByVersion["construction_dust"]) != "map[1:1 2:1]" {
		t.Errorf("定襄's report by version %+v %v", r, err)
	}

	// The items failed: a's closed_shed (its floor_paved answer is not
	// one a check item takes: missing, not failed), and a draft's.
	o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, o.d, map[string]any{"answers.no_open_piles": map[string]any{"result": "fail"},
		"answers.closed_shed": "fail", "answers.trucks_covered": map[string]any{"result": "pass"}}))
	items, err := e.st.MonthItemFailures(e.ctx, "2026-11", []string{xinfu, dingxia})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(items, func(i, j int) bool { return fmt.Sprint(items[i]) < fmt.Sprint(items[j]) })
	wantItems := []server.ItemTally{
		{County: xinfu, TemplateID: "coal_yard", Status: "draft", Item: "closed_shed", Inspections: 1},
		{County: xinfu, TemplateID: "coal_yard", Status: "draft", Item: "no_open_piles", Inspections: 1},
		{County: xinfu, TemplateID: "coal_yard", Status: "submitted", Item: "closed_shed", Inspections: 1},
	}
	if fmt.Sprintf("%+v", items) != fmt.Sprintf("%+v", wantItems) {
		t.Errorf("item failures\n%+v\nwant\n%+v", items, wantItems)
	}
	for _, tc := range []struct {
		month    string
		counties []string
	}{{"2026-11", []string{dingxia}}, {"2026-11", nil}, {"2026-10", []string{xinfu}}} {
		if items, err := e.st.MonthItemFailures(e.ctx, tc.month, tc.counties); err != nil || len(items) != 0 {
			t.Errorf("%s %v: item failures %+v %v", tc.month, tc.counties, items, err)
		}
	}
}

func testSearch(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	hits := func(scope server.Scope, text string) []string {
		t.Helper()
		hs, err := e.st.Search(e.ctx, server.SearchQuery{Scope: scope, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hs {
			out = append(out, h.Kind+":"+h.ID)
		}
		return out
	}
	// Letters and digits in either width, as a phone's IME types them: a
	// site named in full width, a checkpoint in ASCII.
	wideSite, narrowCheck := uuid.NewString(), uuid.NewString()
	o.dx.pushOK(o.dx.mut(syncproto.EntitySite, wideSite, map[string]any{"county": xinfu, "kind": "coal_yard", "name": "Ｇ５沿线料场", "address": "沿线"}))
	o.dx.pushOK(o.dx.mut(syncproto.EntityVehicleCheck, narrowCheck, map[string]any{"county": xinfu, "checkpoint": "G5检查站",
		"plate": "晋HWW001", "emission_stage": "cn6", "aftertreatment": "present", "checked_at": "2026-11-19T10:00:00+08:00"}))
	for _, tc := range []struct {
		name, text string
		scope      server.Scope
		want       []string
	}{
		{"ASCII finds full width and ASCII", "g5", o.all, []string{"site:" + wideSite, "vehicle_check:" + narrowCheck}},
		{"full width finds ASCII and full width", "ｇ５", o.all, []string{"site:" + wideSite, "vehicle_check:" + narrowCheck}},
		{"full width with Chinese", "Ｇ５检查站", o.all, []string{"vehicle_check:" + narrowCheck}},
		{"either width in another county", "g5", o.scopeN, nil},
		{"site name", "砖厂", o.all, []string{"inspection:" + o.a, "inspection:" + o.x, "inspection:" + o.c,
			"finding:" + o.fA, "finding:" + o.fC, "site:" + o.siteA, "site:" + o.siteC}},
		{"site name in scope", "砖厂", o.scopeN, []string{"inspection:" + o.c, "finding:" + o.fC, "site:" + o.siteC}},
		{"finding", "围挡", o.all, []string{"finding:" + o.fB}},
		{"plate, any case", "hab12", o.all, []string{"vehicle_check:" + o.v1}},
		{"plate as painted, with a dot and a space", "晋h·ab 123", o.all, []string{"vehicle_check:" + o.v1}},
		{"plate in full width", "晋Ｈ ＡＢ１２３", o.all, []string{"vehicle_check:" + o.v1}},
		{"VIN with hyphens", "lzz1-blse-9kd120-123", o.all, []string{"vehicle_check:" + o.v1}},
		{"plate with separators of another county", "HGH-012", o.scopeX, nil},
		{"separators alone", "·-", o.all, nil},
		{"plate of another county", "HGH012", o.scopeX, nil},
		{"plate in its county", "HGH012", o.scopeN, []string{"vehicle_check:" + o.v4}},
		{"id", o.v2, o.all, []string{"vehicle_check:" + o.v2}},
		{"id of another county", o.v4, o.scopeX, nil},
		{"id in its county", o.v4, o.scopeN, []string{"vehicle_check:" + o.v4}},
		{"checkpoint of another county", "秦城检查站", o.scopeX, nil},
		{"checkpoint in its county", "秦城检查站", o.scopeN, []string{"vehicle_check:" + o.v4}},
		{"percent is literal", "100%", o.all, []string{"site:" + o.siteA, "inspection:" + o.a, "inspection:" + o.x}},
		{"underscore is literal", "_1", o.all, []string{"site:" + o.siteB, "inspection:" + o.b}},
		{"percent alone", "%", o.scopeN, nil},
		{"underscore alone", "_", o.scopeN, nil},
		{"backslash", `\`, o.all, []string{"inspection:" + o.a}},
		// An answer's note as the inspector typed it; not the JSON the
		// answers are kept as (keys, quotes, codes).
		{"answer note", "苫盖", o.all, []string{"inspection:" + o.a}},
		{"answer note with its quotes", `"苫盖"破损`, o.all, []string{"inspection:" + o.a}},
		{"answer note with a backslash", `C:\堆场`, o.all, []string{"inspection:" + o.a}},
		{"answer note of another county", "苫盖", o.scopeN, nil},
		{"answer key", "closed_shed", o.all, nil},
		{"answer code", "pass", o.all, nil},
		{"answer property", "result", o.all, nil},
		{"JSON punctuation", `":{`, o.all, nil},
		{"a quote", `"`, o.all, []string{"inspection:" + o.a}},
		{"nothing", "", o.all, nil},
	} {
		if got := hits(tc.scope, tc.text); !sameSet(got, tc.want) {
			t.Errorf("%s: search %q: %v, want %v", tc.name, tc.text, got, tc.want)
		}
	}
	// Letters beyond ASCII match in their own case only, in answers as in
	// every other text and on every store (PostgreSQL's jsonb text took
	// the database's collation, whose ILIKE folds Cyrillic, Greek and
	// accented letters, where SQLite's LIKE does not).
	e.upsert(syncproto.EntityInspection, o.a, xinfu, map[string]any{"answers.remarks": map[string]any{"value": "ÜBER ПРИВЕТ ΑΒΓΔ", "note": "ÉCOLE"}})
	for text, found := range map[string]bool{"ПРИВЕТ": true, "привет": false, "ÜBER": true, "über": false, "αβγδ": false, "ÉCOLE": true, "école": false} {
		if got := hits(o.all, text); found != slices.Contains(got, "inspection:"+o.a) {
			t.Errorf("search %q: %v, want the answer's inspection found %v", text, got, found)
		}
	}
	hs, err := e.st.Search(e.ctx, server.SearchQuery{Scope: o.all, Text: "围挡"})
	if err != nil || len(hs) != 1 {
		t.Fatalf("search 围挡: %+v %v", hs, err)
	}
	if h := hs[0]; h.County != xinfu || h.Title != "东风煤场" || h.Text != "围挡缺失" || h.Status != "open" ||
		h.At != "2026-11-03T09:00:00+08:00" || h.Inspector != o.nameX || h.InspectionID != o.b {
		t.Errorf("finding hit %+v", h)
	}
	hs, _ = e.st.Search(e.ctx, server.SearchQuery{Scope: o.all, Text: "HAB123"})
	if len(hs) != 1 || hs[0].Title != "晋HAB123" || hs[0].Text != "豆罗检查站" || hs[0].At != "2026-11-18T10:00:00+08:00" || hs[0].Inspector != o.nameX {
		t.Errorf("vehicle hit %+v", hs)
	}
	// The office's own words: a review's comment, a verification's, a
	// voiding's reason (county office probe: a comment it had written
	// was found nowhere).
	e.upsert(syncproto.EntityInspection, o.a, xinfu, map[string]any{"review_comment": "请补充在线监测截图"})
	e.upsert(syncproto.EntityFinding, o.fB, xinfu, map[string]any{"verify_comment": "整改照片看不清围挡请重拍"})
	e.upsert(syncproto.EntityVehicleCheck, o.v1, xinfu, map[string]any{"void_reason": "同一辆车重复登记", "obd_codes": "P20EE P2002"})
	// And a roadside check's OBD fault codes, looked up by a crew
	// (roadside probe: found nowhere), in any case.
	for text, want := range map[string]string{"在线监测截图": "inspection:" + o.a, "看不清围挡": "finding:" + o.fB, "重复登记": "vehicle_check:" + o.v1, "p20ee": "vehicle_check:" + o.v1} {
		if got := hits(o.all, text); !sameSet(got, []string{want}) {
			t.Errorf("search %q (an office's comment): %v, want %s", text, got, want)
		}
	}
	// The limit is per kind.
	if got := hits(o.all, "砖厂"); len(got) != 7 {
		t.Fatalf("search 砖厂 %v", got)
	}
	hs, _ = e.st.Search(e.ctx, server.SearchQuery{Scope: o.all, Text: "砖厂", Limit: 1})
	kinds := map[string]int{}
	for _, h := range hs {
		kinds[h.Kind]++
	}
	if len(hs) != 3 || kinds["inspection"] != 1 || kinds["finding"] != 1 || kinds["site"] != 1 {
		t.Errorf("search 砖厂 limit 1: %+v", hs)
	}
	// A finding is found where its inspection is: not once the inspection
	// is a draft again, nor once it is deleted (its page is gone).
	e.upsert(syncproto.EntityInspection, o.b, xinfu, map[string]any{"status": "draft"})
	if got := hits(o.all, "围挡"); len(got) != 0 {
		t.Errorf("search 围挡 with the finding's inspection a draft: %v", got)
	}
	e.upsert(syncproto.EntityInspection, o.b, xinfu, map[string]any{"status": "returned"})
	if got := hits(o.all, "围挡"); len(got) != 1 {
		t.Errorf("search 围挡 with the finding's inspection returned: %v", got)
	}
	// (Deleted as a draft no office has reviewed: a reviewed one is kept.)
	e.upsert(syncproto.EntityInspection, o.b, xinfu, map[string]any{"status": "draft", "reviewed_at": nil})
	d := e.inspector(xinfu)
	d.pushOK(d.del(syncproto.EntityInspection, o.b))
	if got := hits(o.all, "围挡"); len(got) != 0 {
		t.Errorf("search 围挡 with the finding's inspection deleted: %v", got)
	}
}

// testSearchInvisible: text pasted with a character that prints nothing
// inside it (a zero-width space from a chat, a soft hyphen from a web
// page, a tag character) is found by its words as they read, and words
// searched with one are found where it is not (console probe: a finding
// 便道未硬\u200b化扬尘大 was not found by 未硬化扬尘), in every free text
// search reads and in the sites list's filter.
func testSearchInvisible(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	found := func(text, want string) bool {
		t.Helper()
		hs, err := e.st.Search(e.ctx, server.SearchQuery{Scope: o.all, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(hs, func(h server.SearchHit) bool { return h.Kind+":"+h.ID == want })
	}
	for i, c := range []string{"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u061c", "\u2064", "\U000e0061", "\u200b\u200b\u2060"} {
		word := fmt.Sprintf("隐形%d号字", i) // a word of its own for each character
		split := string([]rune(word)[:3]) + c + string([]rune(word)[3:])
		for _, tc := range []struct {
			entity, id, county string
			values             map[string]any
			hit                string
		}{
			{syncproto.EntityFinding, o.fB, xinfu, map[string]any{"description": "便道" + split}, "finding:" + o.fB},
			{syncproto.EntityVehicleCheck, o.v1, xinfu, map[string]any{"note": split + "冒黑烟"}, "vehicle_check:" + o.v1},
			{syncproto.EntityInspection, o.a, xinfu, map[string]any{"review_comment": "请补拍" + split}, "inspection:" + o.a},
			{syncproto.EntityInspection, o.c, dingxia, map[string]any{"answers.remarks": map[string]any{"value": "x", "note": split}}, "inspection:" + o.c},
			{syncproto.EntitySite, o.siteA, xinfu, map[string]any{"note": split}, "site:" + o.siteA},
		} {
			e.upsert(tc.entity, tc.id, tc.county, tc.values)
			if !found(word, tc.hit) {
				t.Errorf("%U in %s %v: %q finds nothing", []rune(c)[0], tc.entity, tc.values, word)
			}
			if !found(split, tc.hit) {
				t.Errorf("%U in %s and in the search: %q finds nothing", []rune(c)[0], tc.entity, split)
			}
			// And the other way round: the text stored plain, searched with
			// the character (as the query always was).
			plain := map[string]any{}
			for k, v := range tc.values {
				plain[k] = v
				if s, ok := v.(string); ok {
					plain[k] = strings.ReplaceAll(s, split, word)
				}
			}
			if m, ok := plain["answers.remarks"].(map[string]any); ok {
				plain["answers.remarks"] = map[string]any{"value": m["value"], "note": word}
			}
			e.upsert(tc.entity, tc.id, tc.county, plain)
			if !found(split, tc.hit) {
				t.Errorf("%U in the search only: %q does not find %s's plain text", []rune(c)[0], split, tc.entity)
			}
		}
		e.upsert(syncproto.EntitySite, o.siteA, xinfu, map[string]any{"note": split})
		sites, _, err := e.st.Sites(e.ctx, server.SiteQuery{Scope: o.all, Text: word})
		if err != nil {
			t.Fatal(err)
		}
		if len(sites) != 1 || sites[0].ID != o.siteA {
			t.Errorf("%U in a site's note: the sites list's filter %q finds %d sites", []rune(c)[0], word, len(sites))
		}
	}
	// What holds none is matched as before, and a character that prints
	// something is not taken out: 隐形1号字 is not 隐形1-号字.
	e.upsert(syncproto.EntityFinding, o.fB, xinfu, map[string]any{"description": "隐形1-号字"})
	if found("隐形1号字", "finding:"+o.fB) {
		t.Error("a hyphen was read as a character that prints nothing")
	}
}

func testOverview(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	ov, err := e.st.Overview(e.ctx, o.all, "2026-11-20", "2026-11-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	// A waits with a flag (B is approved, C's photo is clean); fB is
	// overdue (fA is not yet due, fC is rectified).
	if ov.FlaggedWaiting != 1 || ov.OverdueFindings != 1 {
		t.Errorf("overview %+v", ov)
	}
	defer flaggedPhotoOfDeletedFinding(t, o)
	want := []server.VehicleWeek{
		{County: xinfu, Checkpoint: "豆罗检查站", Week: "2026-11-09", G6: 1, Removed: 0},
		{County: xinfu, Checkpoint: "豆罗检查站", Week: "2026-11-16", G6: 1, Removed: 1},
		{County: dingxia, Checkpoint: "秦城检查站", Week: "2026-11-16", G6: 1, Removed: 1},
	}
	if !sameWeeks(ov.Weeks, want) {
		t.Errorf("weeks %+v, want %+v", ov.Weeks, want)
	}
	ov, err = e.st.Overview(e.ctx, o.scopeN, "2026-11-20", "2026-11-15", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if ov.FlaggedWaiting != 0 || ov.OverdueFindings != 0 || !sameWeeks(ov.Weeks, want[2:]) {
		t.Errorf("定襄's overview %+v", ov)
	}
	if ov, _ := e.st.Overview(e.ctx, o.scopeX, "2026-11-10", "2026-11-17", "2100-01-01"); ov.OverdueFindings != 0 || !sameWeeks(ov.Weeks, want[1:2]) {
		t.Errorf("忻府's overview on 11-10 %+v", ov)
	}
	// Checks made on or after before are left out (a past month's weeks
	// end with it).
	if ov, _ := e.st.Overview(e.ctx, o.all, "2026-11-20", "2026-11-01", "2026-11-16"); !sameWeeks(ov.Weeks, want[:1]) {
		t.Errorf("overview of the checks before 11-16: %+v, want %+v", ov.Weeks, want[:1])
	}
	// Overdue findings no office sees are not counted: of a draft (D),
	// deleted, or of a deleted inspection (X, returned, once deleted).
	overdueFinding := func(insp string) string {
		id := uuid.NewString()
		o.dx.pushOK(o.dx.mut(syncproto.EntityFinding, id, map[string]any{"inspection_id": insp, "description": "逾期问题",
			"deadline": "2026-11-05", "status": "open"}))
		return id
	}
	overdue := func() int {
		ov, err := e.st.Overview(e.ctx, o.scopeX, "2026-11-20", "2026-11-01", "2100-01-01")
		if err != nil {
			t.Fatal(err)
		}
		return ov.OverdueFindings
	}
	overdueFinding(o.d)
	if n := overdue(); n != 1 { // fB
		t.Errorf("overdue with a draft's finding: %d, want 1", n)
	}
	fX := overdueFinding(o.x)
	if n := overdue(); n != 2 { // fB, fX
		t.Errorf("overdue with a returned inspection's finding: %d, want 2", n)
	}
	o.dx.pushOK(o.dx.del(syncproto.EntityFinding, fX))
	if n := overdue(); n != 1 {
		t.Errorf("overdue with that finding deleted: %d, want 1", n)
	}
	overdueFinding(o.x)
	// A returned inspection is not deleted (an office reviewed it): its
	// finding stays overdue.
	if r := o.dx.push(o.dx.del(syncproto.EntityInspection, o.x)).Results[0]; r.Code != syncproto.CodeNotDeletable {
		t.Errorf("the returned inspection's delete: %s %s, want not_deletable", r.Status, r.Code)
	}
	if n := overdue(); n != 2 {
		t.Errorf("overdue with a delete of the finding's inspection refused: %d, want 2", n)
	}
	// One whose review is cleared (as if none had been) is deleted, and
	// its finding no longer counts.
	e.upsert(syncproto.EntityInspection, o.x, xinfu, map[string]any{"reviewed_at": nil})
	if n := overdue(); n != 2 {
		t.Errorf("overdue before the delete: %d, want 2", n)
	}
	o.dx.pushOK(o.dx.del(syncproto.EntityInspection, o.x))
	if n := overdue(); n != 1 {
		t.Errorf("overdue with the finding's inspection deleted: %d, want 1", n)
	}
	// A check made on the day since names counts, whatever its time of
	// day; one made the day before does not.
	for _, tc := range []struct {
		since string
		want  []server.VehicleWeek
	}{
		{"2026-11-18", want[1:]},
		{"2026-11-19", want[2:]},
		{"2026-11-20", want[2:]},
		{"2026-11-21", nil},
	} {
		ov, err := e.st.Overview(e.ctx, o.all, "2026-11-30", tc.since, "2100-01-01")
		if err != nil {
			t.Fatal(err)
		}
		if !sameWeeks(ov.Weeks, tc.want) {
			t.Errorf("since %s: weeks %+v, want %+v", tc.since, ov.Weeks, tc.want)
		}
	}
	// Over all time the weeks add up to the roadside totals, in the
	// scope's counties only.
	for _, scope := range []server.Scope{o.all, o.scopeX} {
		ov, err := e.st.Overview(e.ctx, scope, "2026-11-30", "2000-01-01", "2100-01-01")
		if err != nil {
			t.Fatal(err)
		}
		stats, err := e.st.VehicleStats(e.ctx, server.VehicleQuery{Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		var g6, removed, wg6, wremoved int
		for _, s := range stats {
			g6, removed = g6+s.G6, removed+s.Removed
		}
		for _, w := range ov.Weeks {
			wg6, wremoved = wg6+w.G6, wremoved+w.Removed
			if !scope.All && w.County != xinfu {
				t.Errorf("忻府's weeks include %s", w.County)
			}
		}
		if g6 == 0 || wg6 != g6 || wremoved != removed {
			t.Errorf("scope %+v: weeks %d/%d, totals %d/%d", scope, wremoved, wg6, removed, g6)
		}
	}
}

func sameWeeks(got, want []server.VehicleWeek) bool {
	var a, b []string
	for _, w := range got {
		a = append(a, fmt.Sprintf("%+v", w))
	}
	for _, w := range want {
		b = append(b, fmt.Sprintf("%+v", w))
	}
	return sameSet(a, b)
}

func testSites(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	for _, tc := range []struct {
		name  string
		q     server.SiteQuery
		want  []string
		total int
	}{
		{"all, by county and name", server.SiteQuery{Scope: o.all}, []string{o.siteB, o.siteA, o.siteC}, 3},
		{"scope", server.SiteQuery{Scope: o.scopeN}, []string{o.siteC}, 1},
		{"text", server.SiteQuery{Scope: o.all, Text: "砖厂"}, []string{o.siteA, o.siteC}, 2},
		{"address", server.SiteQuery{Scope: o.all, Text: "长征街"}, []string{o.siteA}, 1},
		{"address with digits in full width", server.SiteQuery{Scope: o.all, Text: "长征街１００"}, []string{o.siteA}, 1},
		{"literal percent", server.SiteQuery{Scope: o.all, Text: "%"}, []string{o.siteA}, 1},
		{"literal underscore", server.SiteQuery{Scope: o.all, Text: "_"}, []string{o.siteB}, 1},
		{"kind", server.SiteQuery{Scope: o.all, Kind: "factory"}, []string{o.siteA, o.siteC}, 2},
		{"county", server.SiteQuery{Scope: o.all, County: xinfu}, []string{o.siteB, o.siteA}, 2},
		{"page", server.SiteQuery{Scope: o.all, Limit: 1, Offset: 2}, []string{o.siteC}, 3},
		{"out of scope", server.SiteQuery{Scope: o.scopeN, County: xinfu}, nil, 0},
	} {
		got, total, err := e.st.Sites(e.ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) || total != tc.total {
			t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, ids(got), total, tc.want, tc.total)
		}
	}
}

func testFindings(t *testing.T, open Opener) {
	o := newOffice(t, open)
	e := o.e
	// Not the offices': a draft's finding, and a deleted one.
	draft, deleted := uuid.NewString(), uuid.NewString()
	o.dx.pushOK(o.dx.mut(syncproto.EntityFinding, draft, map[string]any{"inspection_id": o.d, "description": "草稿中的问题",
		"deadline": "2026-11-05", "status": "open"}))
	o.dx.pushOK(o.dx.mut(syncproto.EntityFinding, deleted, map[string]any{"inspection_id": o.x, "description": "删掉的问题",
		"deadline": "2026-11-05", "status": "open"}))
	o.dx.pushOK(o.dx.del(syncproto.EntityFinding, deleted))
	for _, tc := range []struct {
		name  string
		q     server.FindingQuery
		want  []string
		total int
	}{
		{"all, the earliest deadline first", server.FindingQuery{Scope: o.all}, []string{o.fC, o.fB, o.fA}, 3},
		{"scope", server.FindingQuery{Scope: o.scopeX}, []string{o.fB, o.fA}, 2},
		{"county", server.FindingQuery{Scope: o.all, County: dingxia}, []string{o.fC}, 1},
		{"county outside the scope", server.FindingQuery{Scope: o.scopeX, County: dingxia}, nil, 0},
		{"status", server.FindingQuery{Scope: o.all, Status: "rectified"}, []string{o.fC}, 1},
		{"to verify: of an approved inspection only", server.FindingQuery{Scope: o.all, Status: "rectified", Verifiable: true}, nil, 0},
		{"of approved inspections", server.FindingQuery{Scope: o.all, Verifiable: true}, []string{o.fB}, 1},
		{"rectified, its inspection not approved", server.FindingQuery{Scope: o.all, Status: "rectified", Unapproved: true}, []string{o.fC}, 1},
		{"of inspections not approved", server.FindingQuery{Scope: o.all, Unapproved: true}, []string{o.fC, o.fA}, 2},
		{"still to rectify", server.FindingQuery{Scope: o.all, Open: true}, []string{o.fB, o.fA}, 2},
		{"overdue", server.FindingQuery{Scope: o.all, OverdueOn: "2026-11-20"}, []string{o.fB}, 1},
		{"overdue, later", server.FindingQuery{Scope: o.all, OverdueOn: "2027-01-01"}, []string{o.fB, o.fA}, 2},
		{"overdue on the deadline itself", server.FindingQuery{Scope: o.all, OverdueOn: "2026-11-10"}, nil, 0},
		{"page", server.FindingQuery{Scope: o.all, Limit: 1, Offset: 1}, []string{o.fB}, 3},
		// By the date of the inspection's visit (a: 11-01, c: 11-02, b: 11-03).
		{"found from a day", server.FindingQuery{Scope: o.all, From: "2026-11-02"}, []string{o.fC, o.fB}, 2},
		{"found to a day", server.FindingQuery{Scope: o.all, To: "2026-11-02"}, []string{o.fC, o.fA}, 2},
		{"found on a day", server.FindingQuery{Scope: o.all, From: "2026-11-02", To: "2026-11-02"}, []string{o.fC}, 1},
		{"found in a month, with a county", server.FindingQuery{Scope: o.all, County: xinfu, From: "2026-11-01", To: "2026-11-30"}, []string{o.fB, o.fA}, 2},
		{"found in another month", server.FindingQuery{Scope: o.all, From: "2026-10-01", To: "2026-10-31"}, nil, 0},
	} {
		got, total, err := e.st.Findings(e.ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) || total != tc.total {
			t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, ids(got), total, tc.want, tc.total)
		}
	}
	// The list of overdue findings is what the overview counts.
	for _, scope := range []server.Scope{o.all, o.scopeX, o.scopeN} {
		for _, day := range []string{"2026-11-02", "2026-11-20", "2027-01-01"} {
			ov, err := e.st.Overview(e.ctx, scope, day, day, "2100-01-01")
			if err != nil {
				t.Fatal(err)
			}
			_, n, err := e.st.Findings(e.ctx, server.FindingQuery{Scope: scope, OverdueOn: day})
			if err != nil || n != ov.OverdueFindings {
				t.Errorf("scope %+v on %s: %d overdue listed (%v), the overview counts %d", scope, day, n, err, ov.OverdueFindings)
			}
		}
	}
}

// flaggedPhotoOfDeletedFinding: a flagged photo of a finding is its
// inspection's — for the overview's flagged count and the queue's flag
// filter, as for the queue's photo and flag counts and the report — only
// while the finding is live. Of two inspections submitted with such a
// photo, the one whose finding was deleted before is not flagged.
func flaggedPhotoOfDeletedFinding(t *testing.T, o *officeData) {
	e := o.e
	before, err := e.st.Overview(e.ctx, o.all, "2026-11-20", "2026-11-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	var insps []string
	for i, deleted := range []bool{false, true} {
		y, f, p := uuid.NewString(), uuid.NewString(), uuid.NewString()
		o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, y, map[string]any{"site_id": o.siteA, "template_id": "coal_yard", "template_version": 1,
			"started_at": "2026-11-18T09:00:00+08:00", "status": "draft"}))
		o.dx.pushOK(o.dx.mut(syncproto.EntityFinding, f, map[string]any{"inspection_id": y, "description": "问题"}))
		o.dx.pushOK(o.dx.mut(syncproto.EntityPhoto, p, map[string]any{"finding_id": f, "sha256": sha(77 + i), "content_type": "image/jpeg"}))
		if err := e.s.SetServerFields(e.ctx, syncproto.EntityPhoto, p, map[string]any{"flags": map[string]any{"no_gps": map[string]any{}}}); err != nil {
			t.Fatal(err)
		}
		if deleted {
			o.dx.pushOK(o.dx.del(syncproto.EntityFinding, f))
		}
		o.dx.pushOK(o.dx.mut(syncproto.EntityInspection, y, map[string]any{"status": "submitted"}))
		insps = append(insps, y)
	}
	ov, err := e.st.Overview(e.ctx, o.all, "2026-11-20", "2026-11-01", "2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if ov.FlaggedWaiting != before.FlaggedWaiting+1 {
		t.Errorf("flagged waiting %d, want %d: the inspection whose flagged finding was deleted counts", ov.FlaggedWaiting, before.FlaggedWaiting+1)
	}
	es, _, err := e.st.InspectionQueue(e.ctx, server.InspectionQuery{Scope: o.all, Status: "submitted", Flag: "no_gps", Limit: 50}, server.QueueSort{})
	if err != nil {
		t.Fatal(err)
	}
	listed := func(id string) bool {
		return slices.ContainsFunc(es, func(q server.QueueEntry) bool { return q.Record.ID == id })
	}
	if !listed(insps[0]) || listed(insps[1]) {
		t.Errorf("no_gps filter lists the live finding's inspection %v (want true), the deleted one's %v (want false)", listed(insps[0]), listed(insps[1]))
	}
}

// mustFind returns the records of entity whose field is value.
func mustFind(t *testing.T, e *env, entity, field, value string) []*server.StoredRecord {
	t.Helper()
	rs, err := e.st.Find(e.ctx, entity, field, value)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
