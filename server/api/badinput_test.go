package api_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/api"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

const jsonType = "application/json"

// TestBadInput runs the bad-input scenarios against one server (each makes
// its own devices and records).
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	for _, s := range []struct {
		name string
		run  func(*testing.T, *apptest.Server)
	}{
		{"bodies", testBadBodies},
		{"auth required", testAuthRequired},
		{"routes", testRoutes},
		{"push request", testPushRequestErrors},
		{"pull parameters", testPullParams},
		{"query parameters", testQueryParams},
		{"review", testReviewErrors},
		{"mutation rejections", testMutationRejections},
		{"photo references", testPhotoReferences},
	} {
		t.Run(s.name, func(t *testing.T) { s.run(t, srv) })
	}
}

// testBadBodies sends every malformed body to every endpoint that reads one.
func testBadBodies(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	site := apptest.DemoSite(t, xinfu)
	draft := newID()
	apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, draft, newInspection(site, "draft")))

	pushBody := func(extra string) string {
		return `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":"` + newID() +
			`","fields":{"name":"x"},"hlc":"` + insp.Clock.Now().String() + `"` + extra + `}]}`
	}
	endpoints := []struct {
		name, path, token string
		valid             func() string // a new body that decodes (the answer may still be an error)
		validStatus       int
		wrongTypes        []string // bodies with a value of the wrong JSON type
		unknownField      string
	}{
		{"login", syncproto.PathLogin, "", func() string { return loginBody(apptest.Inspector, apptest.Passwords[apptest.Inspector], newID()) }, 200,
			[]string{`{"username":5,"password":"x","device_id":"x"}`, `{"username":"inspector","password":["inspector123"]}`,
				`{"username":"inspector","password":"inspector123","device_id":true}`, `{"device_name":{}}`},
			`{"username":"inspector","password":"inspector123","device_id":"` + newID() + `","remember_me":true}`},
		{"refresh", syncproto.PathRefresh, "", func() string { return refreshBody("not-a-token") }, 401,
			[]string{`{"refresh_token":1}`, `{"refresh_token":true}`, `{"refresh_token":{"a":1}}`},
			`{"refresh_token":"abc","device_id":"x"}`},
		{"push", syncproto.PathPush, accessToken(insp), func() string { return pushBody("") }, 200,
			[]string{
				`{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":"x"}`,
				`{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":{}}`,
				`{"device_id":"` + insp.DeviceID + `","batch_id":7,"mutations":[]}`,
				`{"device_id":false,"batch_id":"` + newID() + `","mutations":[]}`,
				pushBody(`,"delete":"yes"`),
				pushBody(`,"delete":1`),
				`{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":"` + newID() + `","fields":[],"hlc":"x"}]}`,
				`{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":5,"hlc":"x"}]}`,
				`{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":"x","hlc":123}]}`,
				`{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":["x"]}`,
			},
			pushBody(`,"extra":1`)},
		{"review", reviewPath(draft), accessToken(office), func() string { return `{"decision":"approve"}` }, 409,
			[]string{`{"decision":1}`, `{"decision":"return","comment":["a"]}`, `{"decision":null,"comment":false}`},
			`{"decision":"approve","score":5}`},
	}
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			post := func(t *testing.T, ctype, body string) reply {
				return send(t, srv, request{method: http.MethodPost, path: ep.path, token: ep.token, ctype: ctype, body: body})
			}
			valid := ep.valid()
			cases := []struct {
				name, ctype, body string
				status            int
				code              string
			}{
				{"malformed JSON", jsonType, `{"a":`, 400, syncproto.CodeBadRequest},
				{"not JSON", jsonType, `username=inspector&password=x`, 400, syncproto.CodeBadRequest},
				{"unclosed string", jsonType, `{"a":"b`, 400, syncproto.CodeBadRequest},
				{"single quotes", jsonType, `{'a':'b'}`, 400, syncproto.CodeBadRequest},
				{"empty body", jsonType, ``, 400, syncproto.CodeBadRequest},
				{"whitespace body", jsonType, " \n\t ", 400, syncproto.CodeBadRequest},
				{"text/plain", "text/plain", valid, 415, syncproto.CodeUnsupportedMediaType},
				{"form", "application/x-www-form-urlencoded", "a=b", 415, syncproto.CodeUnsupportedMediaType},
				{"multipart", "multipart/form-data; boundary=x", valid, 415, syncproto.CodeUnsupportedMediaType},
				{"json-ish type", "application/jsonx", valid, 415, syncproto.CodeUnsupportedMediaType},
				{"no content type", "", valid, 415, syncproto.CodeUnsupportedMediaType},
				{"top-level array", jsonType, `[]`, 400, syncproto.CodeInvalidField},
				{"top-level string", jsonType, `"x"`, 400, syncproto.CodeInvalidField},
				{"top-level number", jsonType, `42`, 400, syncproto.CodeInvalidField},
				{"unknown field", jsonType, ep.unknownField, 400, syncproto.CodeUnknownField},
				{"unknown field with hidden characters", jsonType, `{"\u202eEVIL\u200b\u0007\n\u2028":1,` + valid[1:], 400, syncproto.CodeUnknownField},
				{"trailing garbage", jsonType, valid + "garbage", 400, syncproto.CodeBadRequest},
				{"trailing brace", jsonType, valid + "}", 400, syncproto.CodeBadRequest},
				{"two JSON values", jsonType, valid + valid, 400, syncproto.CodeBadRequest},
				{"two values, whitespace between", jsonType, valid + "\n{}", 400, syncproto.CodeBadRequest},
			}
			// Each member of the valid body named twice, and in capitals:
			// encoding/json would take the last of two and the capitals
			// for the member.
			for _, m := range topMembers(t, valid) {
				cases = append(cases, struct {
					name, ctype, body string
					status            int
					code              string
				}{"member named twice: " + m.name, jsonType, `{"` + m.name + `":` + string(m.value) + "," + valid[1:], 400, syncproto.CodeInvalidField},
					struct {
						name, ctype, body string
						status            int
						code              string
					}{"member in capitals: " + m.name, jsonType, strings.Replace(valid, `"`+m.name+`":`, `"`+strings.ToUpper(m.name)+`":`, 1), 400, syncproto.CodeUnknownField})
			}
			for i, body := range ep.wrongTypes {
				cases = append(cases, struct {
					name, ctype, body string
					status            int
					code              string
				}{fmt.Sprintf("wrong type %d", i), jsonType, body, 400, syncproto.CodeInvalidField})
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { post(t, tc.ctype, tc.body).wantError(t, tc.status, tc.code) })
			}
			// A body in a content coding is not read as JSON whatever it
			// holds: gzip, or a coding the server does not know.
			for _, coding := range []string{"gzip", "br", "deflate", "x-custom", "gzip, identity", "identity, gzip"} {
				t.Run("content coding "+coding, func(t *testing.T) {
					send(t, srv, request{method: http.MethodPost, path: ep.path, token: ep.token, ctype: jsonType, body: valid,
						header: map[string]string{"Content-Encoding": coding}}).wantError(t, http.StatusUnsupportedMediaType, syncproto.CodeUnsupportedMediaType)
				})
			}
			// JSON in another charset would be read as UTF-8, its text
			// changed.
			for _, cs := range []string{"latin1", "gbk", "utf-16", ""} {
				t.Run("charset "+cs, func(t *testing.T) {
					post(t, jsonType+"; charset="+strconv.Quote(cs), valid).wantError(t, http.StatusUnsupportedMediaType, syncproto.CodeUnsupportedMediaType)
				})
			}
			t.Run("content coding identity", func(t *testing.T) {
				r := send(t, srv, request{method: http.MethodPost, path: ep.path, token: ep.token, ctype: jsonType, body: ep.valid(),
					header: map[string]string{"Content-Encoding": "identity"}})
				if r.Status == http.StatusUnsupportedMediaType {
					t.Errorf("identity coding refused: %d %s", r.Status, r.Body)
				}
			})
			// The valid body, with variants that must still be accepted.
			for _, ok := range []struct{ name, ctype, suffix string }{
				{"valid", jsonType, ""},
				{"charset parameter", "application/json; charset=utf-8", ""},
				{"charset in capitals", "application/json; charset=UTF-8", ""},
				{"upper-case type", "Application/JSON", ""},
				{"trailing newline", jsonType, "\r\n"},
			} {
				t.Run(ok.name, func(t *testing.T) {
					r := post(t, ok.ctype, ep.valid()+ok.suffix)
					if ep.validStatus < 300 {
						r.wantStatus(t, ep.validStatus)
						return
					}
					// A body that decodes reaches the domain's own answer.
					var eb syncproto.ErrorBody
					_ = json.Unmarshal(r.Body, &eb)
					if r.Status != ep.validStatus || eb.Code == syncproto.CodeBadRequest || eb.Code == syncproto.CodeUnsupportedMediaType {
						t.Errorf("status %d %s, want %d", r.Status, eb.Code, ep.validStatus)
					}
				})
			}
		})
	}
}

// member is one member of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// topMembers lists the members of the JSON object body, in order.
func topMembers(t *testing.T, body string) []member {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", body)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, member{tok.(string), v})
	}
	return out
}

// testAuthRequired: every authenticated endpoint refuses a request without
// a token, or with a bad one, before looking at anything else.
func testAuthRequired(t *testing.T, srv *apptest.Server) {
	id := newID()
	endpoints := []struct{ method, path, ctype, body string }{
		{"POST", syncproto.PathLogout, "", ""},
		{"GET", syncproto.PathMe, "", ""},
		{"GET", syncproto.PathPull, "", ""},
		{"GET", syncproto.PathPull + "?cursor=garbage&limit=abc", "", ""},
		{"POST", syncproto.PathPush, jsonType, `{"device_id":"x","batch_id":"y","mutations":[]}`},
		{"POST", syncproto.PathPush, "text/plain", `garbage`},
		{"POST", reviewPath(id), jsonType, `{"decision":"approve"}`},
		{"GET", "/api/v1/conflicts", "", ""},
		{"GET", "/api/v1/conflicts?limit=abc", "", ""},
		{"GET", "/api/v1/devices", "", ""},
		{"POST", revokePath(id), "", ""},
	}
	for _, ep := range endpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			r := request{method: ep.method, path: ep.path, ctype: ep.ctype, body: ep.body}
			send(t, srv, r).wantError(t, 401, syncproto.CodeUnauthorized)
			r.token = "garbage"
			send(t, srv, r).wantError(t, 401, syncproto.CodeTokenInvalid)
		})
	}
}

// testRoutes: unknown paths answer 404 and known paths with another method
// 405, with or without a token, in the JSON error shape.
func testRoutes(t *testing.T, srv *apptest.Server) {
	tok := accessToken(srv.Login(apptest.Admin))
	id := newID()
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"POST", "/", 405, syncproto.CodeMethodNotAllowed},
		{"GET", "/api", 404, syncproto.CodeNotFound},
		{"GET", "/api/v1", 404, syncproto.CodeNotFound},
		{"GET", "/api/v1/nope", 404, syncproto.CodeNotFound},
		{"GET", "/api/v2/me", 404, syncproto.CodeNotFound},
		{"GET", "/api/v1/me/extra", 404, syncproto.CodeNotFound},
		{"GET", "/api/v1/sync", 404, syncproto.CodeNotFound},
		{"POST", "/api/v1/auth", 404, syncproto.CodeNotFound},
		{"POST", "/api/v1/inspections/" + id, 404, syncproto.CodeNotFound},
		{"POST", "/api/v1/inspections/" + id + "/approve", 404, syncproto.CodeNotFound},
		{"GET", "/api/v1/devices/" + id, 404, syncproto.CodeNotFound},
		{"GET", "/API/V1/ME", 404, syncproto.CodeNotFound},

		{"GET", syncproto.PathLogin, 405, syncproto.CodeMethodNotAllowed},
		{"PUT", syncproto.PathLogin, 405, syncproto.CodeMethodNotAllowed},
		{"GET", syncproto.PathRefresh, 405, syncproto.CodeMethodNotAllowed},
		{"GET", syncproto.PathLogout, 405, syncproto.CodeMethodNotAllowed},
		{"POST", syncproto.PathMe, 405, syncproto.CodeMethodNotAllowed},
		{"DELETE", syncproto.PathMe, 405, syncproto.CodeMethodNotAllowed},
		{"POST", syncproto.PathPull, 405, syncproto.CodeMethodNotAllowed},
		{"GET", syncproto.PathPush, 405, syncproto.CodeMethodNotAllowed},
		{"PUT", syncproto.PathPush, 405, syncproto.CodeMethodNotAllowed},
		{"PATCH", syncproto.PathPush, 405, syncproto.CodeMethodNotAllowed},
		{"GET", reviewPath(id), 405, syncproto.CodeMethodNotAllowed},
		{"PUT", reviewPath(id), 405, syncproto.CodeMethodNotAllowed},
		{"POST", "/api/v1/conflicts", 405, syncproto.CodeMethodNotAllowed},
		{"POST", "/api/v1/devices", 405, syncproto.CodeMethodNotAllowed},
		{"GET", revokePath(id), 405, syncproto.CodeMethodNotAllowed},
		{"DELETE", revokePath(id), 405, syncproto.CodeMethodNotAllowed},
		{"POST", "/healthz", 405, syncproto.CodeMethodNotAllowed},
		{"POST", "/readyz", 405, syncproto.CodeMethodNotAllowed},
		{"POST", "/metrics", 405, syncproto.CodeMethodNotAllowed},
	}
	for _, tc := range cases {
		for _, token := range []string{"", tok} {
			name := tc.method + " " + tc.path
			if token != "" {
				name += " with token"
			}
			t.Run(name, func(t *testing.T) {
				send(t, srv, request{method: tc.method, path: tc.path, token: token}).wantError(t, tc.status, tc.code)
			})
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		t.Run("GET "+path, func(t *testing.T) { send(t, srv, request{method: "GET", path: path}).wantStatus(t, 200) })
	}
	// Every route's query is read strictly, not only the API's; a file
	// the app lacks is an API error too.
	for _, path := range []string{"/healthz?a=1&a=2", "/readyz?a=%zz", "/metrics?a=1;b=2", "/app/?x=1&x=2", "/?x=1&x=2", "/app/sw.js?v=1&v=2"} {
		t.Run("GET "+path, func(t *testing.T) {
			send(t, srv, request{method: "GET", path: path}).wantError(t, 400, syncproto.CodeBadRequest)
		})
	}
	for _, path := range []string{"/app/nope.js", "/app/..%2f..%2fgo.mod", "/app/js/"} {
		t.Run("GET "+path, func(t *testing.T) {
			send(t, srv, request{method: "GET", path: path}).wantError(t, 404, syncproto.CodeNotFound)
		})
	}
}

// TestOversizeBodies: push is capped at 16 MiB, every other body at 64 KiB,
// whether the length is declared or the body is chunked.
func TestOversizeBodies(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	const mib = 1 << 20

	// bigPush is a well-formed push of about n bytes (one long note, which
	// the entity refuses per mutation when the body is accepted).
	bigPush := func(n int) []byte {
		head := `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[{"entity":"site","id":"` + newID() +
			`","hlc":"` + insp.Clock.Now().String() + `","fields":{"note":"`
		tail := `"}}]}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	padded := func(prefix string, n int) []byte { // a JSON object of n bytes
		return []byte(prefix + `,"pad":"` + strings.Repeat("y", n-len(prefix)-len(`,"pad":""}`)) + `"}`)
	}
	cases := []struct {
		name, path, token string
		body              []byte
		status            int
		code              string
	}{
		{"push over 16 MiB", syncproto.PathPush, accessToken(insp), bigPush(16*mib + 1), 413, syncproto.CodeBodyTooLarge},
		{"push just under 16 MiB", syncproto.PathPush, accessToken(insp), bigPush(16*mib - 1024), 200, ""},
		{"login over 64 KiB", syncproto.PathLogin, "", padded(`{"username":"inspector"`, 64<<10+1), 413, syncproto.CodeBodyTooLarge},
		{"login of 1 MiB", syncproto.PathLogin, "", padded(`{"username":"inspector"`, mib), 413, syncproto.CodeBodyTooLarge},
		{"refresh over 64 KiB", syncproto.PathRefresh, "", padded(`{"refresh_token":"x"`, 64<<10+1), 413, syncproto.CodeBodyTooLarge},
		{"review over 64 KiB", reviewPath(newID()), accessToken(office), padded(`{"decision":"approve"`, 64<<10+1), 413, syncproto.CodeBodyTooLarge},
		{"logout over 64 KiB", syncproto.PathLogout, accessToken(srv.Login(apptest.Inspector2)), padded(`{"refresh_token":"x"`, 64<<10+1), 413, syncproto.CodeBodyTooLarge},
	}
	for _, tc := range cases {
		for _, chunked := range []bool{false, true} {
			name := tc.name
			if chunked {
				name += " chunked"
				if tc.path == syncproto.PathLogout {
					continue // logout does not read its body: only a declared length is refused
				}
			}
			t.Run(name, func(t *testing.T) {
				size := int64(len(tc.body))
				var body io.Reader = bytes.NewReader(tc.body)
				if chunked {
					size, body = -1, io.MultiReader(body) // hides the length: sent chunked
				}
				if tc.code != "" {
					// The server answers before the body's end and closes
					// the connection: read its answer whatever the write
					// meets (a reset, under load, made http.Client report
					// only the write's error).
					r := rawSend(t, srv, tc.path, tc.token, tc.body, chunked)
					r.wantError(t, tc.status, tc.code)
					// The limit in the unit people read, and for a push
					// what to do (both ways of refusing: declared or read).
					var eb syncproto.ErrorBody
					_ = json.Unmarshal(r.Body, &eb)
					want := "64 KiB"
					if tc.path == syncproto.PathPush {
						want = "16 MiB：请把待上传的修改分成较小的批次发送"
					}
					if !strings.Contains(eb.Message, want) {
						t.Errorf("message %q, want it to say %q", eb.Message, want)
					}
					return
				}
				r := sendBody(t, srv, request{method: http.MethodPost, path: tc.path, token: tc.token, ctype: jsonType}, body, size)
				if tc.code == "" {
					r.wantStatus(t, tc.status)
					return
				}
				r.wantError(t, tc.status, tc.code)
			})
		}
	}
}

// rawSend POSTs body to path over its own TCP connection, with a declared
// length or chunked, writing it while the answer is read: an answer sent
// before the body's end is read even when the write then fails.
func rawSend(t *testing.T, srv *apptest.Server, path, token string, body []byte, chunked bool) reply {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\nConnection: close\r\n"
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	}
	go func() {
		w := bufio.NewWriter(conn)
		_, _ = w.WriteString(head)
		if !chunked {
			_, _ = w.Write(body)
		} else {
			for rest := body; len(rest) > 0; {
				n := min(len(rest), 32<<10)
				_, _ = fmt.Fprintf(w, "%x\r\n", n)
				_, _ = w.Write(rest[:n])
				_, _ = w.WriteString("\r\n")
				rest = rest[n:]
			}
			_, _ = w.WriteString("0\r\n\r\n")
		}
		_ = w.Flush() // the server may have closed the connection: its answer is read below
	}()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: read answer: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// testPushRequestErrors covers refusals of a whole push.
func testPushRequestErrors(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	other := srv.Login(apptest.Inspector2)
	tok := accessToken(insp)
	mut := func() syncproto.Mutation {
		return upsert(t, insp, syncproto.EntitySite, newID(), newSite(xinfu, "批次测试"))
	}
	body := func(device, batch string, ms ...syncproto.Mutation) string {
		if ms == nil {
			ms = []syncproto.Mutation{}
		}
		b, err := json.Marshal(syncproto.PushRequest{DeviceID: device, BatchID: batch, Mutations: ms})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	many := make([]syncproto.Mutation, 1001)
	for i := range many {
		many[i] = mut()
	}
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"device of another user", body(other.DeviceID, newID(), mut()), 403, syncproto.CodeDeviceMismatch},
		{"unknown device", body(newID(), newID(), mut()), 403, syncproto.CodeDeviceMismatch},
		{"no device", body("", newID(), mut()), 400, syncproto.CodeBadRequest},
		{"device null", `{"device_id":null,"batch_id":"` + newID() + `","mutations":[]}`, 400, syncproto.CodeInvalidField},
		{"device upper case", body(strings.ToUpper(insp.DeviceID), newID(), mut()), 403, syncproto.CodeDeviceMismatch},
		{"batch id not a uuid", body(insp.DeviceID, "batch-1", mut()), 400, syncproto.CodeBadRequest},
		{"batch id upper case", body(insp.DeviceID, strings.ToUpper(newID()), mut()), 400, syncproto.CodeBadRequest},
		{"batch id with braces", body(insp.DeviceID, "{"+newID()+"}", mut()), 400, syncproto.CodeBadRequest},
		{"batch id the nil UUID", body(insp.DeviceID, "00000000-0000-0000-0000-000000000000", mut()), 400, syncproto.CodeBadRequest},
		{"no batch id", body(insp.DeviceID, "", mut()), 400, syncproto.CodeBadRequest},
		{"no mutations", body(insp.DeviceID, newID()), 400, syncproto.CodeBadRequest},
		{"mutations null", `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":null}`, 400, syncproto.CodeInvalidField},
		{"mutations absent", `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `"}`, 400, syncproto.CodeBadRequest},
		{"too many mutations", body(insp.DeviceID, newID(), many...), 400, syncproto.CodeBadRequest},
	}
	// Members named twice or in other letter case inside the mutations,
	// their fields and the fields' values refuse the whole push: each is
	// read one way here and another by other parsers.
	open := newID()
	apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, open, newInspection(apptest.DemoSite(t, xinfu), "draft")))
	hlc := func() string { return insp.Clock.Now().String() }
	raw := func(mutation string) string {
		return `{"device_id":"` + insp.DeviceID + `","batch_id":"` + newID() + `","mutations":[` + mutation + `]}`
	}
	inspection := func(members string) string {
		return `{"entity":"inspection","id":"` + open + `",` + members + `}`
	}
	for _, c := range []struct{ name, body, code string }{
		{"mutation member named twice", raw(inspection(`"hlc":"` + hlc() + `","fields":{"summary":"a"},"hlc":"` + hlc() + `"`)), syncproto.CodeInvalidField},
		{"fields given twice", raw(inspection(`"hlc":"` + hlc() + `","fields":{"summary":"a"},"fields":{"summary":"b"}`)), syncproto.CodeInvalidField},
		{"field named twice", raw(inspection(`"hlc":"` + hlc() + `","fields":{"summary":"a","summary":"b"}`)), syncproto.CodeInvalidField},
		{"field named twice, once escaped", raw(inspection(`"hlc":"` + hlc() + `","fields":{"summary":"a","\u0073ummary":"b"}`)), syncproto.CodeInvalidField},
		{"key named twice in a value", raw(inspection(`"hlc":"` + hlc() + `","fields":{"answers.fence":{"result":"pass","result":"fail"}}`)), syncproto.CodeInvalidField},
		{"fields null", raw(inspection(`"hlc":"` + hlc() + `","fields":null`)), syncproto.CodeInvalidField},
		{"delete null", raw(inspection(`"hlc":"` + hlc() + `","delete":null`)), syncproto.CodeInvalidField},
		{"mutation member in capitals", raw(`{"Entity":"inspection","id":"` + open + `","hlc":"` + hlc() + `","fields":{"summary":"a"}}`), syncproto.CodeUnknownField},
		{"mutation member capitalised", raw(inspection(`"HLC":"` + hlc() + `","fields":{"summary":"a"}`)), syncproto.CodeUnknownField},
		{"mutation member with hidden characters", raw(inspection(`"hlc\u202e\u200b":"` + hlc() + `","fields":{"summary":"a"}`)), syncproto.CodeUnknownField},
		{"request member in capitals", strings.Replace(raw(inspection(`"hlc":"`+hlc()+`","fields":{"summary":"a"}`)), `"mutations"`, `"Mutations"`, 1), syncproto.CodeUnknownField},
	} {
		cases = append(cases, struct {
			name, body string
			status     int
			code       string
		}{c.name, c.body, 400, c.code})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			send(t, srv, request{method: "POST", path: syncproto.PathPush, token: tok, ctype: jsonType, body: tc.body}).wantError(t, tc.status, tc.code)
		})
	}
	t.Run("refused pushes stored nothing", func(t *testing.T) {
		found := false
		for _, ch := range pullAll(t, insp) {
			if ch.Entity != syncproto.EntityInspection || ch.ID != open {
				continue
			}
			found = true
			for _, name := range []string{"summary", "answers.fence"} {
				if v, ok := ch.Fields[name]; ok && string(v) != "null" {
					t.Errorf("%s is %s: a refused push wrote it", name, v)
				}
			}
		}
		if !found {
			t.Fatal("the inspection is not in the pull")
		}
	})

	t.Run("batch id reused", func(t *testing.T) {
		batch := newID()
		first := []syncproto.Mutation{mut()}
		r1, err := insp.Push(t.Context(), batch, first)
		if err != nil {
			t.Fatal(err)
		}
		wantResult(t, r1.Results[0], syncproto.StatusApplied, "")
		// The same content again: the stored answer, nothing applied twice.
		r2, err := insp.Push(t.Context(), batch, first)
		if err != nil {
			t.Fatal(err)
		}
		if !r2.Replayed || r2.Results[0].Status != syncproto.StatusApplied {
			t.Errorf("retry: replayed %v, results %+v", r2.Replayed, r2.Results)
		}
		// Different content under the same batch id.
		_, err = insp.Push(t.Context(), batch, []syncproto.Mutation{mut()})
		wantAPIError(t, err, 409, syncproto.CodeBatchMismatch)
		changed := first[0]
		changed.Fields = F{"name": "改过"}.raw(t)
		_, err = insp.Push(t.Context(), batch, []syncproto.Mutation{changed})
		wantAPIError(t, err, 409, syncproto.CodeBatchMismatch)
		_, err = insp.Push(t.Context(), batch, append(first, mut()))
		wantAPIError(t, err, 409, syncproto.CodeBatchMismatch)
		// Batch ids are per device: another device may use the same one.
		r3, err := other.Push(t.Context(), batch, []syncproto.Mutation{upsert(t, other, syncproto.EntitySite, newID(), newSite(xinfu, "另一设备"))})
		if err != nil || r3.Replayed {
			t.Errorf("same batch id from another device: %v %+v", err, r3)
		}
	})
}

// testPullParams checks cursor and limit.
func testPullParams(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	nw := srv.Login(apptest.NingwuInsp)
	office := srv.Login(apptest.CountyOffice)
	first, err := insp.Pull(t.Context(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Changes) != 2 || !first.HasMore || first.Cursor == "" {
		t.Fatalf("first page: %d changes, has_more %v", len(first.Changes), first.HasMore)
	}
	nwPage, err := nw.Pull(t.Context(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	var cur struct {
		S int64  `json:"s"`
		F string `json:"f"`
		E string `json:"e"`
	}
	raw, _ := base64.RawURLEncoding.DecodeString(first.Cursor)
	if err := json.Unmarshal(raw, &cur); err != nil {
		t.Fatalf("cursor: %v", err)
	}

	tok := accessToken(insp)
	cases := []struct {
		name, query string
		status      int
		code        string
	}{
		{"cursor not base64", "cursor=%25%25%25", 400, syncproto.CodeBadRequest},
		{"cursor garbage", "cursor=garbage", 400, syncproto.CodeBadRequest},
		{"cursor padded base64", "cursor=" + base64.URLEncoding.EncodeToString([]byte(`{"s":1}`)), 400, syncproto.CodeBadRequest},
		{"cursor not JSON", "cursor=" + enc("hello"), 400, syncproto.CodeBadRequest},
		{"cursor missing epoch", "cursor=" + enc(`{"s":1,"f":"x"}`), 400, syncproto.CodeBadRequest},
		{"cursor negative", "cursor=" + enc(fmt.Sprintf(`{"s":-1,"f":%q,"e":%q}`, cur.F, cur.E)), 400, syncproto.CodeBadRequest},
		{"cursor extra field", "cursor=" + enc(fmt.Sprintf(`{"s":1,"f":%q,"e":%q,"x":1}`, cur.F, cur.E)), 400, syncproto.CodeBadRequest},
		{"cursor seq a string", "cursor=" + enc(fmt.Sprintf(`{"s":"1","f":%q,"e":%q}`, cur.F, cur.E)), 400, syncproto.CodeBadRequest},
		{"cursor too long", "cursor=" + strings.Repeat("A", 600), 400, syncproto.CodeBadRequest},
		{"cursor of another database", "cursor=" + enc(fmt.Sprintf(`{"s":1,"f":%q,"e":"other"}`, cur.F)), 410, syncproto.CodeResyncRequired},
		{"cursor of another scope", "cursor=" + nwPage.Cursor, 410, syncproto.CodeResyncRequired},
		{"limit not a number", "limit=abc", 400, syncproto.CodeBadRequest},
		{"limit fraction", "limit=1.5", 400, syncproto.CodeBadRequest},
		{"limit negative", "limit=-1", 400, syncproto.CodeBadRequest},
		{"limit too large", "limit=5001", 400, syncproto.CodeBadRequest},
		{"limit overflow", "limit=99999999999999999999", 400, syncproto.CodeBadRequest},
		{"limit empty", "limit=", 400, syncproto.CodeBadRequest},
		{"limit with a plus sign", "limit=%2B5", 400, syncproto.CodeBadRequest},
		{"limit with spaces", "limit=%205", 400, syncproto.CodeBadRequest},
		{"limit and bad cursor", "limit=abc&cursor=" + first.Cursor, 400, syncproto.CodeBadRequest},
		{"hlcs unknown form", "hlcs=compact", 400, syncproto.CodeBadRequest},
		{"hlcs upper case", "hlcs=GROUPED", 400, syncproto.CodeBadRequest},
		{"form unknown", "form=full", 400, syncproto.CodeBadRequest},
		{"form upper case", "form=COMPACT", 400, syncproto.CodeBadRequest},
		{"form compact with hlcs", "form=compact&hlcs=grouped", 400, syncproto.CodeBadRequest},
		{"form compact with hlcs=fields", "form=compact&hlcs=fields", 400, syncproto.CodeBadRequest},
		{"form compact and bad cursor", "form=compact&cursor=" + enc(`{"s":-1}`), 400, syncproto.CodeBadRequest},
		{"hlcs empty", "hlcs=", 400, syncproto.CodeBadRequest},
		{"hlcs empty, twice", "hlcs=&hlcs=", 400, syncproto.CodeBadRequest},
		{"form empty", "form=", 400, syncproto.CodeBadRequest},
		{"form empty with hlcs", "form=&hlcs=grouped", 400, syncproto.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			send(t, srv, request{method: "GET", path: syncproto.PathPull + "?" + tc.query, token: tok}).wantError(t, tc.status, tc.code)
		})
	}
	// An integer too large for any limit is said to be out of range, not
	// not an integer (verification probe).
	if r := send(t, srv, request{method: "GET", path: syncproto.PathPull + "?limit=99999999999999999999", token: tok}); !strings.Contains(string(r.Body), "参数 limit 超出范围") {
		t.Errorf("limit 99999999999999999999: %s", r.Body)
	}
	for _, q := range []string{"limit=1", "limit=5000", "cursor=" + first.Cursor, "cursor=" + first.Cursor + "&limit=3", "", "hlcs=fields", "hlcs=grouped&limit=2", "form=compact", "form=compact&limit=2&cursor=" + first.Cursor} {
		t.Run("ok "+q, func(t *testing.T) {
			send(t, srv, request{method: "GET", path: syncproto.PathPull + "?" + q, token: tok}).wantStatus(t, 200)
		})
	}

	offTok := accessToken(office)
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"limit=abc", 400}, {"limit=0", 400}, {"limit=-5", 400}, {"limit=1001", 400}, {"limit=2.5", 400}, {"limit=", 400}, {"limit=%2B5", 400},
		{"limit=1", 200}, {"limit=1000", 200}, {"entity=site&record_id=" + newID(), 200}, {"entity=", 200}, {"record_id=", 200},
	} {
		t.Run("conflicts "+tc.query, func(t *testing.T) {
			r := send(t, srv, request{method: "GET", path: "/api/v1/conflicts?" + tc.query, token: offTok})
			if tc.status == 200 {
				r.wantStatus(t, 200)
				return
			}
			r.wantError(t, tc.status, syncproto.CodeBadRequest)
		})
	}
	// A filter no record can match is refused, not answered with an empty
	// log that says the record had no conflict: an id in upper case or
	// of no UUID's form, an entity no record is of.
	id := newID()
	for _, tc := range []struct {
		query, code string
		says        []string
	}{
		{"record_id=" + strings.ToUpper(id), syncproto.CodeInvalidID, []string{"record_id", "小写 UUID"}},
		{"record_id=" + id[:35], syncproto.CodeInvalidID, []string{"record_id"}},
		{"record_id=00000000-0000-0000-0000-000000000000", syncproto.CodeInvalidID, []string{"全为 0"}},
		{"record_id=%7B" + id + "%7D", syncproto.CodeInvalidID, []string{"record_id"}},
		{"entity=inspections&record_id=" + id, syncproto.CodeUnknownEntity, []string{`\"inspections\"`, "小写"}},
		{"entity=Inspection", syncproto.CodeUnknownEntity, []string{`\"Inspection\"`}},
	} {
		t.Run("conflicts "+tc.query, func(t *testing.T) {
			r := send(t, srv, request{method: "GET", path: "/api/v1/conflicts?" + tc.query, token: offTok})
			r.wantError(t, 400, tc.code)
			for _, w := range tc.says {
				if !strings.Contains(string(r.Body), w) {
					t.Errorf("answer does not say %q: %s", w, r.Body)
				}
			}
		})
	}
}

// testQueryParams: an API route refuses a query parameter it does not take
// (a misspelt cursor would pull from the start), naming it and the ones it
// takes; a bad %-escape is said as such.
func testQueryParams(t *testing.T, srv *apptest.Server) {
	tok := accessToken(srv.Login(apptest.Inspector))
	offTok := accessToken(srv.Login(apptest.CountyOffice))
	for _, tc := range []struct {
		method, path, token string
		says                []string
	}{
		{"GET", syncproto.PathPull + "?curser=abc", tok, []string{`"curser"`, "cursor、limit、hlcs、form"}},
		{"GET", syncproto.PathPull + "?limit=2&_=1733212345", tok, []string{`"_"`}},
		{"GET", syncproto.PathPull + "?Limit=2", tok, []string{`"Limit"`}},
		{"GET", "/api/v1/conflicts?entity_id=x", offTok, []string{`"entity_id"`, "entity、record_id、limit"}},
		{"GET", "/api/v1/me?verbose=1", tok, []string{`"verbose"`, "不接受查询参数"}},
		{"GET", "/api/v1/devices?county=140921", offTok, []string{`"county"`}},
		{"POST", syncproto.PathPush + "?batch_id=x", tok, []string{`"batch_id"`}},
		{"GET", "/api/v1/photos/" + newID() + "/thumbnail?size=64", tok, []string{`"size"`}},
		{"GET", syncproto.PathPull + "?cursor=%zz", tok, []string{"% 转义"}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := send(t, srv, request{method: tc.method, path: tc.path, token: tc.token, body: "{}"})
			r.wantError(t, 400, syncproto.CodeBadRequest)
			var e struct{ Message string }
			_ = json.Unmarshal(r.Body, &e)
			for _, want := range tc.says {
				if !strings.Contains(e.Message, want) {
					t.Errorf("the message %q does not say %s", e.Message, want)
				}
			}
		})
	}
	// A long name is named in part.
	r := send(t, srv, request{method: "GET", path: syncproto.PathPull + "?" + strings.Repeat("x", 10_000) + "=1", token: tok})
	r.wantError(t, 400, syncproto.CodeBadRequest)
	if len(r.Body) > 1000 {
		t.Errorf("an unknown parameter of 10,000 characters is answered in %d bytes", len(r.Body))
	}
	// An unknown path with a query is still not found.
	send(t, srv, request{method: "GET", path: "/api/v1/nope?x=1", token: tok}).wantError(t, 404, syncproto.CodeNotFound)

	// On the tus routes, a refusal before the tus handler (a query
	// parameter, no token) says the protocol version as its answers do
	// (tus 1.0: every answer but OPTIONS's).
	tus := map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Offset": "0"}
	for _, tc := range []struct {
		method, path, token string
		status              int
		code                string
	}{
		{"POST", "/api/v1/uploads/?x=1", tok, 400, syncproto.CodeBadRequest},
		{"PATCH", "/api/v1/uploads/" + newID() + "?x=1", tok, 400, syncproto.CodeBadRequest},
		{"HEAD", "/api/v1/uploads/" + newID() + "?x=1", tok, 400, ""},
		{"POST", "/api/v1/uploads/", "", 401, syncproto.CodeUnauthorized},
		{"PATCH", "/api/v1/uploads/" + newID(), "", 401, syncproto.CodeUnauthorized},
	} {
		t.Run("tus "+tc.method+" "+tc.path, func(t *testing.T) {
			r := send(t, srv, request{method: tc.method, path: tc.path, token: tc.token, header: tus, ctype: "application/offset+octet-stream"})
			if tc.code != "" {
				r.wantError(t, tc.status, tc.code)
			} else if r.Status != tc.status {
				t.Errorf("%d, want %d", r.Status, tc.status)
			}
			if got := r.Header.Get("Tus-Resumable"); got != "1.0.0" {
				t.Errorf("Tus-Resumable %q, want 1.0.0", got)
			}
		})
	}
}

// testReviewErrors covers refused reviews.
func testReviewErrors(t *testing.T, srv *apptest.Server) {
	insp := srv.Login(apptest.Inspector)
	office := srv.Login(apptest.CountyOffice)
	site := apptest.DemoSite(t, xinfu)
	draft, done, gone := newID(), newID(), newID()
	apptest.PushApplied(t, insp,
		upsert(t, insp, syncproto.EntityInspection, draft, newInspection(site, "draft")),
		upsert(t, insp, syncproto.EntityInspection, gone, newInspection(site, "draft")),
	)
	apptest.PushApplied(t, insp, remove(insp, syncproto.EntityInspection, gone))
	apptest.PushApplied(t, insp, upsert(t, insp, syncproto.EntityInspection, done, newInspection(site, "submitted")))
	if err := office.Do(t.Context(), "POST", reviewPath(done), api.ReviewRequest{Decision: "approve"}, nil); err != nil {
		t.Fatal(err)
	}
	pending := submitted(t, insp, site)

	cases := []struct {
		name, id string
		req      api.ReviewRequest
		status   int
		code     string
	}{
		{"decision unknown", pending, api.ReviewRequest{Decision: "maybe"}, 400, syncproto.CodeInvalidValue},
		{"decision empty", pending, api.ReviewRequest{}, 400, syncproto.CodeMissingField},
		{"decision upper case", pending, api.ReviewRequest{Decision: "APPROVE"}, 400, syncproto.CodeInvalidValue},
		{"decision a status", pending, api.ReviewRequest{Decision: "approved"}, 400, syncproto.CodeInvalidValue},
		{"return without comment", pending, api.ReviewRequest{Decision: "return"}, 400, syncproto.CodeMissingField},
		{"return with a comment of spaces", pending, api.ReviewRequest{Decision: "return", Comment: "   "}, 400, syncproto.CodeMissingField},
		{"return with a comment of blanks", pending, api.ReviewRequest{Decision: "return", Comment: "\u3000\n\t "}, 400, syncproto.CodeMissingField},
		{"return with a comment of invisible characters", pending, api.ReviewRequest{Decision: "return",
			Comment: "\u200b\ufeff\u2060\u00ad\u200c\u200d\u2800\u3164\u180e\u034f\u115f\uffa0\ufe0f"}, 400, syncproto.CodeMissingField},
		{"comment too long", pending, api.ReviewRequest{Decision: "return", Comment: strings.Repeat("长", 4001)}, 400, syncproto.CodeInvalidField},
		{"comment with a bell", pending, api.ReviewRequest{Decision: "return", Comment: "请补充\a照片"}, 400, syncproto.CodeInvalidField},
		{"comment with a direction override", pending, api.ReviewRequest{Decision: "return", Comment: "请补充\u202e片照"}, 400, syncproto.CodeInvalidField},
		{"draft", draft, api.ReviewRequest{Decision: "approve"}, 409, syncproto.CodeConflict},
		{"already approved", done, api.ReviewRequest{Decision: "return", Comment: "再看看"}, 409, syncproto.CodeConflict},
		{"nonexistent", newID(), api.ReviewRequest{Decision: "approve"}, 404, syncproto.CodeNotFound},
		{"deleted", gone, api.ReviewRequest{Decision: "approve"}, 404, syncproto.CodeNotFound},
		{"id not a uuid", "not-an-id", api.ReviewRequest{Decision: "approve"}, 400, syncproto.CodeInvalidID},
		{"id upper case", strings.ToUpper(done), api.ReviewRequest{Decision: "approve"}, 400, syncproto.CodeInvalidID},
		{"id of a site", site, api.ReviewRequest{Decision: "approve"}, 404, syncproto.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := office.Do(t.Context(), "POST", reviewPath(tc.id), tc.req, nil)
			wantAPIError(t, err, tc.status, tc.code)
		})
	}
	// A second reviewer reads the inspection's status as offices name it.
	err := office.Do(t.Context(), "POST", reviewPath(done), api.ReviewRequest{Decision: "approve"}, nil)
	if msg := fmt.Sprint(err); !strings.Contains(msg, "已通过") || strings.Contains(msg, "approved）") {
		t.Errorf("review of an approved inspection: %q, want its status named 已通过", msg)
	}
	// A return comment as long as a review's may be (4000 characters) is
	// stored on the inspection too.
	long := submitted(t, insp, site)
	if err := office.Do(t.Context(), "POST", reviewPath(long), api.ReviewRequest{Decision: "return", Comment: strings.Repeat("长", 4000)}, nil); err != nil {
		t.Errorf("return with a 4000-character comment: %v", err)
	}
	// None of the refusals changed the pending inspection: it can still be approved.
	if err := office.Do(t.Context(), "POST", reviewPath(pending), api.ReviewRequest{Decision: "approve", Comment: "合格"}, nil); err != nil {
		t.Errorf("approve after refusals: %v", err)
	}
}

// testMutationRejections: every per-mutation refusal, in one batch with
// valid mutations that still apply.
func testMutationRejections(t *testing.T, srv *apptest.Server) {
	c := srv.Login(apptest.Inspector)
	city := srv.Login(apptest.CityOffice)
	sites := demoSites(t, xinfu)
	siteA, siteB := sites[0], sites[1]
	now := func() string { return time.Now().UTC().Format(time.RFC3339) }

	// Records the cases refer to.
	site, open, locked, lockedFinding, photo, check, deleted := newID(), newID(), newID(), newID(), newID(), newID(), newID()
	apptest.PushApplied(t, c,
		upsert(t, c, syncproto.EntitySite, site, newSite(xinfu, "测试工地")),
		upsert(t, c, syncproto.EntityInspection, open, newInspection(siteA, "draft")),
		upsert(t, c, syncproto.EntityInspection, locked, newInspection(siteA, "draft")),
		upsert(t, c, syncproto.EntityFinding, lockedFinding, F{"inspection_id": locked, "description": "未冲洗车辆"}),
		upsert(t, c, syncproto.EntityInspection, locked, F{"status": "submitted"}),
		upsert(t, c, syncproto.EntityPhoto, photo, F{"inspection_id": open, "sha256": strings.Repeat("0a", 32), "content_type": "image/jpeg"}),
		upsert(t, c, syncproto.EntityVehicleCheck, check, F{"county": xinfu, "checkpoint": "豆罗检查站", "plate": "晋H88888", "checked_at": now()}),
		upsert(t, c, syncproto.EntityInspection, deleted, newInspection(siteA, "draft")),
	)
	apptest.PushApplied(t, c, remove(c, syncproto.EntityInspection, deleted))

	hlc := func(wall time.Time, node string) string {
		return syncproto.HLC{Wall: wall.UnixMilli(), Counter: 1, Node: node}.String()
	}
	with := func(m syncproto.Mutation, f func(*syncproto.Mutation)) syncproto.Mutation { f(&m); return m }
	site2 := func(f F) F { // a new site with changes
		s := newSite(xinfu, "新工地")
		for k, v := range f {
			if v == nil {
				delete(s, k)
			} else {
				s[k] = v
			}
		}
		return s
	}
	up := func(entity, id string, f F) syncproto.Mutation { return upsert(t, c, entity, id, f) }

	type tc struct {
		name string
		m    syncproto.Mutation
		code string // "" means applied
	}
	cases := []tc{
		{"valid update first", up(syncproto.EntityInspection, open, F{"summary": "围挡完好"}), ""},

		{"unknown entity", up("widget", newID(), F{"name": "x"}), syncproto.CodeUnknownEntity},
		{"entity empty", up("", newID(), F{"name": "x"}), syncproto.CodeUnknownEntity},
		{"entity wrong case", up("Site", newID(), site2(nil)), syncproto.CodeUnknownEntity},
		{"entity plural", up("sites", newID(), site2(nil)), syncproto.CodeUnknownEntity},

		{"id upper case", up(syncproto.EntitySite, strings.ToUpper(newID()), site2(nil)), syncproto.CodeInvalidID},
		{"id not a uuid", up(syncproto.EntitySite, "site-1", site2(nil)), syncproto.CodeInvalidID},
		{"id empty", up(syncproto.EntitySite, "", site2(nil)), syncproto.CodeInvalidID},
		{"id the nil UUID", up(syncproto.EntitySite, "00000000-0000-0000-0000-000000000000", site2(nil)), syncproto.CodeInvalidID},
		{"id the max UUID", up(syncproto.EntitySite, "ffffffff-ffff-ffff-ffff-ffffffffffff", site2(nil)), syncproto.CodeInvalidID},
		{"id with braces", up(syncproto.EntitySite, "{"+newID()+"}", site2(nil)), syncproto.CodeInvalidID},
		{"id without dashes", up(syncproto.EntitySite, strings.ReplaceAll(newID(), "-", ""), site2(nil)), syncproto.CodeInvalidID},

		{"hlc garbage", with(up(syncproto.EntitySite, newID(), site2(nil)), func(m *syncproto.Mutation) { m.HLC = "garbage" }), syncproto.CodeInvalidHLC},
		{"hlc empty", with(up(syncproto.EntitySite, newID(), site2(nil)), func(m *syncproto.Mutation) { m.HLC = "" }), syncproto.CodeInvalidHLC},
		{"hlc not canonical", with(up(syncproto.EntitySite, newID(), site2(nil)), func(m *syncproto.Mutation) { m.HLC = fmt.Sprintf("%d-0-%s", time.Now().UnixMilli(), c.DeviceID) }), syncproto.CodeInvalidHLC},
		{"hlc of another device", with(up(syncproto.EntitySite, newID(), site2(nil)), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now(), newID()) }), syncproto.CodeInvalidHLC},
		{"hlc of the server", with(up(syncproto.EntitySite, newID(), site2(nil)), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now(), syncproto.ServerNode) }), syncproto.CodeInvalidHLC},
		{"hlc 3 hours ahead", with(up(syncproto.EntitySite, newID(), site2(nil)), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now().Add(3*time.Hour), c.DeviceID) }), syncproto.CodeClockSkew},
		{"hlc 3 hours ahead on an update", with(up(syncproto.EntityInspection, open, F{"summary": "未来"}), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now().Add(3*time.Hour), c.DeviceID) }), syncproto.CodeClockSkew},

		{"county (real record)", up(syncproto.EntityCounty, xinfu, F{"name": "改名"}), syncproto.CodeReadOnlyEntity},
		{"county (new uuid)", up(syncproto.EntityCounty, newID(), F{"name": "新县"}), syncproto.CodeReadOnlyEntity},
		{"checklist_template (real record)", up(syncproto.EntityTemplate, "construction_dust@1", F{"title": "改"}), syncproto.CodeReadOnlyEntity},
		{"checklist_template (new uuid)", up(syncproto.EntityTemplate, newID(), F{"title": "新"}), syncproto.CodeReadOnlyEntity},
		{"rectification_task (real record)", up(syncproto.EntityTask, "task-01", F{"status": "done"}), syncproto.CodeReadOnlyEntity},
		{"rectification_task (new uuid)", up(syncproto.EntityTask, newID(), F{"status": "done"}), syncproto.CodeReadOnlyEntity},
		{"review", up(syncproto.EntityReview, newID(), F{"inspection_id": locked, "decision": "approve"}), syncproto.CodeReadOnlyEntity},
		{"task_progress (its id)", up(syncproto.EntityTaskProgress, "task-08@140902", F{"status": "done"}), syncproto.CodeReadOnlyEntity},
		{"task_progress (new uuid)", up(syncproto.EntityTaskProgress, newID(), F{"task_id": "task-08", "county": xinfu, "status": "done"}), syncproto.CodeReadOnlyEntity},
		{"delete a county", remove(c, syncproto.EntityCounty, newID()), syncproto.CodeReadOnlyEntity},

		{"delete a photo", remove(c, syncproto.EntityPhoto, photo), syncproto.CodeNotDeletable},
		{"delete a vehicle check", remove(c, syncproto.EntityVehicleCheck, check), syncproto.CodeNotDeletable},
		{"delete a site", remove(c, syncproto.EntitySite, site), syncproto.CodeNotDeletable},
		// What the entity allows comes before the clock: no stamp makes
		// these right, and clock_skew would have them stamped again.
		{"delete a vehicle check, 3 hours ahead", with(remove(c, syncproto.EntityVehicleCheck, newID()), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now().Add(3*time.Hour), c.DeviceID) }), syncproto.CodeNotDeletable},
		{"delete a photo, 3 hours ahead", with(remove(c, syncproto.EntityPhoto, photo), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now().Add(3*time.Hour), c.DeviceID) }), syncproto.CodeNotDeletable},
		{"a county, 3 hours ahead", with(up(syncproto.EntityCounty, xinfu, F{"name": "改名"}), func(m *syncproto.Mutation) { m.HLC = hlc(time.Now().Add(3*time.Hour), c.DeviceID) }), syncproto.CodeReadOnlyEntity},

		{"inspection.review_comment", up(syncproto.EntityInspection, open, F{"review_comment": "自己批准"}), syncproto.CodeServerOwnedField},
		{"inspection.reviewer_id", up(syncproto.EntityInspection, open, F{"reviewer_id": newID()}), syncproto.CodeServerOwnedField},
		{"inspection.reviewed_at", up(syncproto.EntityInspection, open, F{"reviewed_at": now()}), syncproto.CodeServerOwnedField},
		{"photo.flags", up(syncproto.EntityPhoto, photo, F{"flags": []string{}}), syncproto.CodeServerOwnedField},
		{"photo.uploaded", up(syncproto.EntityPhoto, photo, F{"uploaded": true}), syncproto.CodeServerOwnedField},
		{"photo.exif", up(syncproto.EntityPhoto, photo, F{"exif": map[string]any{}}), syncproto.CodeServerOwnedField},
		{"created_by", up(syncproto.EntitySite, site, F{"created_by": newID()}), syncproto.CodeServerOwnedField},
		{"received_at on create", up(syncproto.EntitySite, newID(), site2(F{"received_at": now()})), syncproto.CodeServerOwnedField},
		{"server field set to null", up(syncproto.EntityInspection, open, F{"review_comment": nil}), syncproto.CodeServerOwnedField},

		{"unknown field", up(syncproto.EntitySite, site, F{"color": "red"}), syncproto.CodeUnknownField},
		{"unknown field on create", up(syncproto.EntitySite, newID(), site2(F{"owner": "x"})), syncproto.CodeUnknownField},
		{"field of another entity", up(syncproto.EntitySite, site, F{"plate": "晋H1"}), syncproto.CodeUnknownField},
		{"map key upper case", up(syncproto.EntityInspection, open, F{"answers.Fence": true}), syncproto.CodeUnknownField},
		{"map key empty", up(syncproto.EntityInspection, open, F{"answers.": true}), syncproto.CodeUnknownField},
		{"map key __proto__", up(syncproto.EntityInspection, open, F{"answers.__proto__": F{"result": "fail"}}), syncproto.CodeUnknownField},
		{"map key beginning with _", up(syncproto.EntityInspection, open, F{"answers._fence": F{"result": "fail"}}), syncproto.CodeUnknownField},
		{"map key 65 long", up(syncproto.EntityInspection, open, F{"answers." + strings.Repeat("a", 65): true}), syncproto.CodeUnknownField},
		{"dotted name of a plain field", up(syncproto.EntitySite, site, F{"name.x": "a"}), syncproto.CodeUnknownField},

		{"string for a number", up(syncproto.EntitySite, site, F{"radius_m": "big"}), syncproto.CodeInvalidField},
		{"number for a string", up(syncproto.EntitySite, site, F{"name": 5}), syncproto.CodeInvalidField},
		{"string for a bool", up(syncproto.EntitySite, site, F{"active": "yes"}), syncproto.CodeInvalidField},
		{"lat 200", up(syncproto.EntitySite, site, F{"lat": 200}), syncproto.CodeInvalidField},
		{"lon -181", up(syncproto.EntitySite, site, F{"lon": -181}), syncproto.CodeInvalidField},
		{"radius 0", up(syncproto.EntitySite, site, F{"radius_m": 0}), syncproto.CodeInvalidField},
		{"name too long", up(syncproto.EntitySite, site, F{"name": strings.Repeat("工", 201)}), syncproto.CodeInvalidField},
		{"time not RFC 3339", up(syncproto.EntityInspection, open, F{"started_at": "yesterday"}), syncproto.CodeInvalidField},
		{"date not a date", up(syncproto.EntityFinding, newID(), F{"inspection_id": open, "description": "x", "deadline": "2026-13-40"}), syncproto.CodeInvalidField},
		{"int with a fraction", up(syncproto.EntityInspection, newID(), F{"site_id": siteA, "template_id": "construction_dust", "template_version": 1.5}), syncproto.CodeInvalidField},
		{"reference not a uuid", up(syncproto.EntityInspection, newID(), F{"site_id": "site-1", "template_id": "construction_dust", "template_version": 1}), syncproto.CodeInvalidField},
		{"object for a number", up(syncproto.EntityPhoto, photo, F{"accuracy_m": map[string]int{"v": 1}}), syncproto.CodeInvalidField},
		{"array for a string", up(syncproto.EntityPhoto, photo, F{"caption": []string{"x"}}), syncproto.CodeInvalidField},

		{"inspection status approved", up(syncproto.EntityInspection, open, F{"status": "approved"}), syncproto.CodeInvalidValue},
		{"inspection status returned", up(syncproto.EntityInspection, open, F{"status": "returned"}), syncproto.CodeInvalidValue},
		{"finding status verified", up(syncproto.EntityFinding, newID(), F{"inspection_id": open, "description": "x", "status": "verified"}), syncproto.CodeInvalidValue},
		// A year typed wrong keeps the finding out of every overdue count.
		{"deadline over a year ahead", up(syncproto.EntityFinding, newID(), F{"inspection_id": open, "description": "x", "deadline": server.ChinaDay(time.Now().AddDate(1, 0, 2))}), syncproto.CodeInvalidValue},
		{"deadline in 2099", up(syncproto.EntityFinding, newID(), F{"inspection_id": open, "description": "x", "deadline": "2099-12-31"}), syncproto.CodeInvalidValue},
		{"deadline eleven months ahead", up(syncproto.EntityFinding, newID(), F{"inspection_id": open, "description": "x", "deadline": server.ChinaDay(time.Now().AddDate(0, 11, 0))}), ""},
		{"unknown county code", up(syncproto.EntitySite, newID(), site2(F{"county": "999999"})), syncproto.CodeInvalidValue},
		{"county of another province", up(syncproto.EntitySite, newID(), site2(F{"county": "110101"})), syncproto.CodeInvalidValue},
		{"site kind", up(syncproto.EntitySite, newID(), site2(F{"kind": "spaceport"})), syncproto.CodeInvalidValue},
		{"emission stage", up(syncproto.EntityVehicleCheck, check, F{"emission_stage": "国七"}), syncproto.CodeInvalidValue},
		// Names and numbers read on one line: not blank (a required
		// text cleared: invalid_value, sync.md §13), no control characters.
		{"plate empty", up(syncproto.EntityVehicleCheck, check, F{"plate": ""}), syncproto.CodeInvalidValue},
		{"plate of spaces", up(syncproto.EntityVehicleCheck, check, F{"plate": "   "}), syncproto.CodeInvalidValue},
		{"plate of zero-width spaces", up(syncproto.EntityVehicleCheck, check, F{"plate": "\u200b\u200b"}), syncproto.CodeInvalidValue},
		{"plate with a line break", up(syncproto.EntityVehicleCheck, check, F{"plate": "晋H\n12345"}), syncproto.CodeInvalidField},
		{"plate with a tab", up(syncproto.EntityVehicleCheck, check, F{"plate": "晋H\t12345"}), syncproto.CodeInvalidField},
		{"checkpoint blank", up(syncproto.EntityVehicleCheck, check, F{"checkpoint": " \u3000 "}), syncproto.CodeInvalidValue},
		{"checkpoint with a control character", up(syncproto.EntityVehicleCheck, check, F{"checkpoint": "豆罗\u0007检查站"}), syncproto.CodeInvalidField},
		{"campaign with a line break", up(syncproto.EntityVehicleCheck, check, F{"campaign": "七日\r\n专项"}), syncproto.CodeInvalidField},
		{"vin with a line separator", up(syncproto.EntityVehicleCheck, check, F{"vin": "LZZ\u2028123"}), syncproto.CodeInvalidField},
		{"site name blank", up(syncproto.EntitySite, newID(), site2(F{"name": "  "})), syncproto.CodeInvalidValue},
		// Invisible format characters: two plates that look the same
		// would differ, or one display reversed.
		{"plate with a zero-width space", up(syncproto.EntityVehicleCheck, check, F{"plate": "晋H\u200b30272"}), syncproto.CodeInvalidField},
		{"plate with a direction override", up(syncproto.EntityVehicleCheck, check, F{"plate": "\u202e晋H30272"}), syncproto.CodeInvalidField},
		{"checkpoint with a byte-order mark", up(syncproto.EntityVehicleCheck, check, F{"checkpoint": "\ufeff豆罗检查站"}), syncproto.CodeInvalidField},
		{"campaign with a direction mark", up(syncproto.EntityVehicleCheck, check, F{"campaign": "七日\u200e专项"}), syncproto.CodeInvalidField},
		{"site name with a direction isolate", up(syncproto.EntitySite, newID(), site2(F{"name": "\u2066红星砖厂\u2069"})), syncproto.CodeInvalidField},

		{"site without name", up(syncproto.EntitySite, newID(), site2(F{"name": nil})), syncproto.CodeMissingField},
		{"site with null name", up(syncproto.EntitySite, newID(), site2(F{"name": json.RawMessage("null")})), syncproto.CodeMissingField},
		{"site without county", up(syncproto.EntitySite, newID(), site2(F{"county": nil})), syncproto.CodeMissingField},
		{"inspection without template", up(syncproto.EntityInspection, newID(), F{"site_id": siteA, "template_version": 1}), syncproto.CodeMissingField},
		{"photo without sha256", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open}), syncproto.CodeMissingField},
		{"photo without a parent", up(syncproto.EntityPhoto, newID(), F{"sha256": strings.Repeat("0b", 32)}), syncproto.CodeMissingField},
		{"no fields", with(up(syncproto.EntitySite, site, F{"name": "x"}), func(m *syncproto.Mutation) { m.Fields = nil }), syncproto.CodeMissingField},

		{"inspection at an unknown site", up(syncproto.EntityInspection, newID(), newInspection(newID(), "draft")), syncproto.CodeUnknownReference},
		{"finding of an unknown inspection", up(syncproto.EntityFinding, newID(), F{"inspection_id": newID(), "description": "x"}), syncproto.CodeUnknownReference},
		{"finding of a deleted inspection", up(syncproto.EntityFinding, newID(), F{"inspection_id": deleted, "description": "x"}), syncproto.CodeUnknownReference},
		{"photo of an unknown finding", up(syncproto.EntityPhoto, newID(), F{"finding_id": newID(), "sha256": strings.Repeat("0c", 32)}), syncproto.CodeUnknownReference},
		{"inspection at an id that is not a site", up(syncproto.EntityInspection, newID(), newInspection(open, "draft")), syncproto.CodeUnknownReference},

		{"inspection site_id changed", up(syncproto.EntityInspection, open, F{"site_id": siteB}), syncproto.CodeImmutableField},
		{"site geofence widened by a phone", up(syncproto.EntitySite, siteA, F{"radius_m": 50000}), syncproto.CodeImmutableField},
		{"site retired by a phone", up(syncproto.EntitySite, siteA, F{"active": false}), syncproto.CodeImmutableField},
		{"inspection template changed", up(syncproto.EntityInspection, open, F{"template_id": "coal_yard"}), syncproto.CodeImmutableField},
		{"photo sha256 changed", up(syncproto.EntityPhoto, photo, F{"sha256": strings.Repeat("ff", 32)}), syncproto.CodeImmutableField},
		{"photo sha256 in capitals", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open, "sha256": strings.Repeat("0A", 32)}), syncproto.CodeInvalidField},
		{"photo sha256 short", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open, "sha256": strings.Repeat("0a", 5)}), syncproto.CodeInvalidField},
		{"photo sha256 long", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open, "sha256": strings.Repeat("0a", 32) + "0"}), syncproto.CodeInvalidField},
		{"photo sha256 not hex", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open, "sha256": strings.Repeat("z", 64)}), syncproto.CodeInvalidField},
		{"photo sha256 with spaces", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open, "sha256": " " + strings.Repeat("0a", 31) + " "}), syncproto.CodeInvalidField},
		{"photo sha256 escaped", up(syncproto.EntityPhoto, newID(), F{"inspection_id": open, "sha256": strings.Repeat("0a", 31) + `\"`}), syncproto.CodeInvalidField},
		{"site county changed", up(syncproto.EntitySite, site, F{"county": "140921"}), syncproto.CodeImmutableField},
		{"immutable field cleared", up(syncproto.EntityInspection, open, F{"site_id": nil}), syncproto.CodeImmutableField},

		{"edit after submit", up(syncproto.EntityInspection, locked, F{"summary": "补充"}), syncproto.CodeRecordLocked},
		{"back to draft after submit", up(syncproto.EntityInspection, locked, F{"status": "draft"}), syncproto.CodeRecordLocked},
		{"delete after submit", remove(c, syncproto.EntityInspection, locked), syncproto.CodeRecordLocked},
		{"edit a finding after submit", up(syncproto.EntityFinding, lockedFinding, F{"description": "改"}), syncproto.CodeRecordLocked},
		{"delete a finding after submit", remove(c, syncproto.EntityFinding, lockedFinding), syncproto.CodeRecordLocked},
		{"new finding after submit", up(syncproto.EntityFinding, newID(), F{"inspection_id": locked, "description": "提交后新增"}), syncproto.CodeRecordLocked},

		{"delete an unknown inspection", remove(c, syncproto.EntityInspection, newID()), syncproto.CodeNotFound},
		{"delete an unknown finding", remove(c, syncproto.EntityFinding, newID()), syncproto.CodeNotFound},

		{"delete with fields", with(remove(c, syncproto.EntityInspection, open), func(m *syncproto.Mutation) { m.Fields = F{"summary": "x"}.raw(t) }), syncproto.CodeBadRequest},

		{"valid create last", up(syncproto.EntitySite, newID(), site2(F{"name": "最后一个"})), ""},
	}
	ms := make([]syncproto.Mutation, len(cases))
	for i, k := range cases {
		ms[i] = k.m
	}
	batch := newID()
	resp, err := c.Push(t.Context(), batch, ms)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if len(resp.Results) != len(ms) {
		t.Fatalf("%d results for %d mutations", len(resp.Results), len(ms))
	}
	for i, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			r := resp.Results[i]
			if r.Entity != k.m.Entity || r.ID != k.m.ID {
				t.Errorf("result %d is for %s %s, want %s %s", i, r.Entity, r.ID, k.m.Entity, k.m.ID)
			}
			if k.code == "" {
				wantResult(t, r, syncproto.StatusApplied, "")
				return
			}
			wantResult(t, r, syncproto.StatusRejected, k.code)
		})
	}

	t.Run("retry answers the same", func(t *testing.T) {
		again, err := c.Push(t.Context(), batch, ms)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed {
			t.Errorf("not replayed")
		}
		for i := range again.Results {
			a, b := again.Results[i], resp.Results[i]
			if a.Status != b.Status || a.Code != b.Code || a.ID != b.ID {
				t.Errorf("result %d: %+v, first time %+v", i, a, b)
			}
		}
	})

	t.Run("nothing rejected was stored", func(t *testing.T) {
		byID := map[string]syncproto.Change{}
		for _, ch := range pullAll(t, city) {
			byID[ch.Entity+"/"+ch.ID] = ch
		}
		for i, k := range cases {
			if k.code == "" || resp.Results[i].Status != syncproto.StatusRejected {
				continue
			}
			ch, ok := byID[k.m.Entity+"/"+k.m.ID]
			if !ok {
				continue
			}
			for name, v := range k.m.Fields {
				if h := ch.HLCs[name]; h == k.m.HLC {
					t.Errorf("%s: field %s=%s of a rejected mutation was stored", k.name, name, v)
				}
			}
			if k.m.Delete && ch.Deleted && ch.DeletedHLC == k.m.HLC {
				t.Errorf("%s: rejected delete was stored", k.name)
			}
		}
		insp := byID[syncproto.EntityInspection+"/"+open]
		if string(insp.Fields["summary"]) != `"围挡完好"` || string(insp.Fields["status"]) != `"draft"` || string(insp.Fields["site_id"]) != `"`+siteA+`"` {
			t.Errorf("inspection after the batch: summary %s status %s site %s", insp.Fields["summary"], insp.Fields["status"], insp.Fields["site_id"])
		}
	})
}

// testPhotoReferences: every reference a photo carries is checked, not only
// the one its county is taken from, and also when it is first set by an
// update. Each case is pushed in its own batch with a valid mutation: one
// bad mutation must be rejected on its own, never fail the batch (a batch
// that fails is retried by the phone for ever: a stuck upload queue).
func testPhotoReferences(t *testing.T, srv *apptest.Server) {
	c := srv.Login(apptest.Inspector)
	nw := srv.Login(apptest.NingwuInsp)
	insp, photo, nwInsp, nwFinding := newID(), newID(), newID(), newID()
	otherInsp, otherFinding, nwCheck := newID(), newID(), newID()
	apptest.PushApplied(t, c,
		upsert(t, c, syncproto.EntityInspection, insp, newInspection(apptest.DemoSite(t, xinfu), "draft")),
		upsert(t, c, syncproto.EntityPhoto, photo, F{"inspection_id": insp, "sha256": strings.Repeat("1d", 32)}),
		upsert(t, c, syncproto.EntityInspection, otherInsp, newInspection(apptest.DemoSite(t, xinfu), "draft")),
		upsert(t, c, syncproto.EntityFinding, otherFinding, F{"inspection_id": otherInsp, "description": "另一次检查的问题"}),
	)
	apptest.PushApplied(t, nw,
		upsert(t, nw, syncproto.EntityInspection, nwInsp, newInspection(apptest.DemoSite(t, ningwu), "draft")),
		upsert(t, nw, syncproto.EntityFinding, nwFinding, F{"inspection_id": nwInsp, "description": "宁武的问题"}),
		upsert(t, nw, syncproto.EntityVehicleCheck, nwCheck, F{"county": ningwu, "checkpoint": "宁武检查站", "plate": "晋H55555", "checked_at": "2026-11-02T10:00:00+08:00"}),
	)
	sha := func() string { return strings.ReplaceAll(newID(), "-", "") + strings.Repeat("0", 32) }
	cases := []struct {
		name string
		f    F
		id   string
		code string
	}{
		// A photo's references are given at its creation: added later,
		// whatever they name, they are refused as immutable.
		{"update: unknown finding", F{"finding_id": newID()}, photo, syncproto.CodeImmutableField},
		{"update: unknown vehicle check", F{"vehicle_check_id": newID()}, photo, syncproto.CodeImmutableField},
		{"update: finding of another county", F{"finding_id": nwFinding}, photo, syncproto.CodeImmutableField},
		{"create: unknown finding", F{"finding_id": newID(), "sha256": sha()}, newID(), syncproto.CodeUnknownReference},
		{"create: finding of another county", F{"finding_id": nwFinding, "sha256": sha()}, newID(), syncproto.CodeOutOfScope},
		{"create: unknown second reference", F{"inspection_id": insp, "finding_id": newID(), "sha256": sha()}, newID(), syncproto.CodeUnknownReference},
		{"create: second reference in another county", F{"inspection_id": insp, "finding_id": nwFinding, "sha256": sha()}, newID(), syncproto.CodeOutOfScope},
		{"create: vehicle check of another county", F{"inspection_id": insp, "vehicle_check_id": nwCheck, "sha256": sha()}, newID(), syncproto.CodeOutOfScope},
		{"create: finding of another inspection", F{"inspection_id": insp, "finding_id": otherFinding, "sha256": sha()}, newID(), syncproto.CodeInvalidValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Push(t.Context(), newID(), []syncproto.Mutation{
				upsert(t, c, syncproto.EntityPhoto, tc.id, tc.f),
				upsert(t, c, syncproto.EntitySite, newID(), newSite(xinfu, "同批次的有效变更")),
			})
			if err != nil {
				t.Fatalf("the whole batch failed: %v", err)
			}
			wantResult(t, resp.Results[0], syncproto.StatusRejected, tc.code)
			wantResult(t, resp.Results[1], syncproto.StatusApplied, "")
		})
	}
}
