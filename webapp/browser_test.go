package webapp_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
)

var ctx = context.Background()

// demoSite returns the demo site named name and where it is (WGS-84).
func demoSite(t *testing.T, srv *apptest.Server, name string) (*server.StoredRecord, geo.Point) {
	t.Helper()
	recs, err := srv.App.DB.Find(ctx, "site", "name", name)
	if err != nil || len(recs) != 1 {
		t.Fatalf("demo site %q: %d records, %v", name, len(recs), err)
	}
	var p geo.Point
	_ = json.Unmarshal(recs[0].Value("lon_wgs84"), &p.Lon)
	_ = json.Unmarshal(recs[0].Value("lat_wgs84"), &p.Lat)
	if p.Lon == 0 {
		t.Fatalf("demo site %q has no position", name)
	}
	return recs[0], p
}

// near is 30 m north-east of p.
func near(p geo.Point) geo.Point { return geo.Point{Lon: p.Lon + 0.00025, Lat: p.Lat + 0.0002} }

// jpeg writes a real camera-like JPEG with EXIF (time now, GPS at, the
// camera's make and model, and software if not empty) and returns its path.
func jpeg(t *testing.T, name string, seed uint64, at geo.Point, software string) string {
	t.Helper()
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	acc := 5.0
	b := testimg.JPEG(testimg.Options{Width: 1600, Height: 1200, Seed: seed, Time: &now, GPS: &at, GPSAccuracyM: &acc,
		Make: "HUAWEI", Model: "NOH-AN00", Software: software})
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// get reads a record from the server's store.
func get(t *testing.T, srv *apptest.Server, entity, id string) *server.StoredRecord {
	t.Helper()
	r, err := srv.App.DB.Get(ctx, entity, id)
	if err != nil {
		t.Fatalf("store: %s %s: %v", entity, id, err)
	}
	return r
}

func field[T any](t *testing.T, r *server.StoredRecord, name string) T {
	t.Helper()
	var v T
	if raw := r.Value(name); raw != nil {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: field %s = %s: %v", r.Entity.Name, r.ID, name, raw, err)
		}
	}
	return v
}

// answer taps value on item key and waits until it shows pressed and
// it is saved.
func (p *phone) answer(key, value string) {
	p.t.Helper()
	p.click(`#item-` + key + ` button[data-value="` + value + `"]`)
	p.wait(`#item-` + key + ` button.on[data-value="` + value + `"]`)
	// Shown pressed at once, saved after: the answer (and its finding)
	// is in the phone's store when this returns.
	eval[bool](p, `import('/app/js/views/inspection.js').then((m) => m.answersSaved()).then(() => true)`)
}

// typeIn types text into the field sel and leaves it (change event), then
// waits for cond.
func (p *phone) typeIn(sel, text, cond string) {
	p.t.Helper()
	p.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
	eval[bool](p, `(document.querySelector(`+"`"+sel+"`"+`).blur(), true)`)
	p.waitJS(cond, cond)
}

// photo passes a file to item key's camera input, as the camera would.
func (p *phone) photo(key, path string) {
	p.t.Helper()
	n := eval[int](p, `document.querySelectorAll('#item-`+key+` .thumb[data-photo]').length`)
	p.do("take a photo for "+key, chromedp.SetUploadFiles(chromedp.CSS(`#item-`+key+` input[type="file"]`), []string{path}))
	p.waitJS("photo of "+key+" shown", `document.querySelectorAll('#item-`+key+` .thumb[data-photo] img[src^="blob:"]').length > `+itoa(n))
}

// inspectorAt starts a server, and a phone near the demo site named name
// with the inspector signed in.
func inspectorAt(t *testing.T, name string) (*apptest.Server, *server.StoredRecord, *phone, geo.Point) {
	t.Helper()
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, name)
	p := newPhone(t, browserFor(t), srv.URL, "inspector", near(at))
	p.signIn(apptest.Inspector)
	return srv, site, p, at
}

// startInspection opens the site's page, starts an inspection with the
// checklist template there and returns its id.
func (p *phone) startInspection(siteID, template string) string {
	p.t.Helper()
	p.goHash("#/site/"+siteID, `button.start[data-template="`+template+`"]`)
	p.click(`button.start[data-template="` + template + `"]`)
	p.wait(`#inspection`)
	return eval[string](p, `document.querySelector('#inspection').dataset.id`)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// goHash shows a screen of the app (location.hash) and waits for sel.
func (p *phone) goHash(hash, sel string) {
	p.t.Helper()
	eval[bool](p, `(location.hash = '`+hash+`', true)`)
	p.wait(sel)
}

// TestBrowserInspection drives the app as an inspector does, in headless
// Chromium on a phone-sized screen: sign in; go offline and reload (the
// service worker opens the app and the county's sites are there); do a
// whole inspection with two real photos from the camera input and the
// phone's position; close and reopen the app (the draft and the queued
// photos are still there); submit; come back online (everything reaches
// the server, photos processed, flags raised); the county office returns
// it in the console; the app shows the comment; the inspector corrects and
// submits again; the office approves; the app shows it approved and locked.
func TestBrowserInspection(t *testing.T) {
	srv := apptest.Start(t)
	site, at := demoSite(t, srv, "忻府区锦绣华庭小区二期工地")
	bctx := browserFor(t)
	p := newPhone(t, bctx, srv.URL, "inspector", near(at))
	p.shot("app-login.png")
	p.signIn(apptest.Inspector)
	p.waitJS("the service worker controls the app", `!!(navigator.serviceWorker && navigator.serviceWorker.controller)`)
	p.has("你好，张巡查", "立即同步", "待整改问题")
	p.shot("app-home.png")

	// Offline: a reload opens the app from its service worker, with the
	// county's sites.
	p.setOffline(true)
	p.do("reload offline", chromedp.Reload())
	p.waitJS("the app started offline", `document.body.dataset.ready === '1' && navigator.onLine === false`)
	if got := p.text("#net"); got != "离线" {
		t.Errorf("offline, the title bar says %q", got)
	}
	p.click(`#tabs a[data-tab="sites"]`)
	p.wait(`#site-list a.item`)
	if n := eval[int](p, `document.querySelectorAll('#site-list a.item').length`); n < 5 {
		t.Errorf("offline, the sites list shows %d sites of 忻府区", n)
	}
	p.do("search", chromedp.SendKeys(chromedp.CSS(`#site-search`), "锦绣华庭"))
	p.wait(`#site-list a[data-id="` + site.ID + `"]`)
	p.has("按与当前位置的距离排序", "3")
	p.shot("app-sites.png")
	p.click(`#site-list a[data-id="` + site.ID + `"]`)
	p.wait(`button.start[data-template="construction_dust"]`)
	p.shot("app-site.png")
	p.click(`button.start[data-template="construction_dust"]`)
	p.wait(`#inspection`)
	insp := eval[string](p, `document.querySelector('#inspection').dataset.id`)

	// Not complete: submit refuses and names what is missing.
	p.click(`#submit`)
	p.waitJS("refused", `document.querySelector('#insp-error').textContent.includes('不能提交')`)
	p.shot("app-inspection-new.png")

	// Fill it in: photos for the fence (passed) and the uncovered material
	// (failed, with a note: a finding); other photo items not applicable.
	p.answer("fence", "pass")
	p.photo("fence", jpeg(t, "fence.jpg", 1, near(at), ""))
	p.answer("material_cover", "fail")
	p.typeIn(`#item-material_cover textarea[data-note]`, "东侧料堆裸露",
		`document.querySelector('#item-material_cover [data-finding-for]')?.textContent.includes('期限')`)
	p.photo("material_cover", jpeg(t, "cover.jpg", 2, near(at), "美图秀秀"))
	for _, k := range []string{"road_paving", "wet_operation", "vehicle_washing", "muck_enclosed", "dusty_work_stopped",
		"muck_truck_permit", "muck_truck_spillage", "muck_dumping"} {
		p.answer(k, "na")
	}
	for _, k := range []string{"online_monitor", "video_monitor", "night_work_permit", "muck_truck_route"} {
		p.answer(k, "pass")
	}
	p.typeIn(`#item-pm10_reading input[data-input]`, "9999", `document.querySelector('#item-pm10_reading .err').textContent.includes('超出范围')`)
	p.do("clear pm10", chromedp.SetValue(chromedp.CSS(`#item-pm10_reading input[data-input]`), ""))
	p.typeIn(`#item-pm10_reading input[data-input]`, "128", `document.querySelector('#item-pm10_reading input').value === '128' && !document.querySelector('#item-pm10_reading .err').textContent`)
	p.typeIn(`#item-muck_truck_plates textarea[data-input]`, "晋H·D1234", `!!document.querySelector('#missing[data-complete]')`)
	p.shot("app-inspection-filled.png")

	// Close the app and open it again, still offline: all is there.
	p.reopen()
	p.goHash("#/inspection/"+insp, `#item-fence button.on[data-value="pass"]`)
	// The tiles are drawn at once and their pictures read from the phone's
	// storage after: wait for both.
	p.waitJS("after reopening, the 2 queued photos shown", `document.querySelectorAll('#inspection .thumb[data-uploaded="false"] img[src^="blob:"]').length === 2`)
	p.wait(`#missing[data-complete]`)
	p.click(`#submit`)
	p.waitJS("submitted", `document.querySelector('#status')?.textContent.includes('已提交')`)
	p.has("已提交，等待督查室审核", "有修改待上传", "2 张照片待上传")
	p.shot("app-inspection-submitted-offline.png")
	p.click(`#tabs a[data-tab="home"]`)
	p.waitJS("two photos wait", `document.querySelector('#pending-photos')?.textContent === '2'`)
	p.shot("app-home-offline.png")

	// Online again: the app syncs by itself.
	p.setOffline(false)
	p.waitSynced()
	srv.App.Photos.WaitIdle()
	r := get(t, srv, "inspection", insp)
	if s := field[string](t, r, "status"); s != "submitted" {
		t.Errorf("server: inspection status %q, want submitted", s)
	}
	if m := field[[]any](t, r, "missing_items"); len(m) != 0 {
		t.Errorf("server: missing_items %v, want none", m)
	}
	if a := string(r.Value("answers.material_cover")); a != `{"note":"东侧料堆裸露","result":"fail"}` {
		t.Errorf("server: answers.material_cover = %s", a)
	}
	if a := string(r.Value("answers.pm10_reading")); a != `{"value":128}` {
		t.Errorf("server: answers.pm10_reading = %s", a)
	}
	photos, err := srv.App.DB.Find(ctx, "photo", "inspection_id", insp)
	if err != nil || len(photos) != 2 {
		t.Fatalf("server: %d photos of the inspection (%v), want 2", len(photos), err)
	}
	for _, ph := range photos {
		flags := field[map[string]any](t, ph, "flags")
		key := field[string](t, ph, "item_key")
		switch {
		case !field[bool](t, ph, "uploaded") || field[string](t, ph, "processed_at") == "":
			t.Errorf("server: photo %s (%s) not uploaded and processed", ph.ID, key)
		case field[string](t, ph, "crs") != "wgs84" || field[float64](t, ph, "accuracy_m") != phoneAccuracy:
			t.Errorf("server: photo %s: crs %s accuracy %s", ph.ID, ph.Value("crs"), ph.Value("accuracy_m"))
		case field[map[string]any](t, ph, "exif")["model"] != "NOH-AN00":
			t.Errorf("server: photo %s: exif %s: the original's EXIF did not arrive", ph.ID, ph.Value("exif"))
		case key == "fence" && len(flags) != 0:
			t.Errorf("server: the fence's photo has flags %v, want none", flags)
		case key == "material_cover" && flags["edited"] == nil:
			t.Errorf("server: the edited photo has flags %v, want edited", flags)
		}
	}
	findings, err := srv.App.DB.Find(ctx, "finding", "inspection_id", insp)
	if err != nil || len(findings) != 1 {
		t.Fatalf("server: %d findings (%v), want 1", len(findings), err)
	}
	f := findings[0]
	wantDeadline := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
	if field[string](t, f, "item_key") != "material_cover" || field[string](t, f, "deadline") != wantDeadline ||
		field[string](t, f, "severity") != "major" || !strings.Contains(field[string](t, f, "description"), "东侧料堆裸露") {
		t.Errorf("server: finding %v", f.State.Fields)
	}
	p.shot("app-home-synced.png")

	// The county office returns it; the app shows the comment.
	o := newOffice(t, bctx, srv, apptest.CountyOffice)
	comment := "PM10 读数请复核，并补充渣土车车牌"
	o.review(insp, "return", comment)
	p.click(`#sync-now`)
	p.wait(`#returned a[data-id="` + insp + `"]`)
	p.has("被退回的检查（1）", comment)
	p.has("待整改问题（1）", "物料堆放100%苫盖：不合格。东侧料堆裸露") // the finding, named by the item
	p.shot("app-home-returned.png")

	// Correct and submit again.
	p.click(`#returned a[data-id="` + insp + `"]`)
	p.wait(`#review-comment`)
	p.has(comment)
	p.shot("app-inspection-returned.png")
	// The field is focused before it is cleared, so that a background
	// sync ending meanwhile does not draw the page again between clearing
	// and typing (the app waits for the inspector to leave a field). It is
	// marked before the edit: the app draws the page again from its store
	// once it has saved an answer, so an unmarked field showing 86 is the
	// saved answer. (The "unsent" badge proves less: the minute's
	// background sync may send the edit before the test looks.)
	pm10 := `#item-pm10_reading input[data-input]`
	p.do("clear pm10", chromedp.Focus(chromedp.CSS(pm10)), chromedp.SetValue(chromedp.CSS(pm10), ""))
	eval[bool](p, `(document.querySelector('`+pm10+`').dataset.typed = '1', true)`)
	p.setOffline(true) // the correction waits on the phone, as said
	p.typeIn(pm10, "86", `(() => { const i = document.querySelector('`+pm10+`'); `+
		`return i.value === '86' && !i.dataset.typed && !document.querySelector('#item-pm10_reading .err').textContent; })()`)
	// The status and the edit waiting are two badges a screen reader
	// says apart (a11y probe: 已退回，待修改有修改待上传, one phrase).
	p.wait(`#unsent`)
	if got := eval[string](p, `document.querySelector('#status-line').textContent`); got != "已退回，待修改；有修改待上传" {
		t.Errorf("the returned inspection's status line, corrected offline, reads %q, want its two badges said apart", got)
	}
	p.setOffline(false)
	// Resubmitted at least a second after the first submission (the
	// app's times are to the second): the visit's end stays the first's.
	ended := field[string](t, r, "finished_at")
	p.waitJS("a second after the first submission", `Date.now() - Date.parse('`+ended+`') >= 1000`)
	p.click(`#submit`)
	p.waitJS("resubmitted", `document.querySelector('#status')?.textContent.includes('已提交')`)
	if got := p.text(`#visit-times`); !strings.Contains(got, "首次提交于") {
		t.Errorf("a resubmitted inspection's times read %q, want its first submission said as such", got)
	}
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	r = get(t, srv, "inspection", insp)
	if s := field[string](t, r, "status"); s != "submitted" || string(r.Value("answers.pm10_reading")) != `{"value":86}` {
		t.Errorf("server after the correction: status %q pm10 %s", s, r.Value("answers.pm10_reading"))
	}
	if got := field[string](t, r, "finished_at"); ended == "" || got != ended {
		t.Errorf("finished_at %q after the resubmission, want the first submission's %q (the visit's end)", got, ended)
	}

	// Approved: the app shows it approved and locked.
	o.review(insp, "approve", "")
	p.click(`#sync-now`)
	p.waitSynced()
	p.goHash("#/inspection/"+insp, `#locked`)
	p.has("已审核通过，记录已锁定")
	if n := eval[int](p, `document.querySelectorAll('#inspection button:not(:disabled), #inspection input:not(:disabled), #inspection textarea:not(:disabled)').length`); n != 0 {
		t.Errorf("the approved inspection has %d controls enabled", n)
	}
	if n := eval[int](p, `document.querySelectorAll('#submit, #inspection input[type=file]').length`); n != 0 {
		t.Errorf("the approved inspection offers submit or the camera")
	}
	p.shot("app-inspection-approved.png")
}
