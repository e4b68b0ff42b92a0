package server

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestStoredResultsRoundTrip checks that a batch's results, stored
// without what the request repeats, read back exactly as they were sent.
func TestStoredResultsRoundTrip(t *testing.T) {
	ms := []syncproto.Mutation{
		{Entity: syncproto.EntityVehicleCheck, ID: "0195c2e4-0000-7000-8000-000000000001"},
		{Entity: syncproto.EntityInspection, ID: "0195c2e4-0000-7000-8000-000000000002"},
		{Entity: syncproto.EntityFinding, ID: "0195c2e4-0000-7000-8000-000000000003"},
		{Entity: syncproto.EntityPhoto, ID: "0195c2e4-0000-7000-8000-000000000004"},
	}
	results := []syncproto.PushResult{
		{Entity: ms[0].Entity, ID: ms[0].ID, Status: syncproto.StatusApplied},
		{Entity: ms[1].Entity, ID: ms[1].ID, Status: syncproto.StatusRejected, Code: syncproto.CodeRecordLocked, Message: "检查记录已提交，不能修改"},
		{Entity: ms[2].Entity, ID: ms[2].ID, Status: syncproto.StatusStale, LostFields: []string{"description", "severity"}},
		{Entity: ms[3].Entity, ID: ms[3].ID, Status: syncproto.StatusDuplicate},
	}
	stored, err := encodeResults(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) >= len(fullJSON(t, results))/2 {
		t.Errorf("stored results take %d bytes, the full form %d: expected well under half", len(stored), len(fullJSON(t, results)))
	}
	got, err := decodeResults(stored, ms)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, results) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, results)
	}
	// Results stored whole (entity and id included) read back as stored.
	if got, err := decodeResults(fullJSON(t, results), ms); err != nil || !reflect.DeepEqual(got, results) {
		t.Fatalf("full form: %v %+v", err, got)
	}
	// A stored list that does not match the request is an error, not a guess.
	if _, err := decodeResults(stored, ms[:3]); err == nil {
		t.Fatal("results for 4 mutations decoded against 3")
	}
}

func fullJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
