package postgres_test

import (
	"context"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestSearchScope: a plate, an id and a checkpoint of another county's
// roadside check find nothing in 忻府区's scope and the check in its own
// county's; LIKE's wildcards match only themselves.
func TestSearchScope(t *testing.T) {
	ctx := context.Background()
	db, _ := openDemo(t)
	recs, _, err := db.VehicleChecks(ctx, server.VehicleQuery{Scope: server.Scope{All: true}, Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	var other *server.StoredRecord
	for _, r := range recs {
		if r.County != apptest.Xinfu && r.Text("plate") != "" {
			other = r
			break
		}
	}
	if other == nil {
		t.Fatal("no seeded roadside check outside 忻府区")
	}
	xinfu := server.Scope{Counties: []string{apptest.Xinfu}}
	own := server.Scope{Counties: []string{other.County}}
	for _, text := range []string{other.Text("plate"), other.ID, other.Text("checkpoint")} {
		hits, err := db.Search(ctx, server.SearchQuery{Scope: xinfu, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.County != apptest.Xinfu {
				t.Errorf("search %q in 忻府区's scope found %s %s of %s", text, h.Kind, h.ID, h.County)
			}
		}
		hits, err = db.Search(ctx, server.SearchQuery{Scope: own, Text: text, Limit: 2000})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, h := range hits {
			found = found || h.ID == other.ID
		}
		if !found {
			t.Errorf("search %q in %s's scope lacks %s", text, other.County, other.ID)
		}
	}
	for _, text := range []string{"%", "_", `\`} {
		if hits, err := db.Search(ctx, server.SearchQuery{Scope: server.Scope{All: true}, Text: text}); err != nil || len(hits) != 0 {
			t.Errorf("search %q: %d hits, %v", text, len(hits), err)
		}
	}
}

// TestOverviewWeeks: the weekly roadside figures add up to the totals.
func TestOverviewWeeks(t *testing.T) {
	ctx := context.Background()
	db, _ := openDemo(t)
	for _, scope := range []server.Scope{{All: true}, {Counties: []string{apptest.Xinfu}}} {
		o, err := db.Overview(ctx, scope, "2026-11-30", "2000-01-01")
		if err != nil {
			t.Fatal(err)
		}
		stats, err := db.VehicleStats(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		var g6, removed, wg6, wremoved int
		for _, s := range stats {
			g6, removed = g6+s.G6, removed+s.Removed
		}
		for _, w := range o.Weeks {
			wg6, wremoved = wg6+w.G6, wremoved+w.Removed
			if !scope.All && w.County != apptest.Xinfu {
				t.Errorf("忻府区's weeks include %s", w.County)
			}
		}
		if g6 == 0 || wg6 != g6 || wremoved != removed {
			t.Errorf("scope %+v: weeks %d/%d, totals %d/%d", scope, wremoved, wg6, removed, g6)
		}
	}
}
