package sqlite_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// benchAnswerKeys are ten items of construction_dust answered by the
// inspection benchmark.
var benchAnswerKeys = []string{"fence", "material_cover", "road_paving", "wet_operation", "vehicle_washing",
	"muck_enclosed", "online_monitor", "video_monitor", "pm10_reading", "remarks"}

// benchAnswer is the answer of item k in batch n, in the checklist answer
// format (mobile-api-docs/answers.schema.json).
func benchAnswer(k string, n int) json.RawMessage {
	switch k {
	case "pm10_reading":
		return json.RawMessage(fmt.Sprintf(`{"value":%d}`, 100+n%50))
	case "remarks":
		return json.RawMessage(fmt.Sprintf(`{"value":"第%d次检查"}`, n))
	}
	return json.RawMessage(fmt.Sprintf(`{"result":"pass","note":"第%d次"}`, n))
}

// BenchmarkPushMergeInspections is BenchmarkPushMerge for inspections,
// the records whose answers the server checks against their checklist
// (missing_items): batches of 500 inspections of construction_dust, each
// created with ten answers (create), or the same 500 getting three of
// their answers rewritten (answer).
func BenchmarkPushMergeInspections(b *testing.B) {
	app.TuneRuntime(os.Getenv, 0) // as the server runs (no photos)
	for _, kind := range []string{"create", "answer"} {
		b.Run(kind, func(b *testing.B) {
			db, s := openSeeded(b)
			p := storetest.Inspector(b, db, "140902")
			clock := syncproto.NewClock(p.DeviceID, nil)
			site := uuid.NewString()
			ctx := requestContext(b)
			push := func(ms []syncproto.Mutation) {
				resp, err := s.Push(ctx, p, &syncproto.PushRequest{DeviceID: p.DeviceID, BatchID: uuid.NewString(), Mutations: ms})
				if err != nil {
					b.Fatal(err)
				}
				if r := resp.Results[0]; r.Status != syncproto.StatusApplied {
					b.Fatalf("result %+v", r)
				}
			}
			push([]syncproto.Mutation{{Entity: syncproto.EntitySite, ID: site, HLC: clock.Now().String(), Fields: map[string]json.RawMessage{
				"county": json.RawMessage(`"140902"`), "kind": json.RawMessage(`"construction_site"`), "name": json.RawMessage(`"基准工地"`)}}})
			ids := make([]string, benchBatch)
			batch := func(n int) []syncproto.Mutation {
				ms := make([]syncproto.Mutation, benchBatch)
				for i := range ms {
					f := map[string]json.RawMessage{}
					keys := benchAnswerKeys
					if kind == "create" || ids[i] == "" {
						ids[i] = uuid.NewString()
						f["site_id"] = json.RawMessage(`"` + site + `"`)
						f["template_id"] = json.RawMessage(`"construction_dust"`)
						f["template_version"] = json.RawMessage(`1`)
						f["status"] = json.RawMessage(`"draft"`)
						f["started_at"] = json.RawMessage(`"2026-11-28T09:30:00+08:00"`)
					} else {
						keys = keys[n%3 : n%3+3]
					}
					for _, k := range keys {
						f["answers."+k] = benchAnswer(k, n)
					}
					ms[i] = syncproto.Mutation{Entity: syncproto.EntityInspection, ID: ids[i], HLC: clock.Now().String(), Fields: f}
				}
				return ms
			}
			if kind == "answer" { // the inspections exist
				push(batch(-1))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				ms := batch(n)
				b.StartTimer()
				push(ms)
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
		})
	}
}
