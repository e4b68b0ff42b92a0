package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
)

// The checks in this file need a look inside the store (its tables), which
// the contract does not give: a store's own tests run them with a function
// that reads what they need in the store's SQL.

// SpentTokensPruned checks the store's record of spent refresh tokens:
// rotation keeps the spent hash until the token would have expired and
// deletes the expired ones, so the record cannot grow without bound, and
// signing in again forgets the device's spent tokens. What the spent
// tokens do is the DeviceSessions part of Run; spent returns the hashes
// st keeps as spent for a device, in any order.
func SpentTokensPruned(t *testing.T, st server.Store, spent func(deviceID string) []string) {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), st: st, now: t0}
	u := e.user("li", server.RoleInspector)
	d := &server.Device{ID: "0195f4b2-0000-7000-8000-0000000000cc", UserID: u.ID, CreatedAt: t0}
	if _, err := st.RegisterDevice(e.ctx, d, "h0", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rotate := func(old, new string, at time.Time) {
		t.Helper()
		if _, err := st.RotateRefresh(e.ctx, old, new, at.Add(10*time.Hour), at); err != nil {
			t.Fatal(err)
		}
	}
	sorted := func() []string {
		hs := slices.Clone(spent(d.ID))
		slices.Sort(hs)
		return hs
	}
	rotate("h0", "h1", t0) // h0 would expire at t0+1h
	if got := sorted(); !slices.Equal(got, []string{"h0"}) {
		t.Fatalf("spent after one rotation %v", got)
	}
	rotate("h1", "h2", t0.Add(2*time.Hour)) // h1 would expire at t0+10h
	if got := sorted(); !slices.Equal(got, []string{"h1"}) {
		t.Fatalf("spent after h0 expired %v, want h0 pruned", got)
	}
	if _, err := st.RegisterDevice(e.ctx, d, "h3", t0.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := sorted(); len(got) != 0 {
		t.Errorf("spent after signing in again %v, want none", got)
	}
}

// SchemaMatchesCatalog checks that every synced entity has a table whose
// columns are the meta columns plus exactly the entity's fields, and a
// feed index: columns lists a table's columns, feedIndex reports whether
// the named index exists.
func SchemaMatchesCatalog(t *testing.T, columns func(table string) []string, feedIndex func(name string) bool) {
	t.Helper()
	meta := []string{"id", "county", "seq", "hlcs", "deleted_hlc", "created_device", "created_at", "updated_at", "created_by"}
	for _, e := range server.Entities {
		cols := slices.Clone(columns(e.Name))
		want := slices.Clone(meta)
		for _, f := range e.Fields {
			if !slices.Contains(want, f.Name) {
				want = append(want, f.Name)
			}
		}
		slices.Sort(cols)
		slices.Sort(want)
		if !slices.Equal(cols, want) {
			t.Errorf("table %s columns %v, want %v", e.Name, cols, want)
		}
		if !feedIndex(e.Name + "_feed") {
			t.Errorf("table %s has no feed index", e.Name)
		}
	}
}
