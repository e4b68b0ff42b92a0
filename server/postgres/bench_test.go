package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/pgtest"
	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/storetest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The benchmarks mirror the SQLite store's (server/sqlite/bench_test.go):
// batches of 500 roadside checks of 10 fields.
const benchBatch = 500

var vehicleCols = []string{"county", "checkpoint", "plate", "plate_color", "vin", "emission_stage", "fuel", "aftertreatment", "checked_at", "note"}

func vehicleMutation(clock *syncproto.Clock, id string, i int) syncproto.Mutation {
	vals := []any{"140902", "豆罗检查站", fmt.Sprintf("晋H%05d", i%100000), "黄", fmt.Sprintf("LZZ1BLSE%09d", i),
		"国六", "天然气", "removed", "2026-11-28T10:00:00+08:00", "三元催化器已拆除"}
	f := make(map[string]json.RawMessage, len(vehicleCols))
	for k, v := range vals {
		b, _ := json.Marshal(v)
		f[vehicleCols[k]] = b
	}
	return syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: id, Fields: f, HLC: clock.Now().String()}
}

// pusher is one device pushing batches through its own store (server).
type pusher struct {
	s     *server.Syncer
	p     *server.Principal
	clock *syncproto.Clock
	ids   []string
}

func newPusher(b *testing.B, dsn string) *pusher {
	db, s := openAt(b, dsn)
	p := storetest.Inspector(b, db, "140902")
	return &pusher{s: s, p: p, clock: syncproto.NewClock(p.DeviceID, nil), ids: make([]string, benchBatch)}
}

func (w *pusher) push(b *testing.B, n int, create bool) {
	ms := make([]syncproto.Mutation, benchBatch)
	for i := range ms {
		if create || w.ids[i] == "" {
			w.ids[i] = uuid.NewString()
		}
		ms[i] = vehicleMutation(w.clock, w.ids[i], n*benchBatch+i)
	}
	resp, err := w.s.Push(context.Background(), w.p, &syncproto.PushRequest{DeviceID: w.p.DeviceID, BatchID: uuid.NewString(), Mutations: ms})
	if err != nil {
		b.Fatal(err)
	}
	if resp.Results[0].Status != syncproto.StatusApplied {
		b.Fatalf("result %+v", resp.Results[0])
	}
}

func seededDSN(b *testing.B) string {
	dsn := pgtest.NewDatabase(b)
	_, s := openAt(b, dsn)
	set, err := seeds.Load()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := server.LoadReference(context.Background(), s, set); err != nil {
		b.Fatal(err)
	}
	return dsn
}

// BenchmarkPushMerge: the whole push path below HTTP, batches of 500 new
// records and of 500 rewritten ones.
func BenchmarkPushMerge(b *testing.B) {
	for _, kind := range []string{"create", "update"} {
		b.Run(kind, func(b *testing.B) {
			w := newPusher(b, seededDSN(b))
			if kind == "update" {
				w.push(b, -1, true)
			}
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				w.push(b, n, kind == "create")
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
		})
	}
}

// BenchmarkPushTwoServers: two stores (two servers) on one database, each
// with its own device, pushing new records at once.
func BenchmarkPushTwoServers(b *testing.B) {
	dsn := seededDSN(b)
	ws := []*pusher{newPusher(b, dsn), newPusher(b, dsn)}
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; n < b.N; n += len(ws) {
				w.push(b, n, true)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "mutations/s")
}

// BenchmarkPull: a first sync of 20,000 roadside checks in pages of 500.
func BenchmarkPull(b *testing.B) {
	dsn := seededDSN(b)
	w := newPusher(b, dsn)
	for n := 0; n < 40; n++ {
		w.push(b, n, true)
	}
	db, _ := openAt(b, dsn)
	scope := server.Scope{Counties: []string{"140902"}}
	b.ResetTimer()
	records := 0
	for n := 0; n < b.N; n++ {
		var cursor int64
		for {
			recs, more, err := db.Changes(context.Background(), scope, cursor, benchBatch)
			if err != nil {
				b.Fatal(err)
			}
			records += len(recs)
			if len(recs) > 0 {
				cursor = recs[len(recs)-1].Seq
			}
			if !more {
				break
			}
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
