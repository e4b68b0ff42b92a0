package syncproto

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

type stamped struct {
	fields map[string]json.RawMessage
	del    bool
	h      HLC
}

// randomMutations makes n mutations of one record from several nodes with
// clashing fields, equal HLCs on different nodes, and deletes.
func randomMutations(r *rand.Rand, n int) []stamped {
	nodes := []string{"0191-a", "0191-b", "0191-c"}
	names := []string{"name", "note", "answers.fence", "answers.cover", "lon"}
	out := make([]stamped, n)
	for i := range out {
		h := HLC{Wall: int64(1000 + r.IntN(20)), Counter: uint32(r.IntN(3)), Node: nodes[r.IntN(len(nodes))]}
		if r.IntN(10) == 0 {
			out[i] = stamped{del: true, h: h}
			continue
		}
		f := map[string]json.RawMessage{}
		for _, name := range names {
			if r.IntN(2) == 0 {
				f[name] = json.RawMessage(fmt.Sprintf(`"v%d"`, r.IntN(1000)))
			}
		}
		f["name"] = json.RawMessage(fmt.Sprintf(`"n-%s-%d"`, h.Node, h.Wall))
		out[i] = stamped{fields: f, h: h}
	}
	return out
}

func apply(ms []stamped) Record {
	var r Record
	for _, m := range ms {
		Merge(&r, m.fields, m.del, m.h)
	}
	return r
}

// TestMergeConvergesInEveryOrder is the property test of the merge rule:
// any delivery order, with any duplicates, gives the same record.
func TestMergeConvergesInEveryOrder(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		ms := randomMutations(r, 2+r.IntN(12))
		want := apply(ms)
		for trial := 0; trial < 10; trial++ {
			order := append([]stamped(nil), ms...)
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for k := r.IntN(5); k > 0; k-- { // duplicates
				order = append(order, ms[r.IntN(len(ms))])
				j := r.IntN(len(order))
				order[j], order[len(order)-1] = order[len(order)-1], order[j]
			}
			if got := apply(order); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d trial %d: order-dependent result\n got %+v\nwant %+v", seed, trial, got, want)
			}
		}
	}
}

func TestMergeAssociativeViaPartialStates(t *testing.T) {
	// Merging two halves separately and then one record's fields into the
	// other (as a device merging a server state would) equals merging all.
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 200; i++ {
		ms := randomMutations(r, 10)
		a, b := apply(ms[:5]), apply(ms[5:])
		for name, st := range b.Fields {
			Merge(&a, map[string]json.RawMessage{name: st.Value}, false, st.HLC)
		}
		if !b.Deleted.IsZero() {
			Merge(&a, nil, true, b.Deleted)
		}
		if want := apply(ms); !reflect.DeepEqual(a, want) {
			t.Fatalf("case %d: merging partial states differs\n got %+v\nwant %+v", i, a, want)
		}
	}
}

func TestMergeOutcome(t *testing.T) {
	h := func(w int64, node string) HLC { return HLC{Wall: w, Node: node} }
	v := func(s string) map[string]json.RawMessage {
		return map[string]json.RawMessage{"note": json.RawMessage(s)}
	}
	tests := []struct {
		name       string
		setup      []stamped
		in         stamped
		wantStatus string
		wantLosses int
		wantValue  string
	}{
		{"first write", nil, stamped{fields: v(`"a"`), h: h(10, "d1")}, StatusApplied, 0, `"a"`},
		{"newer write wins and logs the overwritten value of another node",
			[]stamped{{fields: v(`"a"`), h: h(10, "d1")}}, stamped{fields: v(`"b"`), h: h(11, "d2")}, StatusApplied, 1, `"b"`},
		{"same node overwrite is not a conflict",
			[]stamped{{fields: v(`"a"`), h: h(10, "d1")}}, stamped{fields: v(`"b"`), h: h(11, "d1")}, StatusApplied, 0, `"b"`},
		{"older write loses and is logged",
			[]stamped{{fields: v(`"a"`), h: h(10, "d1")}}, stamped{fields: v(`"b"`), h: h(9, "d2")}, StatusStale, 1, `"a"`},
		{"node id breaks a tie",
			[]stamped{{fields: v(`"a"`), h: h(10, "d2")}}, stamped{fields: v(`"b"`), h: h(10, "d1")}, StatusStale, 1, `"a"`},
		{"retry is a duplicate",
			[]stamped{{fields: v(`"a"`), h: h(10, "d1")}}, stamped{fields: v(`"a"`), h: h(10, "d1")}, StatusDuplicate, 0, `"a"`},
		{"same HLC, greater value arriving second wins and logs the first",
			[]stamped{{fields: v(`"eq-1"`), h: h(10, "d1")}}, stamped{fields: v(`"eq-2"`), h: h(10, "d1")}, StatusApplied, 1, `"eq-2"`},
		{"same HLC, lesser value arriving second loses and is logged",
			[]stamped{{fields: v(`"eq-2"`), h: h(10, "d1")}}, stamped{fields: v(`"eq-1"`), h: h(10, "d1")}, StatusStale, 1, `"eq-2"`},
		{"delete applied", []stamped{{fields: v(`"a"`), h: h(10, "d1")}}, stamped{del: true, h: h(12, "d1")}, StatusApplied, 0, `"a"`},
		{"repeated delete is a duplicate",
			[]stamped{{del: true, h: h(12, "d1")}}, stamped{del: true, h: h(12, "d1")}, StatusDuplicate, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := apply(tc.setup)
			o := Merge(&r, tc.in.fields, tc.in.del, tc.in.h)
			if o.Status() != tc.wantStatus || len(o.Losses) != tc.wantLosses {
				t.Fatalf("status %s losses %d, want %s %d (%+v)", o.Status(), len(o.Losses), tc.wantStatus, tc.wantLosses, o)
			}
			if got := string(r.Fields["note"].Value); got != tc.wantValue {
				t.Fatalf("stored %s, want %s", got, tc.wantValue)
			}
		})
	}
}

func TestDeletedRecordStaysDeleted(t *testing.T) {
	var r Record
	Merge(&r, map[string]json.RawMessage{"note": json.RawMessage(`"a"`)}, false, HLC{Wall: 1, Node: "d1"})
	Merge(&r, nil, true, HLC{Wall: 5, Node: "d1"})
	Merge(&r, map[string]json.RawMessage{"note": json.RawMessage(`"late"`)}, false, HLC{Wall: 9, Node: "d2"})
	if !r.IsDeleted() || r.Deleted.Wall != 5 {
		t.Fatalf("late update resurrected or moved the tombstone: %+v", r)
	}
}

// TestDeleteOutcomes: a delete that sets or advances the tombstone is
// applied, the same delete again a duplicate, and a delete older than the
// tombstone (another device deleted later) stale — not a retry.
func TestDeleteOutcomes(t *testing.T) {
	var r Record
	for _, tc := range []struct {
		h    HLC
		want string
	}{
		{HLC{Wall: 5, Counter: 5, Node: "a"}, StatusApplied},
		{HLC{Wall: 5, Counter: 5, Node: "a"}, StatusDuplicate},
		{HLC{Wall: 5, Counter: 1, Node: "b"}, StatusStale},
		{HLC{Wall: 6, Node: "b"}, StatusApplied},
	} {
		if got := Merge(&r, nil, true, tc.h).Status(); got != tc.want {
			t.Errorf("delete at %s: %s, want %s", tc.h, got, tc.want)
		}
	}
}

// TestSupersededChangesNothing: a mutation Superseded says a record holds
// already changes nothing when merged, and loses only to its own node's
// later writes (nothing a conflict log keeps); and every mutation sent
// again to a record only its own node wrote since is Superseded.
func TestSupersededChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	held := 0
	for range 3000 {
		ms := randomMutations(r, 1+r.IntN(8))
		st := apply(ms)
		in := ms[r.IntN(len(ms))]
		if r.IntN(3) == 0 {
			in = randomMutations(r, 1)[0]
		}
		if !Superseded(&st, in.fields, in.del, in.h, nil) {
			continue
		}
		held++
		before := st
		before.Fields = make(map[string]FieldState, len(st.Fields))
		for k, v := range st.Fields {
			before.Fields[k] = v
		}
		o := Merge(&st, in.fields, in.del, in.h)
		if len(o.Won) > 0 || o.DeleteApplied || !reflect.DeepEqual(before, st) {
			t.Fatalf("superseded %+v changed %+v to %+v", in, before, st)
		}
		for _, l := range o.Losses {
			if !l.Incoming || l.HLC.Node != l.WinnerHLC.Node {
				t.Fatalf("superseded %+v lost %+v to another node", in, l)
			}
		}
		if s := o.Status(); s != StatusDuplicate && s != StatusStale {
			t.Fatalf("superseded %+v answered %s", in, s)
		}
	}
	if held < 300 {
		t.Fatalf("only %d of 3000 mutations superseded: the property was hardly tried", held)
	}
	// One node's writes, sent again in any order, are all superseded.
	for range 300 {
		var ms []stamped
		for i, m := range randomMutations(r, 1+r.IntN(8)) {
			if !m.del { // one node's HLCs are unique
				m.h = HLC{Wall: int64(1000 + r.IntN(20)), Counter: uint32(i), Node: "0191-a"}
				ms = append(ms, m)
			}
		}
		st := apply(ms)
		for _, m := range ms {
			if !Superseded(&st, m.fields, m.del, m.h, nil) {
				t.Fatalf("a write %+v of the only node writing is not superseded in %+v", m, st)
			}
		}
	}
}
