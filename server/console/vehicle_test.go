package console_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
	"github.com/xuri/excelize/v2"
)

// TestVehicleCheckPage: a roadside check has a page of its own, reached
// from the records list and from search: every field the inspector
// recorded, who recorded it, its photos, and the truck's other checks in
// the viewer's counties (found by the plate however it was typed); the
// list filters by plate; another county's office gets 403, an unknown id
// 404.
func TestVehicleCheckPage(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	vc, again, photo := uuid.NewString(), uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, phone,
		apptest.Mut(phone, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "忻州北收费站", "campaign", "冬季柴油货车专项", "plate", "晋H30272", "plate_color", "黄", "vin", "LZZ1BLSE9KD123456",
			"emission_stage", "cn6", "fuel", "diesel", "aftertreatment", "removed", "obd_mil", true, "obd_codes", "P20EE",
			"urea_level_pct", 12.5, "ringelmann", 2, "opacity", 1.35, "action", "fine", "note", "DPF 空壳", "lon", 112.73, "lat", 38.42,
			"checked_at", "2026-11-28T10:00:00+08:00")),
		apptest.Mut(phone, syncproto.EntityPhoto, photo, apptest.Fields("vehicle_check_id", vc, "sha256", strings.Repeat("ab", 32),
			"caption", "排气管内部", "captured_at", "2026-11-28T10:02:00+08:00", "lon", 112.7301, "lat", 38.4201, "item_key", "twc")),
		// The same truck a week earlier, its plate typed as painted.
		apptest.Mut(phone, syncproto.EntityVehicleCheck, again, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "豆罗检查站", "plate", "晋h·30272", "emission_stage", "cn6", "fuel", "diesel", "aftertreatment", "present",
			"action", "release", "checked_at", "2026-11-21T09:00:00+08:00")))
	// The same plate in 定襄县: not the 忻府区 office's to see.
	dx := uuid.NewString()
	serverWrite(t, srv, syncproto.EntityVehicleCheck, dx, apptest.Dingxiang, map[string]any{"county": apptest.Dingxiang,
		"checkpoint": "定襄县S313检查点", "plate": "晋H30272", "emission_stage": "cn6", "aftertreatment": "present",
		"checked_at": "2026-11-25T11:00:00+08:00"})

	county := loggedIn(t, srv, apptest.CountyOffice)
	st, page := county.get("/console/vehicles/" + vc)
	if st != http.StatusOK {
		t.Fatalf("vehicle page: %d\n%s", st, page)
	}
	for _, want := range []string{"晋H30272", "忻州北收费站", "冬季柴油货车专项", "2026-11-28 10:00", "LZZ1BLSE9KD123456", "黄",
		"国六", "拆除", "亮", "P20EE", "12.5%", "2 级", "不透光烟度（光吸收系数）", "1.35 m⁻¹", "处罚", "DPF 空壳", "经度 112.730000", "inspector",
		`<figure id="photo-` + photo + `">`, "排气管内部", "距检查位置",
		"<b>三元催化器（燃气车）</b>", // the item by its label, not its key (a11y probe: twc)
		`href="/console/vehicles/` + again + `"`, "2026-11-21 09:00", "豆罗检查站"} {
		if !strings.Contains(page, want) && !strings.Contains(page, html.EscapeString(want)) {
			t.Errorf("vehicle page lacks %q", want)
		}
	}
	if strings.Contains(page, dx) || strings.Contains(page, "S313") {
		t.Error("vehicle page lists 定襄县's check of the same plate")
	}
	// No history, and what the history leaves out is said all the same:
	// "none" alone read as "never changed" (roadside probe).
	if !strings.Contains(page, "没有事后或他人的修改") || !strings.Contains(page, `id="history-scope"`) || !strings.Contains(page, "当天的更正不在此列") {
		t.Error("a check with no history does not say which changes a history would list")
	}
	// The list links to the page, and filters by the plate as typed.
	if _, list := county.get("/console/vehicles"); !strings.Contains(list, `href="/console/vehicles/`+vc+`?back=%2fconsole%2fvehicles%23records"`) {
		t.Errorf("the records list does not link to the check's page: %s", regexp.MustCompile(`href="/console/vehicles/`+vc+`[^"]*"`).FindString(list))
	}
	_, list := county.get("/console/vehicles?plate=" + url.QueryEscape("晋h 30272"))
	if !strings.Contains(list, `data-id="`+vc+`"`) || !strings.Contains(list, `data-id="`+again+`"`) || !strings.Contains(list, "共 2 条") {
		t.Errorf("plate filter: both checks of the truck, and only those, should be listed")
	}
	if _, hits := county.get("/console/search?q=LZZ1BLSE9KD123456"); !strings.Contains(hits, `href="/console/vehicles/`+vc+`"`) {
		t.Error("a search hit does not lead to the check's page")
	}
	// The city sees the 定襄县 check among the truck's others.
	if _, cityPage := loggedIn(t, srv, apptest.CityOffice).get("/console/vehicles/" + vc); !strings.Contains(cityPage, dx) {
		t.Error("the city's page lacks 定襄县's check of the same plate")
	}
	if st, _ := loggedIn(t, srv, apptest.DingxiangOffice).get("/console/vehicles/" + vc); st != http.StatusForbidden {
		t.Errorf("another county's office: %d, want 403", st)
	}
	if st, _ := county.get("/console/vehicles/" + uuid.NewString()); st != http.StatusNotFound {
		t.Errorf("unknown check: %d, want 404", st)
	}
	// A check timed hours after the server received it: the phone's clock
	// ran ahead, and the page says so; a check timed before it does not.
	if strings.Contains(page, `id="clock-ahead"`) {
		t.Error("a check timed before its receipt is said to be from a clock ahead")
	}
	// A check that reached the server days after the stop says so, and
	// which month's figures it changed; one sent the same day does not.
	days := int(time.Since(time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	if want := fmt.Sprintf(`id="arrived-late">⚠ 检查后 %d 天才送达服务器：送达之前在手机上的修改不在修改历史中；此记录计入 2026 年 11 月的统计`, days); !strings.Contains(page, want) {
		t.Errorf("a check received %d days after it was made: the page lacks %q", days, want)
	}
	ahead := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, ahead, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "忻州北收费站", "plate", "晋H30273", "emission_stage", "cn6", "aftertreatment", "present", "action", "release",
		"checked_at", time.Now().Add(3*time.Hour).In(server.ChinaTime).Format(time.RFC3339))))
	_, page = county.get("/console/vehicles/" + ahead)
	if !regexp.MustCompile(`id="clock-ahead">⚠ 比服务器收到此记录的时间（[^）]+）晚 [23] 小时`).MatchString(page) {
		t.Error("a check timed 3 hours after its receipt: the page does not say the phone's clock ran ahead")
	}
	if strings.Contains(page, `id="arrived-late"`) {
		t.Error("a check sent as it was made is said to have arrived late")
	}
}

// TestVehiclesPeriod: the roadside page's statistics and records can be
// limited to a period of dates in China; the links of its statistics,
// its records' filter and its export keep the period, and a bad period is
// refused.
func TestVehiclesPeriod(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	// June 2025 in China: 06-01 04:00 (sent in UTC as May) and 06-30
	// 23:30 count; 07-01 00:30 (sent in UTC as June) does not.
	// One checkpoint spelt three ways: a road's number and its kilometre
	// apart, run together, in lower case.
	var june []string
	checkpoints := []string{"G108 K5", "g108k5", "G108 K5"}
	for i, at := range []string{"2025-05-31T20:00:00Z", "2025-06-30T23:30:00+08:00", "2025-06-30T16:30:00Z"} {
		id := uuid.NewString()
		stage, after := "cn6", "removed"
		if i == 1 {
			after = "present"
		}
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", checkpoints[i], "plate", "晋H6000"+strconv.Itoa(i), "emission_stage", stage, "fuel", "天然气", "aftertreatment", after,
			"checked_at", at)))
		if i < 2 {
			june = append(june, id)
		}
	}
	city := loggedIn(t, srv, apptest.CityOffice)
	st, page := city.get("/console/vehicles?from=2025-06-01&to=2025-06-30")
	if st != http.StatusOK {
		t.Fatalf("vehicles of June 2025: %d\n%s", st, page)
	}
	// The statistics: one checkpoint, two trucks, both 国六, one removed;
	// and the total.
	if rows := tableRows(t, page, "by-checkpoint"); len(rows) != 3 || rows[1] != "忻府区|G108K5|2|0|2|0|1|50.0%" || rows[2] != "合计|2|0|2|0|1|50.0%" {
		t.Errorf("June's checkpoints: %q", rows)
	}
	for _, id := range june {
		if !strings.Contains(page, `data-id="`+id+`"`) {
			t.Errorf("June's record %s not listed", id)
		}
	}
	if n := strings.Count(page, `<tr data-id="`); n != 2 || !strings.Contains(page, "共 2 条") {
		t.Errorf("June lists %d records", n)
	}
	// Its links keep the period; following one lists June's records of
	// the checkpoint.
	link := regexp.MustCompile(`<a href="(/console/vehicles\?[^"]*checkpoint=[^"]*)">G108K5</a>`).FindStringSubmatch(page)
	if link == nil || !strings.Contains(link[1], "from=2025-06-01") || !strings.Contains(link[1], "to=2025-06-30") {
		t.Fatalf("the checkpoint's link %v lacks the period", link)
	}
	_, page = city.get(html.UnescapeString(link[1]))
	if n := strings.Count(page, `<tr data-id="`); n != 2 {
		t.Errorf("the checkpoint's June records: %d", n)
	}
	if !strings.Contains(page, `<input type="hidden" name="from" value="2025-06-01">`) {
		t.Error("the records' filter drops the period")
	}
	body, f := download(t, city, exportHref(t, page, "/console/vehicles.xlsx"))
	if rows := checkSheet(t, body, f, "路检记录"); len(rows) != 3 { // the header and June's two
		t.Errorf("June's export: %d rows", len(rows)-1)
	}
	// And the period's statistics, as the page's: what an office signs for
	// a special action's days (month-end probe: the records only).
	stats := checkSheet(t, body, f, "路检路查统计")
	if len(stats) != 2 || strings.Join(stats[1][:9], "|") != "忻府区|G108K5|"+server.NoCampaign+"|2|0|2|0|1|50.0%" {
		t.Errorf("June's statistics sheet: %q", stats)
	}
	if title, _ := f.GetCellValue("路检路查统计", "A1"); !strings.Contains(title, "路检路查统计（2025-06-01 至 2025-06-30") {
		t.Errorf("the statistics sheet's title %q lacks the period", title)
	}
	if total, _ := f.GetCellValue("路检路查统计", "D4"); total != "2" {
		t.Errorf("the statistics' total trucks %q, want 2 (June's, not July's)", total)
	}
	// The last day there is bounds nothing.
	if _, page := city.get("/console/vehicles?from=2025-06-01&to=9999-12-31"); !strings.Contains(page, `data-id="`+june[0]+`"`) {
		t.Error("a period to 9999-12-31 lists nothing")
	}
	for _, bad := range []string{"from=2025-13-01", "to=20250630", "from=2025-07-01&to=2025-06-30"} {
		for _, path := range []string{"/console/vehicles?", "/console/vehicles.xlsx?"} {
			if st, _ := city.get(path + bad); st != http.StatusBadRequest {
				t.Errorf("%s%s: %d, want 400", path, bad, st)
			}
		}
	}
}

// TestRoadsideChangedAfterTheFact: a roadside check changed by another
// inspector, or by its own on a later day, is in its page's 修改历史 with
// who, from what to what (values by their labels); the correction its
// inspector makes the same day, and values sent again unchanged, are not.
func TestRoadsideChangedAfterTheFact(t *testing.T) {
	var shift atomic.Int64
	srv := apptest.Start(t, func(c *app.Config) { c.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) } })
	zhang, li := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	vc := uuid.NewString()
	apptest.PushApplied(t, zhang, apptest.Mut(zhang, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "豆罗检查站", "plate", "晋H30274", "emission_stage", "cn6", "aftertreatment", "removed", "action", "fine",
		"checked_at", time.Now().In(server.ChinaTime).Format(time.RFC3339))))
	county := loggedIn(t, srv, apptest.CountyOffice)
	history := func() string {
		t.Helper()
		st, page := county.get("/console/vehicles/" + vc)
		if st != http.StatusOK {
			t.Fatalf("vehicle page: %d", st)
		}
		if !strings.Contains(page, `id="history"`) {
			return ""
		}
		i := strings.Index(page, `id="history"`)
		return page[i : i+strings.Index(page[i:], "</table>")]
	}
	// The inspector's own correction at the truck, and the same values sent again.
	apptest.PushApplied(t, zhang, apptest.Mut(zhang, syncproto.EntityVehicleCheck, vc, apptest.Fields("action", "repair", "note", "当场更正")))
	apptest.PushApplied(t, li, apptest.Mut(li, syncproto.EntityVehicleCheck, vc, apptest.Fields("action", "repair")))
	if h := history(); h != "" {
		t.Fatalf("the same day's own correction and an unchanged value are in the history:\n%s", h)
	}
	// Another inspector changes the result.
	apptest.PushApplied(t, li, apptest.Mut(li, syncproto.EntityVehicleCheck, vc, apptest.Fields("aftertreatment", "present")))
	h := history()
	for _, want := range []string{"李巡查", "事后修改", "后处理装置：已拆除 → 完好"} {
		if !strings.Contains(h, want) {
			t.Errorf("history after another inspector's change lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "处理：") {
		t.Errorf("the unchanged action is listed:\n%s", h)
	}
	// The next day, its own inspector moves it to another checkpoint.
	shift.Store(int64(24 * time.Hour))
	apptest.PushApplied(t, zhang, apptest.Mut(zhang, syncproto.EntityVehicleCheck, vc, apptest.Fields("checkpoint", "忻州北收费站")))
	if h := history(); !strings.Contains(h, "张巡查") || !strings.Contains(h, "检查站：豆罗检查站 → 忻州北收费站") {
		t.Errorf("history after the next day's change by its own inspector:\n%s", h)
	}
	// A city office's phone changes it: the county office reads that
	// phone by its name and its user, though the phone is not among its
	// county's (roadside probe: a bare device id).
	city := srv.Login(apptest.CityOffice)
	apptest.PushApplied(t, city, apptest.Mut(city, syncproto.EntityVehicleCheck, vc, apptest.Fields("note", "市局复核")))
	if h := history(); strings.Contains(h, "设备 "+city.DeviceID) || !strings.Contains(h, "test city") {
		t.Errorf("the city office's phone in the county office's history:\n%s", h)
	}
	// The warning names 国六 only for a 国六 truck, as the figures count.
	for _, tc := range []struct{ stage, want, not string }{
		{"cn6", "⚠ 国六车辆后处理装置被拆除", "非国六"},
		{"cn5", "非国六车辆", "⚠ 国六车辆"},
	} {
		apptest.PushApplied(t, zhang, apptest.Mut(zhang, syncproto.EntityVehicleCheck, vc, apptest.Fields("emission_stage", tc.stage, "aftertreatment", "removed")))
		if _, page := county.get("/console/vehicles/" + vc); !strings.Contains(page, tc.want) || strings.Contains(page, tc.not) {
			t.Errorf("a %s truck's check, after-treatment removed: the page lacks %q or shows %q", tc.stage, tc.want, tc.not)
		}
	}
}

// TestCheckpointAmongSites: a roadside check's page says how its
// checkpoint — free text — stands among the county's sites: nothing for
// one of the county's checkpoints; a warning for the name of a site of
// another kind, or of another county's site (named only to those who may
// see that county), which the statistics would count as this county's
// checkpoint (the referential probe); otherwise a hint naming the
// checkpoints the county registered.
func TestCheckpointAmongSites(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	check := func(checkpoint string) string {
		id := uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", checkpoint, "plate", "晋H30272", "checked_at", time.Now().Add(-time.Hour).Format(time.RFC3339))))
		return id
	}
	// Sites the checks below are named after: a coal yard and a
	// checkpoint of one name (stored coal yard first), a retired
	// checkpoint, and 定襄县's checkpoint spelt in lower case and full
	// width, as the statistics count it alike.
	site := func(c *syncproto.Client, county, kind, name string, active bool) {
		apptest.PushApplied(t, c, apptest.Mut(c, syncproto.EntitySite, uuid.NewString(), apptest.Fields("county", county, "kind", kind,
			"name", name, "active", active)))
	}
	site(phone, apptest.Xinfu, "coal_yard", "同名检查站", true)
	site(phone, apptest.Xinfu, "checkpoint", "同名检查站", true)
	site(phone, apptest.Xinfu, "checkpoint", "旧检查站", false)
	site(srv.Login(apptest.CityOffice), apptest.Dingxiang, "checkpoint", "定襄ｇ５检查点", true)
	site(phone, apptest.Xinfu, "checkpoint", "S316 K12", true) // a road's number and its kilometre
	note := regexp.MustCompile(`<span class="(warn|hint)" id="checkpoint-note">([^<]*)</span>`)
	county, city := loggedIn(t, srv, apptest.CountyOffice), loggedIn(t, srv, apptest.CityOffice)
	for _, tc := range []struct {
		checkpoint string
		b          *browser
		class      string
		says       string
	}{
		{"豆罗检查站", county, "", ""},
		{"忻府区锦绣华庭小区二期工地", county, "warn", "这是本县一处建筑工地的名称，不是路检点"},
		{"定襄县G337国道检查点", county, "warn", "这是其他区县一处路检点的名称，不在本记录所属的忻府区"},
		{"定襄县G337国道检查点", city, "warn", "这是定襄县一处路检点的名称"},
		{"G108流动检查点", county, "hint", "不是本县登记的路检点（已登记：S316 K12、同名检查站、秦城检查站、豆罗检查站）"},
		{"同名检查站", county, "", ""},
		{"旧检查站", county, "hint", "这是本县已停用的路检点"},
		{"定襄G5检查点", city, "warn", "这是定襄县一处路检点的名称"},
		{"s316k12", county, "", ""}, // run together, as the statistics count it
	} {
		_, page := tc.b.get("/console/vehicles/" + check(tc.checkpoint))
		m := note.FindStringSubmatch(page)
		switch {
		case tc.class == "" && m != nil:
			t.Errorf("%s: a note %q", tc.checkpoint, m[0])
		case tc.class != "" && (m == nil || m[1] != tc.class || !strings.Contains(m[2], tc.says)):
			t.Errorf("%s: note %q, want a %s saying %q", tc.checkpoint, m, tc.class, tc.says)
		}
	}
}

// TestVehiclesExportEveryField: the roadside records' export has a column
// of every field the inspector recorded, as the check's page lists them —
// the VIN, the OBD lamp and codes, the urea level, the smoke readings,
// the plate's colour and kind, the remote-sensing number — a number as a
// number with its unit in the heading, and who recorded it (it had the
// plate, stage, fuel, after-treatment, action and note only).
func TestVehiclesExportEveryField(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "豆罗检查站", "plate", "晋H30291", "plate_color", "黄", "plate_type", "大型汽车", "vin", "LFV2A21K583123456",
		"emission_stage", "cn6", "fuel", "diesel", "aftertreatment", "removed", "obd_mil", true, "obd_codes", "P20EE,P2463",
		"urea_level_pct", 12.5, "ringelmann", 1, "opacity", 0.8, "remote_sensing_id", "YG-2026-118", "action", "fine",
		"note", "驾驶员称已维修", "checked_at", "2026-11-28T10:00:00+08:00")))
	city := loggedIn(t, srv, apptest.CityOffice)
	body, f := download(t, city, "/console/vehicles.xlsx?plate=H30291")
	rows := checkSheet(t, body, f, "路检记录")
	if len(rows) != 2 { // the header and the check
		t.Fatalf("export: %q", rows)
	}
	header, row := rows[0], rows[1]
	got := map[string]string{}
	for i, h := range header {
		if i < len(row) {
			got[h] = row[i]
		}
	}
	for h, want := range map[string]string{"号牌": "晋H30291", "号牌颜色": "黄", "号牌种类": "大型汽车", "车辆识别代号（VIN）": "LFV2A21K583123456",
		"排放阶段": "国六", "燃料": "柴油", "后处理装置": "已拆除", "OBD 故障灯": "亮", "OBD 故障码": "P20EE,P2463", "尿素液位（%）": "12.5",
		"林格曼黑度（级）": "1", "不透光烟度（光吸收系数，m⁻¹）": "0.8", "遥感检测编号": "YG-2026-118", "处理": "处罚", "备注": "驾驶员称已维修", "巡查员": "张巡查"} {
		if got[h] != want {
			t.Errorf("column %q: %q, want %q (header %q)", h, got[h], want, header)
		}
	}
	// The numbers are numbers, for a sum or a filter in Excel.
	col := slices.Index(header, "尿素液位（%）")
	cell, _ := excelize.CoordinatesToCellName(col+1, 3)
	if typ, err := f.GetCellType("路检记录", cell); err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("the urea level's cell %s is of type %v (%v), want a number", cell, typ, err)
	}
}
