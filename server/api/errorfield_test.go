package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestErrorNamesItsField: an error at one place of a request body says
// where in `field`, its JSON path, whatever the kind of fault (a wrong
// type, an unknown member, a value the server cannot store, a missing or
// invalid member of an office's decision), so that a program need not
// read the Chinese message; an error of the whole body names none.
func TestErrorNamesItsField(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	access, officeAccess := accessToken(insp), accessToken(office)
	vc := func(fields string) string {
		return `{"entity":"vehicle_check","id":"` + newID() + `","fields":{"county":"` + xinfu + `","checkpoint":"豆罗检查站","plate":"晋H12345",` +
			`"checked_at":"2026-11-20T10:00:00+08:00"` + fields + `},"hlc":"` + insp.Clock.Now().String() + `"}`
	}
	seenVC := func(seen string) string { return strings.TrimSuffix(vc(""), "}") + `,"seen":` + seen + `}` }
	push := func(ms ...string) string {
		body := `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[`
		for i, m := range ms {
			if i > 0 {
				body += ","
			}
			body += m
		}
		return body + `]}`
	}
	review := "/api/v1/inspections/" + newID() + "/review"
	verify := "/api/v1/findings/" + newID() + "/verify"
	void := "/api/v1/vehicle-checks/" + newID() + "/void"
	for _, tc := range []struct {
		name        string
		path, token string
		body        string
		code        string
		field       string
	}{
		{"push: a mutation's member of the wrong type", syncproto.PathPush, access, push(vc(""), `{"entity":"vehicle_check","id":"x","fields":{},"hlc":5}`), syncproto.CodeInvalidField, "mutations[1].hlc"},
		{"push: a mutation not an object", syncproto.PathPush, access, push(vc(""), vc(""), `7`), syncproto.CodeInvalidField, "mutations[2]"},
		{"push: an unknown member of a mutation", syncproto.PathPush, access, push(`{"entity":"vehicle_check","id":"x","fields":{},"hlc":"x","bogus":1}`), syncproto.CodeUnknownField, "mutations[0].bogus"},
		{"push: a NUL in a value", syncproto.PathPush, access, push(vc(""), vc(`,"note":"a\u0000b"`)), syncproto.CodeInvalidField, "mutations[1].fields.note"},
		{"push: a lone surrogate in a value", syncproto.PathPush, access, push(vc(`,"note":"\ud800"`)), syncproto.CodeInvalidField, "mutations[0].fields.note"},
		{"push: a number past a double's precision", syncproto.PathPush, access, push(vc(`,"opacity":12345678901234567890`)), syncproto.CodeInvalidField, "mutations[0].fields.opacity"},
		{"push: a number past a double's range", syncproto.PathPush, access, push(vc(`,"urea_level_pct":1e400`)), syncproto.CodeInvalidField, "mutations[0].fields.urea_level_pct"},
		{"push: an answer past a double's precision", syncproto.PathPush, access, push(vc(`,"answers.fence":12345678901234567890`)), syncproto.CodeInvalidField, "mutations[0].fields.answers.fence"},
		{"push: a decimal past a double's precision", syncproto.PathPush, access, push(vc(`,"lon":1.00000000000000000001`)), syncproto.CodeInvalidField, "mutations[0].fields.lon"},
		{"push: a member twice", syncproto.PathPush, access, push(vc(`,"note":"a","note":"b"`)), syncproto.CodeInvalidField, "mutations[0].fields.note"},
		{"push: a member twice, once escaped", syncproto.PathPush, access, push(vc(`,"note":"a","\u006eote":"b"`)), syncproto.CodeInvalidField, "mutations[0].fields.note"},
		// encoding/json names the map alone; the member at fault is found
		// in the body's order, whatever its kind.
		{"push: a seen member of the wrong type", syncproto.PathPush, access, push(vc(""), seenVC(`{"plate":"`+insp.Clock.Now().String()+`","note":5}`)), syncproto.CodeInvalidField, "mutations[1].seen.note"},
		{"push: a seen member that is an object", syncproto.PathPush, access, push(seenVC(`{"checkpoint":{"hlc":"x"},"plate":5}`)), syncproto.CodeInvalidField, "mutations[0].seen.checkpoint"},
		{"push: a seen member named twice, the last wrong", syncproto.PathPush, access, push(seenVC(`{"plate":"x","plate":false}`)), syncproto.CodeInvalidField, "mutations[0].seen.plate"},
		{"push: seen not an object", syncproto.PathPush, access, push(seenVC(`["plate"]`)), syncproto.CodeInvalidField, "mutations[0].seen"},
		{"push: a value nested too deep under an escaped name", syncproto.PathPush, access, push(vc(`,"answers.\u7b54":` + strings.Repeat("[", 40) + strings.Repeat("]", 40))), syncproto.CodeInvalidField, "mutations[0].fields.answers.答"},
		{"push: null for a mutation's entity", syncproto.PathPush, access, push(vc(""), `{"entity":null,"id":"`+newID()+`","fields":{},"hlc":"x"}`), syncproto.CodeInvalidField, "mutations[1].entity"},
		{"push: null for the batch id", syncproto.PathPush, access, `{"device_id":"` + insp.DeviceID + `","batch_id":null,"mutations":[` + vc("") + `]}`, syncproto.CodeInvalidField, "batch_id"},
		{"push: a value nested too deep", syncproto.PathPush, access, push(vc(`,"note":` + strings.Repeat("[", 40) + strings.Repeat("]", 40))), syncproto.CodeInvalidField, "mutations[0].fields.note"},
		{"push: a top-level member of the wrong type", syncproto.PathPush, access, `{"device_id":5,"batch_id":"` + newID() + `","mutations":[]}`, syncproto.CodeInvalidField, "device_id"},
		{"push: an unknown top-level member", syncproto.PathPush, access, `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[],"Extra":1}`, syncproto.CodeUnknownField, "Extra"},
		{"push: not JSON", syncproto.PathPush, access, `{"device_id":`, syncproto.CodeBadRequest, ""},
		{"push: not an object", syncproto.PathPush, access, `[1]`, syncproto.CodeInvalidField, ""},
		{"push: no device_id", syncproto.PathPush, access, `{"batch_id":"` + newID() + `","mutations":[` + vc("") + `]}`, syncproto.CodeBadRequest, "device_id"},
		{"push: a batch_id not a UUID", syncproto.PathPush, access, `{"device_id":"` + insp.DeviceID + `","batch_id":"B","mutations":[` + vc("") + `]}`, syncproto.CodeBadRequest, "batch_id"},
		{"push: no mutations", syncproto.PathPush, access, `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[]}`, syncproto.CodeBadRequest, "mutations"},
		{"login: no username", syncproto.PathLogin, "", `{"password":"x","device_id":"` + newID() + `"}`, syncproto.CodeMissingField, "username"},
		{"login: username of spaces", syncproto.PathLogin, "", `{"username":"  \u3000 ","password":"x","device_id":"` + newID() + `"}`, syncproto.CodeMissingField, "username"},
		{"login: empty password", syncproto.PathLogin, "", `{"username":"inspector","password":"","device_id":"` + newID() + `"}`, syncproto.CodeMissingField, "password"},
		{"login: no password", syncproto.PathLogin, "", `{"username":"inspector","device_id":"` + newID() + `"}`, syncproto.CodeMissingField, "password"},
		{"login: a device_id not a UUID", syncproto.PathLogin, "", `{"username":"inspector","password":"x","device_id":"D"}`, syncproto.CodeInvalidField, "device_id"},
		{"refresh: no token", syncproto.PathRefresh, "", `{}`, syncproto.CodeMissingField, "refresh_token"},
		{"capture key: none", "/api/v1/devices/key", access, `{}`, syncproto.CodeMissingField, "public_key"},
		{"capture key: not a key", "/api/v1/devices/key", access, `{"public_key":"bm90IGEga2V5"}`, syncproto.CodeInvalidValue, "public_key"},
		{"login: a member of the wrong type", syncproto.PathLogin, "", `{"username":"inspector","password":5}`, syncproto.CodeInvalidField, "password"},
		{"login: an unknown member", syncproto.PathLogin, "", `{"username":"inspector","password":"x","otp":"1"}`, syncproto.CodeUnknownField, "otp"},
		{"refresh: a NUL", syncproto.PathRefresh, "", `{"refresh_token":"a\u0000"}`, syncproto.CodeInvalidField, "refresh_token"},
		{"review: no decision", review, officeAccess, `{"comment":"好"}`, syncproto.CodeMissingField, "decision"},
		{"review: null for the decision", review, officeAccess, `{"decision":null}`, syncproto.CodeInvalidField, "decision"},
		{"review: a negative seq", review, officeAccess, `{"decision":"approve","seq":-1}`, syncproto.CodeInvalidField, "seq"},
		{"review: a seq past a double's precision", review, officeAccess, `{"decision":"approve","seq":9007199254740993}`, syncproto.CodeInvalidField, "seq"},
		{"review: a seq past its range", review, officeAccess, `{"decision":"approve","seq":1e20}`, syncproto.CodeInvalidField, "seq"},
		{"void: a seq past its range", void, officeAccess, `{"decision":"void","comment":"作废","seq":1e300}`, syncproto.CodeInvalidField, "seq"},
		{"login: a device name with a control character", syncproto.PathLogin, "", `{"username":"inspector","password":"inspector123","device_id":"` + newID() + `","device_name":"a\u0007"}`, syncproto.CodeInvalidField, "device_name"},
		{"review: an unknown decision", review, officeAccess, `{"decision":"maybe"}`, syncproto.CodeInvalidValue, "decision"},
		{"review: returned without a comment", review, officeAccess, `{"decision":"return"}`, syncproto.CodeMissingField, "comment"},
		{"review: a bidi override in the comment", review, officeAccess, `{"decision":"return","comment":"退回\u202e"}`, syncproto.CodeInvalidField, "comment"},
		// A verification's body holds a review's (embedded in Go, whose
		// name encoding/json put in the path: ReviewRequest.decision).
		{"verify: a decision of the wrong type", verify, officeAccess, `{"decision":1}`, syncproto.CodeInvalidField, "decision"},
		{"verify: a comment of the wrong type", verify, officeAccess, `{"decision":"reopen","comment":["a"]}`, syncproto.CodeInvalidField, "comment"},
		{"verify: a seq of the wrong type", verify, officeAccess, `{"decision":"reopen","seq":"5"}`, syncproto.CodeInvalidField, "seq"},
		{"verify: a deadline of the wrong type", verify, officeAccess, `{"decision":"reopen","deadline":5}`, syncproto.CodeInvalidField, "deadline"},
		{"void: a comment of the wrong type", void, officeAccess, `{"decision":"void","comment":{}}`, syncproto.CodeInvalidField, "comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, srv, request{method: http.MethodPost, path: tc.path, token: tc.token, ctype: "application/json", body: tc.body})
			r.wantError(t, http.StatusBadRequest, tc.code)
			var eb syncproto.ErrorBody
			if err := json.Unmarshal(r.Body, &eb); err != nil {
				t.Fatal(err)
			}
			if eb.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", eb.Field, tc.field, eb.Message)
			}
			// A record's field is named as an inspector knows it (备注,
			// note), not by its change's place in the batch, which only
			// the app knows (the field says it).
			if _, name, ok := strings.Cut(tc.field, "].fields."); ok && (strings.Contains(eb.Message, "mutations[") || !strings.Contains(eb.Message, name)) {
				t.Errorf("the message %q names a place in the batch, or not the field %s", eb.Message, name)
			}
			if tc.field == "mutations[1].fields.note" && !strings.Contains(eb.Message, "“备注”（note）") {
				t.Errorf("the message %q does not name the note by its label", eb.Message)
			}
			// A string in place of a number is advice for a record's
			// free JSON value (an answer), not for a number field (a
			// reading) nor for a request's own number (a seq), which a
			// string would not be either (roadside probe).
			if strings.Contains(eb.Message, "请改用字符串") != (strings.Contains(tc.field, ".fields.answers.") && strings.Contains(tc.name, "precision")) {
				t.Errorf("the message %q advises a string where it %s", eb.Message, map[bool]string{true: "may not", false: "should"}[strings.Contains(eb.Message, "请改用字符串")])
			}
			// A whole number too large for its place is out of range, not
			// of the wrong type (attack probe: seq 1e20).
			if strings.Contains(tc.name, "range") && !strings.Contains(eb.Message, "超出范围") {
				t.Errorf("the message %q does not say the number is out of range", eb.Message)
			}
			// Nor one too fine for a double only out of range (verification
			// probe: lon 1.00000000000000000001).
			if strings.Contains(tc.name, "decimal past") && !strings.Contains(eb.Message, "精度") {
				t.Errorf("the message %q does not say the number is too precise", eb.Message)
			}
			// No Go name in what an office or a phone reads.
			if strings.Contains(eb.Message, "Request") {
				t.Errorf("the message names a Go type: %q", eb.Message)
			}
			// A decision's message is an office's to read in the console
			// too: the field is named by field, the message in Chinese.
			if (tc.name == "review: no decision" || tc.name == "review: an unknown decision") && strings.Contains(eb.Message, "decision") {
				t.Errorf("the message names the member in English: %q", eb.Message)
			}
		})
	}
}

// TestRejectionNamesItsField: a push result rejected for one field of
// its record names that field (a member of a map field by its dotted
// path); one rejected for the record as a whole names none.
func TestRejectionNamesItsField(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	m := func(fields map[string]any) syncproto.Mutation {
		raw := map[string]json.RawMessage{}
		for k, v := range fields {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			raw[k] = b
		}
		return syncproto.Mutation{Entity: syncproto.EntityVehicleCheck, ID: newID(), Fields: raw, HLC: insp.Clock.Now().String()}
	}
	check := func(extra map[string]any, drop ...string) syncproto.Mutation {
		f := map[string]any{"county": xinfu, "checkpoint": "豆罗检查站", "plate": "晋H12345", "checked_at": "2026-11-20T10:00:00+08:00"}
		for k, v := range extra {
			f[k] = v
		}
		for _, k := range drop {
			delete(f, k)
		}
		return m(f)
	}
	otherCounty := check(map[string]any{"county": "140921"})
	for _, tc := range []struct {
		name  string
		mu    syncproto.Mutation
		code  string
		field string
	}{
		{"a required field missing", check(nil, "plate"), syncproto.CodeMissingField, "plate"},
		{"an unknown field", check(map[string]any{"colour": "红"}), syncproto.CodeUnknownField, "colour"},
		{"a server-owned field", check(map[string]any{"created_by": "x"}), syncproto.CodeServerOwnedField, "created_by"},
		{"a value out of range", check(map[string]any{"opacity": 101}), syncproto.CodeInvalidField, "opacity"},
		{"a time that is not one", check(map[string]any{"checked_at": "昨天"}), syncproto.CodeInvalidField, "checked_at"},
		{"a time years ahead", check(map[string]any{"checked_at": "2036-11-20T10:00:00+08:00"}), syncproto.CodeInvalidValue, "checked_at"},
		{"a county that does not exist", check(map[string]any{"county": "999999"}), syncproto.CodeInvalidValue, "county"},
		{"a new record in another county", otherCounty, syncproto.CodeOutOfScope, "county"},
		{"an id not a UUID", func() syncproto.Mutation { mu := check(nil); mu.ID = "abc"; return mu }(), syncproto.CodeInvalidID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := insp.Push(t.Context(), newID(), []syncproto.Mutation{tc.mu})
			if err != nil {
				t.Fatal(err)
			}
			r := resp.Results[0]
			if r.Status != syncproto.StatusRejected || r.Code != tc.code {
				t.Fatalf("result %+v, want rejected %s", r, tc.code)
			}
			if r.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", r.Field, tc.field, r.Message)
			}
		})
	}
}

// TestOutOfScopeNamesItsField: a change refused out_of_scope names the
// field that put the record in that county (sync.md section 6), an update
// or a delete of a record already there as a create does: its county, or
// the reference its county comes from — never which county it is.
func TestOutOfScopeNamesItsField(t *testing.T) {
	srv := apptest.Start(t)
	insp, theirs := srv.Login(apptest.Inspector), srv.Login(apptest.NingwuInsp)
	vc, ins, fd := newID(), newID(), newID()
	apptest.PushApplied(t, theirs,
		upsert(t, theirs, syncproto.EntityVehicleCheck, vc, F{"county": "140925", "checkpoint": "宁武检查站", "plate": "晋H12345", "checked_at": "2026-11-20T10:00:00+08:00"}),
		upsert(t, theirs, syncproto.EntityInspection, ins, newInspection(apptest.DemoSite(t, "140925"), "draft")),
		upsert(t, theirs, syncproto.EntityFinding, fd, F{"inspection_id": ins, "description": "围挡缺失", "status": "open"}))
	for _, tc := range []struct {
		name, field string
		mu          syncproto.Mutation
	}{
		{"a vehicle check's note", "county", upsert(t, insp, syncproto.EntityVehicleCheck, vc, F{"note": "改"})},
		{"an inspection's summary", "site_id", upsert(t, insp, syncproto.EntityInspection, ins, F{"summary": "改"})},
		{"a finding's description", "inspection_id", upsert(t, insp, syncproto.EntityFinding, fd, F{"description": "改"})},
		{"a finding deleted", "inspection_id", syncproto.Mutation{Entity: syncproto.EntityFinding, ID: fd, Delete: true, HLC: insp.Clock.Now().String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := apptest.Push(t, insp, tc.mu).Results[0]
			wantResult(t, r, syncproto.StatusRejected, syncproto.CodeOutOfScope)
			if r.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", r.Field, tc.field, r.Message)
			}
			if strings.Contains(r.Message, "宁武") {
				t.Errorf("the message names the county: %q", r.Message)
			}
		})
	}
}
