package console_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// startDemoMonth starts the server as --demo does: with the month of field
// work, not only the accounts and sites. Its photos are sent but not
// processed: the pages looked at show the records.
func startDemoMonth(t *testing.T) *apptest.Server {
	t.Helper()
	return apptest.Start(t, func(c *app.Config) { c.DemoMonth = true }, apptest.HoldPhotos)
}

var totalRE = regexp.MustCompile(`共 (\d+) 条`)

// TestDemoPages: with --demo, a first look at the console is not empty:
// the review queue, the ledger, the roadside figures and the devices'
// sync health all show the demo's month as soon as the server serves.
func TestDemoPages(t *testing.T) {
	srv := startDemoMonth(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	for _, tc := range []struct {
		path  string
		min   int // the least "共 N 条" the page must state (-1: it states none)
		wants []string
	}{
		{"/console/queue", 20, []string{"忻府区", "代县", "原平市", "保德县", "建筑施工扬尘", "待审核"}},
		{"/console/queue?status=returned", 10, []string{"已退回"}},
		{"/console/queue?status=approved", 100, []string{"已通过"}},
		{"/console/queue?flag=far_from_site", -1, nil}, // photos come after the records
		{"/console/ledger", -1, []string{"整改台账", "现场检查", "推进中", "已验收"}},
		{"/console/vehicles", 900, []string{"代县G108国道过境段检查点", "保德县S249省道检查点", "日常路检"}},
		{"/console/devices", -1, []string{"华为 Mate 40 Pro（张巡查）", "iPhone 13（周原平）", "daixian", "kelan"}},
		{"/console/report", -1, []string{"信息报送"}},
	} {
		st, page := city.get(tc.path)
		if st != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.path, st, page)
		}
		if tc.min >= 0 {
			n := -1
			if m := totalRE.FindStringSubmatch(page); m != nil {
				n, _ = strconv.Atoi(m[1])
			}
			if n < tc.min {
				t.Errorf("%s states %d records, want at least %d", tc.path, n, tc.min)
			}
		}
		for _, w := range tc.wants {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
	}
	// The county office sees its own county's month.
	st, page := loggedIn(t, srv, apptest.CountyOffice).get("/console/queue?status=approved")
	if m := totalRE.FindStringSubmatch(page); st != http.StatusOK || m == nil || m[1] == "0" || strings.Contains(page, "代县") {
		t.Errorf("忻府区 office queue: %d, %v", st, m)
	}
}
