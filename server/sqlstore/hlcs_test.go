package sqlstore

import (
	"encoding/json"
	"maps"
	"testing"

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
