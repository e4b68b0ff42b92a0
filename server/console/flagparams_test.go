package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/apptest"
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
		{city, "/console/findings?overdue=true", "overdue"},
		{city, "/console/findings?overdue=yes", "overdue"},
		{city, "/console/findings-list.xlsx?overdue=on", "overdue"},
		{city, "/console/ledger?overdue=true", "overdue"},
		{city, "/console/ledger.xlsx?overdue=2", "overdue"},
		{city, "/console/vehicles?g6=on", "g6"},
		{city, "/console/vehicles?removed=true", "removed"},
		{city, "/console/vehicles?voided=yes", "voided"},
		{city, "/console/vehicles?exact=true&plate=H1", "exact"},
		{city, "/console/vehicles.xlsx?nocampaign=是", "nocampaign"},
		{admin, "/console/devices?attention=true", "attention"},
		{city, "/console/report?month=2026-11&month=2026-10", "month"},
		{city, "/console/queue?county=" + apptest.Xinfu + "&county=" + apptest.Ningwu, "county"},
		{city, "/console/findings?status=open&status=rectified", "status"},
	} {
		st, page := tc.b.get(tc.path)
		if st != http.StatusBadRequest || !strings.Contains(page, "筛选条件 "+tc.saying) {
			t.Errorf("%s: %d, want 400 naming %s\n%.3000s", tc.path, st, tc.saying, page)
		}
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
