package console_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestRatesOverNothing: a rate over nothing (no 国六 truck checked) shows
// "—", never 0%, on the roadside page and in the report's export, in
// rows and totals alike; a rate over something is still a percentage.
func TestRatesOverNothing(t *testing.T) {
	srv := apptest.Start(t)
	phone, ningwu := srv.Login(apptest.Inspector), srv.Login(apptest.NingwuInsp)
	for _, c := range []struct {
		phone                         *syncproto.Client
		county, checkpoint, stage, at string
		fuel                          string
	}{
		{phone, apptest.Xinfu, "无国六检查站", "cn5", "2024-03-05T10:00:00+08:00", ""},
		{phone, apptest.Xinfu, "有国六检查站", "cn6", "2024-03-06T10:00:00+08:00", ""},
		{ningwu, apptest.Ningwu, "宁武无国六检查站", "cn5", "2024-03-07T10:00:00+08:00", ""},
		{phone, apptest.Xinfu, "无国六检查站", "cn5", "2024-04-05T10:00:00+08:00", ""},           // April: no 国六 at all
		{phone, apptest.Xinfu, "国四检查站", "cn4", "2024-05-05T10:00:00+08:00", ""},            // May: neither 国五 nor 国六
		{phone, apptest.Xinfu, "国四检查站", "cn6", "2024-05-06T10:00:00+08:00", "natural_gas"}, // the plan's gas truck
	} {
		var fuel []any
		if c.fuel != "" {
			fuel = []any{"fuel", c.fuel}
		}
		apptest.PushApplied(t, c.phone, apptest.Mut(c.phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields(append([]any{"county", c.county,
			"checkpoint", c.checkpoint, "plate", "晋H1" + c.at[6:7] + c.at[9:10] + "00", "emission_stage", c.stage, "aftertreatment", "removed",
			"checked_at", c.at}, fuel...)...)))
	}
	city := loggedIn(t, srv, apptest.CityOffice)
	for _, tc := range []struct {
		query, table string
		want         []string // rows, as tableRows reads them, with the totals
	}{
		{"from=2024-03-01&to=2024-03-31", "by-checkpoint", []string{"宁武县|宁武无国六检查站|1|1|0|0|0|—", "忻府区|无国六检查站|1|1|0|0|0|—", "忻府区|有国六检查站|1|0|1|0|1|100.0%"}},
		{"from=2024-03-01&to=2024-03-31", "by-county", []string{"忻府区|2|1|1|0|1|100.0%", "宁武县|1|1|0|0|0|—", "合计|3|2|1|0|1|100.0%"}},
		{"from=2024-03-01&to=2024-03-31", "by-campaign", []string{"无国六检查站、有国六检查站、宁武无国六检查站|3|2|1|0|1|100.0%"}},
		{"from=2024-04-01&to=2024-04-30", "by-county", []string{"忻府区|1|1|0|0|0|—", "合计|1|1|0|0|0|—"}},
		// A truck neither 国五 nor 国六 is counted in its own column, so
		// that each row adds up, and each table has the same 合计.
		{"from=2024-05-01&to=2024-05-31", "by-checkpoint", []string{"忻府区|国四检查站|2|0|1|1|1|100.0%", "合计|2|0|1|1|1|100.0%"}},
		{"from=2024-05-01&to=2024-05-31", "by-campaign", []string{"未列入专项行动|国四检查站|2|0|1|1|1|100.0%", "合计|2|0|1|1|1|100.0%"}},
		// The 国六 gas trucks, apart: March's 国六 truck is no gas truck.
		{"from=2024-03-01&to=2024-03-31", "gas-by-county", []string{"忻府区|0|0|—", "宁武县|0|0|—", "合计|0|0|—"}},
		{"from=2024-05-01&to=2024-05-31", "gas-by-county", []string{"忻府区|1|1|100.0%", "合计|1|1|100.0%"}},
	} {
		st, page := city.get("/console/vehicles?" + tc.query)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", tc.query, st)
		}
		rows := tableRows(t, page, tc.table)
		for _, want := range tc.want {
			if !slices.ContainsFunc(rows, func(r string) bool { return strings.HasSuffix(r, want) }) {
				t.Errorf("%s %s: no row %q in %q", tc.query, tc.table, want, rows)
			}
		}
		if i := strings.Index(page, ">0.0%"); i >= 0 {
			t.Errorf("%s: a rate of 0.0%%: %s", tc.query, page[max(0, i-200):i+10])
		}
	}
	for _, tc := range []struct {
		month string
		want  [][]string // the roadside sheet's rows, the totals last
	}{
		{"2024-03", [][]string{{"宁武县", "宁武无国六检查站", "未列入专项行动", "1", "1", "0", "0", "0", "—", "0", "0", "—"},
			{"忻府区", "无国六检查站", "未列入专项行动", "1", "1", "0", "0", "0", "—", "0", "0", "—"}, {"忻府区", "有国六检查站", "未列入专项行动", "1", "0", "1", "0", "1", "100.0%", "0", "0", "—"},
			{"合计", "", "", "3", "2", "1", "0", "1", "100.0%", "0", "0", "—"}}},
		{"2024-04", [][]string{{"忻府区", "无国六检查站", "未列入专项行动", "1", "1", "0", "0", "0", "—", "0", "0", "—"}, {"合计", "", "", "1", "1", "0", "0", "0", "—", "0", "0", "—"}}},
		// A 国四 truck in its own column, as on the page: the row adds up.
		{"2024-05", [][]string{{"忻府区", "国四检查站", "未列入专项行动", "2", "0", "1", "1", "1", "100.0%", "1", "1", "100.0%"}, {"合计", "", "", "2", "0", "1", "1", "1", "100.0%", "1", "1", "100.0%"}}},
	} {
		body, f := download(t, city, "/console/report.xlsx?month="+tc.month)
		checkSheet(t, body, f, "路检路查统计")
		rows, err := f.GetRows("路检路查统计")
		if err != nil {
			t.Fatal(err)
		}
		got := rows[2:]
		slices.SortStableFunc(got[:len(got)-1], func(a, b []string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
		if !slices.EqualFunc(got, tc.want, slices.Equal[[]string]) {
			t.Errorf("%s: roadside sheet %q, want %q", tc.month, got, tc.want)
		}
	}
	// The report's mean progress of a county without tasks.
	_, page := city.get("/console/report?month=2024-03")
	rows := tableRows(t, page, "report-检查与整改汇总")
	for _, r := range rows[1:] {
		cells := strings.Split(r, "|")
		if cells[0] == "合计" {
			continue // a mean is not summed
		}
		tasks, mean := cells[8], cells[len(cells)-1]
		if (tasks == "0") != (mean == "—") || mean != "—" && !strings.HasSuffix(mean, "%") {
			t.Errorf("report row %q: %s tasks, mean %q", r, tasks, mean)
		}
	}
}
