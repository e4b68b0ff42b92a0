package console_test

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

var siteIDRE = regexp.MustCompile(`id="saved"`)

// TestSites: the sites page lists, searches and filters the viewer's sites;
// an office adds a site and corrects it through the server's write path,
// and the inspector's phone pulls both; 忻府区's office can neither see
// nor correct a 定襄县 site.
func TestSites(t *testing.T) {
	srv := apptest.Start(t)
	dx := uuid.NewString()
	serverWrite(t, srv, syncproto.EntitySite, dx, apptest.Dingxiang, map[string]any{"county": apptest.Dingxiang,
		"kind": "coal_yard", "name": "定襄县宏达煤场", "lon": 112.96, "lat": 38.47, "active": true})
	county := loggedIn(t, srv, apptest.CountyOffice)
	st, page := county.get("/console/sites")
	if st != http.StatusOK || !strings.Contains(page, `id="site-list"`) || !strings.Contains(page, `data-id="`+apptest.DemoSite(t, apptest.Xinfu)+`"`) {
		t.Fatalf("sites page: %d\n%s", st, page)
	}
	for _, path := range []string{"/console/sites", "/console/sites?q=" + url.QueryEscape("宏达"), "/console/sites?kind=coal_yard", "/console/map", "/console/search?q=" + dx} {
		if _, page := county.get(path); strings.Contains(page, `data-id="`+dx+`"`) || strings.Contains(page, "宏达煤场") {
			t.Errorf("忻府区's office sees 定襄县's site on %s", path)
		}
	}
	if st, _ := county.get("/console/sites?county=" + apptest.Dingxiang); st != http.StatusForbidden {
		t.Errorf("filtering by 定襄县: %d", st)
	}
	// Named by its id, a site of another county is refused without
	// saying which county holds it.
	if st, page := county.get("/console/sites/" + dx); st != http.StatusForbidden || strings.Contains(page, "定襄") {
		t.Errorf("the form of 定襄县's site: %d\n%s", st, page)
	}
	_, form := county.get("/console/sites/new")
	token := csrf(t, form)
	if st, page := county.post("/console/sites/"+dx, url.Values{"csrf": {token}, "name": {"改名"}, "kind": {"coal_yard"}, "crs": {"wgs84"}}); st != http.StatusForbidden ||
		strings.Contains(page, "定襄") {
		t.Errorf("correcting 定襄县's site: %d\n%s", st, page)
	}
	if st, _ := county.post("/console/sites", url.Values{"csrf": {token}, "county": {apptest.Dingxiang}, "name": {"越权"}, "kind": {"coal_yard"}, "crs": {"wgs84"}}); st != http.StatusForbidden {
		t.Errorf("adding a site in 定襄县: %d", st)
	}
	if st, page := county.post("/console/sites", url.Values{"csrf": {token}, "name": {"没选区县"}, "kind": {"coal_yard"}, "crs": {"wgs84"}}); st != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "请选择区县") || !strings.Contains(page, `value="没选区县"`) {
		t.Errorf("adding a site without a county: %d, want 422 asking for one with the form kept", st)
	}

	// Add a site; the phone pulls it.
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")
	st, page = county.post("/console/sites", url.Values{"csrf": {token}, "county": {apptest.Xinfu}, "name": {"忻府区新建搅拌站"},
		"kind": {"factory"}, "address": {"忻府区奇村镇"}, "lon": {"112.70"}, "lat": {"38.45"}, "crs": {"gcj02"}, "radius_m": {"250"}, "active": {"1"}})
	if st != http.StatusOK || !siteIDRE.MatchString(page) || !strings.Contains(page, "忻府区新建搅拌站") {
		t.Fatalf("add site: %d\n%s", st, page)
	}
	id := regexp.MustCompile(`<tr data-id="([^"]+)"><td[^>]*>忻府区新建搅拌站`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("new site not listed:\n%s", page)
	}
	changes, cursor := pullAll(t, phone, cursor)
	if !pulledSite(changes, id[1], "忻府区新建搅拌站") {
		t.Errorf("the phone did not pull the new site: %+v", changes)
	}
	// Correct it; the phone pulls the correction.
	_, edit := county.get("/console/sites/" + id[1])
	st, page = county.post("/console/sites/"+id[1], url.Values{"csrf": {token}, "orig": {origOf(t, edit)}, "name": {"忻府区奇村搅拌站"}, "kind": {"factory"},
		"address": {"忻府区奇村镇"}, "lon": {"112.71"}, "lat": {"38.45"}, "crs": {"wgs84"}, "radius_m": {"300"}})
	if st != http.StatusOK || !strings.Contains(page, "忻府区奇村搅拌站") || !strings.Contains(page, "停用") {
		t.Fatalf("correct site: %d\n%s", st, page)
	}
	changes, _ = pullAll(t, phone, cursor)
	if !pulledSite(changes, id[1], "忻府区奇村搅拌站") {
		t.Errorf("the phone did not pull the correction: %+v", changes)
	}
	// Bad input is answered on the form.
	if st, page := county.post("/console/sites", url.Values{"csrf": {token}, "county": {apptest.Xinfu}, "name": {"坐标错误"}, "kind": {"factory"},
		"lon": {"120"}, "lat": {"38.4"}, "crs": {"wgs84"}}); st != http.StatusUnprocessableEntity || !strings.Contains(page, "经纬度应为忻州市范围内") {
		t.Errorf("a site outside Xinzhou: %d", st)
	}
	// A text the store refuses is answered in the form's words, not the
	// field's name on the wire.
	for _, tc := range []struct{ field, value, want string }{
		{"name", "忻府区\u200b搅拌站", "名称含有看不见的字符（U&#43;200B"},
		{"name", strings.Repeat("站", 201), "名称超过 200 个字符"},
		{"address", strings.Repeat("路", 501), "地址超过 500 个字符"},
	} {
		form := url.Values{"csrf": {token}, "county": {apptest.Xinfu}, "name": {"长文字"}, "kind": {"factory"}, "crs": {"wgs84"}}
		form.Set(tc.field, tc.value)
		st, page := county.post("/console/sites", form)
		if st != http.StatusUnprocessableEntity || !strings.Contains(page, tc.want) || strings.Contains(page, "字段 "+tc.field) {
			t.Errorf("%s %.20q: %d, want 422 saying %s", tc.field, tc.value, st, tc.want)
		}
		// Still the form adding a site (its county to choose), posting
		// where a new site goes: corrected and saved, it is added.
		if !strings.Contains(page, "<h1>新增点位</h1>") || !strings.Contains(page, `action="/console/sites"`) || !strings.Contains(page, `<select name="county"`) {
			t.Errorf("%s %.20q: the form shown again is not the one adding a site:\n%s", tc.field, tc.value, page)
		}
	}
	// A form field with a NUL or invalid UTF-8, which the API refuses for
	// every request, is refused on the console's own page, and so is a
	// query the API refuses.
	for _, v := range []string{"站\x00名", "站\xff名"} {
		form := url.Values{"csrf": {token}, "county": {apptest.Xinfu}, "name": {v}, "kind": {"factory"}, "crs": {"wgs84"}}
		if st, page := county.post("/console/sites", form); st != http.StatusBadRequest || !strings.Contains(page, "含有空字符或无效的 UTF-8 编码") ||
			!strings.Contains(page, "</html>") {
			t.Errorf("name %q: %d, want the console's 400 page:\n%s", v, st, page)
		}
	}
	if st, page := county.get("/console/sites?q=%00"); st != http.StatusBadRequest || !strings.Contains(page, "</html>") {
		t.Errorf("a query with NUL: %d, want the console's 400 page:\n%s", st, page)
	}
	// Numbers no one types (NaN passes every range check; Go's own
	// syntaxes would be stored as other numbers) are answered on the form.
	for _, bad := range []url.Values{
		{"lon": {"NaN"}, "lat": {"NaN"}}, {"lon": {"nan"}, "lat": {"38.4"}}, {"lon": {"112.7"}, "lat": {"Inf"}},
		{"lon": {"0x1.c2p6"}, "lat": {"38.4"}}, {"lon": {"112.7_1"}, "lat": {"38.4"}}, {"lon": {"1.127e2"}, "lat": {"38.4"}},
		{"lon": {"112.7"}, "lat": {"38.4"}, "radius_m": {"NaN"}}, {"lon": {"112.7"}, "lat": {"38.4"}, "radius_m": {"+Inf"}},
	} {
		form := url.Values{"csrf": {token}, "county": {apptest.Xinfu}, "name": {"数字错误"}, "kind": {"factory"}, "crs": {"wgs84"}}
		for k, v := range bad {
			form[k] = v
		}
		if st, _ := county.post("/console/sites", form); st != http.StatusUnprocessableEntity {
			t.Errorf("site with %v: %d, want 422 on the form", bad, st)
		}
	}
	// The city's own work (市本级) has no sites: a clear answer, not an error.
	city := loggedIn(t, srv, apptest.CityOffice)
	_, cityForm := city.get("/console/sites/new")
	if st, page := city.post("/console/sites", url.Values{"csrf": {csrf(t, cityForm)}, "county": {server.CityCounty}, "name": {"市本级点位"},
		"kind": {"factory"}, "crs": {"wgs84"}}); st != http.StatusUnprocessableEntity || !strings.Contains(page, "市本级没有点位") {
		t.Errorf("a site of 市本级: %d", st)
	}
	// Filters: kind and text.
	if _, page := county.get("/console/sites?kind=factory&q=" + url.QueryEscape("奇村")); !strings.Contains(page, `data-id="`+id[1]+`"`) || !strings.Contains(page, "共 1 条") {
		t.Errorf("kind and text filter:\n%s", page)
	}
	// The city sees 定襄县's site.
	if _, page := loggedIn(t, srv, apptest.CityOffice).get("/console/sites?county=" + apptest.Dingxiang); !strings.Contains(page, `data-id="`+dx+`"`) {
		t.Error("the city does not see 定襄县's site")
	}
}

var origRE = regexp.MustCompile(`name="orig" value="([^"]*)"`)

// listRE finds a ledger form's list filter, to come back to.
var listRE = regexp.MustCompile(`name="list" value="([^"]*)"`)

// origOf is the original values a site's form page carries.
func origOf(t *testing.T, page string) string {
	t.Helper()
	m := origRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no orig in the site form:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// TestSiteCorrectionKeepsLaterChanges: an office corrects a site whose
// form it opened before a phone renamed the site. What the office did not
// change keeps the phone's value; a part both changed is not settled for
// the office: the form comes back (409) naming it, with the current value,
// and saving again writes the office's. A form without its original
// values comes back with the current ones.
var (
	siteFieldRE  = regexp.MustCompile(`name="(name|address|lon|lat|radius_m)" value="([^"]*)"`)
	siteSelectRE = regexp.MustCompile(`<select name="(kind|crs)">(?:<option value="[^"]*">[^<]*</option>)*<option value="([^"]*)" selected>`)
)

// storedField is a record's field as stored.
func storedField(t *testing.T, srv *apptest.Server, entity, id, field string) string {
	t.Helper()
	r, err := srv.App.DB.Get(t.Context(), entity, id)
	if err != nil || r == nil {
		t.Fatalf("%s %s: %v", entity, id, err)
	}
	return r.Text(field)
}

// siteFormOf is what a site's form page posts as it stands.
func siteFormOf(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{"csrf": {csrf(t, page)}, "orig": {origOf(t, page)}}
	for _, m := range siteFieldRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range siteSelectRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	if strings.Contains(page, `name="active" value="1" checked`) {
		v.Set("active", "1")
	}
	return v
}

func TestSiteCorrectionKeepsLaterChanges(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	site := apptest.DemoSite(t, apptest.Xinfu)
	phone := srv.Login(apptest.Inspector)
	rename := func(name string) {
		t.Helper()
		// As every phone does, the phone has heard the server's clock
		// (here from /me) since the office's last save: its change
		// is later, even within the office's millisecond.
		if _, err := phone.Me(t.Context()); err != nil {
			t.Fatal(err)
		}
		resp := apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntitySite, site, apptest.Fields("name", name)))
		if resp.Results[0].Status != syncproto.StatusApplied {
			t.Fatalf("phone renames the site: %+v", resp.Results[0])
		}
	}
	stored := func(field string) string { return storedField(t, srv, syncproto.EntitySite, site, field) }
	formOf := func(page string) url.Values { return siteFormOf(t, page) }

	// The office opens the form; the phone renames the site; the office
	// corrects the address only.
	_, page := county.get("/console/sites/" + site)
	form := formOf(page)
	rename("手机更正的名称")
	form.Set("address", "办公室更正的地址")
	if st, page := county.post("/console/sites/"+site, form); st != http.StatusOK {
		t.Fatalf("office corrects the address: %d\n%s", st, page)
	}
	if len(form["kind"]) == 0 || len(form["crs"]) == 0 {
		t.Fatalf("the form's selects not read: %v", form)
	}
	if stored("name") != "手机更正的名称" || stored("address") != "办公室更正的地址" {
		t.Errorf("after the correction: name %q, address %q; want the phone's name and the office's address", stored("name"), stored("address"))
	}

	// Both rename it: the office is shown the phone's name and decides.
	_, page = county.get("/console/sites/" + site)
	form = formOf(page)
	rename("手机第二次改名")
	form.Set("name", "办公室定的名称")
	st, page := county.post("/console/sites/"+site, form)
	if st != http.StatusConflict || !strings.Contains(page, "名称（现为「手机第二次改名」）") || stored("name") != "手机第二次改名" {
		t.Fatalf("both renamed: %d, name %q\n%s", st, stored("name"), page)
	}
	if st, page := county.post("/console/sites/"+site, formOf(page)); st != http.StatusOK || stored("name") != "办公室定的名称" {
		t.Errorf("saving again: %d, name %q\n%s", st, stored("name"), page)
	}

	// A stored name with spaces around it, which the form trims, is not a
	// change the office made.
	rename("带空格的名称 ")
	_, page = county.get("/console/sites/" + site)
	form = formOf(page)
	rename("手机第三次改名")
	form.Set("address", "地址再次更正")
	if st, page := county.post("/console/sites/"+site, form); st != http.StatusOK || stored("name") != "手机第三次改名" || stored("address") != "地址再次更正" {
		t.Errorf("untouched name with spaces: %d, name %q, address %q\n%s", st, stored("name"), stored("address"), page)
	}
	// Clearing the radius clears it.
	radius := func() string {
		t.Helper()
		r, err := srv.App.DB.Get(t.Context(), syncproto.EntitySite, site)
		if err != nil || r == nil {
			t.Fatal(err)
		}
		return string(r.Value("radius_m"))
	}
	if radius() == "" || radius() == "null" {
		t.Fatalf("the demo site has no radius to clear: %q", radius())
	}
	_, page = county.get("/console/sites/" + site)
	form = formOf(page)
	form.Set("radius_m", "")
	if st, _ := county.post("/console/sites/"+site, form); st != http.StatusOK || (radius() != "" && radius() != "null") {
		t.Errorf("clearing the radius: %d, radius %q", st, radius())
	}

	// A form without its original values is answered with the current ones.
	form.Del("orig")
	form.Set("name", "无原值的表单")
	before := stored("name")
	if st, page := county.post("/console/sites/"+site, form); st != http.StatusConflict || !strings.Contains(page, "表单已过期") || stored("name") != before {
		t.Errorf("a form without orig: %d, name %q", st, stored("name"))
	}
}

func pulledSite(changes []syncproto.Change, id, name string) bool {
	for _, c := range changes {
		if c.Entity == syncproto.EntitySite && c.ID == id && strings.Contains(string(c.Fields["name"]), name) {
			return true
		}
	}
	return false
}

// TestMap: the map draws the sites and the month's inspections shaped and
// coloured by result as SVG with no tile server, and over the tiles with one.
func TestMap(t *testing.T) {
	srv := apptest.Start(t, func(c *app.Config) { c.DemoMonth, c.DemoDays = true, 3 }, apptest.MidMonth, apptest.HoldPhotos)
	_, page := loggedIn(t, srv, apptest.CityOffice).get("/console/map")
	for _, w := range []string{`<svg id="area-map"`, `class="site"`, `class="insp r-`, "忻府区", "有不合格项", "全部合格", "未配置地图底图"} {
		if !strings.Contains(page, w) {
			t.Errorf("map lacks %q", w)
		}
	}
	if !strings.Contains(page, `class="insp r-fail"`) || !strings.Contains(page, `class="insp r-pass"`) {
		t.Error("the map colours no inspection by its result")
	}
	// Told by shape too, not by red and green alone (a11y probe): a
	// failed inspection is a triangle, a passed one a circle.
	if !regexp.MustCompile(`<path class="insp r-fail" d="M[-0-9.]+ [-0-9.]+L[-0-9.]+ [-0-9.]+L[-0-9.]+ [-0-9.]+Z">`).MatchString(page) ||
		strings.Contains(page, `<circle class="insp r-fail"`) || !strings.Contains(page, `<circle class="insp r-pass"`) {
		t.Error("failed and passed inspections are drawn in the same shape")
	}
	if strings.Contains(page, "<image") {
		t.Error("map draws tiles with no tile server")
	}
	// The map's links are links to a screen reader (not parts of an
	// image), each named, and the inspections drawn are listed as text
	// too, each once (a11y probe).
	if strings.Contains(page, `role="img"`) {
		t.Error("the map with its links is one image to a screen reader")
	}
	svg := page[strings.Index(page, `<svg id="area-map"`):strings.Index(page, "</svg>")]
	if n, named := strings.Count(svg, "<a "), len(regexp.MustCompile(`<a href="[^"]+" aria-label="[^"]+">`).FindAllString(svg, -1)); n == 0 || named != n {
		t.Errorf("of the map's %d links, %d are named", n, named)
	}
	list := page[strings.Index(page, `id="map-list"`):]
	list = list[:strings.Index(list, "</details>")]
	drawn := regexp.MustCompile(`<a href="(/console/inspections/[^"]+)" aria-label="检查：`).FindAllStringSubmatch(svg, -1)
	if len(drawn) == 0 || strings.Count(list, "<li>") != len(drawn) {
		t.Errorf("the text list has %d inspections, the map %d", strings.Count(list, "<li>"), len(drawn))
	}
	for _, d := range drawn {
		if strings.Count(list, `href="`+d[1]+`"`) != 1 {
			t.Errorf("the map's inspection %s is not in the text list once", d[1])
		}
	}
	// Another month, as an office closing last month looks at it: its
	// inspections, not this month's; a month to come or no month is
	// refused (reviewer probe: ?month= was ignored).
	now := srv.App.Syncer.Now().In(server.ChinaTime)
	thisMonth := regexp.MustCompile(`现场检查 (\d+) 次`).FindStringSubmatch(page)
	last := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, server.ChinaTime)
	city := loggedIn(t, srv, apptest.CityOffice)
	_, lastPage := city.get("/console/map?month=" + last.Format("2006-01"))
	if !strings.Contains(lastPage, "<h1>点位与"+last.Format("2006年1月")+"检查地图</h1>") || !strings.Contains(lastPage, last.Format("2006年1月")+"现场检查 0 次") ||
		strings.Contains(lastPage, `class="insp r-`) || thisMonth == nil || thisMonth[1] == "0" || !strings.Contains(lastPage, `id="next-month"`) {
		t.Errorf("last month's map (this month's count %v) shows this month's inspections or no month of its own", thisMonth)
	}
	for _, bad := range []string{now.AddDate(0, 2, 0).Format("2006-01"), "2026-13", "十一月"} {
		if st, _ := city.get("/console/map?month=" + url.QueryEscape(bad)); st != http.StatusBadRequest {
			t.Errorf("the map of month %q: %d, want 400", bad, st)
		}
	}
	tiles := apptest.Start(t, func(c *app.Config) { c.TileURL = "https://tiles.example.cn/{z}/{x}/{y}.png" })
	b := loggedIn(t, tiles, apptest.CountyOffice)
	req, _ := http.NewRequest(http.MethodGet, tiles.URL+"/console/map", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "https://tiles.example.cn") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q", csp)
	}
	_, page = b.get("/console/map")
	if !strings.Contains(page, `<image href="https://tiles.example.cn/`) || !strings.Contains(page, `class="site"`) {
		t.Errorf("map with tiles:\n%s", page)
	}
	tilesBefore := strings.Count(page, "<image")
	// Sites a phone placed far away (at a pole, at 0,0): not drawn, so
	// neither the map's frame nor its tiles stretch to them; counted.
	phone := tiles.Login(apptest.Inspector)
	var far string
	for _, at := range [][2]float64{{112.7, -90}, {0, 0}, {112.7, -82.6}} {
		far = uuid.NewString()
		apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntitySite, far, apptest.Fields("county", apptest.Xinfu,
			"kind", "coal_yard", "name", "远处的点位", "lon", at[0], "lat", at[1])))
	}
	// This month's inspection there: counted in the month's figure, so
	// listed with a link, not dropped (the search probe).
	there := pushAt(t, phone, far, "coal_yard", 1, "status", "submitted", "started_at", time.Now().Format(time.RFC3339),
		"answers.closed_shed", map[string]any{"result": "fail"})
	_, page = b.get("/console/map")
	if n := strings.Count(page, "<image"); n != tilesBefore || strings.Contains(page, "Inf") || strings.Contains(page, "NaN") ||
		!strings.Contains(page, "3 个坐标在忻州范围之外") {
		t.Errorf("map with far sites: %d tiles (%d before), or an infinite coordinate, or no count of them", n, tilesBefore)
	}
	if !strings.Contains(page, `<a href="/console/inspections/`+there+`" class="map-undrawn">`) || !strings.Contains(page, "其中 1 次的点位未定位或在忻州范围之外") {
		t.Error("the month's inspection at a site outside the city is neither drawn nor listed")
	}
}

// TestPageBeyondEveryList: a list page asked for past the end, however
// far, shows no rows and links back, never rows of an offset that
// wrapped around.
func TestPageBeyondEveryList(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, path := range []string{"/console/vehicles", "/console/queue", "/console/sites"} {
		for _, page := range []string{"9223372036854775807", "4611686018427387905", "1048577", "40"} {
			st, body := county.get(path + "?page=" + page)
			if st != http.StatusOK {
				t.Errorf("%s page %s: %d", path, page, st)
				continue
			}
			if strings.Contains(body, "page=-") || strings.Contains(body, "data-id=") {
				t.Errorf("%s page %s shows rows or a negative page link", path, page)
			}
			// It says so, and links to the last page there is.
			m := regexp.MustCompile(`没有(第 \d+ 页|这一页)（共 (\d+) 页）`).FindStringSubmatch(body)
			if m == nil || !strings.Contains(body, "page="+m[2]) {
				t.Errorf("%s page %s does not say it is past the last page, or link to it", path, page)
				continue
			}
			// It names the page asked for, not a number it was held at
			// (the search probe: 99999999999999999999 read 第 1048576 页).
			if want := map[bool]string{true: "第 " + page + " 页", false: "这一页"}[page == "40"]; m[1] != want {
				t.Errorf("%s page %s: says 没有%s", path, page, m[1])
			}
		}
	}
}

// TestSiteFormSentTwice: the form adding a site carries the id the site
// takes, so sending it twice (the Back button and 保存 again, a resent
// request) adds one site: the second answer is the first's. The notice of
// a saved site names it by its id as it stands, and shows nothing for a
// text put in the address or another county's site.
func TestSiteFormSentTwice(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	_, form := county.get("/console/sites/new")
	m := regexp.MustCompile(`name="new_id" value="([0-9a-f-]{36})"`).FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("the form adding a site carries no id:\n%s", form)
	}
	values := url.Values{"csrf": {csrf(t, form)}, "new_id": {m[1]}, "county": {apptest.Xinfu}, "name": {"返回键重复测试点"},
		"kind": {"factory"}, "lon": {"112.72"}, "lat": {"38.42"}, "crs": {"wgs84"}, "radius_m": {"120"}, "active": {"1"}}
	if st, page := county.post("/console/sites", values); st != http.StatusOK || !strings.Contains(page, "已保存点位“返回键重复测试点”") {
		t.Fatalf("sending the form: %d\n%s", st, page)
	}
	// Meanwhile a phone renames it; the form sent again changes nothing,
	// and its notice names the site as it now is.
	phone := srv.Login(apptest.Inspector)
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntitySite, m[1], apptest.Fields("name", "手机改名的点位")))
	if st, page := county.post("/console/sites", values); st != http.StatusOK || !strings.Contains(page, "已保存点位“手机改名的点位”") {
		t.Fatalf("sending the form again: %d\n%s", st, page)
	}
	if r, err := srv.App.DB.Get(ctx, syncproto.EntitySite, m[1]); err != nil || r == nil || r.Text("name") != "手机改名的点位" {
		t.Fatalf("the form sent again wrote over the phone's rename: %v %v", r, err)
	}
	if recs, err := srv.App.DB.Find(ctx, syncproto.EntitySite, "county", apptest.Xinfu); err != nil || slices.ContainsFunc(recs, func(r *server.StoredRecord) bool {
		return r.ID != m[1] && r.Text("name") == "返回键重复测试点"
	}) {
		t.Fatalf("the form sent twice added a second site: %v", err)
	}
	// The form sent again with other values (a duplicated tab, a form
	// left open): nothing added nor changed, and not said to be saved —
	// the form shows again, what was typed kept, with a new id, and
	// saving that adds the second site (console probe: 已保存 named the
	// first site, the second lost). Numbers written otherwise are the
	// same values: 112.720 is the first form's 112.72.
	same := maps.Clone(values)
	same.Set("lon", "112.720")
	if st, page := county.post("/console/sites", same); st != http.StatusOK || !strings.Contains(page, "已保存点位“手机改名的点位”") {
		t.Errorf("the form sent again with a number written otherwise: %d", st)
	}
	used := maps.Clone(values)
	used.Set("name", "乙工地")
	used.Set("address", "另一处")
	st, page := county.post("/console/sites", used)
	if st != http.StatusConflict || strings.Contains(page, "已保存点位") || !strings.Contains(page, "此表单已保存过点位“手机改名的点位”") ||
		!strings.Contains(page, `value="乙工地"`) || strings.Contains(page, `value="`+m[1]+`"`) {
		t.Fatalf("a used form sent with other values: %d\n%s", st, page)
	}
	if r, _ := srv.App.DB.Get(ctx, syncproto.EntitySite, m[1]); r.Text("address") == "另一处" {
		t.Fatal("the used form changed the site it had added")
	}
	used.Set("new_id", regexp.MustCompile(`name="new_id" value="([0-9a-f-]{36})"`).FindStringSubmatch(page)[1])
	used.Set("csrf", csrf(t, page))
	if st, page := county.post("/console/sites", used); st != http.StatusOK || !strings.Contains(page, "已保存点位“乙工地”") {
		t.Fatalf("the form shown again, saved: %d", st)
	}
	// A form whose id is another county's site (or a deleted one) adds
	// nothing and does not say it saved: it shows again with a new id.
	foreign := apptest.DemoSite(t, apptest.Dingxiang)
	taken := url.Values{}
	for k, v := range values {
		taken[k] = v
	}
	taken.Set("new_id", foreign)
	st, page = county.post("/console/sites", taken)
	if st != http.StatusConflict || strings.Contains(page, "已保存") || strings.Contains(page, `value="`+foreign+`"`) {
		t.Errorf("a form with another county's site id: %d, saved %v, its id kept %v", st, strings.Contains(page, "已保存"), strings.Contains(page, `value="`+foreign+`"`))
	}
	if r, err := srv.App.DB.Get(ctx, syncproto.EntitySite, foreign); err != nil || r == nil || r.County != apptest.Dingxiang || r.Text("name") == "返回键重复测试点" {
		t.Fatalf("the other county's site after the form: %v %v", r, err)
	}
	// A new form is a new site, even of the same name.
	_, form = county.get("/console/sites/new")
	values.Set("new_id", regexp.MustCompile(`name="new_id" value="([0-9a-f-]{36})"`).FindStringSubmatch(form)[1])
	county.post("/console/sites", values)
	if recs, _ := srv.App.DB.Find(ctx, syncproto.EntitySite, "name", "返回键重复测试点"); len(recs) != 1 || recs[0].ID == m[1] {
		t.Fatalf("a second form of the same name: %d sites of the name, want the new one", len(recs))
	}

	other := uuid.NewString()
	serverWrite(t, srv, syncproto.EntitySite, other, apptest.Dingxiang, map[string]any{"county": apptest.Dingxiang,
		"kind": "coal_yard", "name": "定襄县别处煤场", "lon": 112.96, "lat": 38.47, "active": true})
	for _, saved := range []string{url.QueryEscape("伪造的成功消息"), other} {
		if _, page := county.get("/console/sites?saved=" + saved); siteIDRE.MatchString(page) {
			t.Errorf("sites?saved=%s shows a notice: %s", saved, siteIDRE.FindString(page))
		}
	}
}
