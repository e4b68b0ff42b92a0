package storetest

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// earlyDeleteCases: a delete that reaches the server before its record's
// create (server.EarlyDelete) ends as in the other order — every delivery
// order converges, as DESIGN asks of merges, and a deleted record is not
// brought back by a create arriving late.
var earlyDeleteCases = []testCase{
	{"EveryOrderConverges", testEarlyDeleteOrders},
	{"RefusedInEveryOrder", testEarlyDeleteRefused},
	{"ForgottenOnceApplied", testEarlyDeleteForgotten},
}

// step is one mutation of a scenario, made for the record id given: the
// device that sends it, and the mutation.
type step struct {
	dev *device
	mut func(id string) syncproto.Mutation
}

// permutations returns every order of n steps' indexes.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// runOrders sends the steps in every order a server can receive them —
// each device's in the order given (a phone sends its writes in HLC
// order), the devices' interleaved every way — each order to a record id
// of its own, one batch a step, and returns the ids by order.
func runOrders(e *env, steps []step) map[string][]int {
	ids := map[string][]int{}
	for _, order := range permutations(len(steps)) {
		if !inDeviceOrder(steps, order) {
			continue
		}
		id := uuid.NewString()
		ids[id] = order
		for _, i := range order {
			steps[i].dev.push(steps[i].mut(id))
		}
	}
	return ids
}

// inDeviceOrder reports whether order sends each device's steps in the
// order they are listed.
func inDeviceOrder(steps []step, order []int) bool {
	last := map[*device]int{}
	for _, i := range order {
		if j, ok := last[steps[i].dev]; ok && j > i {
			return false
		}
		last[steps[i].dev] = i
	}
	return true
}

// deviceState is a record's state without the server's own fields
// (derived from the others, or the server's time of receipt), which
// differ with the order that made them.
func deviceState(r *server.StoredRecord) syncproto.Record {
	st := syncproto.Record{Deleted: r.State.Deleted, Fields: map[string]syncproto.FieldState{}}
	for name, f := range r.State.Fields {
		if def, _ := r.Entity.Field(name); def != nil && !def.Server {
			st.Fields[name] = f
		}
	}
	return st
}

// converged checks that the records of every order hold the same device
// state and want's deletion, and, with sameLog, the same number of
// conflict log entries. (With two deletes it differs, whatever came
// first: a value written between them is logged if it arrived after the
// first, not if the later delete came before it — the record keeps only
// its latest tombstone.)
func converged(t *testing.T, e *env, entity string, ids map[string][]int, wantDeleted syncproto.HLC, sameLog bool) {
	t.Helper()
	var first syncproto.Record
	var firstOrder []int
	firstLogged := -1
	for id, order := range ids {
		r := e.get(entity, id)
		if r == nil {
			t.Errorf("order %v: no record", order)
			continue
		}
		if r.State.Deleted != wantDeleted {
			t.Errorf("order %v: deleted at %q, want %q", order, r.State.Deleted, wantDeleted)
		}
		cs, err := e.st.Conflicts(e.ctx, server.Scope{All: true}, entity, id, 100)
		if err != nil {
			t.Fatal(err)
		}
		st := deviceState(r)
		if firstLogged < 0 {
			first, firstOrder, firstLogged = st, order, len(cs)
			continue
		}
		if !reflect.DeepEqual(st, first) {
			t.Errorf("order %v: %+v\norder %v: %+v", order, st, firstOrder, first)
		}
		if sameLog && len(cs) != firstLogged {
			t.Errorf("order %v logged %d conflicts, order %v %d", order, len(cs), firstOrder, firstLogged)
		}
	}
}

func testEarlyDeleteOrders(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b, c := e.inspector(xinfu), e.inspector(xinfu), e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	_, parent := a.newInspection(xinfu)
	create := func(d *device, ms int64, entity string, fields map[string]any) step {
		return step{d, func(id string) syncproto.Mutation { return d.mutAt(d.hlcAt(ms), entity, id, fields) }}
	}
	edit := func(d *device, ms int64, fields map[string]any) step {
		return step{d, func(id string) syncproto.Mutation {
			return d.mutAt(d.hlcAt(ms), syncproto.EntityInspection, id, fields)
		}}
	}
	del := func(d *device, ms int64, entity string) step {
		return step{d, func(id string) syncproto.Mutation {
			return syncproto.Mutation{Entity: entity, ID: id, Delete: true, HLC: d.hlcAt(ms).String()}
		}}
	}
	inspection := map[string]any{"site_id": site, "template_id": "coal_yard", "template_version": 1,
		"started_at": "2026-11-20T09:00:00+08:00", "status": "draft", "summary": "料棚未封闭"}
	finding := map[string]any{"inspection_id": parent, "item_key": "closed_shed", "description": "东侧敞开",
		"severity": "major", "status": "open"}
	for _, c := range []struct {
		name    string
		entity  string
		steps   []step
		by      *device // the deleter whose delete is kept
		deleted int64   // the HLC (ms) the record ends deleted at
	}{
		{"its own phone deletes it later", syncproto.EntityInspection,
			[]step{create(a, 1000, syncproto.EntityInspection, inspection), del(a, 2000, syncproto.EntityInspection)}, a, 2000},
		{"another phone deletes it later", syncproto.EntityInspection,
			[]step{create(a, 1000, syncproto.EntityInspection, inspection), del(b, 2000, syncproto.EntityInspection)}, b, 2000},
		{"the delete is stamped before the create", syncproto.EntityInspection,
			[]step{create(a, 3000, syncproto.EntityInspection, inspection), del(b, 2000, syncproto.EntityInspection)}, b, 2000},
		{"two deletes, an edit between", syncproto.EntityInspection,
			[]step{create(a, 1000, syncproto.EntityInspection, inspection), del(b, 2000, syncproto.EntityInspection),
				edit(a, 2200, map[string]any{"summary": "改"}), del(c, 2500, syncproto.EntityInspection)}, c, 2500},
		{"a finding", syncproto.EntityFinding,
			[]step{create(a, 1000, syncproto.EntityFinding, finding), del(b, 2000, syncproto.EntityFinding)}, b, 2000},
	} {
		t.Run(c.name, func(t *testing.T) {
			ids := runOrders(e, c.steps)
			converged(t, e, c.entity, ids, c.by.hlcAt(c.deleted), c.by == c.steps[len(c.steps)-1].dev && len(c.steps) == 2)
		})
	}

	// In one batch, the delete first: the same as the create first.
	t.Run("one batch", func(t *testing.T) {
		ids := map[string][]int{}
		for _, order := range [][]int{{0, 1}, {1, 0}} {
			id := uuid.NewString()
			ids[id] = order
			ms := []syncproto.Mutation{a.mutAt(a.hlcAt(1000), syncproto.EntityInspection, id, inspection),
				{Entity: syncproto.EntityInspection, ID: id, Delete: true, HLC: a.hlcAt(2000).String()}}
			res := a.push(ms[order[0]], ms[order[1]])
			if order[0] == 1 {
				wantResult(t, res.Results[0], syncproto.StatusRejected, syncproto.CodeNotFound)
				wantResult(t, res.Results[1], syncproto.StatusStale, syncproto.CodeRecordDeleted)
			}
		}
		converged(t, e, syncproto.EntityInspection, ids, a.hlcAt(2000), true)
	})
}

// wantResult checks a push result's status and code.
func wantResult(t *testing.T, r syncproto.PushResult, status, code string) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Errorf("%s %s: %s/%s (%s), want %s/%s", r.Entity, r.ID, r.Status, r.Code, r.Message, status, code)
	}
}

// testEarlyDeleteRefused: a delete the record's create would have seen
// refused (another county's record; a submitted inspection) is refused
// when it came first too: the record stays, in every order.
func testEarlyDeleteRefused(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, other, b := e.inspector(xinfu), e.inspector(dingxia), e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	create := func(status string) step {
		return step{a, func(id string) syncproto.Mutation {
			return a.mutAt(a.hlcAt(1000), syncproto.EntityInspection, id, map[string]any{"site_id": site,
				"template_id": "coal_yard", "template_version": 1, "started_at": "2026-11-20T09:00:00+08:00", "status": status})
		}}
	}
	del := func(d *device) step {
		return step{d, func(id string) syncproto.Mutation {
			return syncproto.Mutation{Entity: syncproto.EntityInspection, ID: id, Delete: true, HLC: d.hlcAt(2000).String()}
		}}
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"deleted by another county's inspector", []step{create("draft"), del(other)}},
		{"a submitted inspection", []step{create("submitted"), del(b)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			converged(t, e, syncproto.EntityInspection, runOrders(e, c.steps), syncproto.HLC{}, true)
		})
	}
}

// testEarlyDeleteForgotten: a kept delete applies once, to the create
// that follows it, and is then forgotten; a delete of a record never
// created keeps nothing visible.
func testEarlyDeleteForgotten(t *testing.T, open Opener) {
	e := seeded(t, open)
	a := e.inspector(xinfu)
	site := a.site(xinfu, "甲")
	id := uuid.NewString()
	wantResult(t, a.push(syncproto.Mutation{Entity: syncproto.EntityInspection, ID: id, Delete: true, HLC: a.hlcAt(2000).String()}).Results[0],
		syncproto.StatusRejected, syncproto.CodeNotFound)
	if r := e.get(syncproto.EntityInspection, id); r != nil {
		t.Fatalf("a delete of nothing stored a record: %+v", r)
	}
	earlyDelete := func() *server.EarlyDelete {
		var d *server.EarlyDelete
		if err := e.st.Update(e.ctx, func(tx server.WriteTx) (err error) {
			d, err = tx.EarlyDelete(e.ctx, server.EntityByName(syncproto.EntityInspection), id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := earlyDelete(); d == nil || d.HLC != a.hlcAt(2000) || d.By.UserID != a.p.UserID || !reflect.DeepEqual(d.By.Counties, a.p.Counties) {
		t.Fatalf("kept delete %+v", d)
	}
	res := a.push(a.mutAt(a.hlcAt(1000), syncproto.EntityInspection, id, map[string]any{"site_id": site,
		"template_id": "coal_yard", "template_version": 1, "started_at": "2026-11-20T09:00:00+08:00", "status": "draft"}))
	wantResult(t, res.Results[0], syncproto.StatusStale, syncproto.CodeRecordDeleted)
	if d := earlyDelete(); d != nil {
		t.Errorf("the delete is kept after it applied: %+v", d)
	}
	// The feed has the record once, as a tombstone.
	var n int
	for _, c := range e.feed(server.Scope{All: true}, 0, 1000) {
		if c.ID == id {
			n++
			if c.State.Deleted != a.hlcAt(2000) {
				t.Errorf("feed: %s deleted at %q", id, c.State.Deleted)
			}
		}
	}
	if n != 1 {
		t.Errorf("the feed has the record %d times", n)
	}
}
