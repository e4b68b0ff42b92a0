package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestMonthlyReport: the report counts a county's inspections of the month
// by status and checklist, their findings and flagged photos, and nothing
// of other months or counties.
func TestMonthlyReport(t *testing.T) {
	ctx := context.Background()
	db, demo := openDemo(t)
	s := demo.Syncer
	put := func(entity, county string, f map[string]any) string {
		t.Helper()
		id := uuid.NewString()
		if err := s.Store.Update(ctx, func(tx server.WriteTx) error { return s.Upsert(ctx, tx, entity, id, county, f) }); err != nil {
			t.Fatal(err)
		}
		return id
	}
	insp := func(county, status, tmpl, started string) string {
		return put(syncproto.EntityInspection, county, map[string]any{"site_id": apptest.DemoSite(t, county), "template_id": tmpl,
			"template_version": 1, "status": status, "started_at": started})
	}
	a := insp("140902", "submitted", "construction_dust", "2026-10-03T09:00:00+08:00")
	insp("140902", "approved", "construction_dust", "2026-10-31T18:00:00+08:00")
	insp("140902", "returned", "construction_dust", "2026-10-15T09:00:00+08:00")
	insp("140902", "draft", "construction_dust", "2026-10-16T09:00:00+08:00")     // not reviewable
	insp("140902", "submitted", "construction_dust", "2026-11-01T09:00:00+08:00") // another month
	b := insp("140925", "submitted", "construction_dust", "2026-10-05T09:00:00+08:00")
	put(syncproto.EntityFinding, "140902", map[string]any{"inspection_id": a, "description": "料堆裸露"})
	put(syncproto.EntityFinding, "140925", map[string]any{"inspection_id": b, "description": "围挡缺失"})
	put(syncproto.EntityPhoto, "140902", map[string]any{"inspection_id": a, "flags": map[string]any{"no_gps": map[string]any{}}})
	put(syncproto.EntityPhoto, "140902", map[string]any{"inspection_id": a})

	got, err := server.LoadMonthlyReport(ctx, db, "2026-10", []string{"140902", "140925"})
	if err != nil {
		t.Fatal(err)
	}
	x, n := got[0], got[1]
	if x.Submitted != 1 || x.Approved != 1 || x.Returned != 1 || x.ByTemplate["construction_dust"] != 3 ||
		x.Findings != 1 || x.Photos != 2 || x.FlaggedPhotos != 1 {
		t.Errorf("忻府区: %+v", x)
	}
	if n.Inspections() != 1 || n.Findings != 1 || n.Photos != 0 {
		t.Errorf("宁武县: %+v", n)
	}
}
