package sqlstore

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestHLCsRoundTrip: what EncodeHLCs writes, DecodeHLCs reads back, through
// its fast scanner.
func TestHLCsRoundTrip(t *testing.T) {
	a := syncproto.HLC{Wall: 1795875991660, Counter: 1, Node: "0195c2e4-0000-7000-8000-000000000001"}
	b := syncproto.HLC{Wall: 1795875991999, Counter: 7, Node: syncproto.ServerNode}
	for _, fields := range []map[string]syncproto.FieldState{
		{},
		{"plate": {HLC: a}},
		{"plate": {HLC: a}, "vin": {HLC: a}, "answers.dust_net": {HLC: b}, "status": {HLC: b}},
	} {
		enc := string(EncodeHLCs(fields))
		got, ok := scanHLCs(enc)
		if !ok {
			t.Fatalf("scanHLCs refused %s", enc)
		}
		want := map[string]syncproto.HLC{}
		for name, st := range fields {
			want[name] = st.HLC
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", enc, got, want)
		}
	}
}

// FuzzScanHLCs: the fast scanner never panics, and whatever it accepts
// encoding/json reads the same way.
func FuzzScanHLCs(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"001795875991660-00001-~server":["a","b"]}`,
		`{"001795875991660-00001-x":["a"],"001795875991661-00000-y":["b","c"]}`,
		`{"001795875991660-00001-x":["a\"b"]}`, `{"x":["a"]}`, `{"001795875991660-00001-x":[`, `{"`, `{`, `}`, `{]}`,
		`{"001795875991660-00001-x":["a"],}`, `{"001795875991660-00001-x":[]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := scanHLCs(s)
		if !ok {
			return
		}
		var groups map[string][]string
		if err := json.Unmarshal([]byte(s), &groups); err != nil {
			// The scanner is lenient about separators json requires
			// (a trailing comma); it must still agree on content.
			return
		}
		want := map[string]syncproto.HLC{}
		for text, names := range groups {
			h, err := syncproto.ParseHLC(text)
			if err != nil {
				t.Fatalf("scanHLCs accepted %q with a bad HLC %q", s, text)
			}
			for _, n := range names {
				want[n] = h
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q: scanned %v, json reads %v", s, got, want)
		}
	})
}

// TestDecodeRecordReadsEveryHLCsForm checks that a stored record decodes
// to the same fields and HLCs whatever form its hlcs column takes: the one
// EncodeHLCs writes (read in place), and others encoding/json reads
// (spaces, groups out of order, names out of order), with a map field's
// keys and a field written in two groups (the later group's HLC wins, as
// it did when the column was read into a map). One scratch space serves
// every row; a column that is not JSON fails the row.
func TestDecodeRecordReadsEveryHLCsForm(t *testing.T) {
	e := server.EntityByName(syncproto.EntityInspection)
	codec := NewCodec(e, false)
	a := syncproto.HLC{Wall: 1795875991660, Counter: 1, Node: "0195c2e4-0000-7000-8000-000000000001"}
	b := syncproto.HLC{Wall: 1795875991999, Counter: 7, Node: syncproto.ServerNode}
	r := &server.StoredRecord{Entity: e, ID: "0195c2e4-0000-7000-8000-0000000000aa", County: "140902", Seq: 9,
		State: syncproto.Record{Fields: map[string]syncproto.FieldState{
			"site_id":          {Value: []byte(`"s1"`), HLC: a},
			"template_version": {Value: []byte(`3`), HLC: a},
			"summary":          {Value: []byte(`"围挡\"缺失\""`), HLC: b},
			"lon":              {Value: []byte(`112.5`), HLC: a},
			"answers.dust_net": {Value: []byte(`true`), HLC: a},
			"answers.fence":    {Value: []byte(`"ok"`), HLC: b},
		}}}
	vals, _, err := codec.RowValues(r)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := a.String(), b.String()
	var h rowHLCs
	for _, tc := range []struct{ name, hlcs string }{
		{"as EncodeHLCs writes it", string(EncodeHLCs(r.State.Fields))},
		{"spaced", `{ "` + ta + `" : ["answers.dust_net", "lon", "site_id", "template_version"], "` + tb + `": ["answers.fence","summary"] }`},
		{"groups out of order", `{"` + tb + `":["answers.fence","summary"],"` + ta + `":["answers.dust_net","lon","site_id","template_version"]}`},
		{"names out of order", `{"` + ta + `":["template_version","site_id","lon","answers.dust_net"],"` + tb + `":["summary","answers.fence"]}`},
		{"a field in two groups", `{"` + ta + `":["answers.dust_net","lon","site_id","summary","template_version"],"` + tb + `":["answers.fence","summary"]}`},
	} {
		row := slices.Clone(vals)
		row[3] = tc.hlcs
		got, err := codec.decodeRecord(row, &h)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got.State.Fields) != len(r.State.Fields) {
			t.Errorf("%s: %d fields, want %d: %v", tc.name, len(got.State.Fields), len(r.State.Fields), got.State.Fields)
		}
		for name, want := range r.State.Fields {
			f := got.State.Fields[name]
			if string(f.Value) != string(want.Value) || f.HLC != want.HLC {
				t.Errorf("%s: %s = %s @ %v, want %s @ %v", tc.name, name, f.Value, f.HLC, want.Value, want.HLC)
			}
		}
	}
	row := slices.Clone(vals)
	row[3] = "not hlcs"
	if _, err := codec.decodeRecord(row, &h); err == nil {
		t.Error("a row whose hlcs are not JSON decoded")
	}
}
