package app_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var ctx = context.Background()

func newID() string { return uuid.Must(uuid.NewRandom()).String() }

func batchID() string { return uuid.Must(uuid.NewV7()).String() }

// wantStatus checks each result's status (and code, given as "status/code").
func wantStatus(t testing.TB, resp *syncproto.PushResponse, want ...string) {
	t.Helper()
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(resp.Results), len(want))
	}
	for i, r := range resp.Results {
		got := r.Status
		if r.Code != "" {
			got += "/" + r.Code
		}
		if got != want[i] {
			t.Errorf("result %d (%s %s): %s (%s), want %s", i, r.Entity, r.ID, got, r.Message, want[i])
		}
	}
}

// newInspection creates a draft inspection at a demo site of the client's
// county and returns its id.
func newInspection(t testing.TB, c *syncproto.Client, county string) string {
	t.Helper()
	id := newID()
	resp := apptest.Push(t, c, apptest.Mut(c, syncproto.EntityInspection, id, apptest.Fields(
		"site_id", apptest.DemoSite(t, county), "template_id", "construction_dust", "template_version", 1,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00")))
	wantStatus(t, resp, "applied")
	return id
}

// newRoadsideInspection creates a draft roadside_truck inspection at a
// demo checkpoint of 忻府区 and returns its id.
func newRoadsideInspection(t testing.TB, c *syncproto.Client) string {
	t.Helper()
	id := newID()
	wantStatus(t, apptest.Push(t, c, apptest.Mut(c, syncproto.EntityInspection, id, apptest.Fields(
		"site_id", apptest.DemoSiteOf(t, apptest.Xinfu, "checkpoint"), "template_id", "roadside_truck", "template_version", 2,
		"status", "draft", "started_at", "2026-11-28T09:00:00+08:00"))), "applied")
	return id
}

// newFinding records an open finding of the fence item of inspection insp,
// with these fields besides, and returns its id.
func newFinding(t testing.TB, c *syncproto.Client, insp string, fields ...any) string {
	t.Helper()
	id := newID()
	wantStatus(t, apptest.Push(t, c, apptest.Mut(c, syncproto.EntityFinding, id, apptest.Fields(append([]any{"inspection_id", insp,
		"item_key", "fence", "description", "东侧围挡缺失", "severity", "major", "status", "open"}, fields...)...))), "applied")
	return id
}

// pullAll pulls from cursor until done and returns the changes and cursor.
func pullAll(t testing.TB, c *syncproto.Client, cursor string, limit int) ([]syncproto.Change, string) {
	t.Helper()
	var all []syncproto.Change
	cur, err := c.PullAll(ctx, cursor, limit, func(p *syncproto.PullResponse) error {
		all = append(all, p.Changes...)
		return nil
	})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return all, cur
}

// latest folds changes into the latest state per entity/id.
func latest(chs []syncproto.Change) map[string]syncproto.Change {
	m := map[string]syncproto.Change{}
	for _, ch := range chs {
		m[ch.Entity+"/"+ch.ID] = ch
	}
	return m
}

func text(ch syncproto.Change, field string) string {
	var s string
	_ = json.Unmarshal(ch.Fields[field], &s)
	return s
}

var srvScopeAll = server.Scope{All: true}

// remove is c's delete of the record, stamped now.
func remove(c *syncproto.Client, entity, id string) syncproto.Mutation {
	return syncproto.Mutation{Entity: entity, ID: id, Delete: true, HLC: c.Clock.Now().String()}
}
