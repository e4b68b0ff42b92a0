package sqlstore

import (
	"math"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestSameValue: a column counts as unchanged only for the same value of
// the same type, so that whatever might differ is written.
func TestSameValue(t *testing.T) {
	for _, c := range []struct {
		stored, v any
		same      bool
	}{
		{nil, nil, true},
		{"", nil, false},
		{nil, "", false},
		{"豆罗", "豆罗", true},
		{[]byte("豆罗"), "豆罗", true},
		{"豆罗", "豆罗 ", false},
		{int64(1), int64(1), true},
		{int64(1), float64(1), false},
		{float64(1), int64(1), false},
		{"1", int64(1), false},
		{float64(12.5), float64(12.5), true},
		{math.Copysign(0, -1), float64(0), false},
		{true, true, true},
		{int64(1), true, false},
	} {
		if got := sameValue(c.stored, c.v); got != c.same {
			t.Errorf("sameValue(%#v, %#v) = %v, want %v", c.stored, c.v, got, c.same)
		}
	}
}

// TestChanged: Changed names the columns that differ, in Cols order,
// with their new values, and never the column of a "county" field (the
// county meta column stands for it).
func TestChanged(t *testing.T) {
	e := server.EntityByName(syncproto.EntityVehicleCheck)
	c := NewCodec(e, false)
	r := &server.StoredRecord{Entity: e, ID: "a", County: "140902", Seq: 4,
		State: syncproto.Record{Fields: map[string]syncproto.FieldState{
			"plate":  {Value: []byte(`"晋H00001"`)},
			"county": {Value: []byte(`"140902"`)},
		}}}
	stored, _, err := c.RowValues(r)
	if err != nil {
		t.Fatal(err)
	}
	if set, vals := c.Changed(stored, stored); !set.IsEmpty() || len(vals) != 0 {
		t.Errorf("a row against itself: %v %v", set, vals)
	}
	r.Seq = 5
	r.State.Fields["plate"] = syncproto.FieldState{Value: []byte(`"晋H00002"`)}
	r.State.Fields["note"] = syncproto.FieldState{Value: []byte(`"新"`)}
	now, _, err := c.RowValues(r)
	if err != nil {
		t.Fatal(err)
	}
	set, vals := c.Changed(stored, now)
	cols := c.SetCols(set)
	want := []string{"seq", "hlcs", "plate", "note"} // hlcs: note is new
	if len(cols) != len(want) || len(vals) != len(want) {
		t.Fatalf("changed %v = %v, want %v", cols, vals, want)
	}
	for i := range want {
		if cols[i] != want[i] {
			t.Errorf("column %d: %s, want %s", i, cols[i], want[i])
		}
	}
	if vals[0] != int64(5) || vals[2] != "晋H00002" || vals[3] != "新" {
		t.Errorf("values %v", vals)
	}
}
