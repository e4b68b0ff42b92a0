package webapp_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xinzhou-eco/fieldsync/server/apptest"
)

// keptJS reads the roadside photos the phone keeps for forms not yet
// saved (IndexedDB fieldsync.shots): [{id, form, cap, size}].
const keptJS = `new Promise((res, rej) => { const r = indexedDB.open('fieldsync.shots', 1);
	r.onupgradeneeded = () => r.result.createObjectStore('shots', { keyPath: 'id' });
	r.onerror = () => rej(r.error);
	r.onsuccess = () => { const db = r.result; const q = db.transaction('shots').objectStore('shots').getAll();
		q.onerror = () => rej(q.error);
		q.onsuccess = () => { db.close(); res(q.result.map((x) => ({ id: x.id, form: x.form, cap: !!x.cap, size: x.file.size }))); }; }; })`

// waitKept waits until the kept photos (k, as keptJS reads them) satisfy
// the JavaScript condition cond.
func waitKept(p *phone, step, cond string) {
	p.t.Helper()
	p.waitJS(step, `(async () => { const k = await `+keptJS+`; return `+cond+`; })()`)
}

// TestBrowserRoadsidePhotosSurviveReload: the photos taken for a vehicle
// not saved yet are kept on the phone, not only in the page, so that the
// phone killing the page (the camera app in front, a pull to refresh)
// loses none — one whose position was still being fixed included: after
// the reload the form shows them, and saving stores them with the check.
// Once the vehicle is saved or given up they are dropped from the phone,
// and so at sign-out; where the phone could not keep one, the form says it
// is gone. Before, every photo of the vehicle being entered was lost with
// the page.
func TestBrowserRoadsidePhotosSurviveReload(t *testing.T) {
	srv, p, at := roadsidePhone(t)
	p.do("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="checkpoint"]`), "豆罗检查站"),
		chromedp.SendKeys(chromedp.CSS(`input[name="plate"]`), "h70001"))
	p.do("first photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck1.jpg", 21, near(at), "")}))
	waitKept(p, "the first photo kept with its position", `k.length === 1 && k[0].cap && k[0].form === 'vehicle' && k[0].size > 0`)
	// The second photo's bytes are not read (its type, then its position)
	// until the page is gone.
	eval[bool](p, `(() => { window.__hold = new Promise(() => {});
		const read = Blob.prototype.arrayBuffer;
		Blob.prototype.arrayBuffer = async function () { await window.__hold; return read.call(this); };
		return true; })()`)
	p.do("second photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck2.jpg", 22, near(at), "")}))
	waitKept(p, "the second photo kept before its position is fixed", `k.length === 2 && k.filter((x) => x.cap).length === 1`)

	// The phone kills the page.
	p.reopen()
	p.goHash("#/vehicle", `#vehicle-form`)
	p.waitJS("both photos back", `document.querySelectorAll('#vehicle-photos .thumb img').length === 2`)
	if eval[bool](p, `!document.querySelector('#vehicle-photos-lost').hidden`) {
		t.Errorf("the form says photos were lost: %s", p.text(`#vehicle-photos-lost`))
	}
	p.click(`#save-vehicle`)
	p.waitJS("saved", `document.querySelector('#vehicle-today h2')?.textContent.includes('今天已检 1 辆')`)
	facts := eval[[]map[string]any](p, `(async () => { const {app} = await import('/app/js/app.js');
		const v = (await app.client.list('vehicle_check')).find((r) => r.fields.plate === '晋H70001');
		return (await app.client.list('photo', (r) => r.fields.vehicle_check_id === v.id))
			.map((r) => ({ at: r.fields.captured_at || '', lat: r.fields.lat ?? null, size: r.fields.size_bytes })); })()`)
	if len(facts) != 2 {
		t.Fatalf("the vehicle saved after the reload has %d photos, want 2: %v", len(facts), facts)
	}
	for _, f := range facts {
		if f["at"] == "" || f["lat"] == nil || f["size"] == nil {
			t.Errorf("a photo saved after the reload lacks its capture facts: %v", f)
		}
	}
	waitKept(p, "none kept once the vehicle is saved", `k.length === 0`)
	if n := eval[float64](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); n != 0 {
		t.Errorf("the next vehicle's form shows %v photos, want none", n)
	}

	// A vehicle given up: its photo goes too, and a reload does not bring
	// it back into the next vehicle.
	p.do("given-up photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck3.jpg", 23, near(at), "")}))
	waitKept(p, "the given-up vehicle's photo kept", `k.length === 1 && k[0].cap`)
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#clear-vehicle`)
	waitKept(p, "none kept once the vehicle is given up", `k.length === 0`)
	p.reopen()
	p.goHash("#/vehicle", `#vehicle-form`)
	if n := eval[float64](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); n != 0 {
		t.Errorf("after giving up a vehicle and a reload the form shows %v photos, want none", n)
	}

	// A photo the phone could not keep (its storage gone): said to be lost.
	p.do("photo then lost", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck4.jpg", 24, near(at), "")}))
	waitKept(p, "the photo kept", `k.length === 1 && k[0].cap`)
	eval[bool](p, `new Promise((res) => { const r = indexedDB.open('fieldsync.shots', 1);
		r.onsuccess = () => { const db = r.result; const tx = db.transaction('shots', 'readwrite'); tx.objectStore('shots').clear();
			tx.oncomplete = () => { db.close(); res(true); }; }; })`)
	p.reopen()
	p.goHash("#/vehicle", `#vehicle-form`)
	p.wait(`#vehicle-photos-lost`)
	p.has("之前拍的 1 张照片没有保留下来")

	// Signing out drops the photos kept, and the next user of the phone
	// finds none.
	p.do("photo before sign-out", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck5.jpg", 25, near(at), "")}))
	waitKept(p, "the photo kept", `k.length === 1 && k[0].cap`)
	p.setOffline(false)
	p.goHash("#/", `#sign-out`)
	p.click(`#sync-now`)
	p.waitSynced()
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#sign-out`)
	p.wait(`#login`)
	waitKept(p, "none kept after signing out", `k.length === 0`)
	p.signIn(apptest.Inspector2)
	p.click(`#tabs a[data-tab="vehicle"]`)
	p.wait(`#vehicle-form`)
	if n := eval[float64](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); n != 0 {
		t.Errorf("the next user's form shows %v photos of the one who signed out", n)
	}

	// The server has the saved vehicle's two photos, no more.
	ctx := context.Background()
	vs, err := srv.App.DB.Find(ctx, "vehicle_check", "plate", "晋H70001")
	if err != nil || len(vs) != 1 {
		t.Fatalf("the server has %d checks of 晋H70001 (%v), want 1", len(vs), err)
	}
	photos, err := srv.App.DB.Find(ctx, "photo", "vehicle_check_id", vs[0].ID)
	if err != nil || len(photos) != 2 {
		t.Errorf("the server has %d photos of the vehicle (%v), want 2", len(photos), err)
	}
}

// TestBrowserRoadsideSameFileOnce: the same file picked twice for the
// vehicle being entered (from the gallery, or twice in one pick) is one
// photo, and the form says it skipped the other; another file is a second
// photo (field app probe: two photos of one file, unsaid).
func TestBrowserRoadsideSameFileOnce(t *testing.T) {
	_, p, at := roadsidePhone(t)
	file := jpeg(t, "truck1.jpg", 31, near(at), "")
	p.do("a photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{file}))
	waitKept(p, "the photo kept", `k.length === 1`)
	p.do("the same photo again", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{file}))
	p.waitJS("said", `document.querySelector('#vehicle-error').textContent.includes('同一张照片只需添加一次')`)
	if n := eval[float64](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); n != 1 {
		t.Errorf("the same file picked twice shows %v photos, want 1", n)
	}
	p.do("another photo", chromedp.SetUploadFiles(chromedp.CSS(`#vehicle-photos input[type="file"]`), []string{jpeg(t, "truck2.jpg", 32, near(at), "")}))
	waitKept(p, "both kept", `k.length === 2`)
	if n := eval[float64](p, `document.querySelectorAll('#vehicle-photos .thumb').length`); n != 2 {
		t.Errorf("two files show %v photos, want 2", n)
	}
}
