package storetest

import (
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// scopeCases: a county's slice of the data. Reads limited to counties
// return their records and the global reference data, never another
// county's; writes outside the scope are refused.
var scopeCases = []testCase{
	{"ChangesByCounty", testChangesScope},
	{"PullAndPushByPrincipal", testPrincipalScope},
}

func testChangesScope(t *testing.T, open Opener) {
	e := seeded(t, open)
	global := ids(e.feed(server.Scope{All: true}, 0, 1000))
	a, b := e.inspector(xinfu), e.inspector(dingxia)
	siteA := a.site(xinfu, "忻府厂")
	siteB := b.site(dingxia, "定襄厂")
	siteA2, inspA := a.newInspection(xinfu)
	for _, tc := range []struct {
		name  string
		scope server.Scope
		want  []string
	}{
		{"all", server.Scope{All: true}, []string{siteA, siteB, siteA2, inspA}},
		{"one county", server.Scope{Counties: []string{xinfu}}, []string{siteA, siteA2, inspA}},
		{"the other", server.Scope{Counties: []string{dingxia}}, []string{siteB}},
		{"both", server.Scope{Counties: []string{dingxia, xinfu}}, []string{siteA, siteB, siteA2, inspA}},
		{"a county without records", server.Scope{Counties: []string{yuanpin}}, nil},
		{"no county", server.Scope{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.feed(tc.scope, 0, 4)
			var local []string
			var glob []string
			for _, r := range got {
				switch {
				case r.County == "":
					glob = append(glob, r.ID)
				case !tc.scope.All && !slices.Contains(tc.scope.Counties, r.County):
					t.Errorf("%s %s of county %s in scope %+v", r.Entity.Name, r.ID, r.County, tc.scope)
				default:
					local = append(local, r.ID)
				}
			}
			// The global reference data is in every scope.
			if !sameSet(glob, global) {
				t.Errorf("global records: %d, want %d", len(glob), len(global))
			}
			if !sameSet(local, tc.want) {
				t.Errorf("county records %v, want %v", local, tc.want)
			}
		})
	}
}

func testPrincipalScope(t *testing.T, open Opener) {
	e := seeded(t, open)
	a, b := e.inspector(xinfu), e.inspector(dingxia)
	siteB := b.site(dingxia, "定襄厂")
	_, inspB := b.newInspection(dingxia)
	// a may neither create in b's county, nor edit b's records, nor
	// reference them.
	res := a.push(
		a.mut(syncproto.EntitySite, uuid.NewString(), map[string]any{"county": dingxia, "kind": "factory", "name": "越界"}),
		a.mut(syncproto.EntitySite, siteB, map[string]any{"note": "越界修改"}),
		a.mut(syncproto.EntityInspection, uuid.NewString(), map[string]any{"site_id": siteB, "template_id": "coal_yard", "template_version": 1}),
		a.mut(syncproto.EntityFinding, uuid.NewString(), map[string]any{"inspection_id": inspB, "description": "越界"}),
	)
	for i, r := range res.Results {
		if r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeOutOfScope {
			t.Errorf("mutation %d: %+v, want out_of_scope", i, r)
		}
	}
	if got := e.text(syncproto.EntitySite, siteB, "note"); got != "" {
		t.Errorf("out-of-scope edit stored: %q", got)
	}
	// Pulls: a sees none of b's records; a city office sees both.
	city := e.office(server.RoleCityOffice)
	pulled := func(p *server.Principal) map[string]bool {
		seen := map[string]bool{}
		cursor := ""
		for {
			resp, err := e.s.Pull(e.ctx, p, cursor, 50, server.FormFields)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range resp.Changes {
				seen[c.ID] = true
			}
			cursor = resp.Cursor
			if !resp.HasMore {
				return seen
			}
		}
	}
	if got := pulled(a.p); got[siteB] || got[inspB] || !got[xinfu] {
		t.Errorf("inspector of %s pulled %s's records (or missed the counties)", xinfu, dingxia)
	}
	if got := pulled(city); !got[siteB] || !got[inspB] {
		t.Errorf("city office missed records")
	}
	// A cursor made under another scope is refused.
	resp, err := e.s.Pull(e.ctx, a.p, "", 5, server.FormFields)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetUserCounties(e.ctx, a.p.Username, []string{xinfu, dingxia}); err != nil {
		t.Fatal(err)
	}
	p2, err := e.st.Principal(e.ctx, a.p.UserID, a.p.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p2.Counties, []string{xinfu, dingxia}) {
		t.Errorf("principal counties %v", p2.Counties)
	}
	_, err = e.s.Pull(e.ctx, p2, resp.Cursor, 5, server.FormFields)
	wantCode(t, err, syncproto.CodeResyncRequired, "cursor of the old scope")
	if got := pulled(p2); !got[siteB] {
		t.Errorf("new county's records not pulled after resync")
	}
}
