package sqlstore

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
)

// TestAppendColumnAsEncodingJSON: appendColumn, which both the page writer
// and decodeRecord use to turn a column back into its field's JSON, writes
// what encoding/json (without HTML escaping) writes for the same value,
// for texts of every kind of character (controls, quotes, invalid UTF-8,
// U+2028, <&>), integers, reals and booleans.
func TestAppendColumnAsEncodingJSON(t *testing.T) {
	canonical := func(v any) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	text := &server.Field{Name: "t", Type: server.TypeText}
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "豆罗", "\"", "\\", "\n", "\b", "\f", "\x01", "\x1f", "\x7f", "\xff", "\xe2\x80", "\u2028", "\u2029", "<", "&", ">", "—", "\U0001F600"}
	for range 20000 {
		var s string
		for n := r.IntN(8); n > 0; n-- {
			s += pieces[r.IntN(len(pieces))]
		}
		got, err := appendColumn([]byte("x"), text, s)
		if err != nil || !bytes.Equal(got, append([]byte("x"), canonical(s)...)) {
			t.Fatalf("appendColumn(%q) = %s, %v; want x%s", s, got, err, canonical(s))
		}
	}
	for _, c := range []struct {
		f   *server.Field
		col any
		v   any
	}{
		{&server.Field{Type: server.TypeInt}, int64(-42), -42},
		{&server.Field{Type: server.TypeBool}, int64(1), true},
		{&server.Field{Type: server.TypeBool}, int64(0), false},
		{&server.Field{Type: server.TypeBool}, true, true},
		{&server.Field{Type: server.TypeReal}, 12.5, 12.5},
		{&server.Field{Type: server.TypeReal}, 1e21, 1e21},
		{&server.Field{Type: server.TypeReal}, 1e-7, 1e-7},
		{&server.Field{Type: server.TypeReal}, math.Copysign(0, -1), math.Copysign(0, -1)},
		{text, nil, nil},
	} {
		got, err := appendColumn(nil, c.f, c.col)
		if err != nil || !bytes.Equal(got, canonical(c.v)) {
			t.Errorf("appendColumn(%#v) = %s, %v; want %s", c.col, got, err, canonical(c.v))
		}
	}
}
