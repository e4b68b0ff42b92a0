package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// pushRaw sends one mutation of the inspection whose fields are given as
// raw JSON text, so that tests can send what a JSON encoder never would.
func pushRaw(t *testing.T, srv *apptest.Server, c *syncproto.Client, id, fields string) reply {
	t.Helper()
	body := `{"device_id":"` + c.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"inspection","id":"` + id +
		`","fields":` + fields + `,"hlc":"` + c.Clock.Now().String() + `"}]}`
	return send(t, srv, request{method: http.MethodPost, path: syncproto.PathPush, token: accessToken(c), ctype: jsonType, body: body})
}

func pulledValue(t *testing.T, c *syncproto.Client, id, field string) string {
	t.Helper()
	for _, ch := range pullAll(t, c) {
		if ch.ID == id {
			return string(ch.Fields[field])
		}
	}
	t.Fatalf("inspection %s not pulled", id)
	return ""
}

// TestValuesStoredExactlyOrRefused: a field value is either stored and
// served back exactly as sent (by value), or the whole push is refused
// with 400 invalid_field naming the field — never altered silently:
// nesting beyond the documented depth, invalid UTF-8, unpaired surrogate
// escapes, NUL characters (no SQL text column keeps them) and numbers a
// double cannot hold exactly are refused.
func TestValuesStoredExactlyOrRefused(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	site := apptest.DemoSite(t, xinfu)
	id := newID()
	apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, newInspection(site, "draft")))

	nest := func(n int) string { return strings.Repeat(`{"a":`, n) + `1` + strings.Repeat(`}`, n) }
	refused := []struct{ name, fields, where string }{
		{"nested 33 deep", `{"answers.deep":` + nest(33) + `}`, "answers.deep"},
		{"nested 600 deep", `{"answers.deep":` + nest(600) + `}`, "answers.deep"},
		{"nested 1001 deep", `{"answers.deep":` + nest(1001) + `}`, "answers.deep"},
		{"nested 5000 deep in arrays", `{"answers.deep":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, "answers.deep"},
		{"raw invalid UTF-8", "{\"summary\":\"\xff\xfe\xfd\"}", "summary"},
		{"invalid UTF-8 inside an answer", "{\"answers.fence\":{\"result\":\"fail\",\"note\":\"a\xc3\"}}", "answers.fence"},
		{"UTF-8 encoded surrogate", "{\"summary\":\"\xed\xa0\x80\"}", "summary"},
		{"lone high surrogate escape", `{"summary":"\ud83d"}`, "summary"},
		{"lone low surrogate escape", `{"summary":"x\ude00"}`, "summary"},
		{"NUL escape", `{"summary":"a\u0000b"}`, "summary"},
		{"NUL escape inside an answer", `{"answers.fence":{"result":"fail","note":"\u0000"}}`, "answers.fence"},
		{"integer beyond 2^53", `{"answers.pm10":9007199254740993}`, "answers.pm10"},
		{"negative integer beyond 2^53", `{"answers.pm10":{"value":-9007199254740995}}`, "answers.pm10"},
		{"2^60 written out", `{"answers.pm10":1152921504606846976}`, "answers.pm10"},
		{"too precise fraction", `{"lon":112.7345678901234567890}`, "lon"},
		{"number overflowing a double", `{"answers.pm10":1e400}`, "answers.pm10"},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			r := pushRaw(t, srv, insp, id, tc.fields)
			r.wantError(t, http.StatusBadRequest, syncproto.CodeInvalidField)
			var eb syncproto.ErrorBody
			_ = json.Unmarshal(r.Body, &eb)
			if !strings.Contains(eb.Message, tc.where) {
				t.Errorf("message %q does not name %s", eb.Message, tc.where)
			}
		})
	}
	kept := []struct{ name, field, sent, want string }{
		{"nested 32 deep", "answers.deep", nest(31), nest(31)},
		{"escaped emoji", "summary", `"\ud83d\ude00 扬尘"`, `"😀 扬尘"`},
		{"escaped Chinese", "summary", `"\u6587\u660e\u65bd\u5de5"`, `"文明施工"`},
		{"2^53", "answers.pm10", `9007199254740992`, `9007199254740992`},
		{"2^53 + 2", "answers.pm10", `9007199254740994`, `9007199254740994`},
		{"decimal", "answers.pm10", `{"value":0.1,"unit":"mg/m³"}`, `{"unit":"mg/m³","value":0.1}`},
		{"1.0 is 1", "answers.pm10", `1.0`, `1`},
		{"coordinate", "lon", `112.734567`, `112.734567`},
	}
	for _, tc := range kept {
		t.Run("kept/"+tc.name, func(t *testing.T) {
			pushRaw(t, srv, insp, id, `{"`+tc.field+`":`+tc.sent+`}`).wantStatus(t, http.StatusOK)
			if got := pulledValue(t, insp, id, tc.field); got != tc.want {
				t.Errorf("pulled %s, want %s", got, tc.want)
			}
		})
	}

	// Every other endpoint that reads JSON refuses the same class of text.
	office := srv.Login(apptest.CountyOffice)
	for _, tc := range []struct{ name, path, token, body string }{
		{"login username", syncproto.PathLogin, "", "{\"username\":\"insp\xffector\",\"password\":\"x\",\"device_id\":\"" + newID() + "\"}"},
		{"login device name", syncproto.PathLogin, "", `{"username":"inspector","password":"inspector123","device_id":"` + newID() + `","device_name":"\udc00"}`},
		{"login device name on two lines", syncproto.PathLogin, "", `{"username":"inspector","password":"inspector123","device_id":"` + newID() + `","device_name":"Mate\n60"}`},
		{"login device name with a direction override", syncproto.PathLogin, "", `{"username":"inspector","password":"inspector123","device_id":"` + newID() + `","device_name":"\u202eMate 60"}`},
		{"review comment", reviewPath(id), accessToken(office), "{\"decision\":\"return\",\"comment\":\"\xfe\"}"},
		{"refresh token", syncproto.PathRefresh, "", `{"refresh_token":"` + strings.Repeat("[", 2) + `\ud800"}`},
		{"deep body", syncproto.PathRefresh, "", `{"refresh_token":"x","a":` + nest(100) + `}`},
	} {
		t.Run("endpoints/"+tc.name, func(t *testing.T) {
			send(t, srv, request{method: http.MethodPost, path: tc.path, token: tc.token, ctype: jsonType, body: tc.body}).
				wantError(t, http.StatusBadRequest, syncproto.CodeInvalidField)
		})
	}
}

// TestReplayComparesValues: a batch re-sent with its values spelled
// otherwise — escapes for non-ASCII text, another key order inside an
// object, other white space, 1.0 for 1 — is the same batch (a replay);
// a batch with a different value is not.
func TestReplayComparesValues(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	id := newID()
	apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	batch, h := newID(), insp.Clock.Now().String()
	body := func(fields string) string {
		return `{"device_id":"` + insp.DeviceID + `","batch_id":"` + batch + `","mutations":[{"entity":"inspection","id":"` + id +
			`","fields":` + fields + `,"hlc":"` + h + `"}]}`
	}
	post := func(fields string) reply {
		return send(t, srv, request{method: http.MethodPost, path: syncproto.PathPush, token: accessToken(insp), ctype: jsonType, body: body(fields)})
	}
	first := post(`{"summary":"围挡完好","answers.fence":{"result":"pass","note":"东侧","n":1}}`)
	first.wantStatus(t, http.StatusOK)
	for _, tc := range []struct{ name, fields string }{
		{"escapes", `{"summary":"\u56f4\u6321\u5b8c\u597d","answers.fence":{"result":"pass","note":"\u4e1c\u4fa7","n":1}}`},
		{"key order and spacing", `{ "answers.fence" : { "n" : 1 , "note" : "东侧" , "result" : "pass" } , "summary" : "围挡完好" }`},
		{"1.0 for 1", `{"summary":"围挡完好","answers.fence":{"result":"pass","note":"东侧","n":1.0}}`},
		{"escaped solidus and ASCII", `{"summary":"围挡完好","answers.fence":{"r\u0065sult":"pass","note":"东侧","n":1e0}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.fields)
			r.wantStatus(t, http.StatusOK)
			var resp syncproto.PushResponse
			if err := json.Unmarshal(r.Body, &resp); err != nil || !resp.Replayed || resp.Results[0].Status != syncproto.StatusApplied {
				t.Fatalf("re-sent batch: %v %s, want a replay of the applied result", err, r.Body)
			}
		})
	}
	post(`{"summary":"围挡破损","answers.fence":{"result":"pass","note":"东侧","n":1}}`).wantError(t, http.StatusConflict, syncproto.CodeBatchMismatch)
	post(`{"summary":"围挡完好","answers.fence":{"result":"pass","note":"东侧","n":2}}`).wantError(t, http.StatusConflict, syncproto.CodeBatchMismatch)
}

// TestEqualHLCsSettleByValue: two values written under the very same HLC
// converge on the greater value whatever the order they arrive in, and the
// other is in the conflict log (reason equal_hlc).
func TestEqualHLCsSettleByValue(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	site := apptest.DemoSite(t, xinfu)
	for _, order := range [][2]string{{"eq-1", "eq-2"}, {"eq-2", "eq-1"}} {
		t.Run(order[0]+" first", func(t *testing.T) {
			id := newID()
			apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, newInspection(site, "draft")))
			h := insp.Clock.Now().String()
			for _, v := range order {
				apptest.Push(t, insp, syncproto.Mutation{Entity: syncproto.EntityInspection, ID: id, HLC: h, Fields: F{"summary": v}.raw(t)})
			}
			if got := pulledValue(t, insp, id, "summary"); got != `"eq-2"` {
				t.Errorf("summary %s, want \"eq-2\" whatever the order", got)
			}
			var out struct {
				Conflicts []struct {
					Field, Reason, HLC, WinnerHLC string
					Value                         json.RawMessage
				}
			}
			if err := office.Do(t.Context(), http.MethodGet, "/api/v1/conflicts?entity=inspection&record_id="+id, nil, &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Conflicts) != 1 || string(out.Conflicts[0].Value) != `"eq-1"` || out.Conflicts[0].Reason != "equal_hlc" {
				t.Fatalf("conflict log %+v, want eq-1 logged as equal_hlc", out.Conflicts)
			}
		})
	}
}

// TestWrongTypesAndQueries: a null where a request field cannot be null is
// a wrong type (400 invalid_field), not whatever its zero value would
// mean; a query string that does not parse, or repeats a parameter, is
// refused rather than read in part.
func TestWrongTypesAndQueries(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	mut := `{"entity":"site","id":"` + newID() + `","fields":{"name":"x"},"hlc":"` + insp.Clock.Now().String() + `"}`
	for _, tc := range []struct{ name, path, token, body string }{
		{"push device_id null", syncproto.PathPush, accessToken(insp), `{"device_id":null,"batch_id":"` + newID() + `","mutations":[` + mut + `]}`},
		{"push batch_id null", syncproto.PathPush, accessToken(insp), `{"device_id":"` + insp.DeviceID + `","batch_id":null,"mutations":[` + mut + `]}`},
		{"mutation entity null", syncproto.PathPush, accessToken(insp), `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":null,"id":"` + newID() + `","fields":{"name":"x"},"hlc":"x"}]}`},
		{"mutation delete null", syncproto.PathPush, accessToken(insp), `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":"` + newID() + `","fields":{"name":"x"},"delete":null,"hlc":"x"}]}`},
		{"login username null", syncproto.PathLogin, "", `{"username":null,"password":"x","device_id":"` + newID() + `"}`},
		{"review decision null", reviewPath(newID()), accessToken(office), `{"decision":null}`},
		{"refresh token null", syncproto.PathRefresh, "", `{"refresh_token":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send(t, srv, request{method: http.MethodPost, path: tc.path, token: tc.token, ctype: jsonType, body: tc.body}).
				wantError(t, http.StatusBadRequest, syncproto.CodeInvalidField)
		})
	}
	for _, q := range []string{"limit=1;DROP", "limit=1%3BDROP", "limit=1&limit=2", "limit=%zz", "limit=1;entity=site"} {
		t.Run("conflicts?"+q, func(t *testing.T) {
			send(t, srv, request{method: http.MethodGet, path: "/api/v1/conflicts?" + q, token: accessToken(office)}).
				wantError(t, http.StatusBadRequest, syncproto.CodeBadRequest)
		})
	}
	send(t, srv, request{method: http.MethodGet, path: syncproto.PathPull + "?limit=10;x", token: accessToken(insp)}).
		wantError(t, http.StatusBadRequest, syncproto.CodeBadRequest)
	// A null a field may hold still clears it.
	id := newID()
	apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, id, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	pushRaw(t, srv, insp, id, `{"summary":null}`).wantStatus(t, http.StatusOK)
}

// TestClientRequestID: a client's own plain request id is used; one that
// is not a plain token (it is echoed in headers, bodies and logs) is
// replaced by the server's.
func TestClientRequestID(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"phone-42.req_7", true},
		{"a b", false},
		{"\xff\xfe", false},
		{strings.Repeat("x", 65), false},
		{"{\"a\":1}", false},
	} {
		r := send(t, srv, request{method: http.MethodGet, path: "/api/v1/me", header: map[string]string{"X-Request-Id": tc.sent}})
		got := r.Header.Get("X-Request-Id")
		var eb syncproto.ErrorBody
		_ = json.Unmarshal(r.Body, &eb)
		switch {
		case tc.kept && (got != tc.sent || eb.RequestID != tc.sent):
			t.Errorf("%q: answered with id %q (body %q), want it kept", tc.sent, got, eb.RequestID)
		case !tc.kept && (got == "" || got == tc.sent || strings.ContainsAny(got, " \r\n\x01") || eb.RequestID != got):
			t.Errorf("%q: answered with id %q (body %q), want a fresh server id", tc.sent, got, eb.RequestID)
		}
	}
}
