package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// TestOverview: the first page shows the month in the viewer's counties
// — a chart with its table of inspections by county and status, the
// flagged, overdue and stale counts, the weekly removal rate per
// checkpoint — with no script, and 忻府区's office sees only 忻府区.
func TestOverview(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 5 }, apptest.MidMonth, apptest.HoldPhotos)
	city := loggedIn(t, srv, apptest.CityOffice)
	st, page := city.get("/console/overview")
	if st != http.StatusOK {
		t.Fatalf("overview: %d\n%s", st, page)
	}
	for _, w := range []string{"概览", "本月现场检查", `<svg class="chart"`, `id="month-by-county"`, `id="removal-by-week"`,
		`id="kpi-flagged"`, `id="kpi-findings"`, `id="kpi-tasks"`, `id="kpi-devices"`, "超过 3 天未同步", "拆除率"} {
		if !strings.Contains(page, w) {
			t.Errorf("overview lacks %q", w)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "style=") {
		t.Error("overview has a script or an inline style (the CSP forbids them)")
	}
	if !regexp.MustCompile(`<tfoot><tr><th>合计</th><th>\d+</th><th>\d+</th><th>\d+</th><th>[1-9]\d*</th>`).MatchString(page) {
		t.Errorf("the city's overview counts no inspection this month")
	}
	if !strings.Contains(page, "%<br>") {
		t.Errorf("the city's overview shows no weekly removal rate")
	}
	// The nav names it first.
	if i, j := strings.Index(page, `href="/console/overview"`), strings.Index(page, `href="/console/queue"`); i < 0 || i > j {
		t.Error("概览 is not the first nav item")
	}
	// County office: its own county only.
	_, page = loggedIn(t, srv, apptest.CountyOffice).get("/console/overview")
	table := regexp.MustCompile(`(?s)<table class="list" id="month-by-county">.*?</table>`).FindString(page)
	if !strings.Contains(table, "忻府区") {
		t.Errorf("忻府区's overview lacks its county:\n%s", table)
	}
	for _, other := range []string{"定襄县", "代县", "原平市", "保德县"} {
		if strings.Contains(page, other) {
			t.Errorf("忻府区's overview shows %s", other)
		}
	}
}
