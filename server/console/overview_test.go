package console_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
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
	if strings.Count(page, "<script") != strings.Count(page, `<script src="/console/`) || strings.Contains(page, "style=") {
		t.Error("overview has an inline script or an inline style (the CSP forbids them)")
	}
	if !regexp.MustCompile(`<tfoot><tr><th>合计</th><th>\d+</th><th>\d+</th><th>\d+</th><th>[1-9]\d*</th>`).MatchString(page) {
		t.Errorf("the city's overview counts no inspection this month")
	}
	// Every county, those without an inspection this month too (a city
	// comparing counties looks for them first; reviewer probe).
	cityTable := regexp.MustCompile(`(?s)<table class="list" id="month-by-county">.*?</table>`).FindString(page)
	if n, none := strings.Count(cityTable, "<tr><td>")+strings.Count(cityTable, `<tr class="none"><td>`), strings.Count(cityTable, `<tr class="none"><td>`); n != 16 || none == 0 {
		t.Errorf("the city's table has %d county rows (%d without an inspection), want all 16 and some without", n, none)
	}
	if !strings.Contains(page, "%</a><br>") {
		t.Errorf("the city's overview shows no weekly removal rate")
	}
	// The chart's key, and its bars, in the table's order of statuses
	// (month-end probe: 已通过 first in the chart, last in the table).
	key := regexp.MustCompile(`(?s)<figcaption>(.*?)</figcaption>`).FindStringSubmatch(page)
	if key == nil || !regexp.MustCompile(`待审核.*已退回.*已通过`).MatchString(key[1]) ||
		!strings.Contains(cityTable, "<th>待审核</th><th>已退回</th><th>已通过</th>") {
		t.Errorf("the chart's key %q is not in the table's order", key)
	}
	// And each county's bar: 待审核, 已退回, 已通过 from the left.
	chart := regexp.MustCompile(`(?s)<svg class="chart".*?</svg>`).FindString(page)
	rank := map[string]int{"#e0a030": 0, "#c62828": 1, "#2e7d4f": 2}
	for _, bar := range regexp.MustCompile(`(?:<rect [^>]*></rect>)+`).FindAllString(chart, -1) {
		last := -1
		for _, m := range regexp.MustCompile(`fill="(#[0-9a-f]+)"`).FindAllStringSubmatch(bar, -1) {
			if r, ok := rank[m[1]]; !ok || r < last {
				t.Errorf("a county's bar is not stacked in the table's order: %s", bar)
			} else {
				last = r
			}
		}
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

// TestOverviewRateRoundsLikeRoadside: the overview's weekly removal rate
// is rounded as the roadside page rounds it (1 of 16 is 6.3%, not the
// 6.2% of rounding half to even).
func TestOverviewRateRoundsLikeRoadside(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	now := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
	var ms []syncproto.Mutation
	for i := range 16 {
		after := "present"
		if i == 0 {
			after = "removed"
		}
		ms = append(ms, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "舍入检查站", "plate", fmt.Sprintf("晋H%05d", 40000+i), "emission_stage", "cn6", "fuel", "natural_gas",
			"aftertreatment", after, "checked_at", now)))
	}
	apptest.Push(t, phone, ms...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	if _, page := b.get("/console/overview"); !strings.Contains(page, "6.3%") || strings.Contains(page, "6.2%") {
		t.Errorf("overview does not show 1 of 16 as 6.3%%:\n%s", regexp.MustCompile(`(?s)<table[^>]*removal-by-week.*?</table>`).FindString(page))
	}
	if _, page := b.get("/console/vehicles"); !strings.Contains(page, "6.3") {
		t.Error("the roadside page does not show 1 of 16 as 6.3")
	}
}

// TestOverviewFlaggedLinksToThem: the overview's count of flagged
// inspections waiting links to exactly those: the queue filtered to any
// evidence flag (任一标记), which counts as many.
func TestOverviewFlaggedLinksToThem(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	flagged, clean := submit(t, phone, apptest.Xinfu), submit(t, phone, apptest.Xinfu)
	addPhoto(t, srv, flagged, apptest.Xinfu) // raises no_gps and far_from_site
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/overview")
	m := regexp.MustCompile(`<a href="([^"]+)"><b id="kpi-flagged">(\d+)</b>`).FindStringSubmatch(page)
	if m == nil || m[2] != "1" {
		t.Fatalf("the flagged count: %v\n%s", m, page)
	}
	st, queue := b.get(html.UnescapeString(m[1]))
	if st != http.StatusOK || !strings.Contains(queue, `data-id="`+flagged+`"`) || strings.Contains(queue, `data-id="`+clean+`"`) {
		t.Errorf("the flagged count links to %s: %d, want the flagged inspection alone\n%s", m[1], st, queue)
	}
	if !strings.Contains(queue, `<option value="any" selected>任一标记</option>`) {
		t.Error("the queue does not show its filter as 任一标记")
	}
	// The filter's export says so.
	if st, body := b.get("/console/queue.xlsx?flag=any&status=submitted"); st != http.StatusOK || !strings.HasPrefix(body, "PK") {
		t.Errorf("the queue's export with any flag: %d", st)
	}
}

// TestOverviewOfAnotherMonth: the inspections chart can be looked at for
// a past month (?month=, with links to the month before and after): an
// inspection of last month is counted there and not in this month's; a
// month not begun and a malformed one are refused with the reason.
func TestOverviewOfAnotherMonth(t *testing.T) {
	srv := apptest.Start(t, apptest.MidMonth)
	phone := srv.Login(apptest.Inspector)
	now := srv.App.Cfg.Now().In(time.FixedZone("CST", 8*3600))
	lastMonth := time.Date(now.Year(), now.Month()-1, 10, 9, 0, 0, 0, now.Location())
	insp := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft", "started_at", lastMonth.Format(time.RFC3339))))
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	b := loggedIn(t, srv, apptest.CountyOffice)
	total := regexp.MustCompile(`<tfoot><tr><th>合计</th><th>(\d+)</th>`)
	_, page := b.get("/console/overview")
	if m := total.FindStringSubmatch(page); m != nil && m[1] != "0" {
		t.Errorf("this month counts %s submitted, want last month's inspection left out", m[1])
	}
	prev := lastMonth.Format("2006-01")
	if !strings.Contains(page, `href="/console/overview?month=`+prev+`"`) {
		t.Errorf("this month's overview has no link to %s", prev)
	}
	st, page := b.get("/console/overview?month=" + prev)
	if m := total.FindStringSubmatch(page); st != http.StatusOK || m == nil || m[1] != "1" {
		t.Errorf("overview of %s: %d, submitted %v, want 1", prev, st, m)
	}
	if !strings.Contains(page, lastMonth.Format("2006年1月")+"现场检查") || !strings.Contains(page, `id="next-month"`) {
		t.Errorf("overview of %s does not name its month or link to the next", prev)
	}
	// The roadside chart's weeks end with the month shown: a check three
	// months back is in that month's chart and not in this month's.
	back := time.Date(now.Year(), now.Month()-3, 12, 10, 0, 0, 0, now.Location())
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "往月检查站", "plate", "晋H54321", "emission_stage", "cn6", "fuel", "natural_gas",
		"aftertreatment", "removed", "checked_at", back.Format(time.RFC3339))))
	// A check the day after that month, in its last week unless the
	// month ended on a Sunday, is not one of its figures; one dated
	// tomorrow (a phone's clock ahead) is not yet one of today's.
	afterBack := time.Date(back.Year(), back.Month()+1, 1, 10, 0, 0, 0, now.Location())
	tomorrow := now.AddDate(0, 0, 1)
	for point, at := range map[string]time.Time{"次月检查站": afterBack, "明日检查站": tomorrow} {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", point, "plate", "晋H54322", "emission_stage", "cn6", "fuel", "natural_gas",
			"aftertreatment", "removed", "checked_at", at.Format(time.RFC3339))))
	}
	weeks := regexp.MustCompile(`(?s)<table[^>]*removal-by-week.*?</table>`)
	if _, page := b.get("/console/overview"); strings.Contains(weeks.FindString(page), "明日检查站") {
		t.Error("this month's roadside chart counts a check dated tomorrow")
	}
	if _, page := b.get("/console/overview?month=" + back.Format("2006-01")); strings.Contains(weeks.FindString(page), "次月检查站") {
		t.Errorf("the roadside chart of %s counts a check of the month after it", back.Format("2006-01"))
	}
	if _, page := b.get("/console/overview"); strings.Contains(weeks.FindString(page), "往月检查站") {
		t.Error("this month's roadside chart shows a check three months back")
	}
	_, page = b.get("/console/overview?month=" + back.Format("2006-01"))
	if table := weeks.FindString(page); !strings.Contains(table, "往月检查站") || !strings.Contains(table, "100.0%") {
		t.Errorf("the roadside chart of %s lacks its check (1 of 1 removed):\n%s", back.Format("2006-01"), table)
	}
	// Its last week, cut at the month's last day unless that is a
	// Sunday, says where it stops.
	lastDay := time.Date(back.Year(), back.Month()+1, 0, 0, 0, 0, 0, now.Location())
	monday := lastDay.AddDate(0, 0, -((int(lastDay.Weekday()) + 6) % 7))
	cut := map[int]string{0: monday.Format("01-02") + "（仅 1 天）", 6: monday.Format("01-02") + "起"}[int(lastDay.Sub(monday).Hours()/24)]
	if cut == "" {
		cut = monday.Format("01-02") + "至" + lastDay.Format("01-02")
	}
	if table := weeks.FindString(page); !strings.Contains(table, ">"+cut+"<") {
		t.Errorf("the roadside chart of %s does not head its last week %q:\n%s", back.Format("2006-01"), cut, table)
	}
	if !strings.Contains(page, `id="kpi-today"`) || !strings.Contains(page, "截至"+back.Format("2006年1月")) {
		t.Error("a past month's overview does not say its figures above the charts are today's and its weeks end with the month")
	}
	if !strings.Contains(page, "<h1>概览 · "+back.Format("2006年1月")+"</h1>") {
		t.Errorf("a past month's overview is not headed with its month")
	}
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, now.Location()).Format("2006-01")
	example := "如 " + now.Format("2006-01")
	for q, want := range map[string]string{next: "还没有开始", "2026-13": "无法识别：请写作年-月，" + example, "bogus": "无法识别",
		"0000-01": "太早：可查 2000 年以来的月份，" + example, "1999-12": "太早"} {
		if st, page := b.get("/console/overview?month=" + q); st != http.StatusBadRequest || !strings.Contains(page, want) {
			t.Errorf("overview?month=%s: %d, want 400 saying %q", q, st, want)
		}
	}
}

// TestOverviewWeekLinksToItsChecks: a weekly removal rate on the overview
// links to the roadside records it counts: the checkpoint's 国六 checks of
// that week up to today, so that the list adds up to the figure (a check
// dated tomorrow, a phone's clock ahead, is in neither).
func TestOverviewWeekLinksToItsChecks(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	china := time.FixedZone("CST", 8*3600)
	now := time.Now().In(china)
	check := func(plate, stage, after string, at time.Time) syncproto.Mutation {
		return apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "链接检查站", "plate", plate, "emission_stage", stage, "aftertreatment", after, "checked_at", at.Format(time.RFC3339)))
	}
	ms := []syncproto.Mutation{check("晋H50001", "cn6", "removed", now), check("晋H50002", "cn6", "present", now),
		check("晋H50003", "cn5", "present", now)}
	// Tomorrow, within the day ahead a phone's time may be (before 04:00
	// China time now+20h is still today, and that case is left out).
	future := now.Add(20 * time.Hour)
	tomorrow := future.Format(time.DateOnly) != now.Format(time.DateOnly)
	if tomorrow {
		ms = append(ms, check("晋H50004", "cn6", "removed", future))
	}
	apptest.PushApplied(t, phone, ms...)
	b := loggedIn(t, srv, apptest.CountyOffice)
	_, page := b.get("/console/overview")
	row := regexp.MustCompile(`(?s)<tr><td[^>]*>[^<]*链接检查站</td>.*?</tr>`).FindString(page)
	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(row, -1)
	if len(links) != 1 || !strings.Contains(row, "1/2") {
		t.Fatalf("the checkpoint's row: want one week with 1/2 and its link:\n%s", row)
	}
	_, list := b.get(html.UnescapeString(links[0][1]))
	// The rate is of 国六 trucks (1 removed of 2): the link lists those
	// two, not the 国五 truck checked there that week, which the figure
	// does not count.
	for _, want := range []string{"晋H50001", "晋H50002", "共 2 条"} {
		if !strings.Contains(list, want) {
			t.Errorf("the week's link lists no %q", want)
		}
	}
	if strings.Contains(list, "晋H50003") {
		t.Error("the week's link lists the 国五 truck, which its rate does not count")
	}
	if tomorrow && strings.Contains(list, "晋H50004") {
		t.Error("the week's link lists the check dated tomorrow, which the figure does not count")
	}
}
