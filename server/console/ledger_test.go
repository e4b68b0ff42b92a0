package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// squash drops the whitespace between tags so table rows can be matched.
func squash(s string) string { return regexp.MustCompile(`>\s+<`).ReplaceAllString(s, "><") }

func TestVehiclesPage(t *testing.T) {
	srv := apptest.Start(t)
	for _, user := range []string{apptest.CountyOffice, apptest.CityOffice} {
		st, page := loggedIn(t, srv, user).get("/console/vehicles")
		page = squash(page)
		if st != http.StatusOK {
			t.Fatalf("%s: vehicles: %d\n%s", user, st, page)
		}
		for _, want := range []string{
			"<td>忻府区</td><td>豆罗检查站</td><td>129</td><td>50</td><td>11</td><td>22.0%</td>",
			"<td>忻府区</td><td>秦城检查站</td><td>230</td><td>131</td><td>11</td><td>8.4%</td>",
			"<td>忻府区</td><td>七日专项行动</td><td>549</td><td>311</td><td>41</td><td>13.2%</td>",
			"<td>忻府区</td><td>908</td><td>492</td><td>63</td><td>12.8%</td>",
			`href="/console/vehicles"`, `href="/console/ledger"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: vehicles page lacks %q\n%s", user, want, page)
			}
		}
	}
}

var overdueRE = regexp.MustCompile(`逾期未完成 <b>(\d+)</b>`)

func overdueCount(t *testing.T, page string) string {
	t.Helper()
	m := overdueRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no overdue count\n%s", page)
	}
	return m[1]
}

func TestLedger(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")

	b := loggedIn(t, srv, apptest.CountyOffice)
	st, page := b.get("/console/ledger")
	if st != http.StatusOK {
		t.Fatalf("ledger: %d\n%s", st, page)
	}
	// The 11 tasks with a deadline are all past it and none is done.
	if n := overdueCount(t, page); n != "11" {
		t.Errorf("overdue count %s, want 11", n)
	}
	for _, want := range []string{`id="task-task-04" data-id="task-04" class="overdue"`, "2022-07-31 <strong class=\"overdue-tag\">已逾期</strong>",
		"市生态环境局", "未开始"} {
		if !strings.Contains(page, want) {
			t.Errorf("ledger lacks %q", want)
		}
	}
	if strings.Contains(page, `data-id="task-01" class="overdue"`) {
		t.Error("a long-term task without a deadline is marked overdue")
	}
	token := csrf(t, page)

	// CSRF: a POST without the session's token changes nothing.
	for name, form := range map[string]url.Values{
		"no token":    {"status": {"done"}},
		"wrong token": {"status": {"done"}, "csrf": {"not-the-token"}},
	} {
		if st, page := b.post("/console/ledger/task-04", form); st != http.StatusForbidden || !strings.Contains(page, "CSRF") {
			t.Errorf("%s: %d", name, st)
		}
	}
	if rec, _ := srv.App.DB.Get(ctx, syncproto.EntityTask, "task-04"); rec.Text("status") != "" {
		t.Errorf("a refused POST set the status to %q", rec.Text("status"))
	}
	// A county office may not update a task of other counties only.
	if st, _ := b.post("/console/ledger/task-02", url.Values{"csrf": {token}, "status": {"done"}}); st != http.StatusForbidden {
		t.Errorf("county office updating another county's task: %d", st)
	}
	if st, _ := b.post("/console/ledger/task-04", url.Values{"csrf": {token}, "status": {"finished"}}); st != http.StatusBadRequest {
		t.Errorf("unknown status: %d", st)
	}

	// Progress on a task of its county is shown and no longer overdue.
	note := "已完成豆罗、秦城检查站整治，待市局验收"
	st, page = b.post("/console/ledger/task-04", url.Values{"csrf": {token}, "status": {"done"}, "progress": {note}, "progress_pct": {"90"}})
	if st != http.StatusOK || !strings.Contains(page, note) || !strings.Contains(page, "90%") {
		t.Fatalf("update: %d\n%s", st, page)
	}
	if n := overdueCount(t, page); n != "10" {
		t.Errorf("overdue count after done: %s, want 10", n)
	}
	if strings.Contains(page, `data-id="task-04" class="overdue"`) {
		t.Error("a done task is still marked overdue")
	}
	// A task with no county list is open to a county office too.
	if st, _ := b.post("/console/ledger/task-07", url.Values{"csrf": {token}, "status": {"in_progress"}, "progress_pct": {"30"}}); st != http.StatusOK {
		t.Errorf("county office updating a city-wide task: %d", st)
	}
	// The city office may update any task.
	city := loggedIn(t, srv, apptest.CityOffice)
	_, cp := city.get("/console/ledger")
	if st, _ := city.post("/console/ledger/task-02", url.Values{"csrf": {csrf(t, cp)}, "status": {"accepted"}}); st != http.StatusOK {
		t.Errorf("city office update: %d", st)
	}

	// The phone's next pull carries the progress.
	changes, _ := pullAll(t, phone, cursor)
	var got syncproto.Change
	for _, ch := range changes {
		if ch.Entity == syncproto.EntityTask && ch.ID == "task-04" {
			got = ch
		}
	}
	var status, progress string
	var pct int
	_ = json.Unmarshal(got.Fields["status"], &status)
	_ = json.Unmarshal(got.Fields["progress"], &progress)
	_ = json.Unmarshal(got.Fields["progress_pct"], &pct)
	if status != "done" || progress != note || pct != 90 {
		t.Errorf("phone pulled status %q progress %q pct %d", status, progress, pct)
	}
}
