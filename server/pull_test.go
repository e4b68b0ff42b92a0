package server

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func TestCursorRoundTrip(t *testing.T) {
	c := Cursor{Seq: 42, Scope: "all", Epoch: "abc"}
	got, err := DecodeCursor(c.Encode())
	if err != nil || got != c {
		t.Fatalf("DecodeCursor(Encode(%v)) = %v, %v", c, got, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	bad := []string{"!!", "e30", "eyJzIjotMSwiZiI6ImEiLCJlIjoiYiJ9", "eyJ4IjoxfQ",
		enc(`{"s":42,"f":"all","e":"abc"}x`),                                            // trailing bytes
		enc(`{"s":42,"f":"all","e":"abc"}{}`),                                           // a second value
		enc(`{"S":42,"f":"all","e":"abc"}`),                                             // another spelling of a key
		enc(` {"s":42,"f":"all","e":"abc"}`),                                            // spaces
		enc(`{"s":42.0,"f":"all","e":"abc"}`),                                           // another spelling of the number
		enc(`{"s":42,"f":"all","e":"abc","s":43}`),                                      // a duplicate key
		base64.URLEncoding.EncodeToString([]byte(`{"s":42,"f":"all","e":"abc"}`)) + "=", // padding
	}
	for _, bad := range bad {
		if _, err := DecodeCursor(bad); ErrorCode(err) != "bad_request" {
			t.Errorf("DecodeCursor(%q) = %v, want bad_request", bad, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(Cursor{Seq: 1, Scope: "all", Epoch: "e"}.Encode())
	f.Add("")
	f.Add("eyJzIjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			if ErrorCode(err) != "bad_request" {
				t.Fatalf("error %v is not bad_request", err)
			}
			return
		}
		if s != "" && (c.Seq < 0 || c.Epoch == "" || c.Scope == "") {
			t.Fatalf("accepted an invalid cursor %+v", c)
		}
	})
}

// FuzzCanonical: whatever a device sends as a field value, the check either
// refuses it with a field error or returns valid JSON that is its own
// canonical form (so equal values always compare equal).
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`"文本"`, `12`, `1.5`, `true`, `null`, `{"a":1}`, `[1,2]`, `"2026-01-01T00:00:00Z"`, `"\u2028"`, `"a\"b"`} {
		f.Add(s)
	}
	e := EntityByName("inspection")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, name := range []string{"summary", "lon", "template_version", "started_at", "site_id", "answers.fence", "status"} {
			fld, _ := e.Field(name)
			v, err := fld.Canonical(json.RawMessage(raw), true)
			if err != nil {
				if c := ErrorCode(err); c != "invalid_field" && c != "invalid_value" {
					t.Fatalf("%s: error code %s", name, c)
				}
				continue
			}
			if !json.Valid(v) {
				t.Fatalf("%s: canonical %q is not JSON", name, v)
			}
			again, err := fld.Canonical(v, true)
			if err != nil || string(again) != string(v) {
				t.Fatalf("%s: canonical form %q not stable: %q, %v", name, v, again, err)
			}
		}
	})
}

// TestCanonicalTime: a time field is stored as the same instant at
// +08:00, so its first ten characters are its date in China whatever
// offset the phone wrote; a photo's signed captured_at is kept as sent.
func TestCanonicalTime(t *testing.T) {
	insp := EntityByName("inspection")
	started, _ := insp.Field("started_at")
	captured, _ := EntityByName("photo").Field("captured_at")
	for _, tc := range []struct{ in, want string }{
		{`"2026-11-30T16:30:00Z"`, `"2026-12-01T00:30:00+08:00"`},
		{`"2026-11-30T16:30:00.000Z"`, `"2026-12-01T00:30:00+08:00"`},
		{`"2026-11-30T16:30:00.250000Z"`, `"2026-12-01T00:30:00.25+08:00"`},
		{`"2026-12-01T09:30:00+09:00"`, `"2026-12-01T08:30:00+08:00"`},
		{`"2026-11-30T23:30:00-00:30"`, `"2026-12-01T08:00:00+08:00"`},
		{`"2026-12-01T00:30:00.500+08:00"`, `"2026-12-01T00:30:00.5+08:00"`},
		{`"2026-12-01T00:30:00+08:00"`, `"2026-12-01T00:30:00+08:00"`},
		{`"2026-11-30T16:30:00\u005a"`, `"2026-12-01T00:30:00+08:00"`}, // escaped
		// RFC 3339 (5.6): the T and the Z may be written in lower case.
		{`"2026-11-30t16:30:00z"`, `"2026-12-01T00:30:00+08:00"`},
		{`"2026-11-30T16:30:00.5z"`, `"2026-12-01T00:30:00.5+08:00"`},
		{`"2026-12-01t00:30:00+08:00"`, `"2026-12-01T00:30:00+08:00"`},
	} {
		got, err := started.Canonical(json.RawMessage(tc.in), true)
		if err != nil || string(got) != tc.want {
			t.Errorf("started_at %s: %s, %v; want %s", tc.in, got, err, tc.want)
		}
		var sent string
		_ = json.Unmarshal([]byte(tc.in), &sent)
		if got, err := captured.Canonical(json.RawMessage(tc.in), true); err != nil || string(got) != `"`+sent+`"` {
			t.Errorf("captured_at %s: %s, %v; want it as sent", tc.in, got, err)
		}
	}
	for _, bad := range []string{`"2026-11-31T10:00:00+08:00"`, `"2026-12-01 00:30:00+08:00"`, `"2026-12-01T00:30:00"`, `"2026-12-01T24:00:00Z"`,
		`"2026-12-01x00:30:00Z"`, `"2026-12-01T00:30:00y"`, `"2026-12-01t00:30:00"`, `"t"`, `"2026-12-01tz"`,
		// No canonical form: an offset of 24 hours, a year out of 1–9999 at +08:00.
		`"2026-12-01T00:30:00+24:00"`, `"2026-12-01T00:30:00-24:00"`, `"9999-12-31T20:00:00Z"`, `"0000-01-01T00:00:00+09:00"`,
		`"0000-06-01T00:00:00+08:00"`} {
		for _, f := range []*Field{started, captured} {
			if _, err := f.Canonical(json.RawMessage(bad), true); ErrorCode(err) != "invalid_field" {
				t.Errorf("%s %s: %v, want invalid_field", f.Name, bad, err)
			}
		}
	}
}

// TestToChangeReceivedAt: the wire form of a record an office decision
// answers with writes received_at at +08:00, as the pulled pages do.
func TestToChangeReceivedAt(t *testing.T) {
	r := &StoredRecord{Entity: EntityByName("site"), ID: "s1", CreatedAt: time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)}
	r.State.Fields = map[string]syncproto.FieldState{}
	ch := ToChange(r)
	if got := string(ch.Fields["received_at"]); got != `"2026-12-01T00:30:00+08:00"` {
		t.Errorf("received_at = %s, want \"2026-12-01T00:30:00+08:00\"", got)
	}
}
