package app_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/seeds"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

type genMut struct {
	dev int
	m   syncproto.Mutation
}

// TestConvergenceProperty sends random mutations of shared records from
// three devices, in random orders, in random batches, with duplicated
// mutations and re-sent batches, and checks that the server's state of
// every record equals a reference merge of all mutations.
func TestConvergenceProperty(t *testing.T) {
	srv := apptest.Start(t)
	devs := []*syncproto.Client{srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2), srv.Login(apptest.CountyOffice)}
	for trial := uint64(0); trial < 6; trial++ {
		t.Run(fmt.Sprint("seed", trial), func(t *testing.T) {
			r := rand.New(rand.NewPCG(trial, 42))
			ids := []string{newInspection(t, devs[0], apptest.Xinfu), newInspection(t, devs[0], apptest.Xinfu), newInspection(t, devs[0], apptest.Xinfu)}
			ref := map[string]*syncproto.Record{}
			for _, id := range ids {
				rec, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, id)
				if err != nil {
					t.Fatal(err)
				}
				ref[id] = &rec.State
			}
			gen := generate(r, devs, ids, 40)
			e := server.EntityByName(syncproto.EntityInspection)
			for _, g := range gen {
				h, _ := syncproto.ParseHLC(g.m.HLC)
				// The server stores each value's canonical form (times at
				// +08:00, numbers in their shortest form).
				fields := map[string]json.RawMessage{}
				for name, v := range g.m.Fields {
					f, _ := e.Field(name)
					c, err := f.Canonical(v, true)
					if err != nil {
						t.Fatal(err)
					}
					fields[name] = c
				}
				syncproto.Merge(ref[g.m.ID], fields, g.m.Delete, h)
			}
			deliver(t, r, devs, gen)
			for _, id := range ids {
				rec, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, id)
				if err != nil {
					t.Fatal(err)
				}
				got, derived := withoutCompleteness(rec.State), rec.State.Fields["missing_items"].Value
				if !reflect.DeepEqual(got, withoutCompleteness(*ref[id])) {
					t.Errorf("record %s diverged from the reference merge\n got %s\nwant %s", id, dump(got), dump(*ref[id]))
				}
				// The server's own fields follow the merged answers, whatever
				// the order they arrived in.
				if !rec.State.IsDeleted() {
					want, _ := json.Marshal(server.InspectionCompleteness(rec, constructionDust(t), true, nil).Missing)
					if string(derived) != string(want) {
						t.Errorf("record %s: missing_items %s, want %s", id, derived, want)
					}
				}
			}
		})
	}
}

// withoutCompleteness returns r without the fields the server derives
// from the others (server.CompletenessFields), which no device writes.
func withoutCompleteness(r syncproto.Record) syncproto.Record {
	fields := make(map[string]syncproto.FieldState, len(r.Fields))
	for k, v := range r.Fields {
		if !slices.Contains(server.CompletenessFields, k) {
			fields[k] = v
		}
	}
	r.Fields = fields
	return r
}

// constructionDust returns the items of the construction_dust checklist.
func constructionDust(t *testing.T) []syncproto.ChecklistItem {
	set, err := seeds.Load()
	if err != nil {
		t.Fatal(err)
	}
	return set.Template("construction_dust", 1).Items
}

func dump(r syncproto.Record) string {
	out := fmt.Sprintf("deleted=%s", r.Deleted)
	for k, v := range r.Fields {
		out += fmt.Sprintf(" %s=%s@%s", k, v.Value, v.HLC)
	}
	return out
}

// generate makes n mutations over ids from random devices, with HLCs in
// the recent past so that orders of arrival and of HLC differ.
func generate(r *rand.Rand, devs []*syncproto.Client, ids []string, n int) []genMut {
	base := time.Now().Add(-time.Minute).UnixMilli()
	names := []string{"summary", "lon", "lat", "finished_at", "answers.fence", "answers.cover", "answers.road"}
	out := make([]genMut, n)
	for i := range out {
		d := r.IntN(len(devs))
		h := syncproto.HLC{Wall: base + int64(r.IntN(40)), Counter: uint32(r.IntN(2)), Node: devs[d].DeviceID}
		m := syncproto.Mutation{Entity: syncproto.EntityInspection, ID: ids[r.IntN(len(ids))], HLC: h.String()}
		if r.IntN(12) == 0 {
			m.Delete = true
		} else {
			m.Fields = map[string]json.RawMessage{}
			for _, name := range names {
				if r.IntN(3) > 0 {
					continue
				}
				m.Fields[name] = randomValue(r, name)
			}
			if len(m.Fields) == 0 {
				m.Fields["summary"] = randomValue(r, "summary")
			}
		}
		out[i] = genMut{dev: d, m: m}
	}
	return out
}

func randomValue(r *rand.Rand, name string) json.RawMessage {
	var v any
	switch name {
	case "lon":
		v = 112.7 + float64(r.IntN(100))/1000
	case "lat":
		v = 38.4 + float64(r.IntN(100))/1000
	case "finished_at":
		v = time.Date(2026, 11, 28, 10, r.IntN(60), 0, 0, time.UTC).Format(time.RFC3339)
	case "summary":
		v = fmt.Sprintf("现场情况 %d", r.IntN(1000))
	default:
		v = map[string]any{"result": []string{"pass", "fail", "na"}[r.IntN(3)], "note": fmt.Sprint(r.IntN(100))}
	}
	b, _ := json.Marshal(v)
	return b
}

// deliver shuffles the mutations, duplicates some, cuts each device's share
// into batches, interleaves the devices' batches and re-sends some batches
// whole, as retries after lost responses would.
func deliver(t *testing.T, r *rand.Rand, devs []*syncproto.Client, gen []genMut) {
	order := append([]genMut(nil), gen...)
	for k := len(gen) / 5; k > 0; k-- {
		order = append(order, gen[r.IntN(len(gen))])
	}
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	type batch struct {
		dev int
		id  string
		ms  []syncproto.Mutation
	}
	var batches []batch
	open := map[int]*batch{}
	for _, g := range order {
		b := open[g.dev]
		if b == nil {
			b = &batch{dev: g.dev, id: batchID()}
			open[g.dev] = b
		}
		b.ms = append(b.ms, g.m)
		if r.IntN(4) == 0 {
			batches = append(batches, *b)
			delete(open, g.dev)
		}
	}
	for _, b := range open {
		batches = append(batches, *b)
	}
	for i := len(batches) / 4; i > 0; i-- {
		batches = append(batches, batches[r.IntN(len(batches))])
	}
	r.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	sent := map[string]*syncproto.PushResponse{}
	for _, b := range batches {
		resp, err := devs[b.dev].Push(ctx, b.id, b.ms)
		if err != nil {
			t.Fatalf("push: %v", err)
		}
		for _, res := range resp.Results {
			if res.Status == syncproto.StatusRejected {
				t.Fatalf("mutation rejected: %+v", res)
			}
		}
		if first, ok := sent[b.id]; ok {
			if !resp.Replayed || !reflect.DeepEqual(first.Results, resp.Results) {
				t.Fatalf("re-sent batch %s: replayed=%v, results differ: %+v vs %+v", b.id, resp.Replayed, resp.Results, first.Results)
			}
		} else {
			sent[b.id] = resp
		}
	}
}
