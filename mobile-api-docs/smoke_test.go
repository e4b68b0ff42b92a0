package apidocs_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The smoke tests drive a real server through clients whose every request
// and response apptest.SpecTransport validates against openapi.yaml: the
// happy paths of every route and the error answers a phone must handle.

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func fields(t *testing.T, m map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func push(t *testing.T, c *syncproto.Client, ms ...syncproto.Mutation) *syncproto.PushResponse {
	t.Helper()
	resp, err := c.Push(background, newID(), ms)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return resp
}

func wantResults(t *testing.T, resp *syncproto.PushResponse, want ...string) {
	t.Helper()
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(resp.Results), len(want), resp.Results)
	}
	for i, w := range want {
		r := resp.Results[i]
		got := r.Status
		if r.Code != "" {
			got += "/" + r.Code
		}
		if got != w {
			t.Errorf("result %d (%s %s): %s (%s), want %s", i, r.Entity, r.ID, got, r.Message, w)
		}
	}
}

// pullAll pulls every page from cursor and returns the changes by id and the
// final cursor.
func pullAll(t *testing.T, c *syncproto.Client, cursor string) (map[string]syncproto.Change, string) {
	t.Helper()
	got := map[string]syncproto.Change{}
	cursor, err := c.PullAll(background, cursor, 7, func(pr *syncproto.PullResponse) error {
		for _, ch := range pr.Changes {
			got[ch.ID] = ch
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return got, cursor
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

type answer struct {
	status int
	header http.Header
	body   syncproto.ErrorBody
}

// call sends a raw request through the validating client and checks the
// status and, for errors, the code.
func call(t *testing.T, srv *apptest.Server, method, path, token, ctype, body string, status int, code string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(background, method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(b, &a.body); err != nil && method != http.MethodHead {
			t.Errorf("%s %s: error body %q: %v", method, path, b, err)
		}
	}
	if a.status != status || a.body.Code != code {
		t.Errorf("%s %s → %d %s (%s), want %d %s", method, path, a.status, a.body.Code, a.body.Message, status, code)
	}
	return a
}

func access(c *syncproto.Client) string {
	a, _ := c.Tokens()
	return a
}

func TestSmokeSyncAndReview(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)

	me, err := insp.Me(background)
	if err != nil || me.Role != "inspector" || me.DeviceID != insp.DeviceID {
		t.Fatalf("me: %+v, %v", me, err)
	}

	// First sync: reference data and the county's sites, in small pages.
	first, cursor := pullAll(t, insp, "")
	site := apptest.DemoSite(t, "140902")
	if _, ok := first[site]; !ok || first["140902"].Entity != "county" || first["coal_yard@1"].Entity != "checklist_template" {
		t.Fatalf("first sync lacks the site, county or template (%d changes)", len(first))
	}

	// A visit: inspection, answers, a finding, a photo, then submit last.
	inspID, findingID, photoID := newID(), newID(), newID()
	visit := []syncproto.Mutation{
		{Entity: "inspection", ID: inspID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"site_id": site, "template_id": "construction_dust", "template_version": 1, "status": "draft",
			"started_at": "2026-03-01T09:30:00+08:00", "lon": 112.745, "lat": 38.433})},
		{Entity: "inspection", ID: inspID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"answers.fence": map[string]any{"result": "pass"}, "answers.material_cover": map[string]any{"result": "fail", "note": "东侧土方未苫盖"},
			"summary": nil})},
		{Entity: "finding", ID: findingID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"inspection_id": inspID, "item_key": "material_cover", "description": "东侧土方未苫盖",
			"severity": "major", "deadline": "2026-03-31", "status": "open"})},
		{Entity: "photo", ID: photoID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"inspection_id": inspID, "finding_id": findingID, "item_key": "material_cover",
			"sha256": strings.Repeat("ab", 32), "content_type": "image/jpeg", "size_bytes": 2345678,
			"captured_at": "2026-03-01T09:41:12+08:00", "lon": 112.7461, "lat": 38.4325, "accuracy_m": 6.5, "crs": "gcj02"})},
		{Entity: "inspection", ID: inspID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"status": "submitted", "finished_at": "2026-03-01T10:05:00+08:00"})},
	}
	batch := newID()
	resp, err := insp.Push(background, batch, visit)
	if err != nil {
		t.Fatal(err)
	}
	wantResults(t, resp, "applied", "applied", "applied", "applied", "applied")
	again, err := insp.Push(background, batch, visit) // a retry after a lost response
	if err != nil || !again.Replayed || len(again.Results) != len(visit) {
		t.Fatalf("retry: %+v, %v", again, err)
	}

	// Refusals are per mutation, with codes.
	future := syncproto.HLC{Wall: time.Now().Add(time.Hour).UnixMilli(), Node: insp.DeviceID}.String()
	resp = push(t, insp,
		syncproto.Mutation{Entity: "inspection", ID: inspID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{"summary": "改"})},
		syncproto.Mutation{Entity: "photo", ID: photoID, HLC: insp.Clock.Now().String(), Delete: true},
		syncproto.Mutation{Entity: "photo", ID: photoID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{"uploaded": true})},
		syncproto.Mutation{Entity: "photo", ID: photoID, HLC: future, Fields: fields(t, map[string]any{"caption": "东侧"})},
		syncproto.Mutation{Entity: "review", ID: newID(), HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{"comment": "x"})},
		syncproto.Mutation{Entity: "bogus", ID: "NOT-A-UUID", HLC: "yesterday"},
		// The submitted inspection's evidence is locked too; new evidence
		// may still arrive.
		syncproto.Mutation{Entity: "photo", ID: photoID, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{"caption": "东侧土方"})},
		syncproto.Mutation{Entity: "photo", ID: newID(), HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"inspection_id": inspID, "item_key": "fence", "sha256": strings.Repeat("cd", 32), "content_type": "image/jpeg",
			"captured_at": "2026-03-01T09:50:00+08:00", "lon": 112.7462, "lat": 38.4326})},
	)
	wantResults(t, resp, "rejected/record_locked", "rejected/not_deletable", "rejected/server_owned_field",
		"rejected/clock_skew", "rejected/read_only_entity", "rejected/unknown_entity", "rejected/record_locked", "applied")

	// Two inspectors edit one site's note: the older write is stale and logged.
	insp2 := srv.Login(apptest.Inspector2)
	older := insp.Clock.Now().String()
	wantResults(t, push(t, insp2, syncproto.Mutation{Entity: "site", ID: site, HLC: insp2.Clock.Now().String(),
		Fields: fields(t, map[string]any{"note": "大门东移"})}), "applied")
	resp = push(t, insp, syncproto.Mutation{Entity: "site", ID: site, HLC: older, Fields: fields(t, map[string]any{"note": "大门在南"})})
	wantResults(t, resp, "stale")
	if len(resp.Results[0].LostFields) != 1 || resp.Results[0].LostFields[0] != "note" {
		t.Errorf("lost_fields %v, want [note]", resp.Results[0].LostFields)
	}

	// A deleted draft stays deleted.
	draft := newID()
	wantResults(t, push(t, insp,
		syncproto.Mutation{Entity: "inspection", ID: draft, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{
			"site_id": site, "template_id": "construction_dust", "template_version": 1})},
		syncproto.Mutation{Entity: "inspection", ID: draft, HLC: insp.Clock.Now().String(), Delete: true},
		syncproto.Mutation{Entity: "inspection", ID: draft, HLC: insp.Clock.Now().String(), Fields: fields(t, map[string]any{"summary": "迟到的修改"})},
	), "applied", "applied", "stale/record_deleted")

	changes, cursor := pullAll(t, insp, cursor)
	if str(changes[inspID].Fields["status"]) != "submitted" || !changes[draft].Deleted || changes[draft].DeletedHLC == "" {
		t.Fatalf("pull after push: inspection %+v, draft %+v", changes[inspID], changes[draft])
	}

	// The county office returns the inspection; the phone sees it unlocked.
	county := srv.Login(apptest.CountyOffice)
	var reviewed syncproto.Change
	review := map[string]string{"decision": "return", "comment": "围挡照片不清晰，请补拍。"}
	if err := county.Do(background, http.MethodPost, "/api/v1/inspections/"+inspID+"/review", review, &reviewed); err != nil {
		t.Fatal(err)
	}
	if str(reviewed.Fields["status"]) != "returned" {
		t.Fatalf("review answered %+v", reviewed)
	}
	changes, cursor = pullAll(t, insp, cursor)
	var sawReview bool
	for _, ch := range changes {
		sawReview = sawReview || ch.Entity == "review" && str(ch.Fields["inspection_id"]) == inspID && str(ch.Fields["decision"]) == "return"
	}
	if str(changes[inspID].Fields["status"]) != "returned" || !sawReview {
		t.Fatalf("the return did not reach the phone: %+v", changes[inspID])
	}
	wantResults(t, push(t, insp, syncproto.Mutation{Entity: "inspection", ID: inspID, HLC: insp.Clock.Now().String(),
		Fields: fields(t, map[string]any{"answers.fence": map[string]any{"result": "pass"}, "status": "submitted"})}), "applied")
	if err := county.Do(background, http.MethodPost, "/api/v1/inspections/"+inspID+"/review",
		map[string]string{"decision": "approve"}, &reviewed); err != nil {
		t.Fatal(err)
	}
	_, _ = pullAll(t, insp, cursor)

	// Office lists.
	var conflicts struct {
		Conflicts []json.RawMessage `json:"conflicts"`
	}
	if err := county.Do(background, http.MethodGet, "/api/v1/conflicts?entity=site&limit=10", nil, &conflicts); err != nil || len(conflicts.Conflicts) == 0 {
		t.Fatalf("conflicts: %d, %v", len(conflicts.Conflicts), err)
	}
	var devices struct {
		Devices []json.RawMessage `json:"devices"`
	}
	if err := county.Do(background, http.MethodGet, "/api/v1/devices", nil, &devices); err != nil || len(devices.Devices) < 2 {
		t.Fatalf("devices: %d, %v", len(devices.Devices), err)
	}

	// The admin revokes the second phone; it can no longer sync.
	admin := srv.Login(apptest.Admin)
	if err := admin.Do(background, http.MethodPost, "/api/v1/devices/"+insp2.DeviceID+"/revoke", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := insp2.Me(background); syncproto.ErrorCodeOf(err) != syncproto.CodeDeviceRevoked {
		t.Errorf("revoked device: %v", err)
	}

	// Token refresh and logout.
	if err := insp.Refresh(background); err != nil {
		t.Fatal(err)
	}
	signedOut := access(insp)
	call(t, srv, http.MethodPost, "/api/v1/auth/logout", signedOut, "", "", http.StatusNoContent, "")
	// Logout ends the device's tokens at once; signing in again works at once.
	call(t, srv, http.MethodGet, "/api/v1/me", signedOut, "", "", http.StatusUnauthorized, syncproto.CodeTokenInvalid)
	if _, err := insp.Login(background, apptest.Inspector, apptest.Passwords[apptest.Inspector], "test inspector"); err != nil {
		t.Fatalf("sign in again after logout: %v", err)
	}

	// A changed scope invalidates old cursors.
	if err := srv.App.DB.SetUserCounties(background, apptest.Inspector, []string{"140902", "140921"}); err != nil {
		t.Fatal(err)
	}
	if _, err := insp.Pull(background, cursor, 0); syncproto.ErrorCodeOf(err) != syncproto.CodeResyncRequired {
		t.Errorf("pull with an old cursor after a scope change: %v", err)
	}
	if _, err := insp.Pull(background, "", 0); err != nil {
		t.Errorf("resync: %v", err)
	}
}

func TestSmokeErrors(t *testing.T) {
	srv := apptest.Start(t)
	insp := srv.Login(apptest.Inspector)
	tok := access(insp)
	const js = "application/json"

	call(t, srv, http.MethodGet, "/healthz", "", "", "", http.StatusOK, "")
	call(t, srv, http.MethodGet, "/readyz", "", "", "", http.StatusOK, "")
	call(t, srv, http.MethodGet, "/metrics", "", "", "", http.StatusOK, "")
	call(t, srv, http.MethodGet, "/api/v1/nowhere", tok, "", "", http.StatusNotFound, syncproto.CodeNotFound)
	call(t, srv, http.MethodDelete, "/api/v1/me", tok, "", "", http.StatusMethodNotAllowed, syncproto.CodeMethodNotAllowed)
	call(t, srv, http.MethodHead, "/api/v1/auth/login", tok, "", "", http.StatusMethodNotAllowed, "")
	call(t, srv, http.MethodOptions, "/api/v1/me", tok, "", "", http.StatusNoContent, "")

	login := func(user, password string) string {
		b, _ := json.Marshal(syncproto.LoginRequest{Username: user, Password: password, DeviceID: newID(), DeviceName: "测试机"})
		return string(b)
	}
	call(t, srv, http.MethodPost, "/api/v1/auth/login", "", js, login(apptest.Inspector, "wrong-password"), http.StatusUnauthorized, syncproto.CodeInvalidLogin)
	call(t, srv, http.MethodPost, "/api/v1/auth/login", "", "text/plain", login(apptest.Inspector, "x"), http.StatusUnsupportedMediaType, syncproto.CodeUnsupportedMediaType)
	call(t, srv, http.MethodPost, "/api/v1/auth/login", "", js, `{"username":"a","password":"b","device_id":"`+newID()+`","extra":1}`, http.StatusBadRequest, syncproto.CodeUnknownField)
	call(t, srv, http.MethodPost, "/api/v1/auth/login", "", js, `{"username":"a","password":"b","device_id":"`+newID()+`"`, http.StatusBadRequest, syncproto.CodeBadRequest)
	call(t, srv, http.MethodPost, "/api/v1/auth/login", "", js, `{"username":"a","password":"b","device_id":"`+insp.DeviceID+`","device_name":"`+strings.Repeat("x", 70<<10)+`"}`,
		http.StatusRequestEntityTooLarge, syncproto.CodeBodyTooLarge)
	call(t, srv, http.MethodPost, "/api/v1/auth/login", "", js,
		`{"username":"inspector2","password":"inspector123","device_id":"`+insp.DeviceID+`"}`, http.StatusConflict, syncproto.CodeConflict)
	call(t, srv, http.MethodPost, "/api/v1/auth/refresh", "", js, `{"refresh_token":"nope"}`, http.StatusUnauthorized, syncproto.CodeTokenInvalid)

	call(t, srv, http.MethodGet, "/api/v1/me", "", "", "", http.StatusUnauthorized, syncproto.CodeUnauthorized)
	call(t, srv, http.MethodGet, "/api/v1/me", "garbage", "", "", http.StatusUnauthorized, syncproto.CodeTokenInvalid)
	call(t, srv, http.MethodGet, "/api/v1/sync/pull?cursor=%21%21", tok, "", "", http.StatusBadRequest, syncproto.CodeBadRequest)
	call(t, srv, http.MethodGet, "/api/v1/sync/pull?limit=-1", tok, "", "", http.StatusBadRequest, syncproto.CodeBadRequest)
	call(t, srv, http.MethodGet, "/api/v1/conflicts", tok, "", "", http.StatusForbidden, syncproto.CodeForbidden)
	call(t, srv, http.MethodPost, "/api/v1/devices/"+insp.DeviceID+"/revoke", tok, "", "", http.StatusForbidden, syncproto.CodeForbidden)

	mut := `[{"entity":"site","id":"` + apptest.DemoSite(t, "140902") + `","hlc":"` + insp.Clock.Now().String() + `","fields":{"note":"x"}}]`
	batch := newID()
	call(t, srv, http.MethodPost, "/api/v1/sync/push", tok, js, `{"device_id":"`+newID()+`","batch_id":"`+batch+`","mutations":`+mut+`}`, http.StatusForbidden, syncproto.CodeDeviceMismatch)
	call(t, srv, http.MethodPost, "/api/v1/sync/push", tok, js, `{"device_id":"`+insp.DeviceID+`","batch_id":"`+batch+`","mutations":[]}`, http.StatusBadRequest, syncproto.CodeBadRequest)
	call(t, srv, http.MethodPost, "/api/v1/sync/push", tok, js, `{"device_id":"`+insp.DeviceID+`","batch_id":"`+batch+`","mutations":`+mut+`}`, http.StatusOK, "")
	call(t, srv, http.MethodPost, "/api/v1/sync/push", tok, js, `{"device_id":"`+insp.DeviceID+`","batch_id":"`+batch+`","mutations":`+strings.Replace(mut, `"x"`, `"y"`, 1)+`}`, http.StatusConflict, syncproto.CodeBatchMismatch)
	call(t, srv, http.MethodPost, "/api/v1/sync/push", tok, js, `{"device_id":"`+insp.DeviceID+`","batch_id":"`+newID()+`","mutations":[{"entity":1}]}`, http.StatusBadRequest, syncproto.CodeInvalidField)

	county := srv.Login(apptest.CountyOffice)
	ctok := access(county)
	call(t, srv, http.MethodPost, "/api/v1/inspections/"+newID()+"/review", ctok, js, `{"decision":"approve"}`, http.StatusNotFound, syncproto.CodeNotFound)
	call(t, srv, http.MethodPost, "/api/v1/inspections/"+newID()+"/review", ctok, js, `{"decision":"maybe"}`, http.StatusBadRequest, syncproto.CodeInvalidValue)
	call(t, srv, http.MethodPost, "/api/v1/inspections/"+newID()+"/review", ctok, js, `{"decision":"return"}`, http.StatusBadRequest, syncproto.CodeMissingField)
	draft := newID()
	wantResults(t, push(t, insp, syncproto.Mutation{Entity: "inspection", ID: draft, HLC: insp.Clock.Now().String(),
		Fields: fields(t, map[string]any{"site_id": apptest.DemoSite(t, "140902"), "template_id": "construction_dust", "template_version": 1})}), "applied")
	call(t, srv, http.MethodPost, "/api/v1/inspections/"+draft+"/review", ctok, js, `{"decision":"approve"}`, http.StatusConflict, syncproto.CodeConflict)
	call(t, srv, http.MethodGet, "/api/v1/conflicts?limit=0", ctok, "", "", http.StatusBadRequest, syncproto.CodeBadRequest)
	call(t, srv, http.MethodPost, "/api/v1/devices/"+newID()+"/revoke", access(srv.Login(apptest.Admin)), "", "", http.StatusNotFound, syncproto.CodeNotFound)
}

func TestSmokeLoginThrottled(t *testing.T) {
	srv := apptest.Start(t) // its own server: throttling is per client address
	body, _ := json.Marshal(syncproto.LoginRequest{Username: apptest.Inspector, Password: "wrong-password", DeviceID: newID()})
	for range 5 { // five free tries; the sixth attempt must wait
		call(t, srv, http.MethodPost, "/api/v1/auth/login", "", "application/json", string(body), http.StatusUnauthorized, syncproto.CodeInvalidLogin)
	}
	a := call(t, srv, http.MethodPost, "/api/v1/auth/login", "", "application/json", string(body), http.StatusTooManyRequests, syncproto.CodeTooManyTries)
	if a.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// TestHeadAnswersAsGet: every GET route answers HEAD with the GET's status
// and headers and no body (a monitor's `curl -I`); a route with only other
// methods answers 405 naming them, and an unknown path 404. The spec
// transport validates each HEAD answer against the GET operation.
func TestHeadAnswersAsGet(t *testing.T) {
	srv := apptest.Start(t)
	tok := access(srv.Login(apptest.Inspector))
	office := access(srv.Login(apptest.CountyOffice))
	do := func(method, path, token string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(background, method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		// Asked for, so that both methods ask (Go's client asks for gzip
		// on a GET only) and the compressed answer is compared.
		req.Header.Set("Accept-Encoding", "gzip")
		// Not followed: a redirect's own answer is compared. The
		// console's pages are not the spec's: they are not validated.
		client := *srv.HTTPClient()
		if strings.HasPrefix(path, "/console") {
			client.Transport = nil
		}
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" && method != http.MethodHead {
			if r, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp, b
	}
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/", "", http.StatusOK},
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusOK},
		{"/app", "", http.StatusMovedPermanently},
		{"/app/", "", http.StatusOK},
		{"/app/sw.js", "", http.StatusOK},
		{"/api/v1/me", tok, http.StatusOK},
		{"/api/v1/me", "", http.StatusUnauthorized},
		{"/api/v1/sync/pull?limit=5", tok, http.StatusOK},
		{"/api/v1/conflicts", office, http.StatusOK},
		{"/api/v1/conflicts", tok, http.StatusForbidden},
		{"/console/login", "", http.StatusOK},
		{"/console/", "", http.StatusSeeOther},
		{"/console/nowhere", "", http.StatusNotFound},
		{"/api/v1/nowhere", tok, http.StatusNotFound},
	} {
		get, body := do(http.MethodGet, c.path, c.token)
		head, hbody := do(http.MethodHead, c.path, c.token)
		if get.StatusCode != c.status || head.StatusCode != c.status {
			t.Errorf("%s: GET %d, HEAD %d, want %d", c.path, get.StatusCode, head.StatusCode, c.status)

		}
		if len(hbody) != 0 {
			t.Errorf("HEAD %s: %d bytes of body", c.path, len(hbody))
		}
		if c.status == http.StatusOK && len(body) == 0 {
			t.Errorf("GET %s: no body", c.path)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "ETag", "Content-Security-Policy", "Location", "WWW-Authenticate",
			"Content-Encoding", "Vary"} {
			if g, hd := get.Header.Get(h), head.Header.Get(h); g != hd {
				t.Errorf("%s: %s is %q to GET, %q to HEAD", c.path, h, g, hd)
			}
		}
		// The length of what GET sends, compressed as it is (a pull page
		// differs from one answer to the next by its server_hlc, so by a
		// byte or two compressed).
		if g, hd := get.ContentLength, head.ContentLength; c.status == http.StatusOK && (g < 0) != (hd < 0) || g > 0 && hd > 0 && (hd < g*9/10 || hd > g*11/10) {
			t.Errorf("%s: Content-Length %d to GET, %d to HEAD", c.path, g, hd)
		}
	}
	// A route without GET is not made one by HEAD.
	resp, _ := do(http.MethodHead, "/api/v1/auth/login", "")
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), http.MethodPost) {
		t.Errorf("HEAD of a POST route: %d, Allow %q; want 405 naming POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The start page leads inspectors to the app and offices to the console.
	_, page := do(http.MethodGet, "/", "")
	for _, want := range []string{`href="/app/"`, `href="/console/"`, "巡查", "督查后台"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("start page lacks %q", want)
		}
	}
}
