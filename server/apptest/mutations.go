package apptest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// Fields builds a mutation's fields from name, value pairs:
// Fields("plate", "晋H12345", "obd_mil", true).
func Fields(kv ...any) map[string]json.RawMessage {
	if len(kv)%2 != 0 {
		panic("apptest.Fields: odd number of arguments")
	}
	m := make(map[string]json.RawMessage, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		b, err := json.Marshal(kv[i+1])
		if err != nil {
			panic(err)
		}
		m[kv[i].(string)] = b
	}
	return m
}

// Mut is a write of these fields to a record, stamped with c's clock.
func Mut(c *syncproto.Client, entity, id string, f map[string]json.RawMessage) syncproto.Mutation {
	return syncproto.Mutation{Entity: entity, ID: id, Fields: f, HLC: c.Clock.Now().String()}
}

// Push sends one batch under a new batch id and fails the test on a
// request error or when the results do not match the mutations one for one.
func Push(t testing.TB, c *syncproto.Client, ms ...syncproto.Mutation) *syncproto.PushResponse {
	t.Helper()
	resp, err := c.Push(context.Background(), uuid.Must(uuid.NewV7()).String(), ms)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if len(resp.Results) != len(ms) {
		t.Fatalf("push: %d results for %d mutations", len(resp.Results), len(ms))
	}
	return resp
}

// PushApplied is Push requiring every mutation to be applied.
func PushApplied(t testing.TB, c *syncproto.Client, ms ...syncproto.Mutation) {
	t.Helper()
	for i, r := range Push(t, c, ms...).Results {
		if r.Status != syncproto.StatusApplied {
			t.Fatalf("mutation %d (%s %s): %s %s %s, want applied", i, r.Entity, r.ID, r.Status, r.Code, r.Message)
		}
	}
}
