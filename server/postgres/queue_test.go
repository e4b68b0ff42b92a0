package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestInspectionQueueCounts: InspectionQueue counts the failed answers
// the server listed (failed_items, from answers in every form they take),
// the photos of the inspection and of its findings and their flags, and
// the 缺项 (here h, the one required item); sorting on every key works and
// an unknown key is refused.
func TestInspectionQueueCounts(t *testing.T) {
	ctx := context.Background()
	db, s := openNew(t)
	county, site := "140902", uuid.NewString()
	insp, other, finding := uuid.NewString(), uuid.NewString(), uuid.NewString()
	err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		for _, w := range []struct {
			entity, id, county string
			fields             map[string]any
		}{
			{syncproto.EntityCounty, county, "", map[string]any{"code": county}},
			{syncproto.EntitySite, site, county, map[string]any{"county": county, "kind": "factory", "name": "厂"}},
			// The checklist the answers are judged by: a to g, of every
			// kind an answer can fail (check, boolean) or not (text).
			{syncproto.EntityTemplate, "t@1", "", map[string]any{"template_id": "t", "version": 1, "items": []map[string]any{
				{"key": "a", "label": "甲", "type": "check"}, {"key": "b", "label": "乙", "type": "check"},
				{"key": "c", "label": "丙", "type": "boolean"}, {"key": "d", "label": "丁", "type": "boolean"},
				{"key": "e", "label": "戊", "type": "check"}, {"key": "f", "label": "己", "type": "boolean"},
				{"key": "g", "label": "庚", "type": "text"}, {"key": "h", "label": "辛", "type": "check", "required": true}}}},
			{syncproto.EntityInspection, insp, county, map[string]any{"site_id": site, "template_id": "t", "template_version": 1,
				"status": "submitted", "started_at": "2026-11-01T09:00:00+08:00",
				"answers.a": map[string]any{"result": "fail"}, "answers.b": "fail", "answers.c": false,
				"answers.d": map[string]any{"value": false}, "answers.e": map[string]any{"result": "pass"}, "answers.f": true,
				"answers.g": map[string]any{"value": "fail"}}},
			{syncproto.EntityInspection, other, county, map[string]any{"site_id": site, "template_id": "t", "template_version": 1,
				"status": "submitted", "started_at": "2026-11-02T09:00:00+08:00"}},
			{syncproto.EntityFinding, finding, county, map[string]any{"inspection_id": insp, "item_key": "a"}},
			{syncproto.EntityPhoto, uuid.NewString(), county, map[string]any{"inspection_id": insp, "flags": map[string]any{"no_gps": map[string]any{}, "edited": map[string]any{}}}},
			{syncproto.EntityPhoto, uuid.NewString(), county, map[string]any{"finding_id": finding, "flags": map[string]any{"far_from_site": map[string]any{}}}},
			{syncproto.EntityPhoto, uuid.NewString(), county, map[string]any{"inspection_id": insp, "flags": map[string]any{}}},
		} {
			if err := s.Upsert(ctx, tx, w.entity, w.id, w.county, w.fields); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := server.InspectionQuery{Scope: server.Scope{All: true}, Limit: 10}
	es, total, err := db.InspectionQueue(ctx, q, server.QueueSort{Key: "failed", Desc: true})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(es) != 2 || es[0].Record.ID != insp || es[1].Record.ID != other {
		t.Fatalf("queue: %d %+v", total, es)
	}
	if e := es[0]; e.Failed != 4 || e.Photos != 3 || e.Flags != 3 || e.Clean() {
		t.Errorf("counts: failed %d photos %d flags %d", e.Failed, e.Photos, e.Flags)
	}
	if e := es[1]; e.Failed != 0 || e.Photos != 0 || e.Flags != 0 || e.Missing != 1 || e.Clean() { // h, required
		t.Errorf("empty inspection: %+v", e)
	}
	if _, _, err := db.InspectionQueue(ctx, q, server.QueueSort{Key: "id; DROP TABLE inspection"}); server.ErrorCode(err) != syncproto.CodeBadRequest {
		t.Errorf("unknown sort key: %v", err)
	}
	for _, key := range server.QueueSortKeys {
		if _, _, err := db.InspectionQueue(ctx, q, server.QueueSort{Key: key}); err != nil {
			t.Errorf("sort %s: %v", key, err)
		}
	}
}
