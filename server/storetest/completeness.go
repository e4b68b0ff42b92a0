package storetest

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// completenessCases: what the check of inspections against their
// checklists reads in a write (server.CompletenessTx).
var completenessCases = []testCase{
	{"InspectionPhotosAndBackfill", testCompletenessReads},
}

// rawRecord is a record as a store keeps it, with fields stamped h and no
// server-computed fields (as an older server stored them).
func rawRecord(e *env, entity, id, county string, fields map[string]any) *server.StoredRecord {
	r := &server.StoredRecord{Entity: server.EntityByName(entity), ID: id, County: county, CreatedAt: e.Now(), UpdatedAt: e.Now()}
	vals := map[string]json.RawMessage{}
	for k, v := range fields {
		b, _ := json.Marshal(v)
		vals[k] = b
	}
	syncproto.Merge(&r.State, vals, false, e.s.Clock.Now())
	return r
}

func testCompletenessReads(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "甲")
	insp, other := uuid.NewString(), uuid.NewString()
	pa, pb, pc, pd := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		for _, r := range []*server.StoredRecord{
			rawRecord(e, syncproto.EntityInspection, insp, xinfu, map[string]any{"site_id": site, "template_id": "coal_yard",
				"template_version": 1, "status": "draft", "started_at": "2026-11-20T09:00:00+08:00"}),
			rawRecord(e, syncproto.EntityInspection, other, xinfu, map[string]any{"site_id": site, "template_id": "coal_yard",
				"template_version": 1, "status": "draft", "started_at": "2026-11-20T09:00:00+08:00"}),
			rawRecord(e, syncproto.EntityPhoto, pa, xinfu, map[string]any{"inspection_id": insp, "item_key": "closed_shed", "sha256": sha(1)}),
			rawRecord(e, syncproto.EntityPhoto, pb, xinfu, map[string]any{"inspection_id": insp, "sha256": sha(2)}), // no item
			rawRecord(e, syncproto.EntityPhoto, pc, xinfu, map[string]any{"inspection_id": other, "item_key": "floor_paved", "sha256": sha(3),
				"uploaded": true}),
		} {
			if err := tx.Put(e.ctx, r); err != nil {
				return err
			}
		}
		// The transaction sees its own photos.
		got, err := tx.InspectionPhotos(e.ctx, []string{insp, other})
		if err != nil {
			return err
		}
		if len(got) != 2 || len(got[insp]) != 1 || got[insp][0] != (syncproto.ItemPhoto{ItemKey: "closed_shed"}) ||
			len(got[other]) != 1 || got[other][0] != (syncproto.ItemPhoto{ItemKey: "floor_paved", Uploaded: true}) {
			t.Errorf("photos in the transaction %+v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = e.st.Update(e.ctx, func(tx server.WriteTx) error {
		// Whether UncheckedInspections sees the transaction's own writes
		// is left open by the contract: it is read after a commit.
		un, err := tx.UncheckedInspections(e.ctx, 10)
		if err != nil || !sameSet(un, []string{insp, other}) {
			t.Errorf("unchecked %v %v", un, err)
		}
		if un, err := tx.UncheckedInspections(e.ctx, 1); err != nil || len(un) != 1 {
			t.Errorf("unchecked, limit 1: %v %v", un, err)
		}
		// A new photo, an upload and a delete in this transaction, over
		// the stored ones.
		if err := tx.Put(e.ctx, rawRecord(e, syncproto.EntityPhoto, pd, xinfu, map[string]any{"inspection_id": insp,
			"item_key": "floor_paved", "sha256": sha(4)})); err != nil {
			return err
		}
		r, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityPhoto), pa)
		if err != nil {
			return err
		}
		syncproto.Merge(&r.State, map[string]json.RawMessage{"uploaded": json.RawMessage("true")}, false, e.s.Clock.Now())
		if err := tx.Put(e.ctx, r); err != nil {
			return err
		}
		c, err := tx.Get(e.ctx, server.EntityByName(syncproto.EntityPhoto), pc)
		if err != nil {
			return err
		}
		syncproto.Merge(&c.State, nil, true, e.s.Clock.Now())
		if err := tx.Put(e.ctx, c); err != nil {
			return err
		}
		got, err := tx.InspectionPhotos(e.ctx, []string{insp, other, uuid.NewString()})
		if err != nil {
			return err
		}
		if len(got[insp]) != 2 || len(got[other]) != 0 {
			t.Errorf("photos after the changes %+v", got)
		}
		for _, p := range got[insp] {
			if want := map[string]bool{"closed_shed": true, "floor_paved": false}; p.Uploaded != want[p.ItemKey] {
				t.Errorf("photo %+v, want uploaded %v", p, want[p.ItemKey])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An inspection a server stored before failed_items existed: its
	// other completeness fields are there, failed_items is not.
	old := uuid.NewString()
	if err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		return tx.Put(e.ctx, rawRecord(e, syncproto.EntityInspection, old, xinfu, map[string]any{"site_id": site,
			"template_id": "coal_yard", "template_version": 1, "status": "draft", "started_at": "2026-11-20T09:00:00+08:00",
			"answers.closed_shed": map[string]any{"result": "fail"}, "answers.floor_paved": map[string]any{"result": "pass"},
			"missing_items": []any{}, "unknown_answers": []any{}}))
	}); err != nil {
		t.Fatal(err)
	}
	n, err := e.s.BackfillCompleteness(e.ctx)
	if err != nil || n != 3 {
		t.Fatalf("backfill: %d %v, want 3", n, err)
	}
	if r := e.get(syncproto.EntityInspection, insp); r.Value("missing_items") == nil || string(r.Value("failed_items")) != "[]" {
		t.Errorf("completeness after the backfill: %v, failed_items %s", fieldNames(r), r.Value("failed_items"))
	}
	if r := e.get(syncproto.EntityInspection, old); string(r.Value("failed_items")) != `["closed_shed"]` {
		t.Errorf("failed_items of an inspection stored before them: %s, want [\"closed_shed\"]", r.Value("failed_items"))
	}
	if n, err := e.s.BackfillCompleteness(e.ctx); err != nil || n != 0 {
		t.Errorf("second backfill: %d %v, want 0", n, err)
	}
}
