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

// TestSameColumn: sameColumn, which lets an update reuse a stored column
// instead of converting the new value, says "same" only where converting
// the value would give the stored column, and does say it for the plain
// values most fields hold.
func TestSameColumn(t *testing.T) {
	text := &server.Field{Name: "t", Type: server.TypeText}
	num := &server.Field{Name: "i", Type: server.TypeInt}
	real := &server.Field{Name: "r", Type: server.TypeReal}
	flag := &server.Field{Name: "b", Type: server.TypeBool}
	doc := &server.Field{Name: "j", Type: server.TypeJSON}
	for _, c := range []struct {
		f    *server.Field
		v    string
		col  any
		same bool // sameColumn must say so (when false, it may say either)
	}{
		{text, `"豆罗检查站"`, "豆罗检查站", true},
		{text, `"豆罗检查站"`, "豆罗检查站 ", false},
		{text, `""`, "", true},
		{text, `"a\"b"`, `a"b`, false},
		{text, `"a\nb"`, "a\nb", false},
		{text, `"a\u2028b"`, "a\u2028b", false},
		{text, "\"a\u2028b\"", "a\u2028b", false}, // not canonical: never "same"
		{text, "\"a\x01b\"", "a\x01b", false},
		{text, `"\u0061"`, "a", false},
		{text, "\"\xff\"", "\xff", false},
		{text, `null`, nil, true},
		{text, `null`, "", false},
		{text, `"x"`, nil, false},
		{text, `"1"`, int64(1), false},
		{num, `12`, int64(12), true},
		{num, `-7`, int64(-7), true},
		{num, `12`, int64(13), false},
		{num, `12`, float64(12), false},
		{num, `12`, "12", false},
		{real, `12.5`, 12.5, true},
		{real, `12`, float64(12), true},
		{real, `1e+21`, 1e21, true},
		{real, `-0`, math.Copysign(0, -1), true},
		{real, `0`, math.Copysign(0, -1), false},
		{real, `12.5`, int64(12), false},
		{flag, `true`, int64(1), true},
		{flag, `false`, int64(0), true},
		{flag, `true`, int64(0), false},
		{flag, `true`, true, true},
		{flag, `false`, true, false},
		{doc, `{"a":1}`, `{"a":1}`, true},
		{doc, `{"a":1}`, `{"a": 1}`, false},
	} {
		got := sameColumn(c.f, []byte(c.v), c.col)
		if c.same && !got {
			t.Errorf("sameColumn(%s, %s, %#v) = false, want true", c.f.Name, c.v, c.col)
		}
		if !got {
			continue
		}
		_, nativeBool := c.col.(bool) // a bool column is PostgreSQL's
		if v, err := columnValue(c.f, []byte(c.v), nativeBool); err == nil && !sameValue(c.col, v) {
			t.Errorf("sameColumn(%s, %s, %#v) = true, but the value converts to %#v", c.f.Name, c.v, c.col, v)
		}
	}
}
