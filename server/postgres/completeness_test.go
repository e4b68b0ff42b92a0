package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestCompletenessBackfillAndQueueFilter: inspections stored before the
// server kept their completeness (missing_items NULL, as migration 010
// leaves them in SQLite) get it once at start-up, and a second start finds nothing
// to do; the review queue filters complete and incomplete inspections.
func TestCompletenessBackfillAndQueueFilter(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, s := openAt(t, dsn)
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := app.LoadReference(ctx, s, set); err != nil {
		t.Fatal(err)
	}
	p := registerDevice(t, db)
	clock := syncproto.NewClock(p.DeviceID, nil)
	site, complete, incomplete := uuid.NewString(), uuid.NewString(), uuid.NewString()
	f := func(kv ...string) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = json.RawMessage(kv[i+1])
		}
		return m
	}
	insp := func(id string) map[string]json.RawMessage {
		return f("site_id", `"`+site+`"`, "template_id", `"coal_boiler"`, "template_version", "1", "status", `"submitted"`)
	}
	done := insp(complete)
	for k, v := range f("answers.tonnage", `{"value":20}`, "answers.boiler_status", `{"result":"na"}`,
		"answers.boiler_retired", `{"result":"na"}`, "answers.no_coal_stock", `{"result":"na"}`, "answers.no_new_boiler", `{"result":"pass"}`) {
		done[k] = v
	}
	resp, err := s.Push(ctx, p, &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(), Mutations: []syncproto.Mutation{
		{Entity: syncproto.EntitySite, ID: site, HLC: clock.Now().String(), Fields: f("county", `"140902"`, "kind", `"coal_boiler"`, "name", `"锅炉房"`)},
		{Entity: syncproto.EntityInspection, ID: complete, HLC: clock.Now().String(), Fields: done},
		{Entity: syncproto.EntityInspection, ID: incomplete, HLC: clock.Now().String(), Fields: insp(incomplete)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Results {
		if r.Status != syncproto.StatusApplied {
			t.Fatalf("push: %+v", r)
		}
	}
	queue := func(db interface {
		Inspections(context.Context, server.InspectionQuery) ([]*server.StoredRecord, int, error)
	}, c string) []string {
		t.Helper()
		recs, _, err := db.Inspections(ctx, server.InspectionQuery{Scope: server.Scope{All: true}, Completeness: c})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	if got := queue(db, server.CompletenessComplete); len(got) != 1 || got[0] != complete {
		t.Errorf("complete inspections: %v, want [%s]", got, complete)
	}
	if got := queue(db, server.CompletenessIncomplete); len(got) != 1 || got[0] != incomplete {
		t.Errorf("incomplete inspections: %v, want [%s]", got, incomplete)
	}
	if got := queue(db, ""); len(got) != 2 {
		t.Errorf("all inspections: %v", got)
	}
	db.Close()

	// As an older version left them.
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(ctx, `UPDATE inspection SET missing_items = NULL, unknown_answers = NULL`); err != nil {
		t.Fatal(err)
	}
	raw.Close(ctx)

	db, s = openAt(t, dsn)
	if n, err := s.BackfillCompleteness(ctx); err != nil || n != 2 {
		t.Fatalf("backfill: %d, %v; want 2", n, err)
	}
	for id, want := range map[string]string{complete: `[]`, incomplete: `[{"key":"tonnage","reason":"answer"}`} {
		rec, err := db.Get(ctx, syncproto.EntityInspection, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(rec.Value("missing_items")); len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("inspection %s: missing_items %s, want %s…", id, got, want)
		}
	}
	if n, err := s.BackfillCompleteness(ctx); err != nil || n != 0 {
		t.Errorf("second backfill: %d, %v; want 0", n, err)
	}
	if got := queue(db, server.CompletenessIncomplete); len(got) != 1 || got[0] != incomplete {
		t.Errorf("incomplete after backfill: %v", got)
	}
}
