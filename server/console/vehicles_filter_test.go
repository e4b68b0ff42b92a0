package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestVehiclesFilterByPart: the roadside records' 检查站 and 号牌 filters
// match a part of the checkpoint, or of the plate or the VIN (an office
// may have only a truck's VIN, its plates swapped), however it is typed (width,
// case, spaces around or inside, the dot painted on plates), in the list, its pages and
// its export; a figure's link still lists just the checks it counts.
func TestVehiclesFilterByPart(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	checks := map[string]struct{ checkpoint, plate, vin string }{
		"g108":   {"代县G9108国道测试段检查点", "晋Z20229", "LFV2A21K583123456"},
		"qc":     {"甲乙城检查站", "晋Z83077", "LZZ1BLSE9KD120777"},
		"qcEast": {"甲乙城检查站东", "晋Z8307挂", "LZZ1BLSE9KD120888"},
		"other":  {"丙丁 检查站", "晋Z12345", "LGAX5D6595KD12345"},
	}
	ids := map[string]string{}
	for name, c := range checks {
		ids[name] = uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, ids[name], apptest.Fields("county", apptest.Xinfu,
			"checkpoint", c.checkpoint, "plate", c.plate, "vin", c.vin, "emission_stage", "cn6", "aftertreatment", "present",
			"checked_at", "2026-11-20T10:00:00+08:00")))
	}
	city := loggedIn(t, srv, apptest.CityOffice)
	listed := func(page string) []string {
		var got []string
		for name, id := range ids {
			if strings.Contains(page, `data-id="`+id+`"`) {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		return got
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"checkpoint=G9108", []string{"g108"}},
		{"checkpoint=" + url.QueryEscape("ｇ９１０８"), []string{"g108"}},
		{"checkpoint=" + url.QueryEscape("甲乙城"), []string{"qc", "qcEast"}},
		{"checkpoint=" + url.QueryEscape(" 甲乙城检查站\u3000"), []string{"qc", "qcEast"}},
		{"checkpoint=" + url.QueryEscape("测试段"), []string{"g108"}},
		// Spaces inside, typed or stored, do not matter either.
		{"checkpoint=" + url.QueryEscape("G 9108"), []string{"g108"}},
		{"checkpoint=" + url.QueryEscape("g9108国道 测试段"), []string{"g108"}},
		{"checkpoint=" + url.QueryEscape("丙丁检查站"), []string{"other"}},
		{"plate=Z20229", []string{"g108"}},
		{"plate=" + url.QueryEscape("晋z 2022"), []string{"g108"}},
		{"plate=" + url.QueryEscape("ｚ８３·０７"), []string{"qc", "qcEast"}},
		{"plate=z8307&checkpoint=" + url.QueryEscape("东"), []string{"qcEast"}},
		{"plate=" + url.QueryEscape("%"), nil},
		// The VIN, whole or a part, typed in groups or in lower case.
		{"plate=" + url.QueryEscape("lfv2a21k 5831 23456"), []string{"g108"}},
		{"plate=LZZ1BLSE9KD120", []string{"qc", "qcEast"}},
		{"plate=" + url.QueryEscape("KD12345"), []string{"other"}},
		// Pasted with what prints nothing (a zero-width space, a
		// direction mark, a BOM), as the header's search sees through.
		{"plate=" + url.QueryEscape("晋Z\u200b20229"), []string{"g108"}},
		{"plate=" + url.QueryEscape("\ufeff晋Z83077\u200e") + "&exact=1", []string{"qc"}},
		{"checkpoint=" + url.QueryEscape("甲乙\u200d城检查站\u2060") + "&exact=1", []string{"qc"}},
		{"checkpoint=" + url.QueryEscape("G9\u200b108"), []string{"g108"}},
		// A link from a figure or a truck's page: the whole value.
		{"checkpoint=" + url.QueryEscape("甲乙城检查站") + "&exact=1", []string{"qc"}},
		{"plate=" + url.QueryEscape("晋Z83077") + "&exact=1", []string{"qc"}},
	} {
		st, page := city.get("/console/vehicles?" + tc.query)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", tc.query, st)
		}
		if got := listed(page); !slices.Equal(got, tc.want) || !strings.Contains(page, "共 "+strconv.Itoa(len(tc.want))+" 条") {
			t.Errorf("%s lists %v, want %v", tc.query, got, tc.want)
		}
		// A page past the last links back to the last with the filter.
		_, past := city.get("/console/vehicles?page=2&" + tc.query)
		prev := regexp.MustCompile(`<a href="([^"]*)">上一页</a>`).FindStringSubmatch(past)
		if prev == nil {
			t.Fatalf("%s: page 2 has no link back", tc.query)
		}
		if _, back := city.get(html.UnescapeString(prev[1])); !slices.Equal(listed(back), tc.want) {
			t.Errorf("%s: the pager's link lists %v, want %v", tc.query, listed(back), tc.want)
		}
		body, f := download(t, city, "/console/vehicles.xlsx?"+tc.query)
		if rows := checkSheet(t, body, f, "路检记录"); len(rows)-1 != len(tc.want) {
			t.Errorf("%s: export has %d rows, want %d", tc.query, len(rows)-1, len(tc.want))
		}
	}
	// The checkpoint's row counts one check, and its link lists that one.
	_, page := city.get("/console/vehicles")
	link := regexp.MustCompile(`<a href="(/console/vehicles\?[^"]*)">甲乙城检查站</a>`).FindStringSubmatch(page)
	if link == nil {
		t.Fatal("no link from 甲乙城检查站's row")
	}
	if _, list := city.get(html.UnescapeString(link[1])); !slices.Equal(listed(list), []string{"qc"}) {
		t.Errorf("甲乙城检查站's link lists %v, want only its own check", listed(list))
	}
	if !strings.Contains(page, `placeholder="可填部分名称"`) {
		t.Error("the checkpoint input does not say a part will do")
	}
}

// TestVehiclesPeriodNote: the note saying the period and the county the
// statistics count reads as Chinese text with dates in it, a space either
// side of each date; a period without an end says from when, not 至今
// (roadside probe: a check dated tomorrow, which a phone's clock ahead
// may send, was counted under 至今).
func TestVehiclesPeriodNote(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	note := regexp.MustCompile(`<p class="period-note" id="stats-scope">([^<]*)</p>`)
	for _, tc := range []struct{ query, want string }{
		{"from=2022-06-01&to=2022-06-30", "以下统计与记录为 2022-06-01 至 2022-06-30 的检查（按北京时间的检查日期）。"},
		{"from=2022-06-01", "以下统计与记录为 2022-06-01 起的检查（按北京时间的检查日期）。"},
		{"to=2022-06-30", "以下统计与记录为截至 2022-06-30 的检查（按北京时间的检查日期）。"},
		{"county=" + apptest.Dingxiang + "&from=2022-06-01", "以下统计与记录为定襄县 2022-06-01 起的检查（按北京时间的检查日期）。"},
		{"county=" + apptest.Dingxiang, "以下统计与记录为定襄县的检查。"},
	} {
		_, page := city.get("/console/vehicles?" + tc.query)
		if m := note.FindStringSubmatch(page); m == nil || html.UnescapeString(m[1]) != tc.want {
			t.Errorf("%s: note %q, want %q", tc.query, m, tc.want)
		}
	}
}

// TestVehiclesCountyAndAction: the statistics count the county chosen
// (a city office's select; the tables ignored it, while the list
// followed it — roadside probe), the list narrows by 处理 in the page and
// its export, an unknown 处理 is refused, and a long note is cut short in
// the list with the whole of it in its title.
func TestVehiclesCountyAndAction(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.CityOffice)
	long := strings.Repeat("尾气管改装", 60)
	for _, c := range []struct{ plate, stage, after, action, note string }{
		{"晋H61001", "cn6", "removed", "fine", ""},
		{"晋H61002", "cn6", "present", "release", ""},
		{"晋H61003", "cn5", "present", "repair", long},
	} {
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Dingxiang,
			"checkpoint", "定襄测试检查站", "plate", c.plate, "emission_stage", c.stage, "aftertreatment", c.after, "action", c.action,
			"note", c.note, "checked_at", "2026-11-20T10:00:00+08:00")))
	}
	// One in another county, that day: not 定襄县's.
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "豆罗检查站", "plate", "晋H61004", "emission_stage", "cn6", "aftertreatment", "removed", "checked_at", "2026-11-20T11:00:00+08:00")))
	city := loggedIn(t, srv, apptest.CityOffice)
	day := "&from=2026-11-20&to=2026-11-20" // the demo's checks are of other days
	st, page := city.get("/console/vehicles?county=" + apptest.Dingxiang + day)
	if st != http.StatusOK {
		t.Fatalf("county=定襄县: %d", st)
	}
	if rows := tableRows(t, page, "by-county"); !slices.Contains(rows, "定襄县|3|1|2|0|1|50.0%") || len(rows) != 3 {
		t.Errorf("the statistics of 定襄县: %v, want its row alone (and the heads and the total)", rows)
	}
	if !strings.Contains(page, `<option value="`+apptest.Dingxiang+`" selected>定襄县</option>`) {
		t.Error("the period form has no county select with 定襄县 chosen")
	}
	// The whole note is in the row's title, the cell holds its start.
	if !strings.Contains(page, `title="`+long+`"`) || strings.Contains(page, ">"+long+"<") {
		t.Error("the list shows the long note whole, or without it in the title")
	}
	st, page = city.get("/console/vehicles?county=" + apptest.Dingxiang + day + "&action=fine")
	if st != http.StatusOK || !strings.Contains(page, "共 1 条") || !strings.Contains(page, "晋H61001") || strings.Contains(page, "晋H61002") {
		t.Errorf("action=fine: %d, want the one check fined", st)
	}
	if rows := tableRows(t, page, "by-county"); !slices.Contains(rows, "定襄县|3|1|2|0|1|50.0%") {
		t.Errorf("the statistics under a 处理 filter: %v, want the county's all", rows)
	}
	body, f := download(t, city, "/console/vehicles.xlsx?county="+apptest.Dingxiang+day+"&action=repair")
	if rows := checkSheet(t, body, f, "路检记录"); len(rows) != 2 || !strings.Contains(strings.Join(rows[1], "|"), "晋H61003") {
		t.Errorf("export of action=repair: %v", rows)
	}
	if st, _ := city.get("/console/vehicles?action=confiscate"); st != http.StatusBadRequest {
		t.Errorf("an unknown 处理: %d, want 400", st)
	}
	// A county office sees one county: no select.
	_, page = loggedIn(t, srv, apptest.CountyOffice).get("/console/vehicles")
	if strings.Contains(page, `<select name="county">`) {
		t.Error("a county office's page offers a county select")
	}
}
