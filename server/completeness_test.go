package server

import (
	"encoding/json"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestCanonicalCompleteness: the completeness fields, built directly, are
// byte for byte what Field.Canonical makes of them, so that comparing a
// stored value with a fresh one never sees a change that is not there.
func TestCanonicalCompleteness(t *testing.T) {
	f, _ := EntityByName(syncproto.EntityInspection).Field("missing_items")
	for _, ms := range [][]syncproto.MissingItem{
		{},
		{{Key: "fence", Reason: syncproto.MissingAnswer}, {Key: "fence", Reason: syncproto.MissingPhoto}},
		{{Key: "pm10_reading", Reason: syncproto.MissingInvalid, Detail: `检查项 pm10_reading（PM10）的 result 只能是 pass、fail 或 na，而不是 "<ok>"\u2028`}},
		{{Key: `odd"template@1`, Reason: syncproto.MissingTemplate}},
		{{Key: "remarks", Reason: syncproto.MissingInvalid, Detail: "行一\u2028行二 & <b>"}},
	} {
		raw, _ := json.Marshal(ms)
		want, err := f.Canonical(raw, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalMissing(ms); string(got) != string(want) {
			t.Errorf("canonicalMissing = %s\nwant %s", got, want)
		}
	}
	for _, keys := range [][]string{{}, {"nosuch", "zzz"}, {`a"b`, "甲"}} {
		raw, _ := json.Marshal(keys)
		want, _ := f.Canonical(raw, false)
		if got := canonicalKeys(keys); string(got) != string(want) {
			t.Errorf("canonicalKeys = %s, want %s", got, want)
		}
	}
}

// BenchmarkInspectionCompleteness measures the check of one inspection
// of construction_dust with ten answers, and the encoding of its result:
// what a push pays for each inspection whose answers it changes.
func BenchmarkInspectionCompleteness(b *testing.B) {
	var items []syncproto.ChecklistItem
	for _, k := range []string{"fence", "material_cover", "road_paving", "wet_operation", "vehicle_washing", "muck_enclosed",
		"online_monitor", "video_monitor", "dusty_work_stopped", "night_work_permit", "muck_truck_permit", "muck_truck_route",
		"muck_truck_spillage", "muck_dumping"} {
		items = append(items, syncproto.ChecklistItem{Key: k, Label: k, Type: syncproto.ItemCheck, Required: true, PhotoRequired: len(k)%2 == 0})
	}
	lo, hi := 0.0, 5000.0
	items = append(items, syncproto.ChecklistItem{Key: "pm10_reading", Label: "PM10", Type: syncproto.ItemNumber, Unit: "µg/m³", Min: &lo, Max: &hi},
		syncproto.ChecklistItem{Key: "remarks", Label: "说明", Type: syncproto.ItemText})
	insp := &StoredRecord{Entity: EntityByName(syncproto.EntityInspection), State: syncproto.Record{Fields: map[string]syncproto.FieldState{}}}
	for i, k := range []string{"fence", "material_cover", "road_paving", "wet_operation", "vehicle_washing", "muck_enclosed", "online_monitor", "video_monitor"} {
		insp.State.Fields["answers."+k] = syncproto.FieldState{Value: json.RawMessage(`{"note":"第` + string(rune('0'+i)) + `次","result":"pass"}`)}
	}
	insp.State.Fields["answers.pm10_reading"] = syncproto.FieldState{Value: json.RawMessage(`{"value":128}`)}
	insp.State.Fields["answers.remarks"] = syncproto.FieldState{Value: json.RawMessage(`{"value":"第1次检查"}`)}
	insp.State.Fields["status"] = syncproto.FieldState{Value: json.RawMessage(`"draft"`)}
	photos := []syncproto.ItemPhoto{{ItemKey: "fence", Uploaded: true}}
	b.ReportAllocs()
	for b.Loop() {
		c := InspectionCompleteness(insp, items, true, photos)
		_, _ = canonicalMissing(c.Missing), canonicalKeys(c.Unknown)
	}
}
