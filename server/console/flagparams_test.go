package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestFilterValuesReadOrRefused: a filter's value the console cannot
// read is refused with a page saying which, never read as no filter — a
// yes-or-no filter written true, on or yes (overdue=true listed every
// finding, not the overdue ones), a filter given two different values
// (month=2026-11&month=2026-10 showed November). 1 and 0, and the same
// value twice, are read.
func TestFilterValuesReadOrRefused(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	admin := loggedIn(t, srv, apptest.Admin)
	for _, tc := range []struct {
		b            *browser
		path, saying string
	}{
		{city, "/console/findings?overdue=true", "筛选条件 overdue"},
		{city, "/console/findings?overdue=yes", "筛选条件 overdue"},
		{city, "/console/findings-list.xlsx?overdue=on", "筛选条件 overdue"},
		{city, "/console/ledger?overdue=true", "筛选条件 overdue"},
		{city, "/console/ledger.xlsx?overdue=2", "筛选条件 overdue"},
		{city, "/console/vehicles?g6=on", "筛选条件 g6"},
		{city, "/console/vehicles?removed=true", "筛选条件 removed"},
		{city, "/console/vehicles?voided=yes", "筛选条件 voided"},
		{city, "/console/vehicles?exact=true&plate=H1", "筛选条件 exact"},
		{city, "/console/vehicles.xlsx?nocampaign=是", "筛选条件 nocampaign"},
		{admin, "/console/devices?attention=true", "筛选条件 attention"},
		{city, "/console/report?month=2026-11&month=2026-10", "链接中的参数 month"},
		{city, "/console/queue?county=" + apptest.Xinfu + "&county=" + apptest.Ningwu, "链接中的参数 county"},
		{city, "/console/findings?status=open&status=rectified", "链接中的参数 status"},
	} {
		st, page := tc.b.get(tc.path)
		if st != http.StatusBadRequest || !strings.Contains(page, tc.saying) {
			t.Errorf("%s: %d, want 400 naming %s\n%.3000s", tc.path, st, tc.saying, page)
		}
	}
	// A form, too: decision=approve&decision=return approved (verification
	// probe).
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	county := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, county, "/console/inspections/"+insp)
	form := withSeqs(url.Values{"csrf": {csrf(t, page)}, "decision": {"approve", "return"}, "comment": {"请补充照片"}}, page)
	if st, body := county.post("/console/inspections/"+insp+"/review", form); st != http.StatusBadRequest || !strings.Contains(body, "提交的表单中 decision 出现了多次") {
		t.Errorf("a review form with two decisions: %d, want 400\n%.3000s", st, body)
	}
	if r, err := srv.App.DB.Get(ctx, syncproto.EntityInspection, insp); err != nil || r.Text("status") != "submitted" {
		t.Errorf("after a review form with two decisions the inspection is %q (%v), want still submitted", r.Text("status"), err)
	}
	form.Set("decision", "return")
	if st, body := county.post("/console/inspections/"+insp+"/review", form); st != http.StatusOK {
		t.Errorf("the review with one decision: %d\n%.2000s", st, body)
	}
	for _, path := range []string{"/console/findings?overdue=1", "/console/findings?overdue=0", "/console/findings?overdue=", "/console/ledger?overdue=1",
		"/console/vehicles?g6=1&removed=0&voided=&exact=1&plate=H1", "/console/report?month=2026-11&month=2026-11",
		"/console/queue?county=" + apptest.Xinfu + "&county=" + apptest.Xinfu} {
		if st, page := city.get(path); st != http.StatusOK {
			t.Errorf("%s: %d, want 200\n%.2000s", path, st, page)
		}
	}
	if st, _ := admin.get("/console/devices?attention=1"); st != http.StatusOK {
		t.Errorf("devices?attention=1: %d", st)
	}
}
