package webapp_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPhotoShownAfterRedraw: a photo still being stored (waiting
// for the phone's position) when the page is drawn again — another item
// answered meanwhile — and stored while the inspector types in a field,
// is shown under its item at once, the focus left where it is (the field
// probe: stored and uploaded, but shown only once the form was left, and
// the item said 缺照片 meanwhile).
func TestBrowserPhotoShownAfterRedraw(t *testing.T) {
	_, site, p, at := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	p.startInspection(site.ID, "construction_dust")
	// The photo's storing held until the test lets it go, as a slow
	// position fix holds it.
	eval[bool](p, `import('/app/js/app.js').then(({app}) => { const c = app.client, orig = c.takePhoto.bind(c);
		const held = new Promise((r) => { window.letGo = r; });
		c.takePhoto = async (o) => { await held; return orig(o); }; return true; })`)
	p.do("take a photo for fence", chromedp.SetUploadFiles(chromedp.CSS(`#item-fence input[type="file"]`), []string{jpeg(t, "held.jpg", 31, near(at), "")}))
	p.wait(`#item-fence .thumb.saving`)
	// Another item answered: the page is drawn again, without the photo
	// being saved.
	p.answer("material_cover", "pass")
	p.waitJS("the page drawn again", `!document.querySelector('#item-fence .thumb.saving')`)
	eval[bool](p, `(document.querySelector('#inspection textarea').focus(), true)`)
	eval[bool](p, `(window.letGo(), true)`)
	p.waitJS("the held photo shown under its item", `document.querySelectorAll('#item-fence .thumb[data-photo] img[src^="blob:"]').length === 1`)
	if tag := eval[string](p, `document.activeElement.tagName`); tag != "TEXTAREA" {
		t.Errorf("the focus moved to %s while the photo was shown", tag)
	}
}

// TestBrowserPhotoWithoutPositionSaid: a photo stored without the phone's
// position (no fix within its wait) says so on its tile and in its
// viewer's text, and one with it does not (the field probe: nothing told
// the inspector, and the office could not check the distance to the site).
func TestBrowserPhotoWithoutPositionSaid(t *testing.T) {
	_, _, p, _ := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	got := eval[string](p, `Promise.all([import('/app/js/app.js'), import('/app/js/photos.js')]).then(([{app}, ph]) => {
		const rec = (id, f) => ({ entity: 'photo', id, fields: { content_type: 'image/jpeg', captured_at: '2026-12-05T10:00:00+08:00', ...f }, hlcs: {}, pending: [], deleted: false });
		const bare = ph.photoTile(app.client, rec('0190f0a0-0000-7000-8000-000000000001', {}));
		const placed = ph.photoTile(app.client, rec('0190f0a0-0000-7000-8000-000000000002', { lon: 112.7, lat: 38.4, accuracy_m: 8 }));
		return JSON.stringify([bare.dataset.nopos || '', bare.querySelector('.nopos')?.textContent || '', bare.title.includes(ph.NO_POSITION),
			placed.dataset.nopos || '', !!placed.querySelector('.nopos'), placed.title.includes(ph.NO_POSITION)]);
	})`)
	if want := `["true","无手机位置",true,"",false,false]`; got != want {
		t.Errorf("tiles without and with a position: %s, want %s", got, want)
	}
}

// TestBrowserItemSameFileOnce: the same photo picked twice for a checklist
// item — again at once, or after the page was opened again, when only the
// stored photo record knows it — is one photo, and the item says it
// skipped the other; another file is a second photo, and clears the word (the last note: the
// roadside form caught it, a checklist item made two photos).
func TestBrowserItemSameFileOnce(t *testing.T) {
	_, site, p, at := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	p.startInspection(site.ID, "construction_dust")
	file := jpeg(t, "fence1.jpg", 41, near(at), "")
	thumbs := `document.querySelectorAll('#item-fence .thumb[data-photo]:not(.saving)').length`
	p.do("a photo for fence", chromedp.SetUploadFiles(chromedp.CSS(`#item-fence input[type="file"]`), []string{file}))
	p.waitJS("one photo", thumbs+` === 1`)
	p.do("the same photo again", chromedp.SetUploadFiles(chromedp.CSS(`#item-fence input[type="file"]`), []string{file}))
	p.waitJS("said", `document.querySelector('#item-fence').textContent.includes('同一张照片只需添加一次')`)
	if n := eval[float64](p, thumbs); n != 1 {
		t.Errorf("the same file picked twice shows %v photos, want 1", n)
	}
	p.do("reload", chromedp.Reload())
	p.wait(`#item-fence input[type="file"]`)
	p.do("the same photo after a reload", chromedp.SetUploadFiles(chromedp.CSS(`#item-fence input[type="file"]`), []string{file}))
	p.waitJS("said again", `document.querySelector('#item-fence').textContent.includes('同一张照片只需添加一次')`)
	p.do("another photo", chromedp.SetUploadFiles(chromedp.CSS(`#item-fence input[type="file"]`), []string{jpeg(t, "fence2.jpg", 42, near(at), "")}))
	p.waitJS("the other one stored", thumbs+` === 2`)
	if eval[bool](p, `document.querySelector('#item-fence').textContent.includes('同一张照片只需添加一次')`) {
		t.Error("the item still says a photo was skipped after another was stored")
	}
	n := eval[float64](p, `import('/app/js/app.js').then(({app}) => app.client.list('photo', (r) => r.fields.item_key === 'fence')).then((l) => l.length)`)
	if n != 2 {
		t.Errorf("the phone keeps %v photos of the item, want 2", n)
	}
}
