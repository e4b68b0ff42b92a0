package console_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/console"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// rectifiedFinding has the phone submit an inspection with a finding, the
// office approve it, and the phone report the finding rectified; it
// returns the inspection's and the finding's ids.
func rectifiedFinding(t *testing.T, srv *apptest.Server, b *browser) (string, string) {
	t.Helper()
	phone := srv.Login(apptest.Inspector)
	insp, finding := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", "2026-11-28T09:00:00+08:00")),
		apptest.Mut(phone, "finding", finding, apptest.Fields("inspection_id", insp, "item_key", "material_cover",
			"description", "东侧料堆裸露", "severity", "major", "deadline", "2026-12-05", "status", "open")))
	apptest.PushApplied(t, phone, apptest.Mut(phone, "inspection", insp, apptest.Fields("status", "submitted")))
	page := mustGet(t, b, "/console/inspections/"+insp)
	if st, _ := b.post("/console/inspections/"+insp+"/review", withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve"}}, page)); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	pullAll(t, phone, "")
	apptest.PushApplied(t, phone, apptest.Mut(phone, "finding", finding, apptest.Fields("status", "rectified", "rectification_note", "已苫盖")))
	return insp, finding
}

// TestDecisionSentTwice: a decision sent twice as it was (a double
// click) is answered as the first, with the page after it, not refused
// as if it had not been saved; one sent again with another comment is
// refused, and its page keeps that comment, unsaved.
func TestDecisionSentTwice(t *testing.T) {
	srv := apptest.Start(t)
	b := loggedIn(t, srv, apptest.CountyOffice)
	phone := srv.Login(apptest.Inspector)
	back := "/console/queue?status=submitted&county=140902"
	for _, tc := range []struct {
		name, decision, comment, done string
		finding                       bool
	}{
		{"approve", "approve", "", "已审核通过", false},
		{"return", "return", "请补拍东侧料堆", "已退回修改/补充", false},
		{"verify", "verify", "", "已核实整改到位", true},
		{"reopen", "reopen", "西侧仍裸露", "已退回继续整改", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var action string
			var form url.Values
			if tc.finding {
				insp, finding := rectifiedFinding(t, srv, b)
				form = findingForm(t, mustGet(t, b, "/console/inspections/"+insp), finding, tc.decision)
				action = "/console/findings/" + finding + "/verify"
			} else {
				insp := submit(t, phone, apptest.Xinfu)
				page := mustGet(t, b, "/console/inspections/"+insp)
				form = withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {tc.decision}}, page)
				action = "/console/inspections/" + insp + "/review"
			}
			form.Set("comment", tc.comment)
			form.Set("back", back)
			for i := range 2 {
				st, page := b.post(action, form)
				if st != http.StatusOK || !strings.Contains(page, tc.done) || strings.Contains(page, "未保存") ||
					!strings.Contains(page, `href="`+strings.ReplaceAll(back, "&", "&amp;")+`"`) {
					t.Fatalf("post %d: %d\n%s", i+1, st, page)
				}
			}
			if tc.comment == "" {
				return
			}
			form.Set("comment", tc.comment+"（改）")
			if st, page := b.post(action, form); st != http.StatusConflict || !strings.Contains(page, "未保存") || !strings.Contains(page, tc.comment+"（改）") {
				t.Errorf("another comment sent again: %d\n%s", st, page)
			}
		})
	}
}

// logBuffer collects a server's JSON log lines and lets a test wait for
// one.
type logBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits for a log line holding all of parts and returns it.
func (l *logBuffer) waitFor(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		s, changed := l.b.String(), l.changed
		l.mu.Unlock()
		for _, line := range strings.Split(s, "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return line
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no log line with %q in:\n%s", parts, s)
		}
	}
}

// leaveAt has a request carrying the header X-Test-Leave given up by its
// client at the nth time it reaches point: leave (the client's cancel) is
// called and the server goes on once it has seen the connection go.
func leaveAt(t *testing.T, point string, nth int, leave func()) {
	n := 0
	t.Cleanup(console.SetPauseAt(func(r *http.Request, at string) {
		if at != point || r.Header.Get("X-Test-Leave") == "" {
			return
		}
		if n++; n == nth {
			leave()
			<-r.Context().Done()
		}
	}))
}

// bulkOfThree has the inspector submit three complete 忻府区 inspections
// and the county office open their bulk approval: the ids, the office's
// browser and the confirmation's form.
func bulkOfThree(t *testing.T, srv *apptest.Server) ([]string, *browser, url.Values) {
	t.Helper()
	phone := srv.Login(apptest.Inspector)
	var ids []string
	for _, start := range []string{"2026-11-27T09:00:00+08:00", "2026-11-27T10:00:00+08:00", "2026-11-27T11:00:00+08:00"} {
		ids = append(ids, pushIn(t, phone, apptest.Xinfu, "coal_boiler", start, completeBoiler...))
	}
	b := loggedIn(t, srv, apptest.CountyOffice)
	confirm := mustGet(t, b, "/console/bulk?"+url.Values{"id": ids}.Encode())
	return ids, b, withSeqs(url.Values{"csrf": {csrf(t, confirm)}, "id": ids}, confirm)
}

// TestBulkApprovalOutlivesTheBrowser: a bulk approval whose browser goes
// away halfway (a second click, a closed tab) approves all it listed,
// logs no error; the same form sent again counts them approved.
func TestBulkApprovalOutlivesTheBrowser(t *testing.T) {
	logs := newLogBuffer()
	srv := apptest.StartLogged(t, logs)
	ids, b, form := bulkOfThree(t, srv)

	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leaveAt(t, "bulk", 2, cancel)
	req, _ := http.NewRequestWithContext(cctx, http.MethodPost, b.base+"/console/bulk", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-Leave", "1")
	if resp, err := b.c.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("the request given up: %v %v", resp, err)
	}
	logs.waitFor(t, `"msg":"request"`, `"method":"POST"`, `"route":"/console/bulk"`)
	for _, id := range ids {
		r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, id)
		if err != nil || r.Text("status") != "approved" {
			t.Errorf("%s after the browser left: %v %v", id, r.Text("status"), err)
		}
	}
	st, again := b.post("/console/bulk", form)
	// Approved, and said to have been before: not a fresh approval
	// (county office probe: Back, then confirm again, read as one).
	if st != http.StatusOK || !strings.Contains(again, "共 3 条，已审核通过 3 条（其中 3 条此前已由您审核通过，本次未重复审核）") ||
		strings.Count(again, "此前已由您审核通过，未重复审核") != 3 || strings.Contains(again, "不是待审核状态") {
		t.Errorf("the form sent again: %d\n%s", st, again)
	}
	if s := logs.String(); strings.Contains(s, `"level":"ERROR"`) || strings.Contains(s, `"status":500`) {
		t.Errorf("the browser leaving logged as a server fault:\n%s", s)
	}
}

// TestPageLeftIsNoServerFault: a page whose browser goes away before it
// is read is not logged as an error nor answered 500.
func TestPageLeftIsNoServerFault(t *testing.T) {
	logs := newLogBuffer()
	srv := apptest.StartLogged(t, logs)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	b := loggedIn(t, srv, apptest.CountyOffice)
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leaveAt(t, "handler", 1, cancel)
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, b.base+"/console/inspections/"+insp, nil)
	req.Header.Set("X-Test-Leave", "1")
	if resp, err := b.c.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("the request given up: %v %v", resp, err)
	}
	line := logs.waitFor(t, `"msg":"request"`, `"route":"/console/inspections/:id"`)
	if s := logs.String(); strings.Contains(s, `"level":"ERROR"`) || strings.Contains(line, `"status":500`) {
		t.Errorf("the browser leaving logged as a server fault:\n%s", s)
	}
}

// TestBulkApprovalStopsWhenTheReviewerMayNot: an administrator disabling
// the reviewer, or giving them other counties, while their bulk approval
// is under way stops it at the next inspection: those after it are listed
// not approved, with the reason, and stay submitted.
func TestBulkApprovalStopsWhenTheReviewerMayNot(t *testing.T) {
	for name, change := range map[string]func(st server.Store) error{
		"disabled": func(st server.Store) error { return st.SetUserDisabled(ctx, apptest.CountyOffice, true) },
		"counties": func(st server.Store) error {
			return st.SetUserCounties(ctx, apptest.CountyOffice, []string{apptest.Dingxiang})
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := apptest.Start(t)
			ids, b, form := bulkOfThree(t, srv)
			n := 0
			t.Cleanup(console.SetPauseAt(func(r *http.Request, at string) {
				if at != "bulk" {
					return
				}
				if n++; n == 2 { // the first approved, the second next
					if err := change(srv.App.DB); err != nil {
						t.Error(err)
					}
				}
			}))
			st, page := b.post("/console/bulk", form)
			if st != http.StatusOK || !strings.Contains(page, "共 3 条，已审核通过 1 条") {
				t.Errorf("the bulk approval: %d\n%s", st, page)
			}
			want := map[string]string{"disabled": "登录已失效", "counties": "无权审核其他区县"}[name]
			if strings.Count(page, want) != 2 {
				t.Errorf("the page does not say twice why the rest were not approved (%q):\n%s", want, page)
			}
			for i, id := range ids {
				r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, id)
				if wantStatus := map[bool]string{true: "approved", false: "submitted"}[i == 0]; err != nil || r.Text("status") != wantStatus {
					t.Errorf("inspection %d: %s %v, want %s", i, r.Text("status"), err, wantStatus)
				}
			}
		})
	}
}

// TestFindingSaysWhoDecided: a finding's row says who last decided on
// its rectification, and when — 核实整改到位 or 退回继续整改 — for every
// reviewer reading the page (reviewer probe: a verified finding said
// neither).
func TestFindingSaysWhoDecided(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	insp, finding := rectifiedFinding(t, srv, county)
	city := loggedIn(t, srv, apptest.CityOffice)
	cityUser, _, err := srv.App.DB.UserByUsername(t.Context(), apptest.CityOffice)
	if err != nil {
		t.Fatal(err)
	}
	row := func(b *browser) string {
		t.Helper()
		return regexp.MustCompile(`(?s)<tr id="finding-` + finding + `">.*?</tr>`).FindString(mustGet(t, b, "/console/inspections/"+insp))
	}
	if r := row(county); strings.Contains(r, `class="muted decided"`) {
		t.Errorf("undecided, the row says a decision: %s", r)
	}
	for _, tc := range []struct{ decision, said string }{{"verify", "核实整改到位"}, {"reopen", "退回继续整改"}} {
		form := findingForm(t, mustGet(t, city, "/console/inspections/"+insp), finding, tc.decision)
		form.Set("comment", "复查")
		if st, page := city.post("/console/findings/"+finding+"/verify", form); st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.decision, st, page)
		}
		f, _ := srv.App.DB.Get(t.Context(), syncproto.EntityFinding, finding)
		at, _ := server.ParseTime(f.Text("verified_at"))
		want := cityUser.DisplayName + " " + at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
		if r := row(county); !strings.Contains(r, want) || !strings.Contains(r, tc.said) {
			t.Errorf("after %s the row lacks %q … %s:\n%s", tc.decision, want, tc.said, r)
		}
	}
}

// TestDecidedBySays: a reviewer deciding on an inspection another has
// decided since their page was shown is told how it stands, who decided
// it and when (county probe: two reviewers on one queue were told only
// that it was 已通过 now); one who decided it themselves is told 您.
func TestDecidedBySays(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	city := loggedIn(t, srv, apptest.CityOffice)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	path := "/console/inspections/" + insp + "/review"
	countyPage, cityPage := mustGet(t, county, "/console/inspections/"+insp), mustGet(t, city, "/console/inspections/"+insp)
	if st, _ := county.post(path, withSeqs(url.Values{"csrf": {csrf(t, countyPage)}, "decision": {"approve"}}, countyPage)); st != http.StatusOK {
		t.Fatalf("approve: %d", st)
	}
	rs, err := srv.App.DB.Find(ctx, "review", "inspection_id", insp)
	if err != nil || len(rs) != 1 {
		t.Fatalf("reviews: %v %v", rs, err)
	}
	at, err := time.Parse(time.RFC3339Nano, rs[0].Text("decided_at"))
	if err != nil {
		t.Fatal(err)
	}
	when := at.In(server.ChinaTime).Format("1月2日 15:04")
	for _, tc := range []struct {
		name, who string
		b         *browser
		page      string
	}{
		{"another reviewer", rs[0].Text("reviewer_name"), city, cityPage},
		{"the same reviewer", "您", county, countyPage},
	} {
		st, page := tc.b.post(path, withSeqs(url.Values{"csrf": {csrf(t, tc.page)}, "decision": {"return"}, "comment": {"请补拍"}}, tc.page))
		if want := "此检查现为已通过，由" + tc.who + "于" + when + "审核"; st != http.StatusConflict || tc.who == "" || !strings.Contains(page, want) {
			t.Errorf("%s returning it after the approval: %d, want 409 saying %q\n%.3000s", tc.name, st, want, page)
		}
	}

	// A rectification verified twice: the second is told by whom and when;
	// one sent back by a reviewer whose page showed it before another
	// verified it is told so too (it read only 有了更新).
	insp, finding := rectifiedFinding(t, srv, county)
	page := mustGet(t, city, "/console/inspections/"+insp)
	if st, _ := county.post("/console/findings/"+finding+"/verify", findingForm(t, mustGet(t, county, "/console/inspections/"+insp), finding, "verify")); st != http.StatusOK {
		t.Fatalf("verify: %d", st)
	}
	f, err := srv.App.DB.Get(ctx, "finding", finding)
	if err != nil {
		t.Fatal(err)
	}
	at, err = time.Parse(time.RFC3339Nano, f.Text("verified_at"))
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := srv.App.DB.UserByUsername(ctx, apptest.CountyOffice)
	if err != nil || u.DisplayName == "" {
		t.Fatalf("the county reviewer: %v %v", u, err)
	}
	by := u.DisplayName + "于" + at.In(server.ChinaTime).Format("1月2日 15:04")
	reopen := findingForm(t, page, finding, "reopen")
	reopen.Set("comment", "西侧仍裸露")
	st, verifyPage := city.post("/console/findings/"+finding+"/verify", findingForm(t, page, finding, "verify"))
	if want := "此问题的整改已核实，无需再次核实（由" + by + "核实）"; st != http.StatusConflict || !strings.Contains(verifyPage, want) {
		t.Errorf("verifying it again: %d, want 409 saying %q\n%.3000s", st, want, verifyPage)
	}
	st, reopenPage := city.post("/console/findings/"+finding+"/verify", reopen)
	if want := "问题记录在您查看后有了更新（现为已核实，由" + by + "核实整改到位）"; st != http.StatusConflict || !strings.Contains(reopenPage, want) {
		t.Errorf("sending it back from a page older than the verification: %d, want 409 saying %q\n%.3000s", st, want, reopenPage)
	}
	// The county undoes its verification; the city, sending it back too
	// from its page, is told who did first and when (verification probe:
	// it read only 现为整改中, the city's page showing 已核实).
	undo := findingForm(t, mustGet(t, county, "/console/inspections/"+insp), finding, "reopen")
	undo.Set("comment", "东侧围挡仍缺")
	if st, _ := county.post("/console/findings/"+finding+"/verify", undo); st != http.StatusOK {
		t.Fatalf("the county's undo: %d", st)
	}
	if f, err = srv.App.DB.Get(ctx, "finding", finding); err != nil {
		t.Fatal(err)
	}
	if at, err = time.Parse(time.RFC3339Nano, f.Text("verified_at")); err != nil {
		t.Fatal(err)
	}
	by = u.DisplayName + "于" + at.In(server.ChinaTime).Format("1月2日 15:04")
	st, page = city.post("/console/findings/"+finding+"/verify", reopen)
	if want := "此问题现为整改中，由" + by + "退回继续整改"; st != http.StatusConflict || !strings.Contains(page, want) {
		t.Errorf("sending it back after the county did: %d, want 409 saying %q\n%.3000s", st, want, page)
	}
}
