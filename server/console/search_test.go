package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/internal/logtest"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// serverWrite writes a record through the server's own write path, as an
// office tool does.
func serverWrite(t *testing.T, srv *apptest.Server, entity, id, county string, values map[string]any) {
	t.Helper()
	err := srv.App.DB.Update(ctx, func(tx server.WriteTx) error {
		return srv.App.Syncer.Upsert(ctx, tx, entity, id, county, values)
	})
	if err != nil {
		t.Fatalf("write %s %s: %v", entity, id, err)
	}
}

// TestSearch: the header's search finds a plate, a site, an inspector, a
// record id and a finding's text in the viewer's counties — and 忻府区's
// office finds nothing of 定襄县's by any of them, while the city does.
func TestSearch(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	vc := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, vc, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "忻州北收费站", "plate", "晋H30272", "emission_stage", "cn6", "fuel", "diesel", "aftertreatment", "removed",
		"action", "fine", "checked_at", "2026-11-28T10:00:00+08:00")))
	insp := submit(t, phone, apptest.Xinfu)
	xinfuSite := apptest.DemoSite(t, apptest.Xinfu)

	// 定襄县's records, each reachable by a term of its own.
	dxSite, dxInsp, dxFinding, dxCheck := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	serverWrite(t, srv, syncproto.EntitySite, dxSite, apptest.Dingxiang, map[string]any{"county": apptest.Dingxiang,
		"kind": "coal_yard", "name": "定襄县宏达煤场", "address": "定襄县晋昌镇东关村", "lon": 112.96, "lat": 38.47, "radius_m": 300.0, "active": true})
	serverWrite(t, srv, syncproto.EntityInspection, dxInsp, apptest.Dingxiang, map[string]any{"site_id": dxSite,
		"template_id": "construction_dust", "template_version": 1, "status": "submitted", "started_at": "2026-11-27T09:00:00+08:00",
		"summary": "定襄县煤场苫盖检查"})
	serverWrite(t, srv, syncproto.EntityFinding, dxFinding, apptest.Dingxiang, map[string]any{"inspection_id": dxInsp,
		"description": "西侧煤堆未苫盖防尘网", "severity": "major", "status": "open"})
	serverWrite(t, srv, syncproto.EntityVehicleCheck, dxCheck, apptest.Dingxiang, map[string]any{"county": apptest.Dingxiang,
		"checkpoint": "定襄县S313检查点", "plate": "晋H88661", "emission_stage": "cn5", "fuel": "diesel", "aftertreatment": "present",
		"action": "release", "checked_at": "2026-11-27T11:00:00+08:00"})

	county := loggedIn(t, srv, apptest.CountyOffice)
	city := loggedIn(t, srv, apptest.CityOffice)
	search := func(b *browser, q string) string {
		t.Helper()
		st, page := b.get("/console/search?q=" + url.QueryEscape(q))
		if st != http.StatusOK {
			t.Fatalf("search %q: %d\n%s", q, st, page)
		}
		return page
	}
	for _, tc := range []struct {
		q    string
		want []string // on the county office's page
	}{
		{"晋H30272", []string{`data-id="` + vc + `"`, "忻州北收费站", "处罚"}},
		{"晋h 30272", []string{`data-id="` + vc + `"`}}, // lower case, a space
		{"30272", []string{`data-id="` + vc + `"`}},
		{insp, []string{`data-id="` + insp + `"`, "/console/inspections/" + insp}},
		{"inspector", []string{`data-id="` + insp + `"`, `data-id="` + vc + `"`}},
		{xinfuSite[:8], []string{`data-id="` + xinfuSite + `"`}},
		{"东侧料堆", []string{`data-id="` + insp + `"`}}, // a failed answer's note
		// What a paste or an IME brings: a direction mark, a zero-width
		// space, an ideographic space, full-width letters and punctuation.
		{"\u200f忻州北收费\u200b站", []string{`data-id="` + vc + `"`}},
		{"忻州北收费站\u3000", []string{`data-id="` + vc + `"`}},
		{"晋Ｈ－３０２７２", []string{`data-id="` + vc + `"`}},
	} {
		page := search(county, tc.q)
		for _, w := range tc.want {
			if !strings.Contains(page, w) {
				t.Errorf("search %q lacks %s", tc.q, w)
			}
		}
	}
	dxTerms := []string{"定襄县宏达煤场", "晋昌镇东关", "西侧煤堆未苫盖", "晋H88661", "H88661", dxInsp, dxFinding[:13], dxCheck, dxSite, "定襄县S313", "定襄"}
	for _, q := range dxTerms {
		page := search(county, q)
		for _, id := range []string{dxSite, dxInsp, dxFinding, dxCheck} {
			if strings.Contains(page, `data-id="`+id+`"`) {
				t.Errorf("忻府区's office searching %q sees 定襄县's record %s", q, id)
			}
		}
		if !strings.Contains(page, "共找到 0 条") {
			t.Errorf("忻府区's office searching %q finds something:\n%s", q, page)
		}
	}
	// The city sees every county.
	for q, id := range map[string]string{"定襄县宏达煤场": dxSite, "西侧煤堆未苫盖": dxFinding, "晋H88661": dxCheck, dxInsp: dxInsp, "晋H30272": vc} {
		if page := search(city, q); !strings.Contains(page, `data-id="`+id+`"`) {
			t.Errorf("the city searching %q lacks %s", q, id)
		}
	}
	// A section cut at its first 50 makes the total a least count.
	if page := search(county, "晋H"); !strings.Contains(page, "路检路查（50+）") || !regexp.MustCompile(`共找到 至少 \d+ 条记录`).MatchString(page) {
		t.Errorf("a search with more than 50 roadside checks does not say its total is a least count:\n%.600s", page[strings.Index(page, "search-summary"):])
	}
	if page := search(county, "晋H30272"); !regexp.MustCompile(`共找到 \d+ 条记录`).MatchString(page) || strings.Contains(page, "至少") {
		t.Errorf("a search with every hit shown does not give its exact total")
	}
	// LIKE's wildcards are literal.
	if page := search(county, "%"); !strings.Contains(page, "共找到 0 条") {
		t.Errorf("search %% matches everything")
	}
	// Only a scoped office's summary says it is scoped.
	if !strings.Contains(search(county, "晋H30272"), "（仅限本单位管辖区县）") || strings.Contains(search(city, "晋H30272"), "仅限本单位") {
		t.Error("the summary's scope note is not the county office's only")
	}
	// A voided check reads 已作废, as on its page; an inspection sent
	// without its start is at its receipt and says so, as in the queue
	// (the search probe: neither did).
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(t.Context(), http.MethodPost, "/api/v1/vehicle-checks/"+vc+"/void", map[string]any{"decision": "void", "comment": "重复录入"}, nil); err != nil {
		t.Fatal(err)
	}
	if row := rowOf(search(county, "晋H30272"), vc); !strings.Contains(row, "已作废（原为处罚）") {
		t.Errorf("the voided check's row: %q", row)
	}
	// A choice's option code is no text anyone typed: not found by it; a
	// text answer is (the search probe: not_started found 13 inspections).
	boiler := pushAt(t, phone, apptest.DemoSiteFor(t, apptest.Xinfu, "coal_boiler"), "coal_boiler", 3, "status", "submitted",
		"started_at", "2026-11-28T09:00:00+08:00", "answers.boiler_status", map[string]any{"value": "burning"},
		"answers.boiler_number", map[string]any{"value": "锅炉ZX-7"})
	if row := rowOf(search(county, "burning"), boiler); row != "" {
		t.Errorf("an option code finds the inspection: %q", row)
	}
	if row := rowOf(search(county, "锅炉ZX-7"), boiler); row == "" {
		t.Error("a text answer does not find its inspection")
	}
	noStart := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, noStart, apptest.Fields("site_id", xinfuSite,
		"template_id", "construction_dust", "template_version", 1, "status", "submitted", "summary", "未填开始时间的检查ZQ")))
	if row := rowOf(search(county, "未填开始时间的检查ZQ"), noStart); !strings.Contains(row, "（未填开始时间，按收到时间）") ||
		!regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}（未填`).MatchString(row) {
		t.Errorf("the row of an inspection sent without its start: %q", row)
	}
	// Every page has the search box.
	for _, path := range []string{"/console/queue", "/console/ledger", "/console/vehicles", "/console/devices"} {
		if _, page := county.get(path); !strings.Contains(page, `action="/console/search"`) || strings.Contains(page, "no value") {
			t.Errorf("%s lacks the header's search box", path)
		}
	}
}

// TestPlateSpellings: a plate typed in any of the spellings a phone's
// keyboard makes (case, full-width letters and digits, the dot or a space
// or a hyphen between its parts) is stored in one spelling, pulled back in
// it under the phone's own HLC, and found by a search in any of them; a
// VIN likewise. A plate of separators only is blank.
func TestPlateSpellings(t *testing.T) {
	srv := apptest.Start(t)
	phone := srv.Login(apptest.Inspector)
	_, cursor := pullAll(t, phone, "")
	spellings := []string{"晋H30276", "晋h30276", "晋H 30276", "晋H·30276", "晋H-30276", "晋H•30276",
		"晋Ｈ３０２７６", "晋ｈ３０２７６", "晋H\u300030276", "晋H\u00a030276", " 晋H.30276\u2006"}
	hlcs := map[string]string{}
	for _, p := range spellings {
		id := uuid.NewString()
		m := apptest.Mut(phone, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "忻州北收费站", "plate", p, "vin", "lfv2a21k 5831 23456", "emission_stage", "cn6", "aftertreatment", "removed",
			"checked_at", "2026-11-28T10:00:00+08:00"))
		apptest.PushApplied(t, phone, m)
		hlcs[id] = m.HLC
	}
	changes, _ := pullAll(t, phone, cursor)
	n := 0
	for _, c := range changes {
		if h, ok := hlcs[c.ID]; ok {
			n++
			if got := string(c.Fields["plate"]); got != `"晋H30276"` || c.HLCs["plate"] != h {
				t.Errorf("pulled plate %s at %s, want \"晋H30276\" at the phone's HLC %s", got, c.HLCs["plate"], h)
			}
			if got := string(c.Fields["vin"]); got != `"LFV2A21K583123456"` {
				t.Errorf("pulled vin %s, want \"LFV2A21K583123456\"", got)
			}
		}
	}
	if n != len(spellings) {
		t.Errorf("pulled %d of the %d checks", n, len(spellings))
	}

	// A plate an inspector wrote into an answer or a summary is text,
	// kept as typed: found as typed, dot and all, and by its digits.
	insp := uuid.NewString()
	apptest.PushApplied(t, phone, apptest.Mut(phone, syncproto.EntityInspection, insp, apptest.Fields(
		"site_id", apptest.DemoSiteFor(t, apptest.Xinfu, "roadside_truck"), "template_id", "roadside_truck", "template_version", 1,
		"status", "submitted", "started_at", "2026-11-28T09:00:00+08:00", "summary", "复查晋ｈ·５５５０１",
		"answers.plate", map[string]any{"value": "晋H·D1234"})))
	county := loggedIn(t, srv, apptest.CountyOffice)
	for _, q := range []string{"晋H·D1234", " 晋H·D1234 ", "晋h·d1234", "H·D1234", "D1234", "晋ｈ·５５５０１", "晋h·55501", "55501"} {
		if _, page := county.get("/console/search?q=" + url.QueryEscape(q)); !strings.Contains(page, `data-id="`+insp+`"`) {
			t.Errorf("search %q misses the inspection whose answer or summary holds it", q)
		}
	}
	for _, q := range spellings {
		st, page := county.get("/console/search?q=" + url.QueryEscape(q))
		if st != http.StatusOK {
			t.Fatalf("search %q: %d", q, st)
		}
		for id := range hlcs {
			if !strings.Contains(page, `data-id="`+id+`"`) {
				t.Errorf("search %q misses a check of the plate", q)
				break
			}
		}
	}

	for _, blank := range []string{"·-", "\u3000 ", "．"} {
		r := apptest.Push(t, phone, apptest.Mut(phone, syncproto.EntityVehicleCheck, uuid.NewString(), apptest.Fields("county", apptest.Xinfu,
			"checkpoint", "忻州北收费站", "plate", blank, "emission_stage", "cn6", "aftertreatment", "removed",
			"checked_at", "2026-11-28T10:00:00+08:00"))).Results[0]
		if r.Status != syncproto.StatusRejected || r.Code != syncproto.CodeInvalidValue {
			t.Errorf("plate %q: %s %s, want rejected invalid_value (blank, sync.md §13)", blank, r.Status, r.Code)
		}
	}
}

// TestTypedFiltersBounded: every filter typed in a box — the header's
// search, 点位, 路检路查 and its export, 同步状态, the report's 责任单位 —
// refuses more than 500 characters (a site's address, the longest value
// one names whole) with a 400 that says so, however long the text and
// whatever its script, never a 500 (attacker probe: 20,000 characters on
// 点位 passed SQLite's LIKE limit: a 500 and an ERROR logged); 500
// characters are a filter like any other.
func TestTypedFiltersBounded(t *testing.T) {
	var logs logtest.Buffer
	srv := apptest.StartLogged(t, &logs)
	b := loggedIn(t, srv, apptest.Admin)
	filters := []struct{ path, param string }{
		{"/console/search", "q"}, {"/console/sites", "q"}, {"/console/vehicles", "checkpoint"}, {"/console/vehicles", "plate"},
		{"/console/vehicles", "campaign"}, {"/console/vehicles.xlsx", "checkpoint"}, {"/console/vehicles.xlsx", "plate"},
		{"/console/report.csv", "unit"}, {"/console/report.xlsx", "unit"},
		{"/console/devices", "q"}, {"/console/report", "unit"},
	}
	for _, f := range filters {
		for _, text := range []string{strings.Repeat("x", 501), strings.Repeat("一", 501), strings.Repeat("Ｇ", 20000), strings.Repeat("%_", 30000)} {
			st, page := b.get(f.path + "?" + url.Values{f.param: {text}}.Encode())
			if st != http.StatusBadRequest || !strings.Contains(page, "搜索内容不能超过 500 个字") {
				t.Errorf("%s?%s= %d characters: %d, want 400 saying the limit\n%.300s", f.path, f.param, utf8.RuneCountInString(text), st, page)
			}
		}
		// (An unknown 责任单位 is refused for its own sake.)
		for _, text := range []string{strings.Repeat("一", 500), strings.Repeat("Ｇ", 500), strings.Repeat("%_", 250)} {
			if st, page := b.get(f.path + "?" + url.Values{f.param: {text}}.Encode()); st >= 500 || strings.Contains(page, "不能超过") {
				t.Errorf("%s?%s= 500 characters: %d, want it taken\n%.300s", f.path, f.param, st, page)
			}
		}
	}
	// The report's 责任单位 folds what prints nothing, as the others do
	// (verification probe: a pasted zero-width space refused the unit).
	m := regexp.MustCompile(`<select name="unit"><option value="">全部</option><option value="([^"]+)"`).FindStringSubmatch(mustGet(t, b, "/console/report"))
	if m == nil {
		t.Fatal("the report offers no 责任单位")
	}
	if st, page := b.get("/console/report?" + url.Values{"unit": {m[1] + "\u200b"}}.Encode()); st != http.StatusOK {
		t.Errorf("the unit %q with a zero-width space: %d\n%.300s", m[1], st, page)
	}
	if errs := logs.Records("console error"); len(errs) > 0 {
		t.Errorf("console errors logged: %v", errs)
	}
}
