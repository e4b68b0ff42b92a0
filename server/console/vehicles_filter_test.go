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
		"qcEast": {"甲乙城检查站东", "晋Z83077挂", "LZZ1BLSE9KD120888"},
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
		{"plate=" + url.QueryEscape("ｚ８３·０７７"), []string{"qc", "qcEast"}},
		{"plate=z83077&checkpoint=" + url.QueryEscape("东"), []string{"qcEast"}},
		{"plate=" + url.QueryEscape("%"), nil},
		// The VIN, whole or a part, typed in groups or in lower case.
		{"plate=" + url.QueryEscape("lfv2a21k 5831 23456"), []string{"g108"}},
		{"plate=LZZ1BLSE9KD120", []string{"qc", "qcEast"}},
		{"plate=" + url.QueryEscape("KD12345"), []string{"other"}},
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

// TestVehiclesPeriodNote: the note saying the period reads as Chinese
// text with dates in it, a space either side of each date.
func TestVehiclesPeriodNote(t *testing.T) {
	srv := apptest.Start(t)
	city := loggedIn(t, srv, apptest.CityOffice)
	note := regexp.MustCompile(`<p class="period-note">([^<]*)</p>`)
	for _, tc := range []struct{ query, want string }{
		{"from=2022-06-01&to=2022-06-30", "以下统计与记录为 2022-06-01 至 2022-06-30 的检查（按北京时间的检查日期）。"},
		{"from=2022-06-01", "以下统计与记录为 2022-06-01 至今的检查（按北京时间的检查日期）。"},
		{"to=2022-06-30", "以下统计与记录为最早的检查至 2022-06-30 的检查（按北京时间的检查日期）。"},
	} {
		_, page := city.get("/console/vehicles?" + tc.query)
		if m := note.FindStringSubmatch(page); m == nil || html.UnescapeString(m[1]) != tc.want {
			t.Errorf("%s: note %q, want %q", tc.query, m, tc.want)
		}
	}
}
