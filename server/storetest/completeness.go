package storetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// completenessCases: what the check of inspections against their
// checklists reads in a write (server.CompletenessTx).
var completenessCases = []testCase{
	{"InspectionPhotosAndBackfill", testCompletenessReads},
	{"QueueFilterAndBackfill", testCompletenessFilter},
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

// testCompletenessFilter: the review queue filters complete and incomplete
// inspections; inspections stored before the server kept their
// completeness (no missing_items, as an older version left them) get it
// from BackfillCompleteness, once, and are filtered by it.
func testCompletenessFilter(t *testing.T, open Opener) {
	e := seeded(t, open)
	d := e.inspector(xinfu)
	site := d.site(xinfu, "锅炉房")
	complete, incomplete := uuid.NewString(), uuid.NewString()
	insp := map[string]any{"site_id": site, "template_id": "coal_boiler", "template_version": 1, "status": "submitted"}
	done := map[string]any{"answers.tonnage": map[string]any{"value": 20}, "answers.boiler_status": map[string]any{"result": "na"},
		"answers.boiler_retired": map[string]any{"result": "na"}, "answers.no_coal_stock": map[string]any{"result": "na"},
		"answers.no_new_boiler": map[string]any{"result": "pass"}}
	for k, v := range insp {
		done[k] = v
	}
	d.pushOK(d.mut(syncproto.EntityInspection, complete, done), d.mut(syncproto.EntityInspection, incomplete, insp))
	queue := func(c string) []string {
		t.Helper()
		recs, _, err := e.st.Inspections(e.ctx, server.InspectionQuery{Scope: server.Scope{All: true}, Completeness: c})
		if err != nil {
			t.Fatal(err)
		}
		return ids(recs)
	}
	if got := queue(server.CompletenessComplete); len(got) != 1 || got[0] != complete {
		t.Errorf("complete inspections: %v, want [%s]", got, complete)
	}
	if got := queue(server.CompletenessIncomplete); len(got) != 1 || got[0] != incomplete {
		t.Errorf("incomplete inspections: %v, want [%s]", got, incomplete)
	}
	if got := queue(""); len(got) != 2 {
		t.Errorf("all inspections: %v", got)
	}

	// Two more as an older version left them: never checked.
	oldComplete, oldIncomplete := uuid.NewString(), uuid.NewString()
	err := e.st.Update(e.ctx, func(tx server.WriteTx) error {
		if err := tx.Put(e.ctx, rawRecord(e, syncproto.EntityInspection, oldComplete, xinfu, done)); err != nil {
			return err
		}
		return tx.Put(e.ctx, rawRecord(e, syncproto.EntityInspection, oldIncomplete, xinfu, insp))
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.s.BackfillCompleteness(e.ctx); err != nil || n != 2 {
		t.Fatalf("backfill: %d, %v; want 2", n, err)
	}
	for id, want := range map[string]string{oldComplete: `[]`, oldIncomplete: `[{"key":"tonnage","reason":"answer"}`} {
		if got := string(e.get(syncproto.EntityInspection, id).Value("missing_items")); !strings.HasPrefix(got, want) {
			t.Errorf("inspection %s: missing_items %s, want %s…", id, got, want)
		}
	}
	if n, err := e.s.BackfillCompleteness(e.ctx); err != nil || n != 0 {
		t.Errorf("second backfill: %d, %v; want 0", n, err)
	}
	if got := queue(server.CompletenessIncomplete); !sameSet(got, []string{incomplete, oldIncomplete}) {
		t.Errorf("incomplete after backfill: %v", got)
	}
	if got := queue(server.CompletenessComplete); !sameSet(got, []string{complete, oldComplete}) {
		t.Errorf("complete after backfill: %v", got)
	}
}
