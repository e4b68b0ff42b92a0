package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

var reCountyRow = regexp.MustCompile(`<tr id="p-[^"]*" class="county-row([^"]*)" data-task="[^"]*" data-county="([^"]*)" data-status="([^"]*)"`)

func TestLedgerFilters(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	_, all := city.get("/console/ledger")
	if n := len(reCountyRow.FindAllString(all, -1)); n < 20 {
		t.Fatalf("unfiltered ledger: %d county rows", n)
	}
	// The acceptance unit is said once, not on every task.
	if n := strings.Count(all, "市省生态环境保护督察整改工作领导小组办公室"); n != 1 {
		t.Errorf("the acceptance unit appears %d times", n)
	}
	// The problem's full text is on the page, folded under its summary.
	if !strings.Contains(all, `<td class="problem" data-label="问题"><details><summary>`) || !strings.Contains(all, `class="problem-text"`) {
		t.Error("ledger problems are not in <details>")
	}
	for _, tc := range []struct {
		query string
		keep  func(class, county, status string) bool
	}{
		{"county=140902", func(_, county, _ string) bool { return county == "140902" }},
		{"status=not_started", func(_, _, status string) bool { return status == "not_started" }},
		{"status=not_started&county=140921", func(_, county, status string) bool { return county == "140921" && status == "not_started" }},
		{"overdue=1", func(class, _, _ string) bool { return strings.Contains(class, "overdue") }},
	} {
		st, page := city.get("/console/ledger?" + tc.query)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", tc.query, st)
		}
		rows := reCountyRow.FindAllStringSubmatch(page, -1)
		for _, r := range rows {
			if !tc.keep(r[1], r[2], r[3]) {
				t.Errorf("%s shows %s", tc.query, r[0])
			}
		}
		if len(rows) == 0 && !strings.Contains(page, "没有符合筛选条件的整改任务") {
			t.Errorf("%s: no rows and no word why", tc.query)
		}
		if !strings.Contains(page, "清除筛选") {
			t.Errorf("%s: no way back to the whole ledger", tc.query)
		}
	}
	// A county office cannot look at another county.
	county := loggedIn(t, srv, apptest.CountyOffice)
	if st, _ := county.get("/console/ledger?county=140921"); st != http.StatusForbidden {
		t.Errorf("county office filtering another county: %d", st)
	}
	if st, _ := city.get("/console/ledger?status=bogus"); st != http.StatusBadRequest {
		t.Errorf("unknown status: %d", st)
	}
}

// TestLedgerSaveKeepsFilter: saving a row's progress from a filtered
// ledger comes back to the ledger filtered the same way, and says so when
// the saved row no longer passes the filter.
func TestLedgerSaveKeepsFilter(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	filtered := func(page, status string) bool {
		return strings.Contains(page, `<option value="`+apptest.Xinfu+`" selected>`) &&
			(status == "" || strings.Contains(page, `<option value="`+status+`" selected>`))
	}
	for _, tc := range []struct {
		query, status, newStatus string
		hidden                   bool
	}{
		{"county=" + apptest.Xinfu, "", "in_progress", false},
		{"county=" + apptest.Xinfu + "&status=in_progress", "in_progress", "done", true},
	} {
		page := mustGet(t, city, "/console/ledger?"+tc.query)
		st, after := city.post("/console/ledger/task-08/"+apptest.Xinfu, ledgerForm(t, page, "task-08", apptest.Xinfu, url.Values{"status": {tc.newStatus}}))
		if st != http.StatusOK || !strings.Contains(after, "已保存整改进展") {
			t.Fatalf("%s: save: %d\n%s", tc.query, st, after)
		}
		if !filtered(after, tc.status) {
			t.Errorf("%s: after saving, the ledger lost its filter", tc.query)
		}
		for _, r := range reCountyRow.FindAllStringSubmatch(after, -1) {
			if r[2] != apptest.Xinfu || tc.status != "" && r[3] != tc.status {
				t.Errorf("%s: after saving, the ledger shows %s", tc.query, r[0])
			}
		}
		if got := strings.Contains(after, "这一行已不在列表中"); got != tc.hidden {
			t.Errorf("%s: saved row hidden by the filter said %v, want %v", tc.query, got, tc.hidden)
		}
		// Said once, by the element the address's fragment (#saved)
		// focuses: in the saved row where it is shown, else above the list.
		if n := strings.Count(after, `id="saved"`); n != 1 || strings.Count(after, "已保存整改进展") != 1 {
			t.Errorf("%s: the confirmation is there %d times", tc.query, n)
		}
		row := ""
		if i := strings.Index(after, `<tr id="p-task-08-`+apptest.Xinfu+`"`); i >= 0 {
			row = after[i : i+strings.Index(after[i:], "</tr>")]
		}
		if got := strings.Contains(row, `id="saved"`); got == tc.hidden {
			t.Errorf("%s: the confirmation in the saved row: %v (row shown: %v)", tc.query, got, row != "")
		}
	}
	// The save sends the browser to the confirmation.
	noFollow := *city.c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page := mustGet(t, city, "/console/ledger")
	req, _ := http.NewRequest(http.MethodPost, city.base+"/console/ledger/task-08/"+apptest.Xinfu,
		strings.NewReader(ledgerForm(t, page, "task-08", apptest.Xinfu, url.Values{"note": {"又一次"}}).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "#saved") {
		t.Errorf("the save answers %d to %q, want 303 to #saved", resp.StatusCode, loc)
	}
	// A filter the form names wrongly is dropped, not answered 400.
	page = mustGet(t, city, "/console/ledger")
	form := ledgerForm(t, page, "task-08", apptest.Xinfu, url.Values{"note": {"说明"}, "list": {"status=bogus&county=" + apptest.Xinfu}})
	if st, after := city.post("/console/ledger/task-08/"+apptest.Xinfu, form); st != http.StatusOK || filtered(after, "") {
		t.Errorf("a bad list filter: %d, filtered %v", st, filtered(after, ""))
	}
}
