package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

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
	if st, _ := county.get("/console/sites/" + dx); st != http.StatusForbidden {
		t.Errorf("the form of 定襄县's site: %d", st)
	}
	_, form := county.get("/console/sites/new")
	token := csrf(t, form)
	if st, _ := county.post("/console/sites/"+dx, url.Values{"csrf": {token}, "name": {"改名"}, "kind": {"coal_yard"}, "crs": {"wgs84"}}); st != http.StatusForbidden {
		t.Errorf("correcting 定襄县's site: %d", st)
	}
	if st, _ := county.post("/console/sites", url.Values{"csrf": {token}, "county": {apptest.Dingxiang}, "name": {"越权"}, "kind": {"coal_yard"}, "crs": {"wgs84"}}); st != http.StatusForbidden {
		t.Errorf("adding a site in 定襄县: %d", st)
	}

	// Add a site; the phone pulls it.
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")
	st, page = county.post("/console/sites", url.Values{"csrf": {token}, "county": {apptest.Xinfu}, "name": {"忻府区新建搅拌站"},
		"kind": {"factory"}, "address": {"忻府区奇村镇"}, "lon": {"112.70"}, "lat": {"38.45"}, "crs": {"gcj02"}, "radius_m": {"250"}, "active": {"1"}})
	if st != http.StatusOK || !siteIDRE.MatchString(page) || !strings.Contains(page, "忻府区新建搅拌站") {
		t.Fatalf("add site: %d\n%s", st, page)
	}
	id := regexp.MustCompile(`<tr data-id="([^"]+)"><td>忻府区新建搅拌站`).FindStringSubmatch(page)
	if id == nil {
		t.Fatalf("new site not listed:\n%s", page)
	}
	changes, cursor := pullAll(t, phone, cursor)
	if !pulledSite(changes, id[1], "忻府区新建搅拌站") {
		t.Errorf("the phone did not pull the new site: %+v", changes)
	}
	// Correct it; the phone pulls the correction.
	st, page = county.post("/console/sites/"+id[1], url.Values{"csrf": {token}, "name": {"忻府区奇村搅拌站"}, "kind": {"factory"},
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

func pulledSite(changes []syncproto.Change, id, name string) bool {
	for _, c := range changes {
		if c.Entity == syncproto.EntitySite && c.ID == id && strings.Contains(string(c.Fields["name"]), name) {
			return true
		}
	}
	return false
}

// TestMap: the map draws the sites and the month's inspections coloured by
// result as SVG with no tile server, and over the tiles with one.
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
	if strings.Contains(page, "<image") {
		t.Error("map draws tiles with no tile server")
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
}

// TestPageBeyondEveryList: a list page asked for past the end, however
// far, shows no rows and links back, never rows of an offset that
// wrapped around.
func TestPageBeyondEveryList(t *testing.T) {
	srv := apptest.Start(t)
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, path := range []string{"/console/vehicles", "/console/queue", "/console/sites"} {
		for _, page := range []string{"9223372036854775807", "4611686018427387905", "1048577"} {
			st, body := county.get(path + "?page=" + page)
			if st != http.StatusOK {
				t.Errorf("%s page %s: %d", path, page, st)
				continue
			}
			if strings.Contains(body, "page=-") || strings.Contains(body, "data-id=") {
				t.Errorf("%s page %s shows rows or a negative page link", path, page)
			}
		}
	}
}
