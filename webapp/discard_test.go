package webapp_test

import (
	"testing"

	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// TestBrowserDiscardDraft: an inspection started by mistake (开始检查
// tapped twice with Back between, the wrong checklist) can be given up
// while it is a draft: after a confirmation it and its finding are
// deleted, on the phone and, once synced, on the server, and the home
// page no longer lists it. One with photos cannot (they are evidence),
// and says why.
func TestBrowserDiscardDraft(t *testing.T) {
	srv, site, p, at := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	synced := func() {
		t.Helper()
		eval[bool](p, `(async () => { `+syncNow+`; return true; })()`)
		p.waitJS("nothing left to send", `(async () => { const {app} = await import('/app/js/app.js'); return app.client.status().pendingChanges === 0; })()`)
	}
	live := func(entity, id string) bool {
		return eval[bool](p, `(async () => { const {app} = await import('/app/js/app.js'); const r = await app.client.get('`+entity+`', '`+id+`'); return !!r && !r.deleted; })()`)
	}

	// A draft with a failed item (so a finding), synced: the server has both.
	insp := p.startInspection(site.ID, "construction_dust")
	p.answer("material_cover", "fail")
	p.wait(`[data-finding-for="material_cover"]`)
	finding := eval[string](p, `(async () => { const {app} = await import('/app/js/app.js');
		const [f] = await app.client.list('finding', (r) => r.fields.inspection_id === '`+insp+`'); return f.id; })()`)
	synced()
	if r := get(t, srv, syncproto.EntityInspection, insp); r == nil || r.State.IsDeleted() {
		t.Fatal("the draft did not reach the server")
	}

	// Cancelled, nothing happens; confirmed, it is gone.
	eval[bool](p, `(window.confirm = (m) => { window.__asked = m; return false; }, true)`)
	p.click(`#discard`)
	p.waitJS("asked", `(window.__asked || '').includes('放弃这次检查')`)
	if !live(syncproto.EntityInspection, insp) {
		t.Fatal("a discard the inspector cancelled deleted the draft")
	}
	eval[bool](p, `(window.confirm = () => true, true)`)
	p.click(`#discard`)
	p.waitJS("back home", `location.hash === '#/' || location.hash === ''`)
	if live(syncproto.EntityInspection, insp) || live(syncproto.EntityFinding, finding) {
		t.Fatal("the discarded draft or its finding is still on the phone")
	}
	synced()
	for entity, id := range map[string]string{syncproto.EntityInspection: insp, syncproto.EntityFinding: finding} {
		if r := get(t, srv, entity, id); r != nil && !r.State.IsDeleted() {
			t.Errorf("the discarded %s is live on the server", entity)
		}
	}
	if eval[bool](p, `!!document.querySelector('#drafts a[data-id="`+insp+`"]')`) {
		t.Error("the home page still lists the discarded draft")
	}

	// With a photo: refused, saying why.
	insp = p.startInspection(site.ID, "construction_dust")
	p.photo("fence", jpeg(t, "fence.jpg", 5, near(at), ""))
	p.click(`#discard`)
	p.waitJS("refused", `document.querySelector('#insp-error').textContent.includes('照片是执法证据')`)
	if !live(syncproto.EntityInspection, insp) {
		t.Fatal("a draft with a photo was discarded")
	}
}

// TestBrowserPhotoOpensWhole: a tap on a photo's tile shows it over the
// whole screen with when it was taken and its state; a tap, Esc or Back
// closes it (a tile of 96 px was all an inspector could see). The viewer
// holds the focus while open and gives it back to the tile.
func TestBrowserPhotoOpensWhole(t *testing.T) {
	_, site, p, at := inspectorAt(t, "忻府区锦绣华庭小区二期工地")
	p.setOffline(true)
	p.startInspection(site.ID, "construction_dust")
	p.photo("fence", jpeg(t, "fence.jpg", 6, near(at), ""))
	tile := `#item-fence .thumb[data-photo]:not([data-photo="saving"])`
	p.waitJS("the tile's picture", `!!document.querySelector('`+tile+` img[src^="blob:"]')`)
	for _, closeBy := range []string{"tap", "Escape", "Back"} {
		p.click(tile)
		p.waitJS("shown whole", `(() => { const v = document.querySelector('#photo-viewer'); return !!v && v.querySelector('img').src.startsWith('blob:') &&
			v.textContent.includes('拍摄于') && v.textContent.includes('待上传') && v.getBoundingClientRect().width === window.innerWidth; })()`)
		// Focus is in the viewer, and Tab keeps it there (a keyboard, a
		// screen reader: the form under it is hidden).
		if !eval[bool](p, `(document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Tab', cancelable: true})),
			document.activeElement === document.querySelector('#photo-viewer .close'))`) {
			t.Errorf("%s: the viewer's 关闭 does not have the focus", closeBy)
		}
		switch closeBy {
		case "tap":
			p.click(`#photo-viewer .close`)
		case "Escape":
			eval[bool](p, `(document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'})), true)`)
		case "Back":
			eval[bool](p, `(location.hash = '#/', true)`)
		}
		p.waitJS("closed by "+closeBy, `!document.querySelector('#photo-viewer')`)
		if closeBy == "Escape" && !eval[bool](p, `document.activeElement === document.querySelector('`+tile+`')`) {
			t.Error("closed, the focus is not back on the photo's tile")
		}
	}
}
