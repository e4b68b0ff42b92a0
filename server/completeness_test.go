package server

import (
	"encoding/json"
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestCanonicalCompleteness: the completeness fields, built directly, are
// byte for byte what Field.Canonical makes of them, so that comparing a
// stored value with a fresh one never sees a change that is not there.
func TestCanonicalCompleteness(t *testing.T) {
	f, _ := EntityByName(syncproto.EntityInspection).Field("missing_items")
	for _, ms := range [][]syncproto.MissingItem{
		{},
		{{Key: "fence", Reason: syncproto.MissingAnswer}, {Key: "fence", Reason: syncproto.MissingPhoto}},
		{{Key: "pm10_reading", Reason: syncproto.MissingInvalid, Detail: `检查项 pm10_reading（PM10）的 result 只能是 pass、fail 或 na，而不是 "<ok>"\u2028`}},
		{{Key: `odd"template@1`, Reason: syncproto.MissingTemplate}},
		{{Key: "remarks", Reason: syncproto.MissingInvalid, Detail: "行一\u2028行二 & <b>"}},
	} {
		raw, _ := json.Marshal(ms)
		want, err := f.Canonical(raw, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalMissing(ms); string(got) != string(want) {
			t.Errorf("canonicalMissing = %s\nwant %s", got, want)
		}
	}
	for _, keys := range [][]string{{}, {"nosuch", "zzz"}, {`a"b`, "甲"}} {
		raw, _ := json.Marshal(keys)
		want, _ := f.Canonical(raw, false)
		if got := canonicalKeys(keys); string(got) != string(want) {
			t.Errorf("canonicalKeys = %s, want %s", got, want)
		}
	}
}
