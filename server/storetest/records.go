package storetest

import (
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// recordCases: reading records by id and by field, outside and inside a
// write.
var recordCases = []testCase{
	{"Get", testGet},
	{"Find", testFind},
	{"WriteTxSeesItsWrites", testWriteTxReads},
}

func testGet(t *testing.T, open Opener) {
	e := seeded(t, open)
	if r, err := e.st.Get(e.ctx, syncproto.EntitySite, uuid.NewString()); err != nil || r != nil {
		t.Errorf("absent record: %+v %v", r, err)
	}
	if _, err := e.st.Get(e.ctx, "no_such_entity", "x"); err == nil {
		t.Error("unknown entity: no error")
	}
	c := e.get(syncproto.EntityCounty, xinfu)
	if c == nil || c.County != "" || c.Text("name") != "忻府区" || c.CreatedBy != "" || c.Entity.Name != syncproto.EntityCounty {
		t.Errorf("global record %+v", c)
	}
	tk := e.get(syncproto.EntityTask, "task-05")
	if tk == nil || !jsonEq(tk.Value("templates"), []byte(`["staggered_production"]`)) {
		t.Errorf("task's JSON field %s", tk.Value("templates"))
	}
}

func testFind(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	_, insp := d.newInspection(xinfu)
	_, other := d.newInspection(xinfu)
	f := make([]string, 3)
	for i := range f {
		f[i] = uuid.NewString()
		d.pushOK(d.mut(syncproto.EntityFinding, f[i], map[string]any{"inspection_id": insp, "description": "问题"}))
	}
	d.pushOK(d.mut(syncproto.EntityFinding, uuid.NewString(), map[string]any{"inspection_id": other, "description": "别的"}))
	d.pushOK(d.del(syncproto.EntityFinding, f[1]))
	got, err := e.st.Find(e.ctx, syncproto.EntityFinding, "inspection_id", insp)
	if err != nil {
		t.Fatal(err)
	}
	// Live and deleted records.
	if !sameSet(ids(got), f) {
		t.Errorf("findings %v, want %v", ids(got), f)
	}
	for _, r := range got {
		if r.State.IsDeleted() != (r.ID == f[1]) {
			t.Errorf("finding %s deleted %v", r.ID, r.State.IsDeleted())
		}
	}
	if got, err := e.st.Find(e.ctx, syncproto.EntityFinding, "inspection_id", uuid.NewString()); err != nil || len(got) != 0 {
		t.Errorf("find nothing: %v %v", ids(got), err)
	}
	if got, err := e.st.Find(e.ctx, syncproto.EntityInspection, "template_id", "coal_yard"); err != nil || !sameSet(ids(got), []string{insp, other}) {
		t.Errorf("inspections of coal_yard: %v %v", ids(got), err)
	}
	if _, err := e.st.Find(e.ctx, "no_such_entity", "x", "y"); err == nil {
		t.Error("find in an unknown entity: no error")
	}
}

func testWriteTxReads(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	_, insp := d.newInspection(xinfu)
	fe := server.EntityByName(syncproto.EntityFinding)
	found, missing := uuid.NewString(), uuid.NewString()
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if err := tx.Prefetch(e.ctx, server.EntityByName(syncproto.EntityInspection), []string{insp, missing}); err != nil {
			return err
		}
		r, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityInspection), insp)
		if err != nil || r == nil || r.ID != insp {
			t.Errorf("get after prefetch: %+v %v", r, err)
		}
		if r, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityInspection), missing); err != nil || r != nil {
			t.Errorf("get of a prefetched absent id: %+v %v", r, err)
		}
		if err := e.s.Upsert(e.ctx, tx, syncproto.EntityFinding, found, xinfu, map[string]any{"inspection_id": insp, "description": "新"}); err != nil {
			return err
		}
		got, err := tx.Find(e.ctx, fe, "inspection_id", insp)
		if err != nil || len(got) != 1 || got[0].ID != found || got[0].Text("description") != "新" {
			t.Errorf("find in the transaction: %v %v", ids(got), err)
		}
		// Changed again in the same transaction: Get and Find see the
		// latest state.
		if err := e.s.Upsert(e.ctx, tx, syncproto.EntityFinding, found, xinfu, map[string]any{"description": "再改"}); err != nil {
			return err
		}
		if r, err := tx.Get(e.ctx, fe, found); err != nil || r == nil || r.Text("description") != "再改" {
			t.Errorf("get in the transaction: %+v %v", r, err)
		}
		if got, err := tx.Find(e.ctx, fe, "inspection_id", insp); err != nil || len(got) != 1 || got[0].Text("description") != "再改" {
			t.Errorf("find after a second write: %v %v", ids(got), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := e.get(syncproto.EntityFinding, found)
	if r == nil || r.Text("description") != "再改" || r.County != xinfu {
		t.Errorf("committed finding %+v", r)
	}
	// One record written twice in one transaction appears once in the feed.
	n := 0
	for _, c := range e.feed(server.Scope{All: true}, 0, 1000) {
		if c.ID == found {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the finding is %d times in the feed", n)
	}
}
