package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestConflictsOfEveryRecordShown: the values the merge did not keep are
// on the pages an office works from — an inspection's page lists its
// own, its findings' and its photos' (each named), a roadside check's
// page its own — with Chinese field names and values as shown elsewhere;
// before, only the inspection's own were, and a finding's lost
// description could be read only through the API.
func TestConflictsOfEveryRecordShown(t *testing.T) {
	srv := apptest.Start(t)
	a, b := srv.Login(apptest.Inspector), srv.Login(apptest.Inspector2)
	insp, finding := uuid.NewString(), uuid.NewString()
	apptest.PushApplied(t, a, apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("site_id", apptest.DemoSite(t, apptest.Xinfu),
		"template_id", "construction_dust", "template_version", 1, "status", "draft")))
	apptest.PushApplied(t, a, apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("inspection_id", insp, "description", "料棚破损", "status", "open")))
	// b's description, stamped before a's: it loses, and is logged.
	// Its wall clock is set a minute back: stamped in the same millisecond
	// as a's, the clocks' tie-break (counter, then node) could let it win.
	older := apptest.Mut(b, syncproto.EntityFinding, finding, apptest.Fields("description", "料棚破损（较早的描述）"))
	h, _ := syncproto.ParseHLC(older.HLC)
	h.Wall -= 60_000
	older.HLC = h.String()
	apptest.PushApplied(t, a, apptest.Mut(a, syncproto.EntityFinding, finding, apptest.Fields("description", "料棚东侧破损")))
	if r := apptest.Push(t, b, older).Results[0]; r.Status != syncproto.StatusStale {
		t.Fatalf("the older description: %+v, want stale", r)
	}
	apptest.PushApplied(t, a, apptest.Mut(a, syncproto.EntityInspection, insp, apptest.Fields("status", "submitted")))
	check := uuid.NewString()
	apptest.PushApplied(t, a, apptest.Mut(a, syncproto.EntityVehicleCheck, check, apptest.Fields("county", apptest.Xinfu, "checkpoint", "G108",
		"plate", "晋H12345", "checked_at", "2026-11-28T10:00:00+08:00", "note", "后来的备注")))
	lost := apptest.Mut(b, syncproto.EntityVehicleCheck, check, apptest.Fields("note", "较早的备注"))
	h, _ = syncproto.ParseHLC(lost.HLC)
	h.Wall -= 60_000
	lost.HLC = h.String()
	if r := apptest.Push(t, b, lost).Results[0]; r.Status != syncproto.StatusStale {
		t.Fatalf("the older vehicle note: %+v, want stale", r)
	}

	county := loggedIn(t, srv, apptest.CountyOffice)
	page := mustGet(t, county, "/console/inspections/"+insp)
	for _, want := range []string{"发现问题 …" + finding[len(finding)-8:], "问题描述", "料棚破损（较早的描述）", "被较新的修改覆盖"} {
		if !strings.Contains(page, want) {
			t.Errorf("the inspection's page lacks %q in its 冲突记录", want)
		}
	}
	page = mustGet(t, county, "/console/vehicles/"+check)
	for _, want := range []string{"冲突记录", "路检记录", "备注", "较早的备注", "被较新的修改覆盖"} {
		if !strings.Contains(page, want) {
			t.Errorf("the roadside check's page lacks %q", want)
		}
	}
	if strings.Contains(page, ">note<") || strings.Contains(page, `"较早的备注"`) {
		t.Error("a field shown by its API name, or a value as JSON")
	}

	// A site an inspector and an office both corrected: the lost address
	// is on the site's form, where the office corrects it.
	site := uuid.NewString()
	apptest.PushApplied(t, a, apptest.Mut(a, syncproto.EntitySite, site, apptest.Fields("county", apptest.Xinfu, "kind", "coal_yard",
		"name", "东关煤场", "address", "忻府区东关村北")))
	lostAddr := apptest.Mut(b, syncproto.EntitySite, site, apptest.Fields("address", "东关村（旧地址）"))
	h, _ = syncproto.ParseHLC(lostAddr.HLC)
	h.Wall -= 60_000
	lostAddr.HLC = h.String()
	if r := apptest.Push(t, b, lostAddr).Results[0]; r.Status != syncproto.StatusStale {
		t.Fatalf("the older address: %+v, want stale", r)
	}
	page = mustGet(t, county, "/console/sites/"+site)
	for _, want := range []string{"冲突记录", "地址", "东关村（旧地址）", "被较新的修改覆盖"} {
		if !strings.Contains(page, want) {
			t.Errorf("the site's form lacks %q", want)
		}
	}
	if page = mustGet(t, county, "/console/sites/new"); strings.Contains(page, "冲突记录") {
		t.Error("the form adding a site lists conflicts")
	}
}

// TestUnknownCountyFilter: a page or export asked for a county code no
// county has answers 400 saying so, to every viewer alike (the county
// office was told it may not see "county bogus", the city got an empty
// list); another county's real code stays out of scope for a county
// office.
func TestUnknownCountyFilter(t *testing.T) {
	srv := apptest.Start(t)
	county, city := loggedIn(t, srv, apptest.CountyOffice), loggedIn(t, srv, apptest.CityOffice)
	pages := []string{"/console/queue", "/console/findings", "/console/vehicles", "/console/ledger", "/console/sites", "/console/report",
		"/console/report.csv", "/console/queue.xlsx", "/console/findings.xlsx", "/console/vehicles.xlsx", "/console/ledger.xlsx"}
	for _, path := range pages {
		for _, code := range []string{"bogus", "999999", "14090"} {
			for name, b := range map[string]*browser{"county office": county, "city": city} {
				if st, page := b.get(path + "?county=" + code); st != http.StatusBadRequest || !strings.Contains(page, "没有代码为") {
					t.Errorf("%s %s?county=%s: %d, want 400 saying no such county", name, path, code, st)
				}
			}
		}
		if st, _ := county.get(path + "?county=" + apptest.Dingxiang); st != http.StatusForbidden {
			t.Errorf("county office %s?county=%s: %d, want 403", path, apptest.Dingxiang, st)
		}
	}
}

// TestPhotoNotYetCheckedOrRefused: a photo whose bytes have not arrived
// or are not processed says it is not checked yet, never 未发现异常 (no
// flag yet is not nothing found); one whose bytes were refused for good
// says so, with the refusal, instead of promising an automatic upload.
func TestPhotoNotYetCheckedOrRefused(t *testing.T) {
	srv := apptest.Start(t)
	insp := submit(t, srv.Login(apptest.Inspector), apptest.Xinfu)
	photo := func(values map[string]any) {
		t.Helper()
		base := map[string]any{"inspection_id": insp, "sha256": strings.Repeat("cd", 32), "captured_at": "2026-11-28T09:10:00+08:00"}
		for k, v := range values {
			base[k] = v
		}
		if err := srv.App.Syncer.Store.Update(ctx, func(tx server.WriteTx) error {
			return srv.App.Syncer.Upsert(ctx, tx, syncproto.EntityPhoto, uuid.NewString(), apptest.Xinfu, base)
		}); err != nil {
			t.Fatal(err)
		}
	}
	b := loggedIn(t, srv, apptest.CountyOffice)
	count := func(want string) int {
		t.Helper()
		return strings.Count(mustGet(t, b, "/console/inspections/"+insp), want)
	}
	photo(map[string]any{"caption": "未上传"})
	photo(map[string]any{"caption": "未处理", "uploaded": true})
	if n := count("未发现异常"); n != 0 {
		t.Errorf("photos not checked yet say 未发现异常 (%d times)", n)
	}
	if n := count("尚未检查"); n != 5 { // each in its figure and its lightbox, and the page's summary
		t.Errorf("尚未检查 shown %d times, want 5", n)
	}
	flagSummary := regexp.MustCompile(`<dd id="flag-summary">(.*?)</dd>`)
	if got := flagSummary.FindStringSubmatch(mustGet(t, b, "/console/inspections/"+insp)); got == nil || got[1] != "无（另有 2 张照片尚未检查）" {
		t.Errorf("the page's evidence flags before any: %v", got)
	}
	photo(map[string]any{"caption": "被拒收", "flags": map[string]any{server.FlagRefused: map[string]any{"code": "bad_image", "reason": "文件不是可读取的图片，请上传 JPEG、PNG 或 HEIC 照片"}}})
	page := mustGet(t, b, "/console/inspections/"+insp)
	// Flagged: said at the top of the page and beside 审核通过, with a link
	// to the photo — a reviewer approving from the top sees it.
	link := regexp.MustCompile(`<a href="#photo-([0-9a-f-]{36})">照片 \d+</a>`)
	summary := flagSummary.FindStringSubmatch(page)
	bar := regexp.MustCompile(`(?s)<p class="warn review-flags" id="review-flags">(.*?)</p>`).FindStringSubmatch(page)
	if summary == nil || !strings.Contains(summary[1], "1 张照片带证据标记") || !link.MatchString(summary[1]) || bar == nil || !link.MatchString(bar[1]) {
		t.Errorf("a flagged photo is not named at the top (%v) and beside 审核通过 (%v)", summary, bar)
	} else if id := link.FindStringSubmatch(summary[1])[1]; !strings.Contains(page, `<figure id="photo-`+id+`"`) {
		t.Errorf("the flag summary links to photo %s, not on the page", id)
	}
	for _, want := range []string{"照片文件被服务器拒收（原因见证据标记）", "手机不会再上传（文件不是可读取的图片"} {
		if !strings.Contains(page, want) {
			t.Errorf("the refused photo's figure lacks %q", want)
		}
	}
	if n := strings.Count(page, "手机联网后自动上传"); n != 2 { // its figure and its lightbox
		t.Errorf("自动上传 promised %d times, want twice (the photo not uploaded, not the refused one)", n)
	}
	photo(map[string]any{"caption": "已检查", "uploaded": true, "processed_at": "2026-11-28T09:11:00+08:00", "flags": map[string]any{}})
	if n := count("未发现异常"); n != 2 {
		t.Errorf("the processed photo without flags: 未发现异常 shown %d times, want 2", n)
	}
}
