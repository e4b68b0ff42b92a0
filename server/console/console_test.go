package console_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var ctx = context.Background()

// browser is a cookie-keeping HTTP client standing in for a browser.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, srv *apptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form on a page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the page:\n%s", page)
	}
	return m[1]
}

var seqRE = regexp.MustCompile(`name="(seq(?:_[0-9a-f-]+)?)" value="([0-9]+)"`)

// withSeqs adds to a review form the versions (seq, seq_ID) the page it
// was shown on carries, as a browser sends them.
func withSeqs(v url.Values, page string) url.Values {
	for _, m := range seqRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	return v
}

// login signs in through the form and returns the status and the page the
// browser lands on.
func (b *browser) login(username, password string) (int, string) {
	b.t.Helper()
	_, page := b.get("/console/login")
	return b.post("/console/login", url.Values{"csrf": {csrf(b.t, page)}, "username": {username}, "password": {password}})
}

func loggedIn(t *testing.T, srv *apptest.Server, username string) *browser {
	t.Helper()
	b := newBrowser(t, srv)
	if st, page := b.login(username, apptest.Passwords[username]); st != http.StatusOK || !strings.Contains(page, "审核队列") {
		t.Fatalf("login %s: %d\n%s", username, st, page)
	}
	return b
}

// submit has the phone create and submit an inspection at a demo site of
// county, and returns its id.
func submit(t *testing.T, c *syncproto.Client, county string) string {
	t.Helper()
	return submitWith(t, c, county, "construction_dust")
}

// submitWith pushes a submitted inspection of this checklist at a demo
// site of the county and returns its id.
func submitWith(t *testing.T, c *syncproto.Client, county, template string) string {
	t.Helper()
	id := uuid.Must(uuid.NewRandom()).String()
	resp, err := c.Push(ctx, uuid.Must(uuid.NewV7()).String(), []syncproto.Mutation{{Entity: syncproto.EntityInspection, ID: id,
		HLC: c.Clock.Now().String(), Fields: apptest.Fields("site_id", apptest.DemoSiteFor(t, county, template), "template_id", template,
			"template_version", 1, "status", "submitted", "started_at", "2026-11-28T09:00:00+08:00",
			"answers.fence", map[string]any{"result": "pass"}, "answers.material_cover", map[string]any{"result": "fail", "note": "东侧料堆裸露"})}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Status != "applied" {
		t.Fatalf("push: %+v", resp.Results)
	}
	return id
}

func TestLogin(t *testing.T) {
	srv := apptest.Start(t)
	for _, tc := range []struct {
		user, password string
		status         int
		want           string
	}{
		{apptest.CountyOffice, "county123", http.StatusOK, "审核队列"},
		{apptest.CityOffice, "city1234", http.StatusOK, "审核队列"},
		{apptest.CountyOffice, "wrong-password", http.StatusUnauthorized, "用户名或密码错误"},
		{"nobody", "whatever1", http.StatusUnauthorized, "用户名或密码错误"},
		{apptest.Inspector, "inspector123", http.StatusForbidden, "巡查员账号请使用手机端"},
	} {
		b := newBrowser(t, srv)
		st, page := b.login(tc.user, tc.password)
		if st != tc.status || !strings.Contains(page, tc.want) {
			t.Errorf("login %s/%s: %d, want %d with %q\n%s", tc.user, tc.password, st, tc.status, tc.want, page)
		}
		if tc.status != http.StatusOK {
			// The focus on the password to type again, which the error
			// describes: an alert already there at load is often not read
			// (a11y probe: the focus was on the page's body).
			if !strings.Contains(squash(page), `name="password" autocomplete="current-password" required autofocus aria-invalid="true" aria-describedby="login-error"`) ||
				!strings.Contains(page, `id="login-error"`) {
				t.Errorf("%s: the refused sign-in does not take the focus to the password, described by the error", tc.user)
			}
			if st, _ := b.get("/console/queue"); st != http.StatusOK { // redirected to login
				t.Errorf("%s: queue without a session: %d", tc.user, st)
			}
			if _, page := b.get("/console/queue"); !strings.Contains(page, `action="/console/login"`) {
				t.Errorf("%s: queue without a session did not show the login form", tc.user)
			}
		}
	}
	// The session cookie is HttpOnly, SameSite=Lax and limited to /console.
	b := newBrowser(t, srv)
	_, page := b.get("/console/login")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/console/login", strings.NewReader(url.Values{"csrf": {csrf(t, page)},
		"username": {"county"}, "password": {"county123"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "fs_console" && ck.Value != "" {
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/console" {
				t.Errorf("session cookie %+v", ck)
			}
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !found {
		t.Errorf("login answered %d without a session cookie", resp.StatusCode)
	}
	// Logging out ends the session.
	lb := loggedIn(t, srv, apptest.CityOffice)
	_, q := lb.get("/console/")
	if st, page := lb.post("/console/logout", url.Values{"csrf": {csrf(t, q)}}); st != http.StatusOK || !strings.Contains(page, `action="/console/login"`) {
		t.Errorf("logout: %d", st)
	}
	if _, page := lb.get("/console/"); !strings.Contains(page, `action="/console/login"`) {
		t.Error("the session survived logout")
	}
}

func TestCSRF(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	path := "/console/inspections/" + insp + "/review"
	for name, form := range map[string]url.Values{
		"no token":    {"decision": {"approve"}},
		"wrong token": {"decision": {"approve"}, "csrf": {"not-the-token"}},
	} {
		st, page := b.post(path, form)
		if st != http.StatusForbidden || !strings.Contains(page, "CSRF") || !strings.Contains(page, "<html") {
			t.Errorf("%s: %d\n%s", name, st, page)
		}
	}
	if st, _ := b.post("/console/logout", nil); st != http.StatusForbidden {
		t.Errorf("logout without a token: %d", st)
	}
	// The right token in the URL instead of the body is refused too: a
	// URL is logged, and sent onward as a Referer.
	_, page := b.get("/console/inspections/" + insp)
	if st, _ := b.post(path+"?csrf="+url.QueryEscape(csrf(t, page)), withSeqs(url.Values{"decision": {"approve"}}, page)); st != http.StatusForbidden {
		t.Errorf("the token in the query: %d, want 403", st)
	}
	// A body that cannot be read as a form (more fields than Go reads,
	// a malformed escape) is said to be so, not taken for a forgery.
	many := url.Values{"csrf": {csrf(t, page)}}
	for i := range 12000 {
		many.Add("id", strconv.Itoa(i))
	}
	for name, body := range map[string]string{"12,000 fields": many.Encode(), "a malformed escape": "csrf=" + url.QueryEscape(csrf(t, page)) + "&decision=%zz"} {
		req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if st, body := b.do(req); st != http.StatusBadRequest || !strings.Contains(body, "无法读取提交的表单") {
			t.Errorf("%s: %d, want 400 saying the form cannot be read", name, st)
		}
	}
	// A query that cannot be read is said to be so on a page, not read
	// as no query (a search for "a%" showed the empty search page).
	for _, q := range []string{"/console/search?q=a%", "/console/search?q=%zz", "/console/inspections?status=submitted;county=140902",
		"/console/vehicles?plate=%E6%99%8B%"} {
		if st, page := b.get(q); st != http.StatusBadRequest || !strings.Contains(page, "查询参数") || !strings.Contains(page, "<html") {
			t.Errorf("%s: %d, want a 400 page saying the query cannot be read\n%.300s", q, st, page)
		}
	}
	// Every answer is marked not to be sniffed, and keeps its path out of
	// other sites' Referer.
	for _, p := range []string{"/console/inspections/" + insp, "/console/queue.xlsx", "/console/console.css", "/console/nowhere"} {
		req, _ := http.NewRequest(http.MethodGet, b.base+p, nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: X-Content-Type-Options %q, Referrer-Policy %q", p, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Referrer-Policy"))
		}
	}
	// The login form has its own token, bound to a cookie.
	nb := newBrowser(t, srv)
	if st, _ := nb.post("/console/login", url.Values{"username": {"county"}, "password": {"county123"}}); st != http.StatusForbidden {
		t.Errorf("login without a token: %d", st)
	}
	rec, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp)
	if err != nil || rec.Text("status") != "submitted" {
		t.Errorf("a refused POST changed the inspection: %v %v", rec.Text("status"), err)
	}
}

// TestCountySelectsInScope: every page's county filter offers the
// viewer's counties only (the report's offered all sixteen to a county
// office, and answered 403 to fifteen of them).
func TestCountySelectsInScope(t *testing.T) {
	srv := apptest.Start(t)
	selectRE := regexp.MustCompile(`(?s)<select name="county">(.*?)</select>`)
	optionRE := regexp.MustCompile(`<option value="([^"]*)"`)
	for _, tc := range []struct {
		user string
		want []string
	}{
		{apptest.DingxiangOffice, []string{apptest.Dingxiang}},
		{apptest.CityOffice, nil}, // every county
	} {
		b := loggedIn(t, srv, tc.user)
		for _, path := range []string{"/console/queue", "/console/findings", "/console/ledger", "/console/sites", "/console/report"} {
			_, page := b.get(path)
			m := selectRE.FindStringSubmatch(page)
			if m == nil {
				if tc.want == nil {
					t.Errorf("%s: %s has no county filter", tc.user, path)
				}
				continue // one county: no filter to offer
			}
			var got []string
			for _, o := range optionRE.FindAllStringSubmatch(m[1], -1) {
				if o[1] != "" {
					got = append(got, o[1])
				}
			}
			if tc.want == nil && len(got) < 16 || tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("%s: %s offers counties %v, want %v", tc.user, path, got, tc.want)
			}
			for _, code := range got {
				if st, _ := b.get(path + "?county=" + code); st != http.StatusOK {
					t.Errorf("%s: %s?county=%s, offered, answers %d", tc.user, path, code, st)
				}
			}
		}
	}
}

func TestQueueScope(t *testing.T) {
	srv := apptest.Start(t)
	mine := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	theirs := submit(t, srv.Login(apptest.NingwuInsp), apptest.Ningwu)

	_, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/")
	if !strings.Contains(page, mine) || strings.Contains(page, theirs) {
		t.Errorf("county office queue: want only %s\n%s", mine, page)
	}
	if strings.Contains(page, "宁武县") {
		t.Error("the county office's queue counts another county")
	}
	city := loggedIn(t, srv, apptest.CityOffice)
	_, page = city.get("/console/queue")
	if !strings.Contains(page, mine) || !strings.Contains(page, theirs) {
		t.Errorf("city office queue: want both\n%s", page)
	}
	_, page = city.get("/console/queue?county=" + apptest.Ningwu)
	if strings.Contains(page, mine) || !strings.Contains(page, theirs) {
		t.Errorf("county filter\n%s", page)
	}
	if _, page = city.get("/console/queue?status=approved"); strings.Contains(page, mine) {
		t.Error("status filter lists a submitted inspection as approved")
	}
	if st, page := city.get("/console/queue?from=2026-11-29&to=2026-11-28"); st != http.StatusBadRequest || !strings.Contains(page, "晚于结束日期") {
		t.Errorf("a period whose start is after its end: %d", st)
	}
	if _, page = city.get("/console/queue?from=2026-11-29"); strings.Contains(page, mine) {
		t.Error("date filter")
	}
	if st, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/queue?county=" + apptest.Ningwu); st != http.StatusForbidden || !strings.Contains(page, "无权") {
		t.Errorf("county office filtering another county: %d", st)
	}
}

// TestDetailScope: another county's records, named by their ids, are
// refused (403) without saying which county holds them.
func TestDetailScope(t *testing.T) {
	srv := apptest.Start(t)
	theirs := submit(t, srv.Login(apptest.NingwuInsp), apptest.Ningwu)
	photo := addPhoto(t, srv, theirs, apptest.Ningwu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	for _, path := range []string{"/console/inspections/" + theirs, "/console/photos/" + photo + "/thumbnail"} {
		st, page := b.get(path)
		if st != http.StatusForbidden || !strings.Contains(page, "无权") || !strings.Contains(page, "<html") || strings.Contains(page, "宁武") {
			t.Errorf("%s: %d\n%s", path, st, page)
		}
	}
	st, page := b.post("/console/inspections/"+theirs+"/review", url.Values{"csrf": {csrf(t, page0(t, b))}, "decision": {"approve"}})
	if st != http.StatusForbidden || strings.Contains(page, "宁武") {
		t.Errorf("review of another county: %d\n%s", st, page)
	}
	if st, page := b.get("/console/inspections/" + uuid.NewString()); st != http.StatusNotFound || !strings.Contains(page, "不存在") {
		t.Errorf("unknown inspection: %d", st)
	}
	if st, page := b.get("/console/no-such-page"); st != http.StatusNotFound || !strings.Contains(page, "页面不存在") ||
		!strings.Contains(page, `<nav class="main-nav"`) {
		t.Errorf("unknown page, signed in (with the menu): %d\n%s", st, page)
	}
	if st, page := newBrowser(t, srv).get("/console/no-such-page"); st != http.StatusNotFound || !strings.Contains(page, "页面不存在") ||
		strings.Contains(page, `<nav class="main-nav"`) {
		t.Errorf("unknown page, not signed in (no menu, no sign-in first): %d\n%s", st, page)
	}
	// A method the console has no use for is 405, on pages and forms
	// alike, with the console's error page and the methods the path
	// takes; OPTIONS names them (204), as in the API; on a page that does
	// not exist, both are 404.
	allow := map[string]string{"/console/queue": "OPTIONS, GET, HEAD", "/console/inspections/" + theirs + "/review": "OPTIONS, POST",
		"/console/users": "OPTIONS, GET, HEAD, POST", "/console/sites/" + theirs: "OPTIONS, GET, HEAD, POST"}
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for path, want := range allow {
			req, _ := http.NewRequest(m, b.base+path, nil)
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantStatus := http.StatusMethodNotAllowed
			if m == http.MethodOptions {
				wantStatus = http.StatusNoContent
			}
			if resp.StatusCode != wantStatus || resp.Header.Get("Allow") != want || (m != http.MethodOptions && !strings.Contains(string(body), "不支持此请求方法")) {
				t.Errorf("%s %s: %d, Allow %q, want %d with %q", m, path, resp.StatusCode, resp.Header.Get("Allow"), wantStatus, want)
			}
		}
		req, _ := http.NewRequest(m, b.base+"/console/no-such-page", nil)
		if st, page := b.do(req); st != http.StatusNotFound || !strings.Contains(page, "页面不存在") {
			t.Errorf("%s of a page that does not exist: %d", m, st)
		}
	}
	// A GET of a form's address (a link to it, a reload) is 405 too.
	for path, want := range map[string]string{"/console/inspections/" + theirs + "/review": "OPTIONS, POST", "/console/users/city/disable": "OPTIONS, POST"} {
		req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != want || !strings.Contains(string(body), "不支持此请求方法") {
			t.Errorf("GET %s: %d, Allow %q, want 405 with %q", path, resp.StatusCode, resp.Header.Get("Allow"), want)
		}
	}
}

func page0(t *testing.T, b *browser) string {
	t.Helper()
	_, page := b.get("/console/")
	return page
}

// addPhoto writes a processed photo record with evidence flags straight
// into the store (as the photo processor would) and returns its id.
func addPhoto(t *testing.T, srv *apptest.Server, insp, county string) string {
	t.Helper()
	id := uuid.NewString()
	s := srv.App.Syncer
	err := s.Store.Update(ctx, func(tx server.WriteTx) error {
		return s.Upsert(ctx, tx, syncproto.EntityPhoto, id, county, map[string]any{
			"inspection_id": insp, "item_key": "material_cover", "sha256": strings.Repeat("ab", 32), "caption": "料堆",
			"lon_wgs84": 112.8, "lat_wgs84": 38.5, "captured_at": "2026-11-28T09:10:00+08:00", "processed_at": "2026-11-28T09:11:00+08:00",
			"flags": map[string]any{"no_gps": map[string]any{"device_location": true},
				"far_from_site": map[string]any{"distance_m": 850, "radius_m": 200, "source": "device", "site_id": apptest.DemoSite(t, county)}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDetailAndReturn(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	photo := addPhoto(t, srv, insp, apptest.Xinfu)
	_, cursor := pullAll(t, phone, "")

	b := loggedIn(t, srv, apptest.CountyOffice)
	st, page := b.get("/console/inspections/" + insp)
	if st != http.StatusOK {
		t.Fatalf("detail: %d\n%s", st, page)
	}
	for _, want := range []string{"建筑施工扬尘", "工地围挡100%设置", "合格", "物料堆放100%苫盖", "不合格（东侧料堆裸露）",
		"照片不含 GPS 位置信息", "拍摄位置距点位 850 米（围栏半径 200 米", `<figure id="photo-` + photo + `">`, "照片文件尚未上传",
		"经度 112.800000，纬度 38.500000", "待审核", "退回修改/补充", "这不是整改通知"} {
		if !strings.Contains(page, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if st, page := b.get("/console/photos/" + photo + "/thumbnail"); st != http.StatusNotFound || !strings.Contains(page, "尚未") {
		t.Errorf("thumbnail of a photo without bytes: %d", st)
	}
	comment := "东侧料堆未苫盖，请三日内整改并补拍照片"
	st, page = b.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"return"}, "comment": {comment}}, page))
	if st != http.StatusOK || !strings.Contains(page, "已退回") || !strings.Contains(page, comment) {
		t.Fatalf("return: %d\n%s", st, page)
	}
	// The phone's next pull carries the return and the comment.
	changes, _ := pullAll(t, phone, cursor)
	var got syncproto.Change
	for _, ch := range changes {
		if ch.Entity == syncproto.EntityInspection && ch.ID == insp {
			got = ch
		}
	}
	var status, gotComment string
	_ = json.Unmarshal(got.Fields["status"], &status)
	_ = json.Unmarshal(got.Fields["review_comment"], &gotComment)
	if status != "returned" || gotComment != comment {
		t.Errorf("phone pulled status %q comment %q", status, gotComment)
	}
	// A returned inspection is no longer in the default queue, and can no
	// longer be reviewed.
	if _, page := b.get("/console/"); strings.Contains(page, insp) {
		t.Error("returned inspection still waiting in the queue")
	}
	if _, page := b.get("/console/queue?status=returned"); !strings.Contains(page, insp) {
		t.Error("returned inspection not under 已退回")
	}
	// Refused, the page keeps what was typed and leads back to the
	// inspection, not to the queue.
	typed := "第二次审核的意见\n两行"
	st, page = b.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}, "comment": {typed}}, page))
	if st != http.StatusConflict {
		t.Errorf("second review: %d", st)
	}
	if !strings.Contains(page, html.EscapeString(typed)) || !strings.Contains(page, `href="/console/inspections/`+insp+`" class="back">返回检查详情`) {
		t.Errorf("refused review page lacks the typed comment or the way back to the inspection:\n%s", page)
	}
}

// TestErrorPageLeadsBack: an error page links to the list of the part of
// the console it was met in (or, for a refused form, to the page of the
// form), never to the page that failed.
func TestErrorPageLeadsBack(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	for _, tc := range []struct{ path, back string }{
		{"/console/inspections/" + uuid.NewString(), `href="/console/queue" class="back">返回审核队列`},
		{"/console/sites/" + uuid.NewString(), `href="/console/sites" class="back">返回点位列表`},
		{"/console/vehicles?county=140921", `href="/console/vehicles" class="back">返回路检路查`},
		{"/console/report.csv?county=140921", `href="/console/report" class="back">返回信息报送`},
		{"/console/nowhere", `href="/console/" class="back">返回首页`},
	} {
		st, page := b.get(tc.path)
		if st < 400 || !strings.Contains(page, tc.back) {
			t.Errorf("%s: %d, page lacks %s", tc.path, st, tc.back)
		}
	}
}

func pullAll(t *testing.T, c *syncproto.Client, cursor string) ([]syncproto.Change, string) {
	t.Helper()
	var all []syncproto.Change
	cur, err := c.PullAll(ctx, cursor, 500, func(p *syncproto.PullResponse) error {
		all = append(all, p.Changes...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, cur
}

// findingForm returns the fields of a finding's decision form on a page
// (the csrf, its seq and the decision), as a browser submits it.
func findingForm(t *testing.T, page, finding, decision string) url.Values {
	t.Helper()
	re := regexp.MustCompile(`action="/console/findings/` + finding + `/verify" class="[a-z]+"[^>]*><input type="hidden" name="csrf" value="([^"]+)"><input type="hidden" name="seq" value="([0-9]+)"><input type="hidden" name="decision" value="` + decision + `">`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no %s form for finding %s on the page", decision, finding)
	}
	return url.Values{"csrf": {m[1]}, "seq": {m[2]}, "decision": {decision}}
}

// TestVerifyRectification: on an approved inspection's page the office
// sees each finding's rectification as the inspector reports it, verifies
// it or sends it back with a comment the phone receives; a decision on a
// finding changed since the page was shown is refused.
func TestVerifyRectification(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp, finding := uuid.NewString(), uuid.NewString()
	push := func(ms ...syncproto.Mutation) {
		t.Helper()
		resp := apptest.Push(t, phone, ms...)
		for _, r := range resp.Results {
			if r.Status != "applied" {
				t.Fatalf("push: %+v", r)
			}
		}
	}
	push(apptest.Mut(phone, "inspection", insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu), "template_id", "construction_dust",
		"template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00")),
		apptest.Mut(phone, "finding", finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", "东侧料堆裸露", "severity", "major", "deadline", "2026-12-05", "status", "open")))
	push(apptest.Mut(phone, "inspection", insp, apptest.Fields("status", "submitted")))

	b := loggedIn(t, srv, apptest.CountyOffice)
	path := "/console/inspections/" + insp
	_, page := b.get(path)
	if st, _ := b.post(path+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}}, page)); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	_, page = b.get(path)
	if !strings.Contains(page, `id="finding-`+finding+`"`) || !strings.Contains(page, "待整改") || strings.Contains(page, "核实整改到位") {
		t.Fatalf("approved page before any rectification:\n%s", page)
	}
	// Still to be rectified past its deadline: its row says by how many
	// days, as the findings list does (reviewer probe).
	if due, _ := time.ParseInLocation(time.DateOnly, "2026-12-05", server.ChinaTime); srv.App.Syncer.Now().After(due.AddDate(0, 0, 1)) {
		days := int(srv.App.Syncer.Now().Sub(due).Hours() / 24)
		if !strings.Contains(page, `<td data-label="整改时限">2026-12-05<br><span class="warn">逾期 `+strconv.Itoa(days)+` 天</span></td>`) {
			t.Errorf("the overdue finding's row does not say it is %d days overdue", days)
		}
	}

	rectify := func(note string) {
		t.Helper()
		pullAll(t, phone, "")
		push(apptest.Mut(phone, "finding", finding, apptest.Fields("status", "rectified", "rectification_note", note)))
	}
	rectify("已苫盖")
	_, page = b.get(path)
	if !strings.Contains(page, "已苫盖") || !strings.Contains(page, "已整改") {
		t.Fatalf("page lacks the reported rectification:\n%s", page)
	}
	verify := findingForm(t, page, finding, "verify")
	reopen := findingForm(t, page, finding, "reopen")
	if st, _ := loggedIn(t, srv, apptest.DingxiangOffice).post("/console/findings/"+finding+"/verify", verify); st != http.StatusForbidden {
		t.Errorf("another county's office: %d, want 403", st)
	}
	// The form may give a new deadline, today or later; the old one, past,
	// would count the finding overdue the moment it is sent back.
	now := srv.App.Syncer.Now()
	today, later := server.ChinaDay(now), server.ChinaDay(now.AddDate(0, 0, 10))
	if !strings.Contains(page, `<input type="date" name="deadline" min="`+today+`"`) || !strings.Contains(page, "不填则沿用原时限（2026-12-05）") ||
		strings.Contains(page, "原时限已过") != ("2026-12-05" < today) {
		t.Errorf("the reopen form's deadline (today %s):\n%s", today, page)
	}
	reopen.Set("comment", "西侧仍裸露")
	reopen.Set("deadline", server.ChinaDay(now.AddDate(0, 0, -1)))
	st, page := b.post("/console/findings/"+finding+"/verify", reopen)
	if st != http.StatusBadRequest || !strings.Contains(page, "早于今天") || !strings.Contains(page, ">西侧仍裸露</textarea>") ||
		!strings.Contains(page, `value="`+reopen.Get("deadline")+`"`) || !strings.Contains(page, `id="reopen-error" role="alert" data-field="deadline"`) {
		t.Fatalf("reopen with yesterday's deadline: %d, want 400 at the finding's form, what was typed kept\n%s", st, page)
	}
	// A year typed wrong would keep it out of every overdue count.
	latest := server.ChinaDay(now.AddDate(1, 0, 0))
	reopen.Set("deadline", server.ChinaDay(now.AddDate(1, 0, 1)))
	st, page = b.post("/console/findings/"+finding+"/verify", reopen)
	if st != http.StatusBadRequest || !strings.Contains(page, "在一年以后（最晚 "+latest+"）") || !strings.Contains(page, `id="reopen-error" role="alert" data-field="deadline"`) ||
		!strings.Contains(page, `min="`+today+`" max="`+latest+`"`) {
		t.Fatalf("reopen with a deadline over a year ahead: %d, want 400 at the finding's form\n%s", st, page)
	}
	reopen.Set("deadline", later)
	st, page = b.post("/console/findings/"+finding+"/verify", reopen)
	if st != http.StatusOK || !strings.Contains(page, "已退回继续整改") || !strings.Contains(page, "督查意见：西侧仍裸露") || !strings.Contains(page, "整改中") ||
		!strings.Contains(page, `<td data-label="整改时限">`+later+`</td>`) {
		t.Fatalf("reopen: %d\n%s", st, page)
	}
	changes, _ := pullAll(t, phone, "")
	var comment string
	for _, ch := range changes {
		if ch.ID == finding {
			_ = json.Unmarshal(ch.Fields["verify_comment"], &comment)
		}
	}
	if comment != "西侧仍裸露" {
		t.Errorf("the phone pulled verify_comment %q", comment)
	}
	// The verify form shown before the reopen is of another version.
	if st, page := b.post("/console/findings/"+finding+"/verify", verify); st != http.StatusConflict || !strings.Contains(page, "请重新打开查看") {
		t.Errorf("stale verify: %d\n%s", st, page)
	}
	// The reopen form, from a page left open, refused for its date: the
	// form is no longer on the page, and the reason is said at its top
	// (city probe: a 400 without a word).
	reopen.Set("deadline", "2026-13-40")
	if st, page := b.post("/console/findings/"+finding+"/verify", reopen); st != http.StatusBadRequest || !regexp.MustCompile(`<p class="alert" id="refused" role="alert">[^<]*应为日期`).MatchString(page) {
		t.Errorf("a stale reopen with a bad date: %d, want 400 saying why at the top\n%s", st, page)
	}
	rectify("全部苫盖")
	_, page = b.get(path)
	st, page = b.post("/console/findings/"+finding+"/verify", findingForm(t, page, finding, "verify"))
	if st != http.StatusOK || !strings.Contains(page, "已核实整改到位") || !strings.Contains(page, `class="fst-verified">已核实`) || strings.Contains(page, `value="verify"`) {
		t.Fatalf("verify: %d\n%s", st, page)
	}
	findingForm(t, page, finding, "reopen") // a verified finding may still be reopened
}

// TestQueueCountsKeepFilters: each county's count above the queue counts
// under the page's filters, and its link opens that county's rows under
// the same filters and order (it kept only the status), so the list it
// opens has the count it showed.
func TestQueueCountsKeepFilters(t *testing.T) {
	srv := apptest.Start(t)
	phone, ningwu := srv.Login(apptest.Inspector), srv.Login(apptest.NingwuInsp)
	submitWith(t, phone, apptest.Xinfu, "coal_yard")
	submitWith(t, phone, apptest.Xinfu, "coal_yard")
	submit(t, phone, apptest.Xinfu) // another checklist: not counted
	submitWith(t, ningwu, apptest.Ningwu, "coal_yard")
	city := loggedIn(t, srv, apptest.CityOffice)
	_, page := city.get("/console/queue?status=&template=coal_yard&sort=site&dir=asc")
	nav := regexp.MustCompile(`(?s)<nav class="counts"[^>]*>(.*?)</nav>`).FindStringSubmatch(page)
	if nav == nil {
		t.Fatal("no county counts")
	}
	links := regexp.MustCompile(`<a href="([^"]+)"[^>]*>[^<]* <b>(\d+)</b></a>`).FindAllStringSubmatch(nav[1], -1)
	if len(links) == 0 {
		t.Fatalf("no county links in %s", nav[1])
	}
	nonzero := 0
	for _, l := range links {
		href := html.UnescapeString(l[1])
		for _, want := range []string{"template=coal_yard", "sort=site", "dir=asc", "status=&", "county="} {
			if !strings.Contains(href+"&", want) {
				t.Errorf("county link %s lacks %s", href, want)
			}
		}
		if l[2] == "0" {
			continue
		}
		nonzero++
		if _, listed := city.get(href); !strings.Contains(listed, "共 "+l[2]+" 条") {
			t.Errorf("county link %s counted %s; the list it opens does not say 共 %s 条", href, l[2], l[2])
		}
	}
	if nonzero == 0 {
		t.Error("no county with coal-yard inspections to follow")
	}
}

// TestPhotoAskedEachTime: an office's browser may be a shared PC: the
// console serves a photo to be kept but asked for again each time (the
// ETag makes that a 304), not cached for a year, so that after a sign-out
// or a change of counties the browser does not show it from its cache.
func TestPhotoAskedEachTime(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	insp := submit(t, phone, apptest.Xinfu)
	data := testimg.JPEG(testimg.Options{Width: 64, Height: 48, Seed: 7})
	id := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityPhoto, id, apptest.Fields("inspection_id", insp,
		"sha256", apptest.SHA256(data), "content_type", "image/jpeg", "size_bytes", len(data))))
	srv.Tus(phone).Upload(id, "image/jpeg", data, http.StatusNoContent)
	b := loggedIn(t, srv, apptest.CountyOffice)
	st, cc := b.getHeader("/console/photos/"+id+"/original", "Cache-Control")
	if st != http.StatusOK || cc != "private, no-cache" {
		t.Errorf("a photo's original in the console: %d, Cache-Control %q, want 200 private, no-cache", st, cc)
	}
}

// TestInspectionClockAhead: an inspection whose start is hours after the
// server received it (the phone's clock ran ahead) says so on its page;
// one started before its receipt does not.
func TestInspectionClockAhead(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	county := loggedIn(t, srv, apptest.CountyOffice)
	if _, page := county.get("/console/inspections/" + submit(t, phone, apptest.Xinfu)); strings.Contains(page, `id="clock-ahead"`) {
		t.Error("an inspection started before its receipt is said to be from a clock ahead")
	}
	id := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, id, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "submitted",
		"started_at", time.Now().Add(2*time.Hour).In(server.ChinaTime).Format(time.RFC3339))))
	if _, page := county.get("/console/inspections/" + id); !regexp.MustCompile(`id="clock-ahead">⚠ 比服务器收到此记录的时间（[^）]+）晚 [12] 小时`).MatchString(page) {
		t.Error("an inspection started 2 hours after its receipt: the page does not say the phone's clock ran ahead")
	}
}

// TestDetailNamesChecklistVersionAndRetiredSite: the inspection's page
// says which version of its checklist it was answered on (a reviewer
// could not tell why an inspection lacked an item a later version added),
// that its site has since been retired, and a status sent as nothing as
// the draft it is, not blank (catalogue and wording probes).
func TestDetailNamesChecklistVersionAndRetiredSite(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	site := apptest.DemoSite(t, apptest.Xinfu)
	insp := uuid.NewString()
	apptest.PushApplied(t, phone, syncproto.Mutation{Entity: syncproto.EntityInspection, ID: insp, HLC: phone.Clock.Now().String(),
		Fields: apptest.Fields("site_id", site, "template_id", "construction_dust", "template_version", 1, "started_at", "2026-11-28T09:00:00+08:00")})
	b := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, b, "/console/inspections/"+insp)
	if !strings.Contains(page, `<dd id="template">建筑施工扬尘“六个百分百”检查（第 1 版）</dd>`) {
		t.Errorf("the checklist and its version are not named:\n%s", page)
	}
	if !strings.Contains(page, `<dd class="st-draft">草稿</dd>`) {
		t.Errorf("an inspection sent without a status is not shown as a draft")
	}
	if strings.Contains(page, "点位已停用") {
		t.Errorf("a site in use shown as retired")
	}
	s := srv.App.Syncer
	if err := s.Store.Update(t.Context(), func(tx server.WriteTx) error {
		return s.Upsert(t.Context(), tx, syncproto.EntitySite, site, apptest.Xinfu, map[string]any{"active": false})
	}); err != nil {
		t.Fatal(err)
	}
	if page := mustGet(t, b, "/console/inspections/"+insp); !strings.Contains(page, `id="site-retired">（点位已停用）`) {
		t.Errorf("the retired site is not said")
	}
}
