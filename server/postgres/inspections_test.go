package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestInspectionsQueue: the review queue lists only inspections in scope
// and past draft, filters by county, checklist, status and date, pages
// newest first, and counts per county.
func TestInspectionsQueue(t *testing.T) {
	ctx := context.Background()
	db, s := openNew(t)
	sites := map[string]string{}
	add := func(county, template, status, started string) string {
		id := uuid.NewString()
		if sites[county] == "" {
			sites[county] = uuid.NewString()
		}
		site := sites[county]
		err := s.Store.Update(ctx, func(tx server.WriteTx) error {
			if err := s.Upsert(ctx, tx, syncproto.EntityCounty, county, "", map[string]any{"code": county}); err != nil {
				return err
			}
			if err := s.Upsert(ctx, tx, syncproto.EntitySite, site, county, map[string]any{
				"county": county, "kind": "factory", "name": "厂"}); err != nil {
				return err
			}
			return s.Upsert(ctx, tx, syncproto.EntityInspection, id, county, map[string]any{
				"site_id": site, "template_id": template, "template_version": 1,
				"status": status, "started_at": started})
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := add("140902", "construction_dust", "submitted", "2026-11-01T09:00:00+08:00")
	b := add("140902", "coal_yard", "approved", "2026-11-03T09:00:00+08:00")
	add("140902", "coal_yard", "draft", "2026-11-04T09:00:00+08:00")
	c := add("140925", "construction_dust", "submitted", "2026-11-02T09:00:00+08:00")

	// Evidence: a has a photo without GPS, b a finding whose photo is far
	// from the site, and c a clean photo.
	photo := func(county, id string, fields map[string]any) {
		err := s.Store.Update(ctx, func(tx server.WriteTx) error {
			return s.Upsert(ctx, tx, syncproto.EntityPhoto, id, county, fields)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	finding := uuid.NewString()
	if err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityFinding, finding, "140902", map[string]any{"inspection_id": b, "item_key": "fence"})
	}); err != nil {
		t.Fatal(err)
	}
	photo("140902", uuid.NewString(), map[string]any{"inspection_id": a, "flags": map[string]any{"no_gps": map[string]any{}}})
	photo("140902", uuid.NewString(), map[string]any{"finding_id": finding, "flags": map[string]any{"far_from_site": map[string]any{"distance_m": 900}}})
	photo("140925", uuid.NewString(), map[string]any{"inspection_id": c, "flags": map[string]any{}})

	xinfu := server.Scope{Counties: []string{"140902"}}
	all := server.Scope{All: true}
	for _, tc := range []struct {
		name string
		q    server.InspectionQuery
		want []string
	}{
		{"county scope", server.InspectionQuery{Scope: xinfu}, []string{b, a}},
		{"all", server.InspectionQuery{Scope: all}, []string{b, c, a}},
		{"county filter", server.InspectionQuery{Scope: all, County: "140925"}, []string{c}},
		{"out of scope county", server.InspectionQuery{Scope: xinfu, County: "140925"}, nil},
		{"template", server.InspectionQuery{Scope: all, TemplateID: "construction_dust"}, []string{c, a}},
		{"status", server.InspectionQuery{Scope: all, Status: "submitted"}, []string{c, a}},
		{"draft never", server.InspectionQuery{Scope: all, Status: "draft"}, []string{b, c, a}},
		{"dates", server.InspectionQuery{Scope: all, From: "2026-11-02", To: "2026-11-02"}, []string{c}},
		{"page", server.InspectionQuery{Scope: all, Limit: 1, Offset: 1}, []string{c}},
		{"flag no_gps", server.InspectionQuery{Scope: all, Flag: "no_gps"}, []string{a}},
		{"flag of a finding's photo", server.InspectionQuery{Scope: all, Flag: "far_from_site"}, []string{b}},
		{"flag nobody has", server.InspectionQuery{Scope: all, Flag: "edited"}, nil},
		{"flag and status", server.InspectionQuery{Scope: all, Flag: "no_gps", Status: "approved"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := db.Inspections(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if len(ids) != len(tc.want) || (len(ids) > 0 && ids[0] != tc.want[0]) {
				t.Fatalf("ids %v, want %v", ids, tc.want)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("ids %v, want %v", ids, tc.want)
				}
			}
			if tc.q.Limit == 0 && total != len(tc.want) {
				t.Errorf("total %d, want %d", total, len(tc.want))
			}
		})
	}
	counts, err := db.InspectionCounts(ctx, server.InspectionQuery{Scope: all, County: "140925", Status: "submitted"})
	if err != nil {
		t.Fatal(err)
	}
	if counts["140902"] != 1 || counts["140925"] != 1 || len(counts) != 2 {
		t.Errorf("counts %v", counts)
	}
	if counts, _ := db.InspectionCounts(ctx, server.InspectionQuery{Scope: xinfu}); len(counts) != 1 || counts["140902"] != 2 {
		t.Errorf("county-scoped counts %v", counts)
	}
}
