package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// BenchmarkPushHTTP is the whole push over HTTP as a phone makes it:
// batches of 500 new roadside checks of ten fields (random UUIDv4 ids),
// with two numbers each, sent by the Go client to a real server on a
// loopback port — body reading and checking, strict decoding, the merge
// and the answer.
func BenchmarkPushHTTP(b *testing.B) {
	srv := apptest.Start(b)
	phone := srv.Login(apptest.Inspector)
	batch := func(n int) []syncproto.Mutation {
		ms := make([]syncproto.Mutation, 500)
		for i := range ms {
			ms[i] = syncproto.Mutation{Entity: "vehicle_check", ID: uuid.NewString(), HLC: phone.Clock.Now().String(), Fields: apptest.Fields(
				"county", apptest.Xinfu, "checkpoint", "豆罗检查站", "plate", fmt.Sprintf("晋H%05d", (n*500+i)%100000), "plate_color", "黄",
				"vin", fmt.Sprintf("LZZ1BLSE%09d", n*500+i), "emission_stage", "国六", "fuel", "天然气", "aftertreatment", "present",
				"checked_at", "2026-11-28T10:00:00+08:00", "lon", 112.734567, "lat", 38.416663)}
		}
		return ms
	}
	batches := make([][]syncproto.Mutation, b.N)
	for i := range batches {
		batches[i] = batch(i)
	}
	b.ReportAllocs()
	cpu := apptest.CPUTime()
	b.ResetTimer()
	for i := range b.N {
		resp, err := phone.Push(context.Background(), uuid.Must(uuid.NewV7()).String(), batches[i])
		if err != nil {
			b.Fatal(err)
		}
		if resp.Results[0].Status != syncproto.StatusApplied {
			b.Fatalf("result %+v", resp.Results[0])
		}
	}
	b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "mutations/s")
	// The CPU time the process (server and client) spent per batch: what
	// the wall time is on an idle machine, steadier on a shared one.
	b.ReportMetric(float64(apptest.CPUTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}
