package webapp_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
	"github.com/xinzhou-eco/fieldsync/server/geo"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserRoadside: a roadside check entered offline, with a photo,
// arrives on the server with the vocabulary's codes and its photo; the
// checkpoint and the campaign are kept for the next vehicle.
func TestBrowserRoadside(t *testing.T) {
	srv, p, at := roadsidePhone(t)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="campaign"]`), "柴油货车冬季专项"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e123"),
		chromedp.SendKeys(chromedp.CSS(`input[name="urea"]`), "12"))
	for _, c := range [][2]string{{"plate_color", "黄"}, {"emission_stage", "cn5"}, {"fuel", "diesel"}, {"obd_mil", "on"},
		{"aftertreatment", "removed"}, {"action", "fine"}} {
		p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
	}
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck.jpg", 7, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`)
	p.shot("app-vehicle-form.png")
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	if cp := eval[string](p, `document.querySelector('input[name="checkpoint"]').value + '|' + document.querySelector('input[name="campaign"]').value`); cp != "豆罗检查站|柴油货车冬季专项" {
		t.Errorf("the next vehicle's form has %q, want the checkpoint and campaign kept", cp)
	}
	if v := eval[string](p, `document.querySelector('input[name="plate"]').value`); v != "" {
		t.Errorf("the next vehicle's plate is %q, want empty", v)
	}
	p.has("晋H7E123", "待上传")
	p.shot("app-vehicle-saved.png")

	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	srv.App.Photos.WaitIdle()
	recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H7E123")
	if err != nil || len(recs) != 1 {
		t.Fatalf("server: %d vehicle checks for 晋H7E123 (%v)", len(recs), err)
	}
	v := recs[0]
	for k, want := range map[string]string{"county": `"140902"`, "checkpoint": `"豆罗检查站"`, "campaign": `"柴油货车冬季专项"`,
		"plate_color": `"黄"`, "emission_stage": `"cn5"`, "fuel": `"diesel"`, "obd_mil": `true`, "aftertreatment": `"removed"`,
		"urea_level_pct": `12`, "action": `"fine"`} {
		if got := string(v.Value(k)); got != want {
			t.Errorf("server: vehicle_check.%s = %s, want %s", k, got, want)
		}
	}
	photos, err := srv.App.DB.Find(ctx, "photo", "vehicle_check_id", v.ID)
	if err != nil || len(photos) != 1 {
		t.Fatalf("server: %d photos of the vehicle check (%v), want 1", len(photos), err)
	}
	if !field[bool](t, photos[0], "uploaded") || field[string](t, photos[0], "processed_at") == "" {
		t.Errorf("server: the vehicle check's photo is not uploaded and processed: %v", photos[0].State.Fields)
	}
}

// TestBrowserPlateTyped: a plate is read as the crew types it — with
// spaces, in a Chinese keyboard's full-width letters, in lower case — and
// stored whole; a plate one character short is refused.
func TestBrowserPlateTyped(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("checkpoint", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"))

	saved := 0
	for _, c := range []struct{ typed, want string }{
		{"h 5 1 2 3 4", "晋H51234"}, // the last digit was cut by the field's length
		{"ｈｄ１２３４５", "晋HD12345"},    // full-width, a new-energy plate
		{"h-7e.123", "晋H7E123"},    // separators people type
	} {
		p.do("plate "+c.typed, chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), c.typed)) // empty after each save
		p.click(`#save-vehicle`)
		saved++
		p.waitJS("saved "+c.typed, `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 `+itoa(saved)+` 辆') || !!document.querySelector('#vehicle-error').textContent`)
		if e := p.text(`#vehicle-error`); e != "" {
			t.Fatalf("%q refused: %s", c.typed, e)
		}
		p.has(c.want)
	}

	// Short by one: 5 characters after the province; six letters, the
	// length of a new-energy plate without its D or F (GA 36).
	for _, typed := range []string{"h1234", "habcdef"} {
		eval[bool](p, `(() => { const el = document.querySelector('input[name="plate"]'); el.value = ''; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`)
		p.do("plate "+typed, chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), typed))
		p.click(`#save-vehicle`)
		p.waitJS("the plate refused or saved", `!!document.querySelector('#vehicle-error').textContent || document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 4 辆')`)
		if e := p.text(`#vehicle-error`); !strings.Contains(e, "6 位") {
			t.Errorf("the plate %s: error %q, want it refused", typed, e)
		}
		eval[bool](p, `(() => { document.querySelector('#vehicle-error').textContent = ''; return true; })()`)
	}
}

// roadsidePhone starts a server and an inspector's phone at 豆罗检查站,
// signed in, offline, on the roadside form, and returns where it is.
func roadsidePhone(t *testing.T) (*apptest.Server, *phone, geo.Point) {
	t.Helper()
	srv := apptest.Start(t)
	_, at := demoSite(t, srv, "豆罗检查站")
	p := newPhone(t, browserFor(t), srv.URL, "checkpoint phone", near(at))
	p.signIn(apptest.Inspector)
	p.setOffline(true)
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	return srv, p, at
}

// TestBrowserRoadsidePhotoWhileFixing: a photo whose capture facts are
// still being read (its position can take seconds to fix) when the crew
// taps 保存，下一辆 is listed at once, the save waits for it, and it is
// saved with the vehicle: it used to be pushed, afterwards, into the
// photos of the vehicle just saved, and lost without a word.
func TestBrowserRoadsidePhotoWhileFixing(t *testing.T) {
	_, p, at := roadsidePhone(t)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H54321"))
	// Reading the photo's bytes (its type, then its position) waits
	// until the test lets it go.
	eval[bool](p, `(() => { window.__hold = new Promise((r) => { window.__release = r; });
		const read = Blob.prototype.arrayBuffer;
		Blob.prototype.arrayBuffer = async function () { await window.__hold; return read.call(this); };
		return true; })()`)
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck.jpg", 9, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`) // listed before it is read
	p.click(`#save-vehicle`)
	p.waitJS("the save waits for the photo", `document.querySelector('#save-vehicle')?.textContent === '正在处理照片…'`)
	eval[bool](p, `(() => { window.__release(); return true; })()`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	n := eval[float64](p, `(async () => { const {app} = await import('/app/js/app.js');
		const v = (await app.client.list('vehicle_check')).find((r) => r.fields.plate === '晋H54321');
		return v ? (await app.client.list('photo', (r) => r.fields.vehicle_check_id === v.id)).length : -1; })()`)
	if n != 1 {
		t.Errorf("the vehicle saved while its photo was read has %v photos, want 1", n)
	}
	if k := eval[float64](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); k != 0 {
		t.Errorf("the next vehicle's form shows %v photos, want none", k)
	}
}

// TestBrowserRoadsideCorrected: a check saved with a mistyped plate is
// corrected from today's list: the form comes back filled with it, the
// crew changes the plate and the action, empties the urea level and adds a
// photo, and the server ends with the one check so corrected — same id,
// same time, the emptied value cleared, the photo on it — not a second
// vehicle. A vehicle half entered is given up only after asking.
func TestBrowserRoadsideCorrected(t *testing.T) {
	srv, p, at := roadsidePhone(t)
	p.do("first vehicle",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e128"),
		chromedp.SendKeys(chromedp.CSS(`input[name="urea"]`), "12"))
	for _, c := range [][2]string{{"emission_stage", "cn5"}, {"aftertreatment", "removed"}, {"action", "repair"}} {
		p.click(`[data-field="` + c[0] + `"] button[data-value="` + c[1] + `"]`)
	}
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	checkedAt := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.list('vehicle_check', (r) => r.fields.plate === '晋H7E128'))[0].fields.checked_at; })()`)

	// A next vehicle half entered: asked before it is dropped.
	p.do("next plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h55555"))
	eval[bool](p, `(window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	p.click(`#vehicle-today button[data-edit]`)
	if asked := eval[string](p, `window.__asked || ''`); !strings.Contains(asked, "晋H7E128") {
		t.Errorf("correcting with a vehicle half entered asked %q", asked)
	}
	if v := eval[string](p, `document.querySelector('input[name="plate"]').value`); v != "H55555" {
		t.Fatalf("declined, the form holds plate %q, want the vehicle being entered", v)
	}
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#vehicle-today button[data-edit]`)
	p.waitJS("the check in the form", `!!document.querySelector('#vehicle-editing') && document.querySelector('input[name="plate"]').value === 'H7E128'`)
	if u := eval[string](p, `document.querySelector('input[name="urea"]').value + '|' + document.querySelector('[data-field="action"] button.on')?.dataset.value`); u != "12|repair" {
		t.Errorf("the form shows urea|action %q, want 12|repair", u)
	}
	// Emptied as a finger does it, with input events the draft records.
	eval[bool](p, `(() => { for (const n of ['plate', 'urea']) { const el = document.querySelector('input[name="' + n + '"]');
		el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true })); } return true; })()`)
	p.do("correct it",
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h7e123"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="note"]`), "车牌更正"))
	p.click(`[data-field="action"] button[data-value="fine"]`)
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck.jpg", 9, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`)
	p.shot("app-vehicle-correct.png")
	p.click(`#save-vehicle`)
	p.waitJS("corrected", `!document.querySelector('#vehicle-editing') && document.querySelector('#vehicle-today')?.textContent.includes('晋H7E123')`)
	p.has("今天已检 1 辆")

	p.setOffline(false)
	p.click(`#tabs a[data-tab="home"]`)
	p.click(`#sync-now`)
	p.waitSynced()
	srv.App.Photos.WaitIdle()
	for plate, want := range map[string]int{"晋H7E128": 0, "晋H7E123": 1} {
		if recs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", plate); err != nil || len(recs) != want {
			t.Fatalf("server: %d vehicle checks of %s (%v), want %d", len(recs), plate, err, want)
		}
	}
	recs, _ := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H7E123")
	v := recs[0]
	for k, want := range map[string]string{"action": `"fine"`, "emission_stage": `"cn5"`, "aftertreatment": `"removed"`,
		"note": `"车牌更正"`, "urea_level_pct": ``, "checkpoint": `"豆罗检查站"`} {
		if got := string(v.Value(k)); got != want && !(want == "" && got == "null") {
			t.Errorf("server: vehicle_check.%s = %s, want %s", k, got, want)
		}
	}
	var stored string
	json.Unmarshal(v.Value("checked_at"), &stored) //nolint:errcheck // compared below
	if a, b := parseTime(t, stored), parseTime(t, checkedAt); !a.Equal(b) {
		t.Errorf("server: checked_at %s, want the first save's %s", stored, checkedAt)
	}
	photos, err := srv.App.DB.Find(ctx, "photo", "vehicle_check_id", v.ID)
	if err != nil || len(photos) != 1 {
		t.Errorf("server: %d photos of the corrected check (%v), want 1", len(photos), err)
	}

	// Corrected again: the form shows the photo the check has, and says a
	// new one is added to it (roadside probe: it showed none, and the crew
	// took them again).
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.click(`#vehicle-today button[data-edit]`)
	p.waitJS("the saved photo in the form", `document.querySelectorAll('#vehicle-photos .thumb[data-photo]:not([data-photo="new"]) img').length === 1`)
	if id := eval[string](p, `document.querySelector('#vehicle-photos .thumb:not([data-photo="new"])').dataset.photo`); len(photos) == 1 && id != photos[0].ID {
		t.Errorf("the form shows photo %s, want the check's %s", id, photos[0].ID)
	}
	if hint := eval[string](p, `document.querySelector('#vehicle-saved-photos')?.textContent || ''`); !strings.Contains(hint, "已有 1 张照片") || !strings.Contains(hint, "不替换") {
		t.Errorf("the form's hint on the saved photos: %q", hint)
	}
	p.shot("app-vehicle-correct-again.png")
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return at
}

// TestBrowserRoadsideLockedWhileSaving: while a vehicle is being saved
// its form takes no typing (the next plate typed meanwhile went into the
// draft the save then dropped, and was lost without a word); the camera
// still works. A save whose record was stored but not all its photos (a
// full phone) says the record is saved, and saving again stores the rest
// under the same ids: one check, all its photos.
func TestBrowserRoadsideLockedWhileSaving(t *testing.T) {
	_, p, at := roadsidePhone(t)
	// The record's save waits until the test lets it go.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const c = app.client;
		const save = c.save.bind(c); window.__go = new Promise((r) => { window.__release = r; });
		c.save = async (...a) => { if (a[0] === 'vehicle_check') await window.__go; return save(...a); }; return true; })()`)
	p.do("first vehicle",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "秦城检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h15151"))
	p.click(`#save-vehicle`)
	p.waitJS("saving", `document.querySelector('#save-vehicle').textContent === '正在保存…'`)
	if got := eval[string](p, `['input[name="plate"]', 'input[name="checkpoint"]', '[data-field="action"] button', '#clear-vehicle']
		.filter((s) => !document.querySelector(s).disabled).join(', ')`); got != "" {
		t.Errorf("while saving these take input: %s", got)
	}
	if eval[bool](p, `document.querySelector('#vehicle-photos input[type="file"]').disabled`) {
		t.Error("while saving the camera is off")
	}
	eval[bool](p, `(window.__release(), true)`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆') && !document.querySelector('input[name="plate"]').disabled`)

	// The next one: its photo's save fails once for want of space.
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const {FieldsyncError} = await import('/app/sdk/fieldsync-sdk.js');
		const c = app.client; const take = c.takePhoto.bind(c); let once = true;
		c.takePhoto = async (...a) => { if (once) { once = false; throw new FieldsyncError('storage_full'); } return take(...a); }; return true; })()`)
	p.do("second vehicle", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h16161"))
	p.do("photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck2.jpg", 12, near(at), "")}))
	p.wait(`#vehicle-photos .thumb img`)
	p.click(`#save-vehicle`)
	p.waitJS("refused", `!!document.querySelector('#vehicle-error').textContent`)
	if msg := p.text(`#vehicle-error`); !strings.Contains(msg, "晋H16161 的路检记录已保存") || !strings.Contains(msg, "1 张照片没能保存") {
		t.Errorf("a save whose photo failed says %q", msg)
	}
	p.click(`#save-vehicle`)
	p.waitJS("saved again", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 2 辆')`)
	if n := p.count("vehicle_check", "plate", "晋H16161"); n != 1 {
		t.Errorf("%d checks of 晋H16161 on the phone, want 1", n)
	}
	photos := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js');
		const [v] = await app.client.list('vehicle_check', (r) => r.fields.plate === '晋H16161');
		return (await app.client.list('photo', (r) => r.fields.vehicle_check_id === v.id)).length; })()`)
	if photos != 1 {
		t.Errorf("the check has %d photos, want 1", photos)
	}
}

// TestBrowserAsksToKeepStorage: the app asks the browser to keep its
// storage (navigator.storage.persist: without it the browser may clear
// the outbox and photos whole when the phone runs short of space), and
// home warns while work waits and the browser has not agreed.
func TestBrowserAsksToKeepStorage(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.waitJS("asked", `(async () => { const {app} = await import('/app/js/app.js'); return app.persisted !== null; })()`)
	persisted := eval[bool](p, `navigator.storage.persisted()`)
	if asked := eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); return app.persisted; })()`); asked != persisted {
		t.Errorf("the app says persisted %v, the browser %v", asked, persisted)
	}
	p.do("a vehicle", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "秦城检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h15152"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	p.click(`#tabs a[data-tab="home"]`)
	p.wait(`#sync-card`)
	// The sync card as drawn with the browser's answer either way.
	home := func(persisted bool) bool {
		t.Helper()
		return eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const home = await import('/app/js/views/home.js');
			app.persisted = `+strconv.FormatBool(persisted)+`; home.updateStatus(app); return !!document.querySelector('#not-persisted'); })()`)
	}
	if !home(false) {
		t.Error("work waiting, storage not kept: home does not warn")
	}
	if home(true) {
		t.Error("storage kept: home warns")
	}
}

// TestBrowserRoadsidePlatesAndRepeats: a plate typed with its province
// (晋H30272, the way plates are written) takes the province from it, a
// trailer's plate (挂) is a plate; the same truck saved again at the same
// checkpoint the same day is asked about first (each save counts as a
// vehicle, and no one can delete a check); another inspector's check of
// the day is listed without 修改.
func TestBrowserRoadsidePlatesAndRepeats(t *testing.T) {
	srv, p, _ := roadsidePhone(t)
	p.do("checkpoint", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"))
	saved := 0
	save := func(typed, want string) {
		t.Helper()
		p.do("plate "+typed, chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), typed))
		p.click(`#save-vehicle`)
		saved++
		p.waitJS("saved "+typed, `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 `+itoa(saved)+` 辆') || !!document.querySelector('#vehicle-error').textContent`)
		if e := p.text(`#vehicle-error`); e != "" {
			t.Fatalf("%q refused: %s", typed, e)
		}
		p.has(want)
	}
	save("晋H30272", "晋H30272")
	save("冀h1234挂", "冀H1234挂")
	// The next truck's province is 晋 again (TestBrowserPlateProvinces).
	if v := eval[string](p, `document.querySelector('select[name="province"]').value`); v != "晋" {
		t.Errorf("after a plate typed with 冀 was saved the next truck's province box holds %q", v)
	}

	// The same truck again at 豆罗检查站: asked; declined, nothing saved.
	eval[bool](p, `(window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	p.do("same plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "晋H 30272"))
	p.click(`#save-vehicle`)
	if asked := eval[string](p, `window.__asked || ''`); !strings.Contains(asked, "晋H30272") || !strings.Contains(asked, "豆罗检查站") {
		t.Errorf("saving 晋H30272 again asked %q", asked)
	}
	p.has("今天已检 2 辆")
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#save-vehicle`)
	p.waitJS("saved again", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 3 辆')`)

	// Another inspector's check of today, pulled: no 修改 on it.
	other := srv.Login(apptest.Inspector2)
	id := uuid.Must(uuid.NewV7()).String()
	apptest.Push(t, other, apptest.Mut(other, syncproto.EntityVehicleCheck, id, apptest.Fields("county", apptest.Xinfu,
		"checkpoint", "豆罗检查站", "plate", "晋H77777", "checked_at", time.Now().In(server.ChinaTime).Format(time.RFC3339))))
	p.setOffline(false)
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); await app.client.sync(); await app.render(); return true; })()`)
	p.waitJS("the other's check listed", `!!document.querySelector('#vehicle-today li[data-id="`+id+`"]')`)
	if n := eval[int](p, `document.querySelectorAll('#vehicle-today li[data-id="`+id+`"] button[data-edit]').length`); n != 0 {
		t.Errorf("another inspector's check offers 修改")
	}
	p.has("他人记录")
	// Counted apart: 今天已检 is the inspector's own (roadside probe).
	p.has("今天已检 3 辆（同事另检 1 辆）")
	p.shot("app-vehicle-others.png")
	if n := eval[int](p, `document.querySelectorAll('#vehicle-today button[data-edit]').length`); n != 3 {
		t.Errorf("%d of the inspector's own 3 checks offer 修改", n)
	}

	// The office voids the truck saved twice: the phone, at its next
	// sync, counts it no more, says why, and offers no 修改 on it.
	twice := eval[string](p, `[...document.querySelectorAll('#vehicle-today li')].find((li) => li.querySelector('.name').textContent === '晋H30272').dataset.id`)
	office := srv.Login(apptest.CountyOffice)
	if err := office.Do(ctx, http.MethodPost, "/api/v1/vehicle-checks/"+twice+"/void",
		map[string]any{"decision": "void", "comment": "同一车辆重复保存"}, nil); err != nil {
		t.Fatalf("void: %v", err)
	}
	eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); await app.client.sync(); await app.render(); return true; })()`)
	p.waitJS("the voided check shown", `!!document.querySelector('#vehicle-today li[data-id="`+twice+`"] [data-voided]')`)
	p.has("今天已检 2 辆（同事另检 1 辆）")
	p.has("同一车辆重复保存")
	if n := eval[int](p, `document.querySelectorAll('#vehicle-today li[data-id="`+twice+`"] button[data-edit]').length`); n != 0 {
		t.Errorf("the voided check offers 修改")
	}
}

// TestBrowserRoadsideRepeatHoweverTyped: the same truck saved again at a
// checkpoint typed otherwise (lower case, full width: the server's
// spelling, G108…, is one checkpoint) is asked about too — the question
// compared the checkpoint as typed with the one stored, and was never
// asked once the check was synced (roadside probe). The check is saved
// in the server's spelling.
func TestBrowserRoadsideRepeatHoweverTyped(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("first vehicle",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "g108豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H40404"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	if cp := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		return (await app.client.list('vehicle_check', (r) => r.fields.plate === '晋H40404'))[0]?.fields.checkpoint; })()`); cp != "G108豆罗检查站" {
		t.Errorf("the check is saved at checkpoint %q, want the server's spelling G108豆罗检查站", cp)
	}
	eval[bool](p, `(() => { const el = document.querySelector('input[name="checkpoint"]'); el.value = ' Ｇ１０８豆罗检查站';
		el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	eval[bool](p, `(window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	p.do("same plate", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h40404"))
	p.click(`#save-vehicle`)
	if asked := eval[string](p, `window.__asked || ''`); !strings.Contains(asked, "晋H40404") || !strings.Contains(asked, "G108豆罗检查站") {
		t.Errorf("saving 晋H40404 again at Ｇ１０８豆罗检查站 asked %q", asked)
	}
	p.has("今天已检 1 辆")
	// Spaces inside a checkpoint's name do not make it another: the
	// statistics count G108 K5 and G108K5 as one (server.LabelKey), and
	// the truck saved at both was not asked about (roadside probe).
	eval[bool](p, `(() => { const el = document.querySelector('input[name="checkpoint"]'); el.value = 'g108 k5';
		el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	eval[bool](p, `(window.confirm = () => true, true)`)
	eval[bool](p, `(() => { const el = document.querySelector('input[name="plate"]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	p.do("a truck at G108 K5", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H50505"))
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 2 辆')`)
	eval[bool](p, `(() => { const el = document.querySelector('input[name="checkpoint"]'); el.value = 'Ｇ１０８Ｋ５';
		el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	eval[bool](p, `(window.__asked = '', window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	eval[bool](p, `(() => { const el = document.querySelector('input[name="plate"]'); el.value = ''; el.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`)
	p.do("the same truck at G108K5", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "H50505"))
	p.click(`#save-vehicle`)
	if asked := eval[string](p, `window.__asked || ''`); !strings.Contains(asked, "晋H50505") {
		t.Errorf("saving 晋H50505 at G108K5 after G108 K5 asked %q, want asked", asked)
	}
	p.has("今天已检 2 辆")
	// Each 修改 is named with its truck for a screen reader.
	if names := eval[string](p, `[...document.querySelectorAll('#vehicle-today button[data-edit]')].map((b) => b.getAttribute('aria-label')).sort().join(',')`); names != "修改 晋H40404,修改 晋H50505" {
		t.Errorf("the 修改 buttons are named %q", names)
	}
}

// TestBrowserRoadsideChoicesPressed: the roadside form's choices are a
// group named by the field, and a tap marks the chosen button pressed
// and the others not, for a screen reader as for the eye; a second tap
// on it clears the choice (a11y probe).
func TestBrowserRoadsideChoicesPressed(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	pressed := func() string {
		return eval[string](p, `[...document.querySelectorAll('[role="group"][aria-label="燃料"][data-field="fuel"] button')]
			.map((b) => b.dataset.value + '=' + b.getAttribute('aria-pressed') + (b.classList.contains('on') ? '+on' : '')).join(' ')`)
	}
	p.click(`[data-field="fuel"] button[data-value="diesel"]`)
	if got := pressed(); got != "diesel=true+on natural_gas=false gasoline=false other=false" {
		t.Errorf("柴油 tapped: %q", got)
	}
	p.click(`[data-field="fuel"] button[data-value="natural_gas"]`)
	p.click(`[data-field="fuel"] button[data-value="natural_gas"]`)
	if got := pressed(); got != "diesel=false natural_gas=false gasoline=false other=false" {
		t.Errorf("天然气 tapped twice: %q", got)
	}
}

// TestBrowserCheckpointSuggested: the roadside form offers, as the crew
// types the checkpoint, the checkpoints its counties registered (and no
// other site): a name typed otherwise counts apart in the statistics.
func TestBrowserCheckpointSuggested(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	got := eval[[]string](p, `[...document.querySelectorAll('#checkpoint-sites option')].map((o) => o.value)`)
	if want := []string{"秦城检查站", "豆罗检查站"}; !slices.Equal(got, want) {
		t.Errorf("checkpoints offered %q, want %q", got, want)
	}
	if list := eval[string](p, `document.querySelector('#vehicle-form input[name="checkpoint"]').getAttribute('list')`); list != "checkpoint-sites" {
		t.Errorf("the checkpoint field's list is %q", list)
	}
}

// TestBrowserRoadsideFormKept: what a crew types into the roadside form
// is kept as typed through a reload, and said before it is lost (field
// app probe): a province typed with the plate stays that province (it
// went back to 晋, and 冀A66666 was saved as 晋A66666); a plate refused is
// said under the plate box, on screen, not by the save button 1,400 px
// below; a voided check's refused change says the office voided it; and
// signing out with a vehicle not saved asks first.
func TestBrowserRoadsideFormKept(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("checkpoint", chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"))
	p.do("plate with its province", chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "冀A 66666"))
	p.waitJS("province moved", `document.querySelector('select[name="province"]').value === '冀'`)
	p.do("reload", chromedp.Reload())
	p.wait(`#vehicle-form`)
	if got := eval[string](p, `document.querySelector('select[name="province"]').value + document.querySelector('input[name="plate"]').value`); got != "冀A66666" {
		t.Errorf("after a reload the form holds %q, want 冀A66666", got)
	}

	// Refused where it is about.
	eval[bool](p, `(document.querySelector('input[name="plate"]').value = 'H12', true)`)
	p.click(`#save-vehicle`)
	p.waitJS("refused", `!!document.querySelector('#vehicle-error').textContent`)
	if !eval[bool](p, `(() => { const e = document.querySelector('#vehicle-error'), r = e.getBoundingClientRect();
		return e.previousElementSibling?.classList.contains('plate') && r.top >= 0 && r.bottom <= innerHeight; })()`) {
		t.Errorf("the plate's refusal is not under the plate box on screen: %q", p.text(`#vehicle-error`))
	}

	// A change to a voided check, refused: said as such.
	why := eval[string](p, `import('/app/js/errors.js').then((m) => m.rejectedMessage({code: 'record_locked', entity: 'vehicle_check',
		message: '此路检记录已被督查作废（重复录入），不能再修改'}, (f) => f))`)
	if !strings.Contains(why, "作废（重复录入）") || strings.Contains(why, "重新应用") || strings.Contains(why, "审核") {
		t.Errorf("a voided check's refused change: %q", why)
	}
	// And a photo of it, refused the same way.
	why = eval[string](p, `import('/app/js/errors.js').then((m) => m.rejectedMessage({code: 'record_locked', entity: 'photo',
		message: '所属的路检记录已被督查作废，照片不能再修改或补充'}, (f) => f))`)
	if !strings.Contains(why, "作废") || strings.Contains(why, "重新应用") || strings.Contains(why, "审核") {
		t.Errorf("a voided check's photo, refused: %q", why)
	}

	// Signing out asks first, naming the vehicle; cancelled, it stays.
	eval[bool](p, `(document.querySelector('input[name="plate"]').value = 'A66666', document.querySelector('input[name="plate"]').dispatchEvent(new Event('input', {bubbles: true})), true)`)
	p.click(`#tabs a[data-tab="home"]`)
	p.wait(`#sign-out`)
	eval[bool](p, `(window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	p.click(`#sign-out`)
	p.waitJS("asked", `!!window.__asked`)
	if got := eval[string](p, `window.__asked`); !strings.Contains(got, "冀A66666") || !strings.Contains(got, "路检") {
		t.Errorf("signing out with a vehicle not saved asks %q", got)
	}
	p.wait(`#sign-out`) // still signed in
}

// TestBrowserRoadsideCampaignNotTheNoneRow: a special action typed as the
// statistics name the checks outside any (未列入专项行动, however spaced) is
// refused before saving, saying to leave it empty, as the server refuses
// it (its checks shared that row on 路检路查).
func TestBrowserRoadsideCampaignNotTheNoneRow(t *testing.T) {
	_, p, _ := roadsidePhone(t)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="campaign"]`), "未列入 专项行动"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h30272"))
	p.click(`#save-vehicle`)
	p.waitJS("refused", `document.querySelector('#vehicle-error').textContent.includes('不属于专项行动时请留空')`)
	if n := eval[int](p, `(async () => { const {app} = await import('/app/js/app.js'); return (await app.client.list('vehicle_check', (r) => r.fields.campaign === '未列入专项行动' || r.fields.campaign === '未列入 专项行动')).length; })()`); n != 0 {
		t.Errorf("%d checks saved, want none", n)
	}
}
